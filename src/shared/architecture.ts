// The seed's CNN as data, derived from a ModelSpec: one source for parameter shapes, counts, FLOPs and
// the summary table, shared by every backend so they cannot disagree about what the model is.
// Conv32-ReLU-AvgPool, Conv64-ReLU-AvgPool, Flatten, Dense256-ReLU, Dense K on H x W x C inputs.
import { MNIST_SPEC, type ModelSpec } from './modelSpec';

export type Shape = readonly number[];

export interface LayerSpec {
  name: string;
  kind: 'Conv' | 'ReLU' | 'AvgPool' | 'Flatten' | 'Dense';
  /** Output shape without the batch dimension. */
  output: Shape;
  /** Parameter shapes in tfjs order: kernel, then bias. */
  params: { name: string; shape: Shape }[];
  /** Multiply-adds count as two FLOPs; per example, forward pass. */
  flops: number;
}

export interface ParamSpec {
  layer: string;
  name: string;
  shape: Shape;
  size: number;
  /** Where this tensor starts in the flat parameter vector. */
  offset: number;
}

/** Everything about the network's shape for one spec. */
export interface Architecture {
  inputShape: Shape;
  classes: number;
  layers: readonly LayerSpec[];
  /** Every parameter tensor in order, with its offset into the flat parameter vector. */
  params: readonly ParamSpec[];
  paramCount: number;
}

export const C1 = 32,
  C2 = 64,
  HIDDEN = 256;

const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

function conv(name: string, h: number, w: number, cin: number, cout: number): LayerSpec {
  return {
    name,
    kind: 'Conv',
    output: [h, w, cout],
    params: [
      { name: 'kernel', shape: [3, 3, cin, cout] },
      { name: 'bias', shape: [cout] },
    ],
    flops: 2 * h * w * 9 * cin * cout + h * w * cout,
  };
}

function dense(name: string, inputs: number, units: number): LayerSpec {
  return {
    name,
    kind: 'Dense',
    output: [units],
    params: [
      { name: 'kernel', shape: [inputs, units] },
      { name: 'bias', shape: [units] },
    ],
    flops: 2 * inputs * units + units,
  };
}

const elementwise = (name: string, kind: LayerSpec['kind'], output: Shape, flopsPerElement: number): LayerSpec => ({
  name,
  kind,
  output,
  params: [],
  flops: size(output) * flopsPerElement,
});

/** The seed's layers for a spec's input shape and class count. */
export function layersFor(spec: Pick<ModelSpec, 'height' | 'width' | 'channels' | 'classes'>): LayerSpec[] {
  const { height: h, width: w, channels: c } = spec;
  const k = spec.classes.length;
  const flat = (h / 4) * (w / 4) * C2;
  return [
    conv('Conv_0', h, w, c, C1),
    elementwise('relu_0', 'ReLU', [h, w, C1], 1),
    elementwise('avg_pool_0', 'AvgPool', [h / 2, w / 2, C1], 4),
    conv('Conv_1', h / 2, w / 2, C1, C2),
    elementwise('relu_1', 'ReLU', [h / 2, w / 2, C2], 1),
    elementwise('avg_pool_1', 'AvgPool', [h / 4, w / 4, C2], 4),
    elementwise('flatten', 'Flatten', [flat], 0),
    dense('Dense_0', flat, HIDDEN),
    elementwise('relu_2', 'ReLU', [HIDDEN], 1),
    dense('Dense_1', HIDDEN, k),
  ];
}

const cache = new Map<string, Architecture>();

/** The architecture for a spec (memoised: specs repeat, and the tables are asked for often). */
export function architectureOf(spec: Pick<ModelSpec, 'height' | 'width' | 'channels' | 'classes'>): Architecture {
  const key = `${spec.height}x${spec.width}x${spec.channels}:${spec.classes.length}`;
  let arch = cache.get(key);
  if (!arch) {
    const layers = layersFor(spec);
    const flat = layers.flatMap((layer) => layer.params.map((p) => ({ layer: layer.name, ...p, size: size(p.shape) })));
    let offset = 0;
    const params = flat.map((p) => {
      const withOffset = { ...p, offset };
      offset += p.size;
      return withOffset;
    });
    arch = { inputShape: [spec.height, spec.width, spec.channels], classes: spec.classes.length, layers, params, paramCount: offset };
    cache.set(key, arch);
  }
  return arch;
}

export const paramCountFor = (spec: ModelSpec): number => architectureOf(spec).paramCount;

export function paramCount(layer: LayerSpec): number {
  return layer.params.reduce((a, p) => a + size(p.shape), 0);
}

// The seed's MNIST network, for callers that only ever deal with it.
const MNIST = architectureOf(MNIST_SPEC);
export const INPUT_SHAPE: Shape = MNIST.inputShape;
export const CLASSES = MNIST.classes;
export const LAYERS: readonly LayerSpec[] = MNIST.layers;
export const PARAMS: readonly ParamSpec[] = MNIST.params;
export const PARAM_COUNT = MNIST.paramCount;
