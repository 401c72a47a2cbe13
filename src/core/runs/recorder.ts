// Turns a run's training events into its record in the run log, as the run goes: written when the run is
// handed to the worker, when it starts, after every epoch, every few seconds of steps and at its end. The
// app's service and the CLI's train both call recordRun just before they ask the worker to train.
// The log must never cost the run: a write that fails (a full disk) is reported once and the run goes on;
// the record in memory stays whole, so the next write that succeeds has everything.
import { resolve } from 'node:path';
import type { DataRequest } from '@shared/dataset';
import type { TrainConfig, TrainEvent } from '@shared/training';
import { addLosses, emptySteps } from '@shared/stepLosses';
import { RECORD_VERSION, type RunRecord } from '@shared/runs';
import { StudioFailure } from '@shared/errors';
import { newRunName, readCheckpointMeta } from '../store/checkpoint';
import { wasmThreads } from '../backend/wasmEngine';
import { appInfo } from './appInfo';
import { datasetFingerprint } from './fingerprint';
import type { RunLog } from './runLog';
import { runLogAt } from './importOlder';
import { thisWriter } from './writer';

/** How often a run's steps are written between epochs: what an interrupted run shows it had. */
const STEP_WRITE_MS = 2000;

export interface RunContext {
  /** The app's home; the log is HOME/runlog. */
  home: string;
  /** The run's id, where the caller has one already (the service's run id); else a new one. */
  id?: string;
  /** The recipe as asked for; for a resumed run, only its backend and threads count (it keeps its own). */
  config: TrainConfig;
  /** The dataset the run trains on (a resumed run's comes from its checkpoint). */
  data: DataRequest;
  checkpointDir?: string;
  resume?: boolean;
  /** The run this one repeats (`runs reproduce`). */
  reproduces?: string;
  /** Told once when the log cannot be written; the run goes on. */
  warn?: (message: string) => void;
  log?: RunLog;
}

/** Where events come from: the trainer client, or anything that hands events on. */
export interface EventSource {
  onEvent(listener: (event: TrainEvent) => void): () => void;
}

export interface RunRecorder {
  readonly id: string;
  /** The record as written last (or as it would have been, where the write failed). */
  readonly record: RunRecord;
  /** Notes where the run's model was saved. */
  keptModel(dir: string): void;
}

/** The recipe and dataset a resumed run keeps, from its checkpoint; as asked where it cannot be read. */
function resumedRecipe(context: RunContext): { config: TrainConfig; data: DataRequest; afterEpoch: number } {
  try {
    const meta = readCheckpointMeta(context.checkpointDir!);
    const config = { ...meta.history.config, backend: context.config.backend, threads: context.config.threads };
    return { config, data: meta.data ?? (meta.dataDir ? { dir: meta.dataDir } : {}), afterEpoch: meta.epoch };
  } catch {
    return { config: context.config, data: context.data, afterEpoch: 0 };
  }
}

/** Starts a run's record and keeps it as the run's events arrive; it stops listening when the run ends. */
export function recordRun(source: EventSource, context: RunContext): RunRecorder {
  const log = context.log ?? runLogAt(context.home);
  const resumed = context.resume && context.checkpointDir ? resumedRecipe(context) : undefined;
  const config = resumed?.config ?? context.config;
  const data = resumed?.data ?? context.data;
  const startedAt = new Date();
  let started = performance.now();
  const record: RunRecord = {
    version: RECORD_VERSION,
    id: context.id ?? newRunName(),
    startedAt: startedAt.toISOString(),
    outcome: 'running',
    config,
    dataset: { request: data, source: data.dir ? resolve(data.dir) : 'bundled MNIST', classes: [], trainCount: 0, testCount: 0 },
    app: appInfo(),
    epochs: [],
    wallSeconds: 0,
    ...(context.checkpointDir ? { checkpointDir: resolve(context.checkpointDir) } : {}),
    ...(resumed ? { resumed: { checkpointDir: resolve(context.checkpointDir!), afterEpoch: resumed.afterEpoch } } : {}),
    ...(context.reproduces ? { reproduces: context.reproduces } : {}),
    writer: thisWriter(),
  };
  let warned = false;
  let lastWrite = 0;
  const sampleMemory = (): void => {
    // The worker is a thread of this process: the process's resident set covers its tensors and kernels.
    record.peakRssBytes = Math.max(record.peakRssBytes ?? 0, process.memoryUsage.rss());
  };
  const write = (): void => {
    sampleMemory();
    // Once the run has ended its wall time is fixed: saving its model afterwards is not training.
    if (!record.endedAt) record.wallSeconds = (performance.now() - started) / 1000;
    const speeds = record.epochs.map((e) => e.examplesPerSecond);
    if (speeds.length) record.examplesPerSecond = speeds.reduce((a, b) => a + b, 0) / speeds.length;
    lastWrite = performance.now();
    try {
      log.save(record);
    } catch (error) {
      if (warned) return;
      warned = true;
      // A system error by its code (ENOSPC); our own errors (a runlog that is a file) by their message, which says it.
      const code = (error as { code?: string }).code;
      const reason = error instanceof StudioFailure || code === undefined ? (error as Error).message : code;
      (context.warn ?? ((m: string) => process.stderr.write(`note: ${m}\n`)))(
        `the run log could not be written (${reason}); the run goes on, and its record is written when it can be`,
      );
    }
  };
  const onEvent = (event: TrainEvent): void => {
    if (event.type === 'started') {
      started = performance.now();
      record.backend = {
        name: event.backend,
        detail: event.detail,
        ...(event.device ? { device: event.device } : {}),
        ...(event.backend === 'wasm' || event.backend === 'native' ? { threads: wasmThreads(config.threads) } : {}),
      };
      record.spec = event.spec;
      record.dataset = {
        ...record.dataset,
        fingerprint: datasetFingerprint(data),
        classes: event.spec.classes,
        trainCount: event.trainCount,
        testCount: event.testCount,
      };
      // A resumed run's record holds the epochs it had before, so its curves and final figures are whole.
      record.epochs = structuredClone(event.history?.epochs ?? []);
      record.steps = structuredClone(event.history?.steps ?? emptySteps());
      write();
    } else if (event.type === 'progress') {
      addLosses((record.steps ??= emptySteps()), event.losses);
      sampleMemory();
      if (performance.now() - lastWrite >= STEP_WRITE_MS) write();
    } else if (event.type === 'epoch') {
      const { type: _type, ...metrics } = event;
      record.epochs.push(metrics);
      write();
    } else if (event.type === 'done' || event.type === 'error') {
      if (event.type === 'done') {
        record.outcome = event.stopped ? 'stopped' : 'finished';
        // The trainer's own history is the truth about the epochs and steps.
        record.epochs = event.history.epochs;
        if (event.history.steps) record.steps = event.history.steps;
        if (event.history.stoppedAt) record.stoppedAt = event.history.stoppedAt;
      } else {
        record.outcome = 'failed';
        record.error = { code: event.error.code, message: event.error.message.slice(0, 2000) };
      }
      record.wallSeconds = (performance.now() - started) / 1000;
      record.endedAt = new Date().toISOString();
      write();
      unsubscribe();
    }
  };
  const unsubscribe = source.onEvent(onEvent);
  write();
  return {
    id: record.id,
    record,
    keptModel(dir: string) {
      record.modelDir = resolve(dir);
      write();
    },
  };
}
