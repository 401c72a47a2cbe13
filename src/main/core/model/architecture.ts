// The seed's CNN as data: one source for parameter shapes, counts, FLOPs and the summary table,
// shared by every backend so they cannot disagree about what the model is.
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

export const INPUT_SHAPE: Shape = [28, 28, 1];
export const CLASSES = 10;

export const LAYERS: readonly LayerSpec[] = [
  conv('Conv_0', 28, 28, 1, 32),
  elementwise('relu_0', 'ReLU', [28, 28, 32], 1),
  elementwise('avg_pool_0', 'AvgPool', [14, 14, 32], 4),
  conv('Conv_1', 14, 14, 32, 64),
  elementwise('relu_1', 'ReLU', [14, 14, 64], 1),
  elementwise('avg_pool_1', 'AvgPool', [7, 7, 64], 4),
  elementwise('flatten', 'Flatten', [3136], 0),
  dense('Dense_0', 3136, 256),
  elementwise('relu_2', 'ReLU', [256], 1),
  dense('Dense_1', 256, 10),
];

/** Every parameter tensor in order, with its offset into the flat parameter vector. */
export const PARAMS = LAYERS.flatMap((layer) => layer.params.map((p) => ({ layer: layer.name, ...p, size: size(p.shape) }))).map(
  (p, i, all) => ({ ...p, offset: all.slice(0, i).reduce((a, q) => a + q.size, 0) }),
);

export const PARAM_COUNT = PARAMS.reduce((a, p) => a + p.size, 0);

export function paramCount(layer: LayerSpec): number {
  return layer.params.reduce((a, p) => a + size(p.shape), 0);
}

