// The run log's records: every run (finished, stopped, failed, interrupted, resumed) as the store keeps it
// on disk and as the Runs view and the CLI show it. Records are read back from files anyone could have
// written, so everything here is bounded and checked before it is shown.
import { z } from 'zod';
import { BACKEND_NAMES, HistorySchema, TrainConfigSchema, type EpochMetrics, type TrainConfig } from './training';
import { DataRequestSchema } from './dataset';
import { ModelSpecSchema } from './modelSpec';
import { StepLossesSchema } from './stepLosses';
import { ERROR_CODES } from './errors';
import { ModelNameSchema, RunIdSchema } from './apiSchemas';

export { RunIdSchema };

export const RECORD_VERSION = 1;

/** What a record file can say; `interrupted` is never written: it is what `running` reads as once its writer is gone. */
export const RUN_OUTCOMES = ['running', 'finished', 'stopped', 'failed', 'interrupted'] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
const WRITTEN_OUTCOMES = ['running', 'finished', 'stopped', 'failed'] as const;

/** A run's name: the same rule as a model's (one line, no path characters, at most 100 characters). */
export const RunNameSchema = ModelNameSchema;

const text = (most: number) => z.string().max(most);
const EpochSchema = HistorySchema.shape.epochs.element;

export const RunRecordSchema = z.object({
  version: z.literal(RECORD_VERSION),
  id: RunIdSchema,
  startedAt: text(64),
  endedAt: text(64).optional(),
  outcome: z.enum(WRITTEN_OUTCOMES),
  error: z.object({ code: z.enum(ERROR_CODES), message: text(2000) }).optional(),
  config: TrainConfigSchema,
  spec: ModelSpecSchema.optional(),
  dataset: z.object({
    request: DataRequestSchema,
    /** "bundled MNIST", or the folder it came from. */
    source: text(4096),
    /** sha256 of the listing (every file's path, size and modification time); absent where it could not be listed. */
    fingerprint: text(64).optional(),
    classes: z.array(text(64)).max(256),
    trainCount: z.number().int().min(0),
    testCount: z.number().int().min(0),
  }),
  backend: z
    .object({
      name: z.enum(BACKEND_NAMES),
      detail: text(500),
      device: text(200).optional(),
      /** The CPU kernels' (wasm or native) thread count, as resolved on the machine it ran on. */
      threads: z.number().int().min(1).max(64).optional(),
    })
    .optional(),
  app: z.object({ version: text(64), commit: text(64).optional() }),
  epochs: z.array(EpochSchema).max(10000),
  steps: StepLossesSchema.optional(),
  stoppedAt: HistorySchema.shape.stoppedAt,
  /** From the started event to the end (or to the last write, for a run that is still going or was cut off). */
  wallSeconds: z.number().min(0),
  /** Mean of the epochs' training speeds. */
  examplesPerSecond: z.number().min(0).optional(),
  /** The highest resident set size seen of the process that hosts the trainer worker (a thread of it). */
  peakRssBytes: z.number().min(0).optional(),
  checkpointDir: text(4096).optional(),
  modelDir: text(4096).optional(),
  /** Set for a resumed run: the checkpoint it went on from, after which epoch. */
  resumed: z.object({ checkpointDir: text(4096), afterEpoch: z.number().int().min(0) }).optional(),
  /** Set for a `runs reproduce` rerun: the run it repeats. */
  reproduces: RunIdSchema.optional(),
  /** Set for a run imported from before the log: where it was found. */
  importedFrom: text(4096).optional(),
  /** Who writes this record while it runs: a record saying running whose writer is gone was interrupted. */
  writer: z.object({ pid: z.number().int(), host: text(256), started: text(64).optional() }),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** A record as listed: its outcome with `interrupted` told apart, and its name (set by rename; else none). */
export interface RunSummary {
  id: string;
  name?: string;
  startedAt: string;
  endedAt?: string;
  outcome: RunOutcome;
  /** For a run still said running by a process on another machine, which cannot be asked: that machine. */
  host?: string;
  config: TrainConfig;
  backend?: string;
  dataset: string;
  epochs: number;
  final?: EpochMetrics;
  wallSeconds: number;
}

/** A file in the log that is not a record we can read: listed with its reason, never in the way of the rest. */
export interface DamagedRun {
  id: string;
  damaged: string;
}

export type RunListing = RunSummary | DamagedRun;
export const isDamaged = (run: RunListing): run is DamagedRun => 'damaged' in run;

/** A record as `runs show` and the Runs view get it. */
export type RunDetail = Omit<RunRecord, 'outcome'> & { outcome: RunOutcome; name?: string };

/** One field that differs between compared runs: its path (`config.learningRate`) and each run's value. */
export interface RunDifference {
  field: string;
  values: unknown[];
}

export interface RunComparison {
  runs: { id: string; name?: string; outcome: RunOutcome; final?: EpochMetrics }[];
  differences: RunDifference[];
}

/** The first place two runs' epoch metrics part, or undefined where every shared epoch is bit for bit the same. */
export interface MetricMismatch {
  epoch: number;
  metric: string;
  values: [number | undefined, number | undefined];
}

/**
 * What the reproducibility card says of a rerun (Run again, `runs reproduce`): whether its epochs are bit for bit
 * the original's, or the first epoch and metric that part; `pending` while it trains.
 */
export interface ReproCheck {
  /** The run it repeats. */
  of: string;
  result: 'identical' | 'differs' | 'pending' | 'unfinished' | 'unavailable';
  /** The epochs compared: the original's finished ones. */
  epochs: number;
  mismatch?: MetricMismatch;
  /** Why there is nothing to compare, or a note on it (the dataset changed since). */
  reason?: string;
}
