// Runs from before the run log, brought into it once (HOME/runlog/.imported marks it done): the checkpoint
// folders under HOME/runs and the saved models (under HOME/models and in the recent list) whose model.json
// holds their training history. Ids come from the folder's path, so two processes importing at once write
// the same records, not two of each. A folder that cannot be read is skipped: it was never in the log.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HistorySchema, type History } from '@shared/training';
import { ModelSpecSchema, type ModelSpec } from '@shared/modelSpec';
import type { DataRequest } from '@shared/dataset';
import { RECORD_VERSION, type RunRecord } from '@shared/runs';
import { readCheckpointMeta } from '../store/checkpoint';
import { makeFolders, readRegularFile, writeDurably } from '../store/files';
import { modelsUnder } from '../store/modelFolders';
import { MODEL_JSON_MAX, parseJsonSafely } from '../store/modelValidation';
import { Recents } from '../store/recents';
import { appInfo } from './appInfo';
import { RunLog } from './runLog';
import { thisWriter } from './writer';

const MARKER = '.imported';

const idFor = (dir: string): string => `imported_${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16)}`;

interface Found {
  dir: string;
  history: History;
  spec?: ModelSpec;
  data?: DataRequest;
  at: string;
  finished: boolean;
}

function recordOf(found: Found, kind: 'checkpointDir' | 'modelDir'): RunRecord {
  const seconds = found.history.epochs.reduce((sum, e) => sum + e.seconds, 0);
  const speeds = found.history.epochs.map((e) => e.examplesPerSecond);
  const ended = Date.parse(found.at);
  const data = found.data;
  return {
    version: RECORD_VERSION,
    id: idFor(found.dir),
    startedAt: new Date(Number.isFinite(ended) ? ended - seconds * 1000 : 0).toISOString(),
    endedAt: Number.isFinite(ended) ? new Date(ended).toISOString() : undefined,
    outcome: found.finished ? 'finished' : 'stopped',
    config: found.history.config,
    spec: found.spec,
    dataset: {
      request: data ?? {},
      // A saved model does not say what it was trained on; a checkpoint does.
      source: data ? (data.dir ? resolve(data.dir) : 'bundled MNIST') : 'not recorded (saved before the run log)',
      classes: found.spec?.classes ?? [],
      trainCount: 0,
      testCount: found.history.epochs.at(-1)?.test.count ?? 0,
    },
    backend: {
      name: found.history.backend,
      detail: found.history.device ?? found.history.backend,
      ...(found.history.device ? { device: found.history.device } : {}),
    },
    // The version that imported it: the one that trained it is not known.
    app: appInfo(),
    epochs: found.history.epochs,
    ...(found.history.steps ? { steps: found.history.steps } : {}),
    ...(found.history.stoppedAt ? { stoppedAt: found.history.stoppedAt } : {}),
    wallSeconds: seconds,
    ...(speeds.length ? { examplesPerSecond: speeds.reduce((a, b) => a + b, 0) / speeds.length } : {}),
    [kind]: resolve(found.dir),
    importedFrom: resolve(found.dir),
    writer: thisWriter(),
  };
}

function checkpoints(root: string): Found[] {
  if (!existsSync(root)) return [];
  const found: Found[] = [];
  for (const name of readdirSync(root)) {
    try {
      const meta = readCheckpointMeta(join(root, name));
      const data = meta.data ?? (meta.dataDir ? { dir: meta.dataDir } : {});
      found.push({ dir: join(root, name), history: meta.history, spec: meta.spec, data, at: meta.savedAt, finished: meta.epoch >= meta.history.config.epochs });
    } catch {
      // not a checkpoint, or a damaged one
    }
  }
  return found;
}

function savedModel(dir: string, at: string): Found | undefined {
  try {
    const file = join(dir, 'model.json');
    const json = parseJsonSafely(readRegularFile(file, MODEL_JSON_MAX).toString('utf8'), file) as { userDefinedMetadata?: { mnistStudio?: unknown } };
    const meta = (json?.userDefinedMetadata?.mnistStudio ?? {}) as { history?: unknown; spec?: unknown };
    const history = HistorySchema.safeParse(meta.history);
    if (!history.success || history.data.epochs.length === 0) return undefined;
    const spec = ModelSpecSchema.safeParse(meta.spec);
    const finished = !history.data.stoppedAt && history.data.epochs.length >= history.data.config.epochs;
    return { dir, history: history.data, spec: spec.success ? spec.data : undefined, at, finished };
  } catch {
    return undefined;
  }
}

/** Imports the older runs unless that was done before; returns how many records it wrote. */
export function importOlderRuns(log: RunLog, home: string): number {
  const marker = join(log.dir, MARKER);
  if (existsSync(marker)) return 0;
  const records = new Map<string, RunRecord>();
  const fromCheckpoints = checkpoints(join(home, 'runs')).map((c) => recordOf(c, 'checkpointDir'));
  const models = [...modelsUnder(join(home, 'models')), ...new Recents(home).list()];
  for (const r of fromCheckpoints) records.set(r.id, r);
  for (const { dir, at } of models) {
    const model = savedModel(dir, at);
    if (!model) continue;
    // A model saved from a run whose checkpoint folder is still there is that run, not another one.
    const same = fromCheckpoints.find((r) => JSON.stringify(r.epochs) === JSON.stringify(model.history.epochs));
    if (same) same.modelDir = resolve(dir);
    else records.set(idFor(dir), recordOf(model, 'modelDir'));
  }
  try {
    for (const record of records.values()) if (!existsSync(join(log.dir, `${record.id}.json`))) log.save(record);
    makeFolders(log.dir);
    writeDurably(marker, new Date().toISOString());
  } catch {
    // A full disk: tried again on the next start, and the ids keep what was written from being doubled.
  }
  return records.size;
}

/** The run log under a home, with older runs imported the first time it is opened. */
export function runLogAt(home: string): RunLog {
  const log = new RunLog(home);
  importOlderRuns(log, home);
  return log;
}
