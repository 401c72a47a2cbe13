// The seed's training loop over any Engine: seeded reshuffle every epoch, batches with the remainder
// dropped, train metrics from each step's own forward pass (no second pass), the test set after every
// epoch. It yields to the event loop between steps so pause, stop and predictions are served mid-run.
import { augments, type EpochMetrics, type History, type RunPhase, type TrainConfig, type TrainEvent } from '@shared/training';
import { addLosses, emptySteps } from '@shared/stepLosses';
import type { Engine } from '@shared/engine';
import type { Dataset, Split } from '@shared/dataset';
import { labelCounts } from '../dataset/dataset';
import { emptyClassNotes } from '../dataset/classNotes';
import { Rng, type RngState } from '../model/rng';
import { scoreLogits, toMetrics } from './metrics';
import { epochSteps } from './steps';
import { Augmenter } from './augment';

/** Progress events are throttled to this interval: smooth charts, no flood of messages. */
const PROGRESS_MS = 100;
/** The least step time a new examples/s reading is taken over. */
const RATE_WINDOW_MS = 50;
/** Test images scored per slice: the loss is summed slice by slice, so this fixes the test loss's last bits. */
const EVAL_SLICE = 2000;
/** Test images per engine call within a slice: progress, pause and stop are heard this often while testing. */
const EVAL_PART = 500;

export interface RunControl {
  paused: boolean;
  stopped: boolean;
  /** Resolves when paused turns false or stopped turns true. */
  waitWhilePaused(): Promise<void>;
}

export function createControl(): RunControl & { pause(): void; resume(): void; stop(): void } {
  let wake: (() => void) | undefined;
  const control = {
    paused: false,
    stopped: false,
    waitWhilePaused: () => (control.paused && !control.stopped ? new Promise<void>((r) => (wake = r)) : Promise.resolve()),
    pause: () => void (control.paused = true),
    resume: () => {
      control.paused = false;
      wake?.();
    },
    stop: () => {
      control.stopped = true;
      wake?.();
    },
  };
  return control;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Test metrics over the first `count` test images; `predicted` (if given) receives every predicted label,
 * and `onSlice` hears how many have been run through the model, every EVAL_PART images. `between` runs
 * there too (a pause waits in it); when it answers false the evaluation is abandoned and this returns undefined.
 */
export async function evaluateTest(
  engine: Engine,
  dataset: Dataset,
  count: number,
  predicted?: Uint8Array,
  onSlice?: (tested: number) => void,
  between: () => Promise<boolean> = async () => true,
): Promise<EpochMetrics['test'] | undefined> {
  let lossSum = 0,
    correct = 0;
  const k = dataset.spec.classes.length;
  for (let start = 0; start < count; start += EVAL_SLICE) {
    const n = Math.min(EVAL_SLICE, count - start);
    const logits = new Float32Array(n * k);
    for (let part = 0; part < n; part += EVAL_PART) {
      const m = Math.min(EVAL_PART, n - part);
      logits.set(await engine.logits('test', start + part, m), part * k);
      onSlice?.(start + part + m);
      await tick();
      if (!(await between())) return undefined;
    }
    const s = scoreLogits(logits, dataset.test.labels.subarray(start, start + n), predicted?.subarray(start, start + n));
    lossSum += s.lossSum;
    correct += s.correct;
  }
  return { ...toMetrics({ lossSum, correct, count }), count };
}

/** Where a run picks up: after `epoch` completed epochs, with the generator and history as they were. */
export interface RunStart {
  epoch: number;
  rng: RngState;
  history: History;
}

/** What a run hands its owner after each epoch, enough to resume it exactly. */
export interface EpochEnd extends RunStart {}

export interface TrainOptions {
  engine: Engine;
  dataset: Dataset;
  config: TrainConfig;
  control: RunControl;
  emit: (event: TrainEvent) => void;
  /** Receives each epoch's predicted test labels, before its epoch event. */
  onTestPredictions?: (predicted: Uint8Array) => void;
  /** Runs after each epoch's test pass and before its epoch event (checkpoints go here). */
  onEpochEnd?: (state: EpochEnd) => Promise<void>;
  /** Continue a run from a checkpoint instead of starting at epoch 1. */
  start?: RunStart;
  /** Receives the run's history as it grows (the same object), so a run that fails still has one. */
  onHistory?: (history: History) => void;
}

/** The classes a run has no training or no test images of, within its limits: kept in its history, so a
 *  saved model says what it could not learn and what its test accuracy does not cover. */
export function runNotes(dataset: Dataset, config: Pick<TrainConfig, 'trainLimit' | 'testLimit'>): string[] {
  const k = dataset.spec.classes.length;
  const counts = (split: Split, limit = Infinity) => labelCounts({ labels: split.labels.subarray(0, Math.min(limit, split.count)) }, k);
  return emptyClassNotes({ classes: dataset.spec.classes, train: counts(dataset.train, config.trainLimit), test: counts(dataset.test, config.testLimit) });
}

/** Scoring a test image costs about a third of training on one (forward pass only): the guess until measured. */
const EVAL_SPEEDUP_GUESS = 3;

export async function train({
  engine,
  dataset,
  config,
  control,
  emit,
  onTestPredictions,
  onEpochEnd,
  start,
  onHistory,
}: TrainOptions): Promise<{ history: History; stopped: boolean }> {
  const trainCount = Math.min(config.trainLimit ?? Infinity, dataset.train.count);
  const testCount = Math.min(config.testLimit ?? Infinity, dataset.test.count);
  const stepsPerEpoch = Math.floor(trainCount / config.batchSize);
  if (stepsPerEpoch === 0) throw new RangeError(`batch size ${config.batchSize} is larger than the ${trainCount} training images`);
  // A resumed run keeps its epochs and steps, and records what it goes on with (its backend may differ now).
  const fresh = { config, backend: engine.backend, device: engine.device, notes: runNotes(dataset, config) };
  const history: History = start ? { ...structuredClone(start.history), ...fresh } : { ...fresh, epochs: [] };
  if (!history.notes?.length) delete history.notes;
  history.steps ??= emptySteps();
  onHistory?.(history);
  const rng = new Rng(start?.rng ?? config.seed);
  const augment = augments(config) ? new Augmenter(dataset.spec, { strength: config.augment!, flip: config.augmentFlip }) : undefined;
  const px = dataset.train.count ? dataset.train.images.length / dataset.train.count : 0;
  const firstEpoch = (start?.epoch ?? 0) + 1;
  const totalSteps = stepsPerEpoch * (config.epochs - firstEpoch + 1);
  let stepsDone = 0;
  // Measured speeds, examples per second: training (smoothed) and test scoring (the last epoch's).
  let rate = 0,
    evalRate = 0;
  const etaSeconds = (epoch: number, tested: number): number => {
    const trainLeft = ((totalSteps - stepsDone) * config.batchSize) / rate;
    const testLeft = (config.epochs - epoch + 1) * testCount - tested;
    return trainLeft + testLeft / (evalRate || rate * EVAL_SPEEDUP_GUESS);
  };
  const pauseAt = async (epoch: number, step: number): Promise<void> => {
    if (!control.paused || control.stopped) return;
    emit({ type: 'paused', epoch, step });
    await control.waitWhilePaused();
    if (!control.stopped) emit({ type: 'resumed', epoch, step });
  };
  // A stop or pause sent right behind the request is heard before the first step, not after it.
  await tick();
  for (let epoch = firstEpoch; epoch <= config.epochs && !control.stopped; epoch++) {
    // Re-seeding from the run's generator keeps every epoch's order a function of the seed alone.
    const order = rng.permutation(trainCount);
    let lossSum = 0,
      correct = 0,
      seen = 0;
    let losses: number[] = [];
    let lastEmit = performance.now();
    // The rate is taken over the steps' own times, not the wall clock between reports: a GPU's steps come
    // back a group at once, so a report forced at an epoch's last step can fall a moment after the one
    // before it. Windows shorter than RATE_WINDOW_MS carry over into the next report.
    let windowMs = 0,
      windowExamples = 0;
    const epochStart = performance.now();
    let epochTrainMs = 0;
    const report = (phase: RunPhase, step: number, tested: number): void => {
      emit({
        type: 'progress',
        epoch,
        step,
        stepsPerEpoch,
        losses,
        loss: lossSum / seen,
        accuracy: correct / seen,
        examplesPerSecond: rate,
        etaSeconds: etaSeconds(epoch, tested),
        phase,
        tested,
        testCount,
      });
      losses = [];
    };
    // Each step's augmented images depend on (seed, epoch, step) alone: a resumed run draws what this one would.
    const augmented =
      augment &&
      ((step: number, indices: Int32Array) =>
        augment.batch(dataset.train.images, indices, { seed: config.seed, epoch, step }, new Uint8Array(indices.length * px)));
    for await (const { step, result: r, examples, ms } of epochSteps(
      engine,
      order,
      stepsPerEpoch,
      config,
      control,
      (step) => pauseAt(epoch, step),
      augmented,
    )) {
      const now = performance.now();
      epochTrainMs += ms;
      lossSum += r.lossSum;
      correct += r.correct;
      seen += examples;
      windowExamples += examples;
      windowMs += ms;
      losses.push(r.lossSum / examples);
      addLosses(history.steps, [r.lossSum / examples]);
      stepsDone++;
      // The first step is reported at once: from then on the new weights are the model in hand.
      if (now - lastEmit >= PROGRESS_MS || step === stepsPerEpoch - 1 || stepsDone === 1) {
        if (windowMs > 0 && (windowMs >= RATE_WINDOW_MS || rate === 0)) {
          const windowRate = (windowExamples / windowMs) * 1000;
          rate = rate === 0 ? windowRate : 0.7 * rate + 0.3 * windowRate;
          [windowMs, windowExamples] = [0, 0];
        }
        report('training', step + 1, 0);
        lastEmit = now;
      }
    }
    if (control.stopped) {
      // The weights are now ahead of the last epoch's test figures: say by how much, wherever they are shown.
      const step = Math.round(seen / config.batchSize);
      if (step > 0) history.stoppedAt = { epoch, step, of: stepsPerEpoch };
      break;
    }
    const predicted = new Uint8Array(testCount);
    const evalStart = performance.now();
    let lastSlice = evalStart;
    report('evaluating', stepsPerEpoch, 0);
    const test = await evaluateTest(
      engine,
      dataset,
      testCount,
      predicted,
      (tested) => {
        const now = performance.now();
        evalRate = (tested / (now - evalStart)) * 1000;
        if (now - lastSlice < PROGRESS_MS && tested < testCount) return;
        report('evaluating', stepsPerEpoch, tested);
        lastSlice = now;
      },
      // Pause and Stop act while testing too: a pause waits here; a stop leaves this epoch untested.
      async () => (await pauseAt(epoch, stepsPerEpoch), !control.stopped),
    );
    if (!test) {
      history.stoppedAt = { epoch, step: stepsPerEpoch, of: stepsPerEpoch };
      break;
    }
    onTestPredictions?.(predicted);
    const metrics: EpochMetrics = {
      epoch,
      train: { loss: lossSum / seen, accuracy: correct / seen },
      test,
      examplesPerSecond: seen / (epochTrainMs / 1000),
      seconds: (performance.now() - epochStart) / 1000,
    };
    history.epochs.push(metrics);
    if (onEpochEnd) {
      report('saving', stepsPerEpoch, testCount);
      await onEpochEnd({ epoch, rng: rng.state(), history: structuredClone(history) });
    }
    emit({ type: 'epoch', ...metrics });
  }
  return { history, stopped: control.stopped };
}
