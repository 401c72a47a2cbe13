// `bench`: training throughput of the seed CNN at batch 32 on real MNIST batches, after a warm-up,
// measured in this thread with nothing else running, through the same step loop training uses (for the
// GPU: grouped submissions with the next one queued ahead).
import { readIdxDataset } from '@core/dataset/dataset';
import { createEngine } from '@core/backend/backends';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { createControl } from '@core/trainer/trainer';
import { epochSteps } from '@core/trainer/steps';
import type { Engine } from '@shared/engine';
import type { GpuEngine } from '@gpu/gpuEngine';
import type { BackendChoice } from '@shared/training';

/** Runs `steps` training steps on consecutive batches of `order` from batch `first` on. */
async function run(engine: Engine, order: Int32Array, first: number, steps: number, batchSize: number): Promise<void> {
  const window = order.subarray(first * batchSize, (first + steps) * batchSize);
  const recipe = { batchSize, learningRate: 0.01, momentum: 0.9 };
  for await (const _ of epochSteps(engine, window, steps, recipe, createControl(), async () => undefined));
}

export async function benchCommand(flags: {
  steps: number;
  warmup: number;
  backend: BackendChoice;
  threads?: number;
  batchSize: number;
  json?: boolean;
  profile?: boolean;
}): Promise<void> {
  const dataset = readIdxDataset();
  const { engine, fallbackReason } = await createEngine(flags.backend, dataset, { maxBatch: flags.batchSize, threads: flags.threads });
  const say = (human: string, json: object): void => void process.stdout.write(`${flags.json ? JSON.stringify(json) : human}\n`);
  say(`backend: ${engine.backend} (${engine.detail})${fallbackReason ? ` because ${fallbackReason}` : ''}`, {
    type: 'backend',
    backend: engine.backend,
    detail: engine.detail,
    device: engine.device,
    fallbackReason,
  });
  engine.setParams(initialParams(0));
  // Enough seeded permutations of the training set, back to back, for every step's batch.
  const rng = new Rng(0);
  const total = (flags.warmup + flags.steps) * flags.batchSize;
  const order = new Int32Array(total);
  for (let at = 0; at < total; at += dataset.train.count) order.set(rng.permutation(dataset.train.count).subarray(0, total - at), at);
  await run(engine, order, 0, flags.warmup, flags.batchSize);
  const tensorsBefore = engine.tensorCount();
  const start = performance.now();
  await run(engine, order, flags.warmup, flags.steps, flags.batchSize);
  const seconds = (performance.now() - start) / 1000;
  const examplesPerSecond = (flags.steps * flags.batchSize) / seconds;
  const result = {
    type: 'result',
    backend: engine.backend,
    device: engine.device,
    examplesPerSecond: Math.round(examplesPerSecond),
    msPerStep: Number(((seconds * 1000) / flags.steps).toFixed(2)),
    steps: flags.steps,
    batchSize: flags.batchSize,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    tensorsLeaked: engine.tensorCount() - tensorsBefore,
  };
  say(
    `${result.examplesPerSecond} examples/s (${result.msPerStep} ms per step of ${flags.batchSize}, ${flags.steps} steps after ${flags.warmup} warm-up), peak RSS ${result.peakRssMB} MB`,
    result,
  );
  if (flags.profile && 'kernelTimes' in engine) {
    const times = await (engine as GpuEngine).kernelTimes(flags.batchSize, 50);
    say(
      Object.entries(times)
        .map(([k, ms]) => `${k} ${ms} ms`)
        .join(', '),
      { type: 'profile', msPerDispatch: times },
    );
  }
  engine.dispose();
}
