// Datasets: what to open (a request), what was opened (its summary), and the decoded images themselves
// as the trainer and the engines hold them.
import { z } from 'zod';
import { INPUT_MODES, InputShapeSchema, type ModelSpec } from './modelSpec';

/**
 * Which dataset to use: the bundled MNIST (no dir), an IDX folder, or a folder of images named by class.
 * For image folders, mode and input choose the preprocessing and the input shape (else they are chosen
 * from what the images look like).
 */
export const DataRequestSchema = z
  .object({
    dir: z
      .string()
      .min(1)
      .max(4096)
      .refine((p) => !p.includes('\0'), 'path contains a NUL byte')
      .optional(),
    mode: z.enum(INPUT_MODES).optional(),
    input: InputShapeSchema.optional(),
  })
  .strict();
export type DataRequest = z.infer<typeof DataRequestSchema>;

/** A file a dataset import did not use, and why (paths relative to the dataset's folder). */
export interface RefusedFile {
  file: string;
  reason: string;
}

export interface DataSummary {
  source: string;
  /** Class names, in label order; labelCounts follow it. */
  classes: string[];
  /** What a model trained on this dataset looks like. */
  spec: ModelSpec;
  train: SplitSummary;
  test: SplitSummary;
  /** Things a person should know about how the data was read (hold-out, chosen mode, ...). */
  notes: string[];
  refused: RefusedFile[];
  /** Per class, the indices of its first few training images (for thumbnails). */
  examples: number[][];
}
export interface SplitSummary {
  count: number;
  height: number;
  width: number;
  labelCounts: number[];
}

export interface Split {
  count: number;
  /** count x H x W x C bytes, row-major (NHWC), H, W and C those of the dataset's spec. */
  images: Uint8Array;
  /** Class indices into spec.classes. */
  labels: Uint8Array;
}

export interface Dataset {
  source: string;
  /** The input shape, input mode and class names a model trained on this dataset has. */
  spec: ModelSpec;
  train: Split;
  test: Split;
  /** What a person should know about how it was read (the hold-out, the input mode chosen, ...). */
  notes?: string[];
  /** Files that were not used, each with its reason. */
  refused?: RefusedFile[];
}
