// Runtime validation of every API input: whatever arrives over IPC or the WebSocket is checked here
// before any handler sees it. `satisfies` ties each schema to its method in api.ts.
import { z } from 'zod';
import type { ApiMethod } from './api';
import { TrainConfigSchema } from './contract';

const none = z.object({}).strict();
/** Paths are plain strings of sane length; what they point at is checked by whoever opens them. */
const path = z.string().min(1).max(4096).refine((p) => !p.includes('\0'), 'path contains a NUL byte');

export const API_SCHEMAS = {
  ping: none,
  dataset: none,
  samples: z.object({ split: z.enum(['train', 'test']), start: z.number().int().min(0), count: z.number().int().min(1).max(1000) }).strict(),
  summary: none,
  backend: none,
  status: none,
  startTraining: TrainConfigSchema.strict(),
  pauseTraining: none,
  resumeTraining: none,
  stopTraining: none,
  saveModel: z.object({ dir: path.optional() }).strict(),
  openModel: z.object({ dir: path.optional() }).strict(),
  recentModels: none,
  predict: z.object({ pixels: z.array(z.number().min(0).max(1)).length(784) }).strict(),
} satisfies Record<ApiMethod, z.ZodType>;
