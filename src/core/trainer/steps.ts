// One epoch's training steps over any engine, as a stream of per-step results. A CPU engine runs one
// step per call. An engine with trainSteps gets groups of steps (one GPU submission each) with the next
// group already queued while the previous one's results are read back, so the GPU never waits on the
// CPU; groups grow until one takes about GROUP_MS, so pause and stop still act within a fraction of a second.
import { MAX_GROUP_STEPS as MAX_GROUP, type Engine, type StepResult } from '@shared/engine';
import type { RunControl } from './trainer';

const GROUP_MS = 40;

export interface StepDone {
  /** The step's index in the epoch. */
  step: number;
  result: StepResult;
  examples: number;
  /** Time this step took, as its share of its group's time. */
  ms: number;
}

interface Recipe {
  batchSize: number;
  learningRate: number;
  momentum: number;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function* epochSteps(
  engine: Engine,
  order: Int32Array,
  steps: number,
  recipe: Recipe,
  control: RunControl,
  pauseAt: (step: number) => Promise<void>,
  /** An augmented run's images for a step's batch (made here, on the CPU, so every engine gets the same). */
  augmented?: (step: number, indices: Int32Array) => Uint8Array,
): AsyncGenerator<StepDone> {
  const batch = (step: number) => order.subarray(step * recipe.batchSize, (step + 1) * recipe.batchSize);
  if (!engine.trainSteps) {
    for (let step = 0; step < steps; step++) {
      await pauseAt(step);
      if (control.stopped) return;
      const t0 = performance.now();
      const indices = batch(step);
      const pending = engine.trainStep(indices, recipe.learningRate, recipe.momentum, augmented?.(step, indices));
      const result = pending instanceof Promise ? await pending : pending;
      yield { step, result, examples: recipe.batchSize, ms: performance.now() - t0 };
      await tick();
    }
    return;
  }
  const trainSteps = engine.trainSteps.bind(engine);
  let size = 1;
  let next = 0;
  const launch = () => {
    const first = next,
      count = Math.min(size, steps - first);
    next += count;
    const batches = Array.from({ length: count }, (_, i) => batch(first + i));
    const images = augmented && batches.map((indices, i) => augmented(first + i, indices));
    const pending = trainSteps(batches, recipe.learningRate, recipe.momentum, images);
    // A group queued ahead may fail while the one before it is awaited: its error is the same, seen there.
    pending.catch(() => undefined);
    return { first, count, started: performance.now(), pending };
  };
  let inflight: ReturnType<typeof launch> | undefined;
  let lastDone = performance.now();
  while (next < steps || inflight) {
    if (!inflight) {
      await pauseAt(next);
      if (control.stopped) return;
      lastDone = performance.now();
      inflight = launch();
    }
    const ahead = next < steps && !control.paused && !control.stopped ? launch() : undefined;
    const results = await inflight.pending;
    const now = performance.now();
    const ms = now - Math.max(inflight.started, lastDone);
    lastDone = now;
    if (now - inflight.started < GROUP_MS && size < MAX_GROUP) size *= 2;
    for (let i = 0; i < results.length; i++) yield { step: inflight.first + i, result: results[i]!, examples: recipe.batchSize, ms: ms / results.length };
    inflight = ahead;
  }
}
