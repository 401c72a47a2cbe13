// Model folders as people name them: `~` expanded, the models under the app's home listed with their
// accuracy and date, and the check that keeps Save from writing into a folder that is not ours.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { SavedModel } from '@shared/api';
import { HistorySchema } from '@shared/training';
import { folderName } from '@shared/studioState';
import { MODEL_JSON_MAX, parseJsonSafely } from './modelValidation';
import { readRegularFile } from './files';

/** `~` and `~/x` mean the user's home folder, as in a shell; everything else resolves as given. */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(homedir(), path.slice(2));
  return resolve(path);
}

/** model.json's parsed contents, or undefined where it is missing, too large, not a plain file or not JSON. */
function readModelJson(dir: string): Record<string, unknown> | undefined {
  const file = join(dir, 'model.json');
  try {
    const json = parseJsonSafely(readRegularFile(file, MODEL_JSON_MAX).toString('utf8'), file);
    return json && typeof json === 'object' ? (json as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What a model folder says about itself, or undefined if it holds no model.json we can read. */
export function describeModel(dir: string): SavedModel | undefined {
  const json = readModelJson(dir);
  if (!json) return undefined;
  const meta = json.userDefinedMetadata as { mnistStudio?: { history?: unknown } } | undefined;
  const history = HistorySchema.safeParse(meta?.mnistStudio?.history);
  const epochs = history.success ? history.data.epochs : [];
  return {
    dir,
    name: folderName(dir),
    at: statSync(join(dir, 'model.json')).mtime.toISOString(),
    epochs: epochs.length,
    testAccuracy: epochs.at(-1)?.test.accuracy,
  };
}

/** The model folders directly under `root`, newest first. */
export function modelsUnder(root: string): SavedModel[] {
  if (!existsSync(root)) return [];
  const found: SavedModel[] = [];
  for (const name of readdirSync(root).slice(0, 1000)) {
    const model = describeModel(join(root, name));
    if (model) found.push(model);
  }
  return found.sort((a, b) => b.at.localeCompare(a.at));
}

/**
 * Why saving into `dir` would touch files that are not a model of ours, or undefined where it is safe:
 * the folder does not exist, is empty, or holds a model.json written by MNIST Studio. Saving replaces
 * model.json and history.json and deletes weights-*.bin, so another tool's folder must not be used
 * unless the user says so.
 */
export function foreignFolder(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  if (!statSync(dir).isDirectory()) return `${dir} is a file, not a folder`;
  const entries = readdirSync(dir);
  if (entries.length === 0) return undefined;
  if (readModelJson(dir)?.generatedBy === 'MNIST Studio') return undefined;
  const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? `, … (${entries.length} in all)` : '');
  return `${dir} already holds files (${shown}) and is not a saved model: saving would replace model.json and history.json there`;
}
