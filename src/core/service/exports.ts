// exportModel: a saved model or the model in hand, as ONNX, to a path, to where the user picks in
// Electron's save dialog, or (a browser page, which has no dialog to offer) as bytes for a download.
import { basename } from 'node:path';
import { StudioCallError, type ApiInput, type ApiOutput } from '@shared/api';
import type { ModelInHand } from '@shared/studioState';
import { exportOnnxFile } from '../export/exportFile';
import type { TrainerClient } from '../trainer/client';
import { base64 } from './context';

export interface ExportContext {
  trainer: TrainerClient;
  /** The model in hand, if any, and whether a run is training it now. */
  model: ModelInHand | undefined;
  training: boolean;
  /** Asks where to write (Electron's save dialog), suggesting a file name; undefined where there is no dialog. */
  pickFile?: (suggested: string) => Promise<string | undefined>;
  /** A typed path made full (`~` expanded), or refused. */
  fullPath: (path: string) => string;
  /** The app's home, whose run log folder takes no exports. */
  home: string;
}

/** A file name for a model's export: its folder's name, or its own, as `NAME.onnx`. */
const suggestedName = (from: string): string => `${from.replace(/[/\\:*?"<>|\s]+/g, '-').replace(/^[.-]+/, '') || 'model'}.onnx`;

export async function exportModel(input: ApiInput<'exportModel'>, context: ExportContext): Promise<ApiOutput<'exportModel'>> {
  const dir = input.dir === undefined ? undefined : context.fullPath(input.dir);
  if (dir === undefined) {
    if (!context.model) throw StudioCallError.of('no-model', 'no model: train or open one first');
    if (context.training) throw StudioCallError.of('busy', 'a run is training this model: export it when the run has ended');
  }
  const name = suggestedName(dir !== undefined ? basename(dir) : context.model!.name);
  const inHandDir = dir === undefined ? context.model!.dir : undefined;
  // A typed name goes on as typed (fullPath only refuses a relative one): the export's check reads a trailing slash, which resolving drops.
  if (input.out !== undefined) context.fullPath(input.out);
  const out = input.out !== undefined ? input.out.trim() : context.pickFile ? await context.pickFile(name) : undefined;
  if (out !== undefined) return { file: (await exportOnnxFile(context.trainer, { dir, out, inHandDir, home: context.home })).file };
  if (input.out === undefined && context.pickFile) return { cancelled: true };
  const { onnx } = await context.trainer.request('exportModel', dir === undefined ? {} : { dir });
  return { name, data: base64(onnx) };
}
