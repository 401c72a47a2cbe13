// Checkpoints: everything a run needs to continue exactly where it was after an epoch — weights,
// momentum buffers, the random generator's state, the epoch, the history and the recipe — committed
// like models are (new data files first, then checkpoint.json renamed over the old one).
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { HistorySchema, type History, type TrainConfig } from '@shared/training';
import { paramCountFor } from '@shared/architecture';
import { DataRequestSchema, type DataRequest } from '@shared/dataset';
import { MNIST_SPEC, ModelSpecSchema, type ModelSpec } from '@shared/modelSpec';
import type { UnfinishedRun } from '@shared/studioState';
import type { RngState } from '../model/rng';
import { ModelFileError, parseJsonSafely } from './modelValidation';
import { makeFolders, readRegularFile, syncFolder, writeDurably, type MakeError } from './files';

const CheckpointSchema = z.object({
  version: z.literal(1),
  epoch: z.number().int().min(1),
  rng: z.tuple([z.number().int(), z.number().int(), z.number().int(), z.number().int()]),
  history: HistorySchema,
  /** Older checkpoints name only an IDX folder; newer ones the whole data request and the model's spec. */
  dataDir: z.string().max(4096).optional(),
  data: DataRequestSchema.optional(),
  spec: ModelSpecSchema.optional(),
  files: z.object({ params: z.string().regex(/^params-[0-9a-f]+\.bin$/), velocity: z.string().regex(/^velocity-[0-9a-f]+\.bin$/) }),
  savedAt: z.string().max(64),
});

export interface Checkpoint {
  epoch: number;
  rng: RngState;
  history: History;
  config: TrainConfig;
  /** The dataset the run trains on. */
  data: DataRequest;
  spec: ModelSpec;
  params: Float32Array;
  velocity: Float32Array;
  savedAt: string;
}

const FILE = 'checkpoint.json';
const FILE_MAX = 16 * 1024 * 1024;
const checkpointError: MakeError = (file, problem) => new ModelFileError(`${file}: ${problem}`);

/** Saves a checkpoint; without data and spec, the run is on the bundled MNIST. */
export function saveCheckpoint(dir: string, c: Omit<Checkpoint, 'config' | 'savedAt' | 'data' | 'spec'> & Partial<Pick<Checkpoint, 'data' | 'spec'>>): void {
  const target = resolve(dir);
  makeFolders(target, checkpointError);
  const id = randomBytes(6).toString('hex');
  const files = { params: `params-${id}.bin`, velocity: `velocity-${id}.bin` };
  writeDurably(join(target, files.params), new Uint8Array(c.params.buffer, c.params.byteOffset, c.params.byteLength));
  writeDurably(join(target, files.velocity), new Uint8Array(c.velocity.buffer, c.velocity.byteOffset, c.velocity.byteLength));
  const meta = {
    version: 1,
    epoch: c.epoch,
    rng: c.rng,
    history: c.history,
    data: c.data ?? {},
    spec: c.spec ?? MNIST_SPEC,
    files,
    savedAt: new Date().toISOString(),
  };
  writeDurably(join(target, FILE), JSON.stringify(meta));
  syncFolder(target);
  for (const name of readdirSync(target)) {
    if (/^(params|velocity)-[0-9a-f]+\.bin$/.test(name) && name !== files.params && name !== files.velocity) rmSync(join(target, name), { force: true });
  }
}

function readFloats(file: string, count: number): Float32Array {
  const bytes = readRegularFile(file, count * 4, checkpointError);
  if (bytes.length !== count * 4) throw new ModelFileError(`${file}: holds ${bytes.length} bytes, expected ${count * 4}`);
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (!values.every(Number.isFinite)) throw new ModelFileError(`${file}: contains NaN or infinity`);
  return values;
}

export function loadCheckpoint(dir: string): Checkpoint {
  const meta = readCheckpointMeta(dir);
  const spec = meta.spec ?? MNIST_SPEC;
  const count = paramCountFor(spec);
  return {
    epoch: meta.epoch,
    rng: meta.rng.map((v) => v >>> 0) as RngState,
    history: meta.history,
    config: meta.history.config,
    data: meta.data ?? { dir: meta.dataDir },
    spec,
    params: readFloats(join(dir, meta.files.params), count),
    velocity: readFloats(join(dir, meta.files.velocity), count),
    savedAt: meta.savedAt,
  };
}

/** A checkpoint folder's recipe and progress, from checkpoint.json alone (no weights read). */
export function readCheckpointMeta(dir: string): z.infer<typeof CheckpointSchema> {
  const file = join(dir, FILE);
  if (!existsSync(file)) throw new ModelFileError(`${dir}: not a checkpoint folder (no ${FILE})`);
  const parsed = CheckpointSchema.safeParse(parseJsonSafely(readRegularFile(file, FILE_MAX, checkpointError).toString('utf8'), file));
  if (!parsed.success) throw new ModelFileError(`${file}: malformed (${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message})`);
  return parsed.data;
}

/** Summaries of the checkpoint folders under `root` whose runs did not finish, newest first. */
export function unfinishedRuns(root: string): UnfinishedRun[] {
  if (!existsSync(root)) return [];
  const runs = [];
  for (const name of readdirSync(root)) {
    try {
      const dir = join(root, name);
      const meta = readCheckpointMeta(dir);
      if (meta.epoch < meta.history.config.epochs) {
        runs.push({
          dir,
          epoch: meta.epoch,
          epochs: meta.history.config.epochs,
          savedAt: meta.savedAt,
          testAccuracy: meta.history.epochs.at(-1)?.test.accuracy,
        });
      }
    } catch {
      // not a checkpoint folder, or a damaged one: not offered for resuming
    }
  }
  return runs.sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

/** A new run's unique name, which is also its checkpoint folder's: run_<time>_<random>, sorting by time. */
export function newRunName(): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 23);
  return `run_${stamp}_${randomBytes(4).toString('hex')}`;
}

/** Removes all but the `keep` newest checkpoint folders under `root` (names sort by their timestamps). */
export function pruneRuns(root: string, keep: number): void {
  if (!existsSync(root)) return;
  const runs = readdirSync(root)
    .filter((name) => /^run_[\w-]+$/.test(name) && existsSync(join(root, name, FILE)))
    .sort();
  for (const name of runs.slice(0, Math.max(0, runs.length - keep))) rmSync(join(root, name), { recursive: true, force: true });
}

/** What resuming a run that already trained all its epochs is told (the app and the CLI alike). */
export const finishedRunMessage = (where: string, epochs: number): string =>
  `the run in ${where} already finished its ${epochs} epoch${epochs === 1 ? '' : 's'}: nothing is left to resume`;

/** Removes a run's checkpoint folder if nothing was written into it (rmdir takes only an empty folder). */
export function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // it holds a checkpoint, or is gone already: either way there is nothing to tidy
  }
}
