// Other specs than MNIST's through both engines: RGB, non-square inputs and other class counts, with the
// wasm kernels' gradients checked against tfjs's cpu backend, and training that learns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEngine } from '@core/backend/wasmEngine';
import { TfjsEngine } from '@core/backend/tfjsEngine';
import { NativeEngine, nativeKernels } from '@core/backend/nativeEngine';
import { initialParams } from '@core/model/init';
import { architectureOf } from '@shared/architecture';
import { scoreLogits } from '@core/trainer/metrics';
import { Rng } from '@core/model/rng';
import { inputSize, type ModelSpec } from '@shared/modelSpec';
import type { Dataset, Split } from '@shared/dataset';
import { relativeError, stepGradient } from '../support/helpers';
import { GpuEngine } from '@gpu/gpuEngine';
import { findAdapter, requestDevice } from '@core/backend/webgpu/nodeDevice';

const adapter = await findAdapter();
const noGpu = typeof adapter === 'string' ? `no WebGPU adapter: ${adapter}` : false;

/** Images whose class is the colour channel that is brightest in a blob: learnable, and exercising all channels. */
function colourData(spec: ModelSpec, count: number, seed: number): Split {
  const rng = new Rng(seed);
  const size = inputSize(spec),
    k = spec.classes.length;
  const images = new Uint8Array(count * size),
    labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % k;
    labels[n] = label;
    const [cy, cx] = [rng.next() * spec.height, rng.next() * spec.width];
    for (let y = 0; y < spec.height; y++)
      for (let x = 0; x < spec.width; x++)
        for (let c = 0; c < spec.channels; c++) {
          const blob = Math.hypot(y - cy, x - cx) < spec.height / 4 && c === label % spec.channels ? 150 : 0;
          images[n * size + (y * spec.width + x) * spec.channels + c] = Math.min(255, blob + Math.floor(rng.next() * 60));
        }
  }
  return { count, images, labels };
}

const datasetOf = (spec: ModelSpec, train: number, test: number): Dataset => ({
  source: 'generated',
  spec,
  train: colourData(spec, train, 1),
  test: colourData(spec, test, 2),
});

function gradient(engine: WasmEngine | TfjsEngine | NativeEngine, params: Float32Array, batch: Int32Array): Float32Array {
  engine.setParams(params);
  engine.setVelocity(new Float32Array(params.length));
  engine.trainStep(batch, 1, 0);
  const after = engine.getParams();
  return params.map((p, i) => p - after[i]!);
}

const [gradientOf, relative] = [stepGradient, relativeError];

for (const spec of [
  { height: 8, width: 12, channels: 3, mode: 'photo', classes: ['r', 'g', 'b'] },
  { height: 12, width: 4, channels: 1, mode: 'drawing', classes: ['a', 'b', 'c', 'd', 'e'] },
] satisfies ModelSpec[]) {
  test(`wasm logits and gradients match tfjs cpu on ${spec.height}x${spec.width}x${spec.channels} with ${spec.classes.length} classes`, () => {
    const data = datasetOf(spec, 12, 6);
    const wasm = new WasmEngine(data, { maxBatch: 8, threads: 2 });
    const cpu = new TfjsEngine('cpu', data, { maxBatch: 8 });
    try {
      const params = initialParams(7, spec);
      for (const p of architectureOf(spec).params.filter((q) => q.name === 'bias'))
        for (let i = 0; i < p.size; i++) params[p.offset + i] = 0.01 * ((i % 7) - 3);
      wasm.setParams(params);
      cpu.setParams(params);
      const a = wasm.logits('test', 0, 6),
        b = cpu.logits('test', 0, 6);
      assert.equal(a.length, 6 * spec.classes.length);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `logit ${i}: ${a[i]} vs ${b[i]}`);
      const probe = Float32Array.from(data.test.images.subarray(0, 2 * inputSize(spec)), (v) => v / 255);
      const c = wasm.logitsOf(probe),
        d = cpu.logitsOf(probe);
      for (let i = 0; i < c.length; i++) assert.ok(Math.abs(c[i]! - d[i]!) < 1e-4);
      const batch = Int32Array.from([0, 1, 2, 3, 4, 5, 6]);
      const gw = gradient(wasm, params, batch),
        gc = gradient(cpu, params, batch);
      for (const p of architectureOf(spec).params) {
        const x = gw.subarray(p.offset, p.offset + p.size),
          y = gc.subarray(p.offset, p.offset + p.size);
        assert.ok(
          y.some((v) => v !== 0),
          `${p.layer} ${p.name} has a zero reference gradient`,
        );
        const error = relative(x, y);
        assert.ok(error < 2e-3, `${p.layer} ${p.name}: relative error ${error}`);
      }
    } finally {
      wasm.dispose();
      cpu.dispose();
    }
  });
}

const native = nativeKernels();
for (const spec of [
  { height: 8, width: 12, channels: 3, mode: 'photo', classes: ['r', 'g', 'b'] },
  { height: 12, width: 4, channels: 1, mode: 'drawing', classes: ['a', 'b', 'c', 'd', 'e'] },
] satisfies ModelSpec[]) {
  test(
    `native logits and gradients match wasm on ${spec.height}x${spec.width}x${spec.channels} with ${spec.classes.length} classes, on each ISA`,
    { skip: typeof native === 'string' && native },
    () => {
      const data = datasetOf(spec, 12, 6);
      const wasm = new WasmEngine(data, { maxBatch: 8, threads: 2, kernelBuild: 'plain' });
      const isas = typeof native !== 'string' && native.isa === 'AVX-512' ? [undefined, 'AVX2' as const] : [undefined];
      const engines = isas.map((nativeIsa) => new NativeEngine(data, { maxBatch: 8, threads: 2, nativeIsa }));
      try {
        const params = initialParams(7, spec);
        const batch = Int32Array.from([0, 1, 2, 3, 4, 5, 6]);
        wasm.setParams(params);
        const [logits, gw] = [wasm.logits('test', 0, 6), gradient(wasm, params, batch)];
        for (const engine of engines) {
          engine.setParams(params);
          assert.ok(relative(engine.logits('test', 0, 6), logits) < 1e-5, `${engine.detail} logits`);
          const gn = gradient(engine, params, batch);
          for (const p of architectureOf(spec).params) {
            const error = relative(gn.subarray(p.offset, p.offset + p.size), gw.subarray(p.offset, p.offset + p.size));
            assert.ok(error < 1e-4, `${engine.detail}, ${p.layer} ${p.name}: relative error ${error}`);
          }
        }
      } finally {
        wasm.dispose();
        for (const engine of engines) engine.dispose();
      }
    },
  );
}

test('RGB 32x32 with 3 classes: the loss goes down on wasm and on tfjs cpu', () => {
  const spec: ModelSpec = { height: 32, width: 32, channels: 3, mode: 'photo', classes: ['red', 'green', 'blue'] };
  const data = datasetOf(spec, 48, 24);
  // tfjs's cpu backend takes seconds per 32x32 step, so it gets a few small ones; wasm gets more.
  for (const [engine, steps, batch] of [
    [new WasmEngine(data, { maxBatch: 16, threads: 2 }), 15, 16],
    [new TfjsEngine('cpu', data, { maxBatch: 16 }), 4, 6],
  ] as const) {
    try {
      engine.setParams(initialParams(0, spec));
      engine.setVelocity(new Float32Array(architectureOf(spec).paramCount));
      const loss = () => scoreLogits(engine.logits('test', 0, 24), data.test.labels).lossSum / 24;
      const before = loss();
      const order = new Rng(3).permutation(48);
      for (let step = 0; step < steps; step++) engine.trainStep(order.subarray((step * batch) % 48, ((step * batch) % 48) + batch), 0.05, 0.9);
      const after = loss();
      assert.ok(after < before * 0.95, `${engine.backend}: test loss ${before} -> ${after}`);
    } finally {
      engine.dispose();
    }
  }
});

/** The webgpu and wasm engines on the same data, at batch 8. An adapter makes one device: each call finds its own. */
async function gpuAndWasm(data: Dataset): Promise<{ gpu: GpuEngine; wasm: WasmEngine }> {
  const found = await findAdapter();
  if (typeof found === 'string') throw new Error(found);
  const gpu = await GpuEngine.create(await requestDevice(found.adapter), data, { maxBatch: 8, device: found.name, ownsDevice: true });
  return { gpu, wasm: new WasmEngine(data, { maxBatch: 8, threads: 1 }) };
}

for (const spec of [
  { height: 8, width: 12, channels: 3, mode: 'photo', classes: ['r', 'g', 'b'] },
  { height: 32, width: 32, channels: 3, mode: 'photo', classes: ['red', 'green', 'blue'] },
] satisfies ModelSpec[]) {
  test(
    `webgpu logits and gradients match wasm on ${spec.height}x${spec.width}x${spec.channels} with ${spec.classes.length} classes`,
    { skip: noGpu },
    async () => {
      const { gpu, wasm } = await gpuAndWasm(datasetOf(spec, 12, 8));
      try {
        const params = initialParams(7, spec);
        for (const p of architectureOf(spec).params.filter((q) => q.name === 'bias'))
          for (let i = 0; i < p.size; i++) params[p.offset + i] = 0.01 * ((i % 7) - 3);
        gpu.setParams(params);
        wasm.setParams(params);
        assert.ok(relative(await gpu.logits('test', 0, 8), wasm.logits('test', 0, 8)) < 1e-5);
        const batch = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
        const [gg, gw] = [await gradientOf(gpu, params, batch), await gradientOf(wasm, params, batch)];
        for (const p of architectureOf(spec).params) {
          const error = relative(gg.subarray(p.offset, p.offset + p.size), gw.subarray(p.offset, p.offset + p.size));
          assert.ok(error < 1e-3, `${p.layer} ${p.name}: relative error ${error}`);
        }
      } finally {
        gpu.dispose();
        wasm.dispose();
      }
    },
  );
}

test('webgpu logits of 256 rows of 48x48 (a grid past 65,535 workgroups, folded into two dimensions) match wasm on every row', { skip: noGpu }, async () => {
  const spec: ModelSpec = { height: 48, width: 48, channels: 1, mode: 'photo', classes: ['a', 'b', 'c'] };
  const { gpu, wasm } = await gpuAndWasm(datasetOf(spec, 8, 256));
  try {
    const params = initialParams(5, spec);
    gpu.setParams(params);
    wasm.setParams(params);
    const [a, b] = [await gpu.logits('test', 0, 256), wasm.logits('test', 0, 256)];
    const k = spec.classes.length;
    // conv0 alone needs 256 x 24 x 24 x 32 / 64 = 73,728 workgroups: rows past ~227 used to keep stale logits.
    for (const row of [0, 227, 228, 255]) {
      const error = relative(a.subarray(row * k, (row + 1) * k), b.subarray(row * k, (row + 1) * k));
      assert.ok(error < 1e-4, `row ${row}: relative error ${error}`);
    }
    assert.ok(relative(a, b) < 1e-4);
  } finally {
    gpu.dispose();
    wasm.dispose();
  }
});
