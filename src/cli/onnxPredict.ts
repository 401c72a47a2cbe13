// `predict --model FILE.onnx`: classifies with an exported ONNX model through ONNX Runtime, so a user can
// check an exported file from the same CLI. onnxruntime-node is optional (a dev dependency, not bundled):
// without it this says so in one line. The model's spec (input shape, mode, classes) is read from the
// file's own metadata, so the images get the same preprocessing as the app gives them.
import { readRegularFile } from '@core/store/files';
import { ONNX_INPUT, ONNX_OUTPUT, specOfOnnx } from '@core/export/onnx';
import { predictionsOf } from '@core/trainer/metrics';
import type { ModelSpec } from '@shared/modelSpec';
import type { Prediction } from '@shared/training';
import { UsageError } from './options';

/** Larger than any model the app trains (64x64x3 inputs: about 17 MB of weights). */
const ONNX_MAX = 64 * 1024 * 1024;

const shapeOf = (value: import('onnxruntime-node').InferenceSession.ValueMetadata | undefined): ReadonlyArray<number | string> | undefined =>
  value?.isTensor && value.shape.length > 0 ? value.shape : undefined;

/**
 * Why the graph does not take and give what its metadata's spec says (names, the input's H, W, C, one
 * logit per class), or undefined where it does; shapes are checked where the runtime reports them. Without
 * this a mismatch shows only at run time, unclearly, or (more classes in the graph) not at all.
 */
function graphMismatch(session: import('onnxruntime-node').InferenceSession, spec: ModelSpec): string | undefined {
  const names = (list: readonly string[]) => list.map((n) => `'${n}'`).join(', ') || 'none';
  if (session.inputNames.length !== 1 || session.inputNames[0] !== ONNX_INPUT) return `its inputs are ${names(session.inputNames)}, not '${ONNX_INPUT}'`;
  if (session.outputNames.length !== 1 || session.outputNames[0] !== ONNX_OUTPUT) return `its outputs are ${names(session.outputNames)}, not '${ONNX_OUTPUT}'`;
  const fixed = (shape: ReadonlyArray<number | string>, want: number[]) =>
    shape.length === want.length + 1 && want.every((n, i) => typeof shape[i + 1] !== 'number' || shape[i + 1] === n);
  const input = shapeOf(session.inputMetadata?.[0]);
  const want = [spec.height, spec.width, spec.channels];
  if (input && !fixed(input, want)) return `its input is [${input.join(', ')}], but its metadata says [N, ${want.join(', ')}]`;
  const output = shapeOf(session.outputMetadata?.[0]);
  if (output && !fixed(output, [spec.classes.length])) return `its output is [${output.join(', ')}], but its metadata names ${spec.classes.length} classes`;
  return undefined;
}

export async function onnxClassifier(file: string): Promise<{ spec: ModelSpec; classify(pixels: Uint8Array): Promise<Prediction>; close(): Promise<void> }> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    throw new UsageError('predicting with an .onnx model needs onnxruntime-node, which is not installed here (npm install onnxruntime-node)');
  }
  const bytes = readRegularFile(file, ONNX_MAX, (f, problem) => new UsageError(`${f}: ${problem}`));
  const spec = specOfOnnx(bytes);
  if (typeof spec === 'string') throw new UsageError(`${file}: ${spec}`);
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes);
  } catch (error) {
    throw new UsageError(`${file}: ONNX Runtime cannot load it (${(error as Error).message.split('\n')[0]})`);
  }
  const mismatch = graphMismatch(session, spec);
  if (mismatch) {
    await session.release();
    throw new UsageError(`${file}: ${mismatch}`);
  }
  return {
    spec,
    classify: async (pixels) => {
      const image = new ort.Tensor(
        'float32',
        Float32Array.from(pixels, (v) => v / 255),
        [1, spec.height, spec.width, spec.channels],
      );
      const result = await session.run({ [ONNX_INPUT]: image });
      const logits = result[ONNX_OUTPUT]!.data as Float32Array;
      image.dispose();
      return predictionsOf(logits, spec.classes)[0]!;
    },
    close: () => session.release(),
  };
}
