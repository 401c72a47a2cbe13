// The seed's CNN as an ONNX model, from the same flat parameter vector and spec that the app trains and
// saves (architecture.ts is the one description of the network). The protobuf is written by onnx-proto
// (protobufjs code generated from ONNX's own onnx.proto), never by hand.
//
// The graph takes what the app's own preprocessing produces: `image`, float32 [N, H, W, C] in [0, 1]
// (channels last, as tfjs), with N left dynamic. tfjs convolves NHWC with HWIO kernels and flattens NHWC
// before the first Dense; ONNX's Conv wants NCHW and OIHW. So the graph transposes the input to NCHW, the
// kernels are stored as OIHW, and the features are transposed back to NHWC before Flatten, which keeps
// the Dense weights exactly as tfjs has them ([in, out], applied by Gemm). docs/export.md describes it.
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import { architectureOf, type ParamSpec } from '@shared/architecture';
import { ModelSpecSchema, type ModelSpec } from '@shared/modelSpec';

const { onnx } = onnxProto;

/** The operator set the graph is written against, and the IR version that goes with it (ONNX 1.8). */
export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT = 'image';
export const ONNX_OUTPUT = 'logits';
/** metadata_props keys (docs/export.md lists them with their values). */
export const META = {
  spec: 'mnist_studio.spec',
  classes: 'classes',
  layout: 'input_layout',
  scaling: 'input_scaling',
  mode: 'input_mode',
} as const;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const { INT, INTS } = onnx.AttributeProto.AttributeType;

/** A float32 initializer, its bytes little-endian as ONNX's raw_data requires. */
function initializer(name: string, dims: readonly number[], values: Float32Array): Onnx.ITensorProto {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return { name, dims: [...dims], dataType: FLOAT, rawData: raw };
}

/** A tfjs conv kernel, HWIO (kh, kw, in, out), reordered as ONNX's OIHW (out, in, kh, kw). */
function oihw(hwio: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < cin!; i++) for (let o = 0; o < cout!; o++) out[((o * cin! + i) * kh! + y) * kw! + x] = hwio[((y * kw! + x) * cin! + i) * cout! + o]!;
  return out;
}

const ints = (name: string, values: number[]): Onnx.IAttributeProto => ({ name, type: INTS, ints: values });
const int = (name: string, value: number): Onnx.IAttributeProto => ({ name, type: INT, i: value });
const node = (opType: string, input: string[], output: string, attribute: Onnx.IAttributeProto[] = []): Onnx.INodeProto => ({
  opType,
  input,
  output: [output],
  name: output,
  attribute,
});

function floatInfo(name: string, dims: (number | string)[]): Onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

/** The metadata a runtime or a person reads to know what the model takes and what its outputs mean. */
export function onnxMetadata(spec: ModelSpec): Record<string, string> {
  return {
    [META.spec]: JSON.stringify(spec),
    [META.classes]: JSON.stringify(spec.classes),
    [META.layout]: 'NHWC',
    [META.scaling]: 'float32 in [0, 1]: byte / 255',
    [META.mode]: spec.mode,
  };
}

/** The ONNX model (serialised ModelProto) of the seed's CNN for `spec` with weights `params`. */
export function onnxModel(params: Float32Array, spec: ModelSpec, options: { producerVersion?: string; docString?: string } = {}): Uint8Array {
  const arch = architectureOf(spec);
  if (params.length !== arch.paramCount) throw new RangeError(`expected ${arch.paramCount} parameters for this model, got ${params.length}`);
  const byLayer = new Map<string, ParamSpec[]>();
  for (const p of arch.params) byLayer.set(p.layer, [...(byLayer.get(p.layer) ?? []), p]);
  const values = (p: ParamSpec): Float32Array => params.subarray(p.offset, p.offset + p.size);
  const initializers: Onnx.ITensorProto[] = [];
  const nodes: Onnx.INodeProto[] = [node('Transpose', [ONNX_INPUT], 'nchw', [ints('perm', [0, 3, 1, 2])])];
  let x = 'nchw';
  for (const layer of arch.layers) {
    const [kernel, bias] = byLayer.get(layer.name) ?? [];
    const out = layer.name === arch.layers.at(-1)!.name ? ONNX_OUTPUT : layer.name;
    if (layer.kind === 'Conv') {
      initializers.push(initializer(`${layer.name}.kernel`, [kernel!.shape[3]!, kernel!.shape[2]!, 3, 3], oihw(values(kernel!), kernel!.shape)));
      initializers.push(initializer(`${layer.name}.bias`, bias!.shape, values(bias!)));
      // tfjs's 'same' padding for a 3x3 kernel at stride 1: one pixel on every side.
      nodes.push(node('Conv', [x, `${layer.name}.kernel`, `${layer.name}.bias`], out, [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]));
    } else if (layer.kind === 'Dense') {
      initializers.push(initializer(`${layer.name}.kernel`, kernel!.shape, values(kernel!)));
      initializers.push(initializer(`${layer.name}.bias`, bias!.shape, values(bias!)));
      nodes.push(node('Gemm', [x, `${layer.name}.kernel`, `${layer.name}.bias`], out));
    } else if (layer.kind === 'ReLU') nodes.push(node('Relu', [x], out));
    else if (layer.kind === 'AvgPool') nodes.push(node('AveragePool', [x], out, [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]));
    else {
      // Back to channels last first, so Flatten orders the features as tfjs does (and the Dense weights fit).
      nodes.push(node('Transpose', [x], 'nhwc', [ints('perm', [0, 2, 3, 1])]));
      nodes.push(node('Flatten', ['nhwc'], out, [int('axis', 1)]));
    }
    x = out;
  }
  const model: Onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'MNIST Studio',
    producerVersion: options.producerVersion ?? '',
    docString: options.docString ?? 'The Flax Quick Start CNN, trained in MNIST Studio. Input: float32 [N, H, W, C] in [0, 1]; output: logits [N, K].',
    graph: {
      name: 'mnist_cnn',
      node: nodes,
      initializer: initializers,
      input: [floatInfo(ONNX_INPUT, ['N', spec.height, spec.width, spec.channels])],
      output: [floatInfo(ONNX_OUTPUT, ['N', spec.classes.length])],
    },
    metadataProps: Object.entries(onnxMetadata(spec)).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** The spec an ONNX file exported by this app carries in its metadata; a one-line reason where it has none. */
export function specOfOnnx(bytes: Uint8Array): ModelSpec | string {
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    return `not an ONNX model (${(error as Error).message.split('\n')[0]})`;
  }
  const text = model.metadataProps.find((p) => p.key === META.spec)?.value;
  if (!text) return `not exported by MNIST Studio (no ${META.spec} metadata), so the input it expects is unknown`;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return `its ${META.spec} metadata is not JSON`;
  }
  const parsed = ModelSpecSchema.safeParse(raw);
  return parsed.success ? parsed.data : `its ${META.spec} metadata is not a model spec (${parsed.error.issues[0]!.message})`;
}
