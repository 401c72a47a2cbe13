// The network's sizes as the GPU kernels need them, read from the model description (architecture.ts),
// never written as literals, and the layout of the one float buffer the kernels share.
import { architectureOf } from '@shared/architecture';
import { MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';
import { StudioFailure } from '@shared/errors';

/** Rows one inference pass scores at once; longer requests run as several passes in one submission. */
export const INFER_ROWS = 256;
/** The conv1 weight gradient is summed in this many slices of the batch, then the slices in order. */
export const CONV1_PARTS = 32;

export interface Geometry {
  /** Input height, width, channels; bytes per image. */
  ih: number;
  iw: number;
  ic: number;
  inSize: number;
  /** Conv kernel sizes (odd, SAME padding), output channels, pooled sizes (2x2/2, floor). */
  k0: number;
  c0: number;
  ph0: number;
  pw0: number;
  k1: number;
  c1: number;
  ph1: number;
  pw1: number;
  flat: number;
  hidden: number;
  classes: number;
  /** Offsets of each parameter tensor in the flat parameter vector, in tfjs's order. */
  w0: number;
  b0: number;
  w1: number;
  b1: number;
  w2: number;
  b2: number;
  w3: number;
  b3: number;
  params: number;
}

/**
 * A model the webgpu kernels cannot train, though it is sound (the CPU backends train it): for this model
 * the backend is unavailable, and choosing another one is what a person can do about it.
 */
export class UnsupportedModelError extends StudioFailure {
  readonly code = 'backend-unavailable';
}

/** The sizes of the seed's topology (Conv-ReLU-AvgPool x2, Flatten, Dense-ReLU, Dense) for a model spec. */
export function geometry(spec: ModelSpec = MNIST_SPEC): Geometry {
  const { layers: LAYERS, params: PARAMS, paramCount: PARAM_COUNT, inputShape: INPUT_SHAPE, classes: CLASSES } = architectureOf(spec);
  const kinds = LAYERS.map((l) => l.kind).join(',');
  if (kinds !== 'Conv,ReLU,AvgPool,Conv,ReLU,AvgPool,Flatten,Dense,ReLU,Dense')
    throw new UnsupportedModelError(`the webgpu kernels train Conv-ReLU-AvgPool x2, Dense-ReLU, Dense; not ${kinds}`);
  const [ih, iw, ic] = INPUT_SHAPE as [number, number, number];
  const kernel = (i: number) => PARAMS.filter((p) => p.name === 'kernel')[i]!.shape;
  const offset = (layer: string, name: string) => PARAMS.find((p) => p.layer === layer && p.name === name)!.offset;
  const [conv0, , pool0, conv1, , pool1, , dense0, , dense1] = LAYERS;
  const [k0, , , c0] = kernel(0) as [number, number, number, number];
  const [k1, , , c1] = kernel(1) as [number, number, number, number];
  const [ph0, pw0] = pool0!.output as [number, number];
  const [ph1, pw1] = pool1!.output as [number, number];
  if (k0 % 2 === 0 || k1 % 2 === 0 || conv0!.output[0] !== ih || conv1!.output[0] !== ph0 || ph0 !== Math.floor(ih / 2) || ph1 !== Math.floor(ph0 / 2)) {
    throw new UnsupportedModelError('the webgpu kernels need odd SAME convolutions and 2x2 pools');
  }
  return {
    ih,
    iw,
    ic,
    inSize: ih * iw * ic,
    k0,
    c0,
    ph0,
    pw0,
    k1,
    c1,
    ph1,
    pw1,
    flat: ph1 * pw1 * c1,
    hidden: dense0!.output[0]!,
    classes: CLASSES,
    w0: offset(conv0!.name, 'kernel'),
    b0: offset(conv0!.name, 'bias'),
    w1: offset(conv1!.name, 'kernel'),
    b1: offset(conv1!.name, 'bias'),
    w2: offset(dense0!.name, 'kernel'),
    b2: offset(dense0!.name, 'bias'),
    w3: offset(dense1!.name, 'kernel'),
    b3: offset(dense1!.name, 'bias'),
    params: PARAM_COUNT,
  };
}

/** Float offsets of every region of the shared buffer, for batches up to maxBatch and inference passes of INFER_ROWS. */
export function layout(g: Geometry, maxBatch: number) {
  const rows = Math.max(maxBatch, INFER_ROWS);
  const sizes = {
    prm: g.params,
    vel: g.params,
    // Gradients: each tensor's slices back to back, in parameter order (only conv1's kernel has several).
    grad: g.params + (CONV1_PARTS - 1) * g.k1 * g.k1 * g.c0 * g.c1,
    p0: rows * g.ph0 * g.pw0 * g.c0,
    a1: rows * 2 * g.ph1 * 2 * g.pw1 * g.c1,
    p1: rows * g.flat,
    h: rows * g.hidden,
    logits: rows * g.classes,
    dl: maxBatch * g.classes,
    dh: maxBatch * g.hidden,
    // The same gradient transposed (unit-major), and Conv_1's kernel transposed (co before ci): each lets a
    // later kernel's neighbouring invocations read neighbouring floats.
    dht: maxBatch * g.hidden,
    w1t: g.k1 * g.k1 * g.c0 * g.c1,
    dc1: maxBatch * 2 * g.ph1 * 2 * g.pw1 * g.c1,
    dc0: maxBatch * 2 * g.ph0 * 2 * g.pw0 * g.c0,
    xin: INFER_ROWS * g.inSize,
  };
  const offsets = {} as Record<keyof typeof sizes, number>;
  let end = 0;
  for (const [name, size] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    offsets[name] = end;
    // 64-float alignment keeps every region on a 256-byte boundary for copies.
    end += Math.ceil(size / 64) * 64;
  }
  return { ...offsets, floats: end, maxBatch };
}

export type Layout = ReturnType<typeof layout>;
