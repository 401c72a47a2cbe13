// The WGSL of the whole training step, generated with the network's sizes as constants. Ten
// dispatches per step (four forward, the loss, four backward, the update); every output is summed by
// one invocation or one workgroup in a fixed order, with no atomics, so the same device, driver and
// inputs give bit-identical results.
import { CONV1_PARTS, type Geometry, type Layout } from './geometry';

export const WORKGROUP = 64;
export const REDUCE_WORKGROUP = 256;

export const ENTRY_POINTS = ['conv0', 'conv1', 'dense0', 'loss', 'logits', 'dense1Back', 'dense0Back', 'conv1Back', 'smallGrads', 'update'] as const;
export type EntryPoint = (typeof ENTRY_POINTS)[number];

/** Invocations each entry point needs for a batch of `batch` rows (workgroups for the reduction kernels). */
export function invocations(g: Geometry, entry: EntryPoint, batch: number): number {
  const nw1 = g.k1 * g.k1 * g.c0 * g.c1;
  switch (entry) {
    case 'conv0':
      return batch * g.ph0 * g.pw0 * g.c0;
    case 'conv1':
      return batch * g.ph1 * g.pw1 * g.c1;
    case 'dense0':
      return Math.ceil(batch / 4) * Math.ceil(g.hidden / 16) * 256;
    case 'loss':
      return REDUCE_WORKGROUP;
    case 'logits':
      return batch * g.classes;
    case 'dense1Back':
      return g.hidden * g.classes + g.classes + batch * g.hidden + nw1;
    case 'dense0Back':
      return g.flat * g.hidden + g.hidden + batch * g.flat;
    case 'conv1Back':
      return CONV1_PARTS * nw1 + batch * g.ph0 * g.pw0 * g.c0;
    case 'smallGrads':
      return (g.k0 * g.k0 * g.ic * g.c0 + g.c0 + g.c1) * REDUCE_WORKGROUP;
    case 'update':
      return g.params;
  }
}

export function shaderSource(g: Geometry, l: Layout): string {
  const ch0 = 2 * g.ph0,
    cw0 = 2 * g.pw0,
    ch1 = 2 * g.ph1,
    cw1 = 2 * g.pw1;
  const nw0 = g.k0 * g.k0 * g.ic * g.c0,
    nw1 = g.k1 * g.k1 * g.c0 * g.c1;
  const gradOffset = (param: number) => l.grad + param + (param > g.w1 ? (CONV1_PARTS - 1) * nw1 : 0);
  const tensors = [g.w0, g.b0, g.w1, g.b1, g.w2, g.b2, g.w3, g.b3, g.params];
  // The update reads each tensor's gradient as the ordered sum of its slices.
  const gradOf = tensors.slice(0, -1).map((start, i) => {
    const parts = start === g.w1 ? CONV1_PARTS : 1,
      size = tensors[i + 1]! - start;
    const terms = Array.from({ length: parts }, (_, s) => `F[${gradOffset(start) + s * size}u + e - ${start}u]`).join(' + ');
    return `${i ? ' else ' : ''}if (e < ${tensors[i + 1]}u) { g = ${terms}; }`;
  });
  return /* wgsl */ `
struct Step { batch: u32, base: u32, slot: u32, source: u32, lr: f32, momentum: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read_write> F: array<f32>;
@group(0) @binding(1) var<storage, read> trainX: array<u32>;
@group(0) @binding(2) var<storage, read> testX: array<u32>;
@group(0) @binding(3) var<storage, read> trainY: array<u32>;
@group(0) @binding(4) var<storage, read> rows: array<u32>;
@group(0) @binding(5) var<storage, read_write> results: array<f32>;
@group(0) @binding(6) var<uniform> u: Step;

const IH = ${g.ih}u; const IW = ${g.iw}u; const IC = ${g.ic}u; const IN = ${g.inSize}u;
const K0 = ${g.k0}u; const PAD0 = ${(g.k0 - 1) / 2}i; const C0 = ${g.c0}u; const PH0 = ${g.ph0}u; const PW0 = ${g.pw0}u; const CH0 = ${ch0}u; const CW0 = ${cw0}u;
const K1 = ${g.k1}u; const PAD1 = ${(g.k1 - 1) / 2}i; const C1 = ${g.c1}u; const PH1 = ${g.ph1}u; const PW1 = ${g.pw1}u; const CH1 = ${ch1}u; const CW1 = ${cw1}u;
const FLAT = ${g.flat}u; const D = ${g.hidden}u; const K = ${g.classes}u; const NW0 = ${nw0}u; const NW1 = ${nw1}u; const PARTS1 = ${CONV1_PARTS}u;
const W0 = ${g.w0}u; const B0 = ${g.b0}u; const W1 = ${g.w1}u; const B1 = ${g.b1}u; const W2 = ${g.w2}u; const B2 = ${g.b2}u; const W3 = ${g.w3}u; const B3 = ${g.b3}u;
const VEL = ${l.vel}u; const P0 = ${l.p0}u; const A1 = ${l.a1}u; const P1 = ${l.p1}u; const H = ${l.h}u; const LOGITS = ${l.logits}u;
const DL = ${l.dl}u; const DH = ${l.dh}u; const DHT = ${l.dht}u; const W1T = ${l.w1t}u; const PAD1U = ${(g.k1 - 1) / 2}u; const DC1 = ${l.dc1}u; const DC0 = ${l.dc0}u; const XIN = ${l.xin}u;
const GW0 = ${gradOffset(g.w0)}u; const GB0 = ${gradOffset(g.b0)}u; const GW1 = ${gradOffset(g.w1)}u; const GB1 = ${gradOffset(g.b1)}u;
const GW2 = ${gradOffset(g.w2)}u; const GB2 = ${gradOffset(g.b2)}u; const GW3 = ${gradOffset(g.w3)}u; const GB3 = ${gradOffset(g.b3)}u;
const MAXB = ${l.maxBatch}u;

// The workgroup's index in a grid folded into two dimensions (dispatches past 65,535 workgroups).
fn flatId(id: vec3<u32>, n: vec3<u32>) -> u32 { return id.x + id.y * n.x; }

// Pixel i (HWC order) of row b of this pass: a dataset image by index, or the uploaded floats.
fn pixel(b: u32, i: u32) -> f32 {
  if (u.source == 2u) { return F[XIN + b * IN + i]; }
  let p = rows[u.base + b] * IN + i;
  var w: u32;
  if (u.source == 0u) { w = trainX[p >> 2u]; } else { w = testX[p >> 2u]; }
  return f32((w >> ((p & 3u) * 8u)) & 255u) / 255.0;
}

// Conv_0 before its ReLU at (y, x, co): the forward pass and the backward pass's ReLU mask use this one
// function, so the mask sees exactly the forward value.
fn conv0At(b: u32, y: u32, x: u32, co: u32) -> f32 {
  var acc = F[B0 + co];
  for (var ky = 0u; ky < K0; ky++) {
    let iy = i32(y + ky) - PAD0;
    if (iy < 0 || iy >= i32(IH)) { continue; }
    for (var kx = 0u; kx < K0; kx++) {
      let ix = i32(x + kx) - PAD0;
      if (ix < 0 || ix >= i32(IW)) { continue; }
      for (var ci = 0u; ci < IC; ci++) {
        acc += pixel(b, (u32(iy) * IW + u32(ix)) * IC + ci) * F[W0 + ((ky * K0 + kx) * IC + ci) * C0 + co];
      }
    }
  }
  return acc;
}

@compute @workgroup_size(${WORKGROUP}) fn conv0(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let t = flatId(w, n) * ${WORKGROUP}u + li;
  if (t >= u.batch * PH0 * PW0 * C0) { return; }
  let co = t % C0; let px = (t / C0) % PW0; let py = (t / (C0 * PW0)) % PH0; let b = t / (C0 * PW0 * PH0);
  var s = 0.0;
  for (var d = 0u; d < 4u; d++) { s += max(conv0At(b, 2u * py + d / 2u, 2u * px + d % 2u, co), 0.0); }
  F[P0 + t] = s * 0.25;
}

@compute @workgroup_size(${WORKGROUP}) fn conv1(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let t = flatId(w, n) * ${WORKGROUP}u + li;
  if (t >= u.batch * PH1 * PW1 * C1) { return; }
  let co = t % C1; let px = (t / C1) % PW1; let py = (t / (C1 * PW1)) % PH1; let b = t / (C1 * PW1 * PH1);
  var s = 0.0;
  for (var d = 0u; d < 4u; d++) {
    let y = 2u * py + d / 2u; let x = 2u * px + d % 2u;
    var acc = F[B1 + co];
    for (var ky = 0u; ky < K1; ky++) {
      let iy = i32(y + ky) - PAD1;
      if (iy < 0 || iy >= i32(PH0)) { continue; }
      for (var kx = 0u; kx < K1; kx++) {
        let ix = i32(x + kx) - PAD1;
        if (ix < 0 || ix >= i32(PW0)) { continue; }
        let src = P0 + ((b * PH0 + u32(iy)) * PW0 + u32(ix)) * C0;
        let wt = W1 + (ky * K1 + kx) * C0 * C1 + co;
        for (var ci = 0u; ci < C0; ci++) { acc += F[src + ci] * F[wt + ci * C1]; }
      }
    }
    let a = max(acc, 0.0);
    F[A1 + ((b * CH1 + y) * CW1 + x) * C1 + co] = a;
    s += a;
  }
  F[P1 + b * FLAT + (py * PW1 + px) * C1 + co] = s * 0.25;
}

// Dense_0: each workgroup owns 16 units of 4 rows; its 16 slices of the inputs are summed apart (each
// kernel weight loaded once serves 4 rows), then added slice by slice in order.
const DJ = 16u; const DS = 16u; const DR = 4u;
var<workgroup> dense0Sums: array<f32, ${16 * 16 * 4}>;
@compute @workgroup_size(256) fn dense0(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let group = w.x + w.y * n.x;
  let jBlocks = (D + DJ - 1u) / DJ;
  let b0 = (group / jBlocks) * DR;
  if (b0 >= u.batch) { return; }
  let jl = li % DJ; let sl = li / DJ;
  let j = min((group % jBlocks) * DJ + jl, D - 1u);
  let per = (FLAT + DS - 1u) / DS;
  var acc = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  let rows = min(DR, u.batch - b0);
  for (var k = sl * per; k < min(FLAT, (sl + 1u) * per); k++) {
    let wk = F[W2 + k * D + j];
    for (var r = 0u; r < rows; r++) { acc[r] += F[P1 + (b0 + r) * FLAT + k] * wk; }
  }
  for (var r = 0u; r < DR; r++) { dense0Sums[(sl * DR + r) * DJ + jl] = acc[r]; }
  workgroupBarrier();
  if (li < DR * DJ) {
    let r = li / DJ; let jj = li % DJ; let jo = (group % jBlocks) * DJ + jj;
    if (b0 + r < u.batch && jo < D) {
      var total = F[B2 + jo];
      for (var s = 0u; s < DS; s++) { total += dense0Sums[(s * DR + r) * DJ + jj]; }
      F[H + (b0 + r) * D + jo] = max(total, 0.0);
    }
  }
}

fn logit(o: u32) -> f32 {
  let c = o % K; let b = o / K;
  var acc = F[B3 + c];
  for (var j = 0u; j < D; j++) { acc += F[H + b * D + j] * F[W3 + j * K + c]; }
  return acc;
}

@compute @workgroup_size(${WORKGROUP}) fn logits(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let t = flatId(w, n) * ${WORKGROUP}u + li;
  if (t >= u.batch * K) { return; }
  F[LOGITS + t] = logit(t);
}

var<workgroup> rowLoss: array<f32, MAXB>;
var<workgroup> rowHit: array<f32, MAXB>;
var<workgroup> shares: array<f32, ${REDUCE_WORKGROUP}>;

// Softmax cross-entropy of the logits, its gradient (already divided by the batch) and the step's loss
// sum and hits into its own result slot, in one workgroup.
@compute @workgroup_size(${REDUCE_WORKGROUP}) fn loss(@builtin(local_invocation_index) li: u32) {
  let batch = u.batch;
  for (var r = li; r < batch; r += ${REDUCE_WORKGROUP}u) {
    let z = LOGITS + r * K;
    var best = 0u;
    for (var c = 1u; c < K; c++) { if (F[z + c] > F[z + best]) { best = c; } }
    let mx = F[z + best];
    var sum = 0.0;
    for (var c = 0u; c < K; c++) { sum += exp(F[z + c] - mx); }
    let label = trainY[rows[u.base + r]];
    rowLoss[r] = mx + log(sum) - F[z + label];
    rowHit[r] = select(0.0, 1.0, best == label);
    for (var c = 0u; c < K; c++) {
      F[DL + r * K + c] = (exp(F[z + c] - mx) / sum - select(0.0, 1.0, c == label)) / f32(batch);
    }
  }
  workgroupBarrier();
  if (li == 0u) {
    var total = 0.0; var hits = 0.0;
    for (var r = 0u; r < batch; r++) { total += rowLoss[r]; hits += rowHit[r]; }
    results[2u * u.slot] = total;
    results[2u * u.slot + 1u] = hits;
  }
}

@compute @workgroup_size(${WORKGROUP}) fn dense1Back(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let t = flatId(w, n) * ${WORKGROUP}u + li;
  let batch = u.batch;
  if (t < D * K) {
    let j = t / K; let c = t % K;
    var acc = 0.0;
    for (var b = 0u; b < batch; b++) { acc += F[H + b * D + j] * F[DL + b * K + c]; }
    F[GW3 + t] = acc;
  } else if (t < D * K + K) {
    let c = t - D * K;
    var acc = 0.0;
    for (var b = 0u; b < batch; b++) { acc += F[DL + b * K + c]; }
    F[GB3 + c] = acc;
  } else if (t < D * K + K + batch * D) {
    let e = t - D * K - K; let b = e / D; let j = e % D;
    var acc = 0.0;
    if (F[H + e] > 0.0) { for (var c = 0u; c < K; c++) { acc += F[DL + b * K + c] * F[W3 + j * K + c]; } }
    F[DH + e] = acc;
    F[DHT + j * batch + b] = acc;
  } else if (t < D * K + K + batch * D + NW1) {
    let e = t - D * K - K - batch * D;
    let co = e % C1; let ci = (e / C1) % C0; let kk = e / (C1 * C0);
    F[W1T + (kk * C1 + co) * C0 + ci] = F[W1 + e];
  }
}

@compute @workgroup_size(${WORKGROUP}) fn dense0Back(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let t = flatId(w, n) * ${WORKGROUP}u + li;
  let batch = u.batch;
  if (t < FLAT * D) {
    let k = t / D; let j = t % D;
    var acc = 0.0;
    for (var b = 0u; b < batch; b++) { acc += F[P1 + b * FLAT + k] * F[DH + b * D + j]; }
    F[GW2 + t] = acc;
  } else if (t < FLAT * D + D) {
    let j = t - FLAT * D;
    var acc = 0.0;
    for (var b = 0u; b < batch; b++) { acc += F[DH + b * D + j]; }
    F[GB2 + j] = acc;
  } else if (t < FLAT * D + D + batch * FLAT) {
    // The batch index runs fastest so neighbouring invocations read the same row of the kernel.
    let e = t - FLAT * D - D; let b = e % batch; let k = e / batch;
    var dp = 0.0;
    for (var j = 0u; j < D; j++) { dp += F[DHT + j * batch + b] * F[W2 + k * D + j]; }
    let c = k % C1; let px = (k / C1) % PW1; let py = k / (C1 * PW1);
    for (var d = 0u; d < 4u; d++) {
      let at = ((b * CH1 + 2u * py + d / 2u) * CW1 + 2u * px + d % 2u) * C1 + c;
      F[DC1 + at] = select(0.0, dp * 0.25, F[A1 + at] > 0.0);
    }
  }
}

@compute @workgroup_size(${WORKGROUP}) fn conv1Back(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let t = flatId(w, n) * ${WORKGROUP}u + li;
  let batch = u.batch;
  if (t < PARTS1 * NW1) {
    // Kernel gradient, one slice of the batch's positions per part; the update adds the parts in order.
    let part = t / NW1; let e = t % NW1;
    let co = e % C1; let ci = (e / C1) % C0; let kx = (e / (C1 * C0)) % K1; let ky = e / (C1 * C0 * K1);
    // The output positions whose input tap (y + ky - PAD1, x + kx - PAD1) lies inside the pooled map.
    let y0 = u32(max(PAD1 - i32(ky), 0)); let y1 = u32(min(i32(CH1), i32(PH0) + PAD1 - i32(ky)));
    let x0 = u32(max(PAD1 - i32(kx), 0)); let x1 = u32(min(i32(CW1), i32(PW0) + PAD1 - i32(kx)));
    let per = (batch + PARTS1 - 1u) / PARTS1;
    var acc = 0.0;
    for (var b = part * per; b < min(batch, (part + 1u) * per); b++) {
      for (var y = y0; y < y1; y++) {
        let src = P0 + (b * PH0 + y + ky - PAD1U) * PW0 * C0 + ci;
        let grad = DC1 + (b * CH1 + y) * CW1 * C1 + co;
        for (var x = x0; x < x1; x++) { acc += F[src + (x + kx - PAD1U) * C0] * F[grad + x * C1]; }
      }
    }
    F[GW1 + part * NW1 + e] = acc;
  } else if (t < PARTS1 * NW1 + batch * PH0 * PW0 * C0) {
    // Gradient at the pooled Conv_0 output, then through the pool and Conv_0's ReLU.
    let e = t - PARTS1 * NW1;
    let ci = e % C0; let px = (e / C0) % PW0; let py = (e / (C0 * PW0)) % PH0; let b = e / (C0 * PW0 * PH0);
    var dp = 0.0;
    for (var ky = 0u; ky < K1; ky++) {
      let y = i32(py) - i32(ky) + PAD1;
      if (y < 0 || y >= i32(CH1)) { continue; }
      for (var kx = 0u; kx < K1; kx++) {
        let x = i32(px) - i32(kx) + PAD1;
        if (x < 0 || x >= i32(CW1)) { continue; }
        let src = DC1 + ((b * CH1 + u32(y)) * CW1 + u32(x)) * C1;
        let wt = W1T + (ky * K1 + kx) * C1 * C0 + ci;
        for (var co = 0u; co < C1; co++) { dp += F[src + co] * F[wt + co * C0]; }
      }
    }
    for (var d = 0u; d < 4u; d++) {
      let y = 2u * py + d / 2u; let x = 2u * px + d % 2u;
      F[DC0 + ((b * CH0 + y) * CW0 + x) * C0 + ci] = select(0.0, dp * 0.25, conv0At(b, y, x, ci) > 0.0);
    }
  }
}

// Conv_0's kernel and bias gradients and Conv_1's bias gradient: one workgroup per output, each
// invocation a strided share, then a fixed-order tree.
@compute @workgroup_size(${REDUCE_WORKGROUP}) fn smallGrads(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let o = w.x + w.y * n.x;
  let batch = u.batch;
  var acc = 0.0;
  if (o < NW0) {
    let co = o % C0; let ci = (o / C0) % IC; let kx = (o / (C0 * IC)) % K0; let ky = o / (C0 * IC * K0);
    for (var q = li; q < batch * CH0 * CW0; q += ${REDUCE_WORKGROUP}u) {
      let x = q % CW0; let y = (q / CW0) % CH0; let b = q / (CW0 * CH0);
      let iy = i32(y + ky) - PAD0; let ix = i32(x + kx) - PAD0;
      if (iy < 0 || iy >= i32(IH) || ix < 0 || ix >= i32(IW)) { continue; }
      acc += pixel(b, (u32(iy) * IW + u32(ix)) * IC + ci) * F[DC0 + q * C0 + co];
    }
  } else if (o < NW0 + C0) {
    for (var q = li; q < batch * CH0 * CW0; q += ${REDUCE_WORKGROUP}u) { acc += F[DC0 + q * C0 + o - NW0]; }
  } else {
    for (var q = li; q < batch * CH1 * CW1; q += ${REDUCE_WORKGROUP}u) { acc += F[DC1 + q * C1 + o - NW0 - C0]; }
  }
  shares[li] = acc;
  for (var stride = ${REDUCE_WORKGROUP / 2}u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (li < stride) { shares[li] += shares[li + stride]; }
  }
  if (li == 0u) {
    if (o < NW0) { F[GW0 + o] = shares[0]; } else if (o < NW0 + C0) { F[GB0 + o - NW0] = shares[0]; } else if (o < NW0 + C0 + C1) { F[GB1 + o - NW0 - C0] = shares[0]; }
  }
}

// optax's heavy-ball momentum: v = m*v + g; p = p - lr*v.
@compute @workgroup_size(${WORKGROUP}) fn update(@builtin(workgroup_id) w: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(num_workgroups) n: vec3<u32>) {
  let e = flatId(w, n) * ${WORKGROUP}u + li;
  if (e >= ${g.params}u) { return; }
  var g = 0.0;
  ${gradOf.join('')}
  let v = u.momentum * F[VEL + e] + g;
  F[VEL + e] = v;
  F[e] = F[e] - u.lr * v;
}
`;
}
