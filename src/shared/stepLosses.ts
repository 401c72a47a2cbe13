// Every training step's loss, kept at a bounded size: the mean of each bucket of `every` consecutive
// steps. When the buckets reach MAX_STEP_POINTS, neighbours are merged in pairs and `every` doubles,
// so a run of any length keeps between half and all of MAX_STEP_POINTS points, each an exact mean.
// The trainer (for saved models and checkpoints), the service (for the live snapshot) and the page
// (following progress events) all fold losses in with this same code, so they agree point for point.
import { z } from 'zod';

export const MAX_STEP_POINTS = 4096;

export interface StepLosses {
  /** Steps per point; a power of two. */
  every: number;
  /** Mean loss of steps [i·every, (i+1)·every), for each full bucket i. */
  means: number[];
  /** The bucket still filling: its loss sum and step count (count < every). */
  pendingSum: number;
  pendingCount: number;
}

export const emptySteps = (): StepLosses => ({ every: 1, means: [], pendingSum: 0, pendingCount: 0 });

/** Saved histories are untrusted: bounded and finite before anything draws them. */
export const StepLossesSchema = z
  .object({
    every: z
      .number()
      .int()
      .min(1)
      .max(2 ** 30),
    means: z.array(z.number().finite()).max(MAX_STEP_POINTS),
    pendingSum: z.number().finite(),
    pendingCount: z.number().int().min(0),
  })
  .refine(
    (s) => s.pendingCount < s.every && Number.isInteger(Math.log2(s.every)),
    'pendingCount must be below every, a power of two',
  ) satisfies z.ZodType<StepLosses>;

/** Appends losses in place. */
export function addLosses(steps: StepLosses, losses: readonly number[]): void {
  for (const loss of losses) {
    steps.pendingSum += loss;
    steps.pendingCount++;
    if (steps.pendingCount < steps.every) continue;
    steps.means.push(steps.pendingSum / steps.every);
    steps.pendingSum = 0;
    steps.pendingCount = 0;
    if (steps.means.length >= MAX_STEP_POINTS) {
      const merged: number[] = [];
      for (let i = 0; i + 1 < steps.means.length; i += 2) merged.push((steps.means[i]! + steps.means[i + 1]!) / 2);
      steps.means = merged;
      steps.every *= 2;
    }
  }
}

/** Steps folded in so far. */
export const stepCount = (steps: StepLosses): number => steps.means.length * steps.every + steps.pendingCount;

/** Points to draw: x is the last step of each bucket (the filling one included), y its mean loss. */
export function stepPoints(steps: StepLosses): { x: number[]; y: number[] } {
  const x = steps.means.map((_, i) => (i + 1) * steps.every);
  const y = [...steps.means];
  if (steps.pendingCount > 0) {
    x.push(steps.means.length * steps.every + steps.pendingCount);
    y.push(steps.pendingSum / steps.pendingCount);
  }
  return { x, y };
}
