// Runtime validation of every API input: whatever arrives over IPC or the WebSocket is checked here
// before any handler sees it. `satisfies` ties each schema to its method in api.ts.
import { z } from 'zod';
import type { ApiMethod } from './api';
import { BACKEND_CHOICES, TrainConfigSchema } from './training';
import { DataRequestSchema } from './dataset';
import { MAX_SIDE } from './modelSpec';
import { MAX_IMAGE_BYTES } from './imageCheck';
import { NOT_IN_NAMES } from './format';
import { LOCALE_CHOICES } from './i18n/locale';

const none = z.object({}).strict();
/** Paths are plain strings of sane length; what they point at is checked by whoever opens them. */
const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');
/** A model's name: one folder under the app's models folder, never a path. */
// What printable() escapes, and the left-to-right and right-to-left marks besides.
export const ModelNameSchema = z
  .string()
  .trim()
  .min(1, { error: 'a name is needed' })
  .max(100, { error: 'at most 100 characters' })
  .refine((n) => !/[/\\\0:*?"<>|]/.test(n) && !n.startsWith('.'), { error: 'a name, without / \\ : * ? " < > | or a leading dot' })
  // Control characters (newlines, ESC) and bidirectional overrides would forge lines or reorder text wherever the name is shown.
  .refine((n) => !NOT_IN_NAMES.test(n), { error: 'a name without control or text-direction characters' });

/** Run ids are what newRunName makes (run_<time>_<random>), or imported_<hash> for runs from before the log. */
// Here, not in runs.ts, which imports this file for the name rule.
export const RunIdSchema = z.string().regex(/^(run|imported)_[\w-]{1,80}$/, { error: 'not a run id' });
const runId = z.object({ id: RunIdSchema }).strict();

/** Most images one predict call may carry. */
export const PREDICT_MAX_IMAGES = 256;
/**
 * Most base64 characters of images one predict call may carry: the browser host's messages are capped at
 * 1 MiB, so this leaves room for the rest of the message. 256 images of 28x28x1 fit in one call; of the
 * largest inputs (64x64x3), 62 do, and a caller splits more over several calls (predictBatches).
 */
export const PREDICT_MAX_BASE64 = 1000 * 1024;

/** How many images of `imageBytes` bytes each one predict call may carry (at least one). */
export const predictBatchSize = (imageBytes: number): number =>
  Math.max(1, Math.min(PREDICT_MAX_IMAGES, Math.floor((Math.floor(PREDICT_MAX_BASE64 / 4) * 3) / Math.max(1, imageBytes))));

/**
 * Base64 image bytes, at most `most` images of the largest input a model may take and at most
 * PREDICT_MAX_BASE64 characters. Whether they are whole images of the model in hand's shape is checked by
 * the worker, which knows that shape.
 */
function base64Images(most: number) {
  const chars = Math.min(PREDICT_MAX_BASE64, Math.ceil((most * MAX_SIDE * MAX_SIDE * 3) / 3) * 4);
  return z
    .string()
    .max(chars, { error: `at most ${chars} base64 characters in one call: split the images over several calls` })
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64')
    .refine((s) => s.length % 4 === 0 && s.length > 0, 'not base64');
}

export const API_SCHEMAS = {
  ping: none,
  dataset: none,
  openDataset: DataRequestSchema,
  useBundledDataset: none,
  cancelImport: none,
  uploadDatasetFiles: z
    .object({
      upload: z.number().int().min(1).optional(),
      files: z
        .array(
          z
            .object({
              path: z.string().min(1).max(1024),
              data: z
                .string()
                .max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4)
                .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64'),
            })
            .strict(),
        )
        .min(1)
        .max(1000),
    })
    .strict(),
  samples: z
    .object({
      split: z.enum(['train', 'test']),
      start: z.number().int().min(0).max(1e6).optional(),
      count: z.number().int().min(1).max(1000).optional(),
      indices: z.array(z.number().int().min(0).max(1e6)).min(1).max(1000).optional(),
    })
    .strict()
    .refine((s) => (s.indices === undefined) !== (s.start === undefined || s.count === undefined), 'give either start and count, or indices'),
  augmentedExamples: z
    .object({
      augment: z.enum(['light', 'strong']),
      augmentFlip: z.boolean().optional(),
      count: z.number().int().min(1).max(64),
      seed: z.number().int().min(0).max(0xffffffff).optional(),
    })
    .strict(),
  summary: none,
  backend: none,
  backends: none,
  getState: none,
  startTraining: TrainConfigSchema.strict(),
  pauseTraining: none,
  resumeTraining: none,
  stopTraining: none,
  saveModel: z
    .object({ dir: path.optional(), name: ModelNameSchema.optional(), overwrite: z.boolean().optional() })
    .strict()
    .refine((s) => s.dir === undefined || s.name === undefined, 'give a dir or a name, not both'),
  openModel: z.object({ dir: path.optional() }).strict(),
  savedModels: none,
  exportModel: z.object({ dir: path.optional(), out: path.optional() }).strict(),
  predict: z.object({ images: base64Images(PREDICT_MAX_IMAGES) }).strict(),
  testPredictions: none,
  openImages: none,
  resumeRun: z.object({ dir: path, backend: z.enum(BACKEND_CHOICES).optional() }).strict(),
  runs: none,
  run: runId,
  renameRun: z.object({ id: RunIdSchema, name: ModelNameSchema }).strict(),
  deleteRun: runId,
  runAgain: runId,
  setLocale: z.object({ locale: z.enum(LOCALE_CHOICES) }).strict(),
  openedImage: z.object({ batch: z.number().int().min(1), index: z.number().int().min(0).max(100000) }).strict(),
} satisfies Record<ApiMethod, z.ZodType>;
