// Exporting a model to a file: where it may go, and writing it so that no half-written file ever appears
// under the name asked for. Shared by the CLI's `export` and the app's exportModel; the worker (which owns
// tfjs and the model in hand) builds the bytes.
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { StudioCallError } from '@shared/api';
import type { TrainerClient } from '../trainer/client';
import { syncFolder, writeDurably } from '../store/files';

const refuse = (message: string): never => {
  throw StudioCallError.of('bad-request', message);
};

const WRITE_PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted (the folder is protected)',
  EROFS: 'on a read-only file system',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'over the disk quota',
  ENOENT: 'this folder cannot hold new files',
  EISDIR: 'a folder is in the way',
};

function realOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

const inside = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/**
 * The full path an export to `out` writes, or a one-line refusal: a folder (not a file) asked for, a
 * folder that does not exist, or a place inside the model's own folder (links resolved), where the file
 * would be taken for part of the model.
 */
export function exportTarget(out: string, modelDir?: string): string {
  const target = resolve(out);
  if (/[/\\]$/.test(out) || statSync(target, { throwIfNoEntry: false })?.isDirectory())
    refuse(`${out} is a folder: give the file to write, e.g. ${resolve(target, 'model.onnx')}`);
  const folder = dirname(target);
  const stats = statSync(folder, { throwIfNoEntry: false });
  if (!stats) refuse(`${folder}: no such folder`);
  if (!stats!.isDirectory()) refuse(`${folder} is not a folder`);
  const model = modelDir === undefined ? undefined : realOrUndefined(modelDir);
  const real = realOrUndefined(folder)!;
  if (model && inside(model, real)) refuse(`${out} is inside the model folder ${modelDir}: export to a place outside it`);
  return resolve(real, basename(target));
}

/** Writes the bytes atomically (a staged file renamed into place) and durably; a failure is one clear line. */
export function writeExport(target: string, bytes: Uint8Array): void {
  try {
    writeDurably(target, bytes);
  } catch (error) {
    const code = (error as { code?: string }).code;
    refuse(`${target}: cannot be written (${(code && WRITE_PROBLEMS[code]) ?? code ?? (error as Error).message})`);
  }
  syncFolder(dirname(target));
}

/** Exports a saved model (`dir`) or the worker's model in hand (`inHandDir`: its folder, if saved) as ONNX to `out`. */
export async function exportOnnxFile(
  trainer: TrainerClient,
  request: { dir?: string; out: string; inHandDir?: string },
): Promise<{ file: string; bytes: number }> {
  const target = exportTarget(request.out, request.dir ?? request.inHandDir);
  const { onnx } = await trainer.request('exportModel', request.dir === undefined ? {} : { dir: request.dir });
  writeExport(target, onnx);
  return { file: target, bytes: onnx.length };
}
