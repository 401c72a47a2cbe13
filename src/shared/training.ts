// Training as it crosses every boundary: the backends, the recipe and its schema, a run's history and its
// events, the model table and predictions. It imports nothing but the schema library and shared modules.
import { z } from 'zod';
import type { ModelSpec } from './modelSpec';
import { StepLossesSchema, type StepLosses } from './stepLosses';
import type { StudioError } from './errors';
import { RECIPE_SHAPE } from './recipe';

/** native: the kernels built for AVX2/AVX-512 (a Node-API addon); tfjs-node: TensorFlow's C library through tfjs. */
export const BACKEND_NAMES = ['native', 'webgpu', 'wasm', 'tfjs-node', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const BACKEND_CHOICES = ['auto', ...BACKEND_NAMES] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** How hard training images are varied: off, or the "strong" ranges (see core/trainer/augment) or half of them. */
export const AUGMENT_STRENGTHS = ['none', 'light', 'strong'] as const;
export type AugmentStrength = (typeof AUGMENT_STRENGTHS)[number];

const isObject = (payload: { value: unknown }): boolean => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value);

/**
 * The seed's recipe, with optional limits for quick runs: the recipe table's number fields and the backend.
 * Everything that can be checked without the dataset is checked here; trainConfigFor adds the checks
 * against the dataset's size.
 */
export const TrainConfigSchema = z
  .object({
    ...RECIPE_SHAPE,
    backend: z.enum(BACKEND_CHOICES),
    /** Left out: none, as in the seed's recipe (whose numbers stay exactly as they were). */
    augment: z.enum(AUGMENT_STRENGTHS, { error: `one of ${AUGMENT_STRENGTHS.join(', ')}` }).optional(),
    /** Photo datasets: augmentation also mirrors images left to right (off: wrong for text). */
    augmentFlip: z.boolean({ error: 'true or false' }).optional(),
  })
  .superRefine(
    (c, ctx) => {
      // A limit below one batch would leave an epoch with no step at all.
      if ((c.trainLimit ?? Infinity) < c.batchSize) ctx.addIssue({ code: 'custom', path: ['trainLimit'], message: `at least the batch size, ${c.batchSize}` });
    },
    // Checked even while other fields are wrong, so the form shows every problem at once (the
    // comparison is false for missing or non-numeric values); never on what is not an object at all.
    { when: isObject },
  );
/** The recipe checked against the dataset it will train on: at least one full batch per epoch. */
export function trainConfigFor(sizes: { train: number }) {
  return TrainConfigSchema.superRefine(
    (c, ctx) => {
      // More than the dataset holds (a train limit below the batch size is reported on its own).
      if (c.batchSize > sizes.train && !((c.trainLimit ?? Infinity) < c.batchSize)) {
        ctx.addIssue({ code: 'custom', path: ['batchSize'], message: `at most the ${sizes.train.toLocaleString('en-US')} training images` });
      }
    },
    { when: isObject },
  );
}
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

/** Whether a recipe trains on augmented images. */
export const augments = (config: Pick<TrainConfig, 'augment'>): boolean => config.augment !== undefined && config.augment !== 'none';

export const SEED_RECIPE: TrainConfig = {
  epochs: 10,
  batchSize: 32,
  learningRate: 0.01,
  momentum: 0.9,
  seed: 0,
  backend: 'auto',
};

export interface Metrics {
  loss: number;
  /** A fraction in [0, 1]. */
  accuracy: number;
}

export interface EpochMetrics {
  epoch: number;
  train: Metrics;
  test: Metrics & { count: number };
  examplesPerSecond: number;
  seconds: number;
}

export interface History {
  config: TrainConfig;
  backend: BackendName;
  /** The GPU adapter the run trained on, for webgpu. */
  device?: string;
  epochs: EpochMetrics[];
  /** Every step's loss, downsampled for long runs (absent in models saved before it was kept). */
  steps?: StepLosses;
  /**
   * Set when the run was stopped inside an epoch: the weights then have `step` of `of` steps of `epoch`
   * more training than the last epoch's test figures measured.
   */
  stoppedAt?: StoppedAt;
  /** What a person should know of the data it trained on: the classes it had no training or no test images of
   *  (absent when it had images of every class in both, and in models saved before it was kept). */
  notes?: string[];
}

export interface StoppedAt {
  epoch: number;
  step: number;
  of: number;
}

const MetricsSchema = z.object({ loss: z.number(), accuracy: z.number().min(0).max(1) });
/** Histories arrive from model folders, which are untrusted: checked before the UI draws them. */
export const HistorySchema = z.object({
  config: TrainConfigSchema,
  backend: z.enum(BACKEND_NAMES),
  device: z.string().max(200).optional(),
  epochs: z
    .array(
      z.object({
        epoch: z.number().int().min(1),
        train: MetricsSchema,
        test: MetricsSchema.extend({ count: z.number().int().min(0) }),
        examplesPerSecond: z.number().min(0),
        seconds: z.number().min(0),
      }),
    )
    .max(10000),
  steps: StepLossesSchema.optional(),
  stoppedAt: z.object({ epoch: z.number().int().min(1), step: z.number().int().min(1), of: z.number().int().min(1) }).optional(),
  notes: z.array(z.string().max(1000)).max(100).optional(),
}) satisfies z.ZodType<History>;

export interface BackendInfo {
  backend: BackendName;
  detail: string;
  /** The GPU adapter, for webgpu: "webgpu: Intel Xe Graphics (vulkan)". */
  device?: string;
  /** Why tfjs-node is not in use, when it is not. */
  fallbackReason?: string;
}

/** One line of the app's backend picker. */
export interface BackendStatus {
  choice: BackendChoice;
  available: boolean;
  /** What it would train on (for auto: what it picks, and why), or why it cannot be used. */
  detail: string;
}

export const RUN_PHASES = ['training', 'evaluating', 'saving'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export type TrainEvent =
  | ({
      type: 'started';
      epochs: number;
      stepsPerEpoch: number;
      trainCount: number;
      testCount: number;
      /** The model being trained: input shape, input mode and class names. */
      spec: ModelSpec;
      /** Set when the run continues a checkpoint: the epochs already done, and their history. */
      resumedAt?: number;
      history?: History;
      /** The run's notes on its data (see History.notes). */
      notes?: string[];
    } & BackendInfo)
  | {
      type: 'progress';
      epoch: number;
      /** Steps done in this epoch. */
      step: number;
      stepsPerEpoch: number;
      /** Mean batch loss of each step since the previous progress event, for the per-step chart. */
      losses: number[];
      /** Running loss and accuracy over this epoch's training steps so far. */
      loss: number;
      accuracy: number;
      /** Training speed, measured. */
      examplesPerSecond: number;
      /** The rest of the run, training and evaluation alike, at their measured speeds. */
      etaSeconds: number;
      /** What the run is doing: training steps, scoring the test set, or writing its checkpoint. */
      phase: RunPhase;
      /** Test images scored so far in this epoch's evaluation, of testCount. */
      tested: number;
      testCount: number;
    }
  | ({ type: 'epoch' } & EpochMetrics)
  | { type: 'paused'; epoch: number; step: number }
  | { type: 'resumed'; epoch: number; step: number }
  | { type: 'done'; stopped: boolean; history: History }
  /** A dataset import's progress: listing the folder, decoding its images, or found in the cache. */
  | { type: 'import-progress'; phase: 'listing' | 'sampling' | 'decoding' | 'cached'; done: number; total: number }
  | { type: 'error'; error: StudioError }
  /** A GPU run failed after training steps whose weights went with the GPU: the model in hand is now the
   *  run's last checkpoint (on the CPU), or the model that was in hand before the run. */
  | { type: 'model-restored'; from: 'checkpoint' | 'previous' };

/** The model table (the seed's tabulate), one row per layer. */
export interface SummaryRow {
  name: string;
  kind: string;
  input: string;
  output: string;
  params: string;
  paramCount: number;
  flops: number;
}

export interface ModelSummary {
  /** The model the table describes: input shape, input mode and class names. */
  spec: ModelSpec;
  rows: SummaryRow[];
  totalParams: number;
  totalBytes: number;
  totalFlops: number;
}

export interface Prediction {
  /** The class index. */
  label: number;
  /** The class name. */
  class: string;
  /** One per class. */
  probabilities: number[];
}
