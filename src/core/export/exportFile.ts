// Exporting a model to a file: where it may go (the rules of src/core/store/outputFile.ts, which the CLI
// and the API share) and writing it so that no half-written file ever appears under the name asked for.
// The worker (which owns tfjs and the model in hand) builds the bytes.
import type { TrainerClient } from '../trainer/client';
import { outputTarget, writeOutputFile, type OutputRules } from '../store/outputFile';

const onnxRules = (modelDir?: string, home?: string): OutputRules => ({ extension: '.onnx', modelDir, home });

/**
 * Exports a saved model (`dir`) or the worker's model in hand (`inHandDir`: its folder, if saved) as ONNX
 * to `out` (as typed). The target is checked before the worker builds the bytes (a refusal costs nothing)
 * and again after, since the place may have changed in the second that takes.
 */
export async function exportOnnxFile(
  trainer: Pick<TrainerClient, 'request'>,
  request: { dir?: string; out: string; inHandDir?: string; home?: string },
): Promise<{ file: string; bytes: number }> {
  const rules = onnxRules(request.dir ?? request.inHandDir, request.home);
  outputTarget(request.out, rules);
  const { onnx } = await trainer.request('exportModel', request.dir === undefined ? {} : { dir: request.dir });
  return { file: writeOutputFile(request.out, rules, onnx), bytes: onnx.length };
}
