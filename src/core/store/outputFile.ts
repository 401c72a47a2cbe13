// Where a file written for the person (an ONNX export, a CSV of metrics) may go, checked in one place for
// the CLI and the API. The name is taken as typed (a trailing slash means a folder, so it is read before
// the path is resolved); only a regular, writable file of the right kind may be replaced, never a link,
// FIFO, device or folder, and never a file in the app's own folders (a saved model's, the run log's).
import { lstatSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { StudioCallError } from '@shared/api';
import { fileSystemRefusal } from '@shared/errors';
import { expandHome } from './modelFolders';
import { syncFolder, writeDurably } from './files';

export interface OutputRules {
  /** The ending the name must have (any case), e.g. `.onnx`. */
  extension: string;
  /** The model being exported: the file must land outside its folder (links resolved). */
  modelDir?: string;
  /** The app's home: its run log folder (HOME/runlog) holds the app's records only. */
  home?: string;
}

const refuse = (message: string): never => {
  throw StudioCallError.of('bad-request', message);
};

/** Runs a file-system look-up; what the file system says no with (a name too long) becomes one worded refusal. */
function look<T>(asked: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    const code = (error as { code?: string }).code;
    return refuse(`${asked}: ${(code && fileSystemRefusal(code)) ?? code ?? (error as Error).message}`);
  }
}

const realOrUndefined = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

const inside = (folder: string, path: string): boolean => {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The full path to write for `asked` (as typed; `~` expanded), or a one-line refusal. Run it again right
 * before writing: the folder is resolved anew each time, so one swapped for a link meanwhile is caught.
 */
export function outputTarget(asked: string, rules: OutputRules): string {
  if (asked.trim() === '') refuse(`an empty name: give the ${rules.extension} file to write`);
  const target = expandHome(asked);
  if (/[/\\]$/.test(asked) || look(asked, () => statSync(target, { throwIfNoEntry: false }))?.isDirectory())
    refuse(`${asked} is a folder: give the file to write, e.g. ${resolve(target, `model${rules.extension}`)}`);
  if (!target.toLowerCase().endsWith(rules.extension)) refuse(`${asked}: the file name must end in ${rules.extension}`);
  const folder = dirname(target);
  const stats = look(asked, () => statSync(folder, { throwIfNoEntry: false }));
  if (!stats) refuse(`${folder}: no such folder`);
  if (!stats!.isDirectory()) refuse(`${folder} is not a folder`);
  const real = look(asked, () => realpathSync(folder));
  const model = rules.modelDir === undefined ? undefined : realOrUndefined(rules.modelDir);
  if (model && inside(model, real)) refuse(`${asked} is inside the model folder ${rules.modelDir}: export to a place outside it`);
  if (look(asked, () => lstatSync(join(real, 'model.json'), { throwIfNoEntry: false })))
    refuse(`${asked}: ${real} holds a saved model, whose folder is the app's own: write to another folder`);
  const runLog = rules.home === undefined ? undefined : realOrUndefined(join(rules.home, 'runlog'));
  if (runLog && inside(runLog, real)) refuse(`${asked} is in the run log folder ${runLog}, which is the app's own: write to another folder`);
  const file = resolve(real, basename(target));
  const existing = look(asked, () => lstatSync(file, { throwIfNoEntry: false }));
  if (existing && !existing.isFile()) refuse(`${asked}: ${kindOf(existing)} is in the way: only a regular file is replaced`);
  if (existing && (existing.mode & 0o222) === 0) refuse(`${asked}: the file there is read-only: it is not replaced`);
  return file;
}

// What writing says no with, beyond the file system's common refusals.
const WRITE_PROBLEMS: Record<string, string> = {
  ENOENT: 'this folder cannot hold new files',
  EISDIR: 'a folder is in the way',
};

/** Writes the bytes atomically (a staged file beside `file`, renamed into place) and durably; a failure is one clear line. */
export function writeOutput(file: string, bytes: string | Uint8Array): void {
  try {
    writeDurably(file, bytes);
  } catch (error) {
    const code = (error as { code?: string }).code;
    refuse(`${file}: cannot be written (${(code && (WRITE_PROBLEMS[code] ?? fileSystemRefusal(code))) ?? code ?? (error as Error).message})`);
  }
  syncFolder(dirname(file));
}

/** Checks `asked` again (the bytes exist now) and writes them there: the staging file goes in the folder resolved at this moment. */
export function writeOutputFile(asked: string, rules: OutputRules, bytes: string | Uint8Array): string {
  const file = outputTarget(asked, rules);
  writeOutput(file, bytes);
  return file;
}
