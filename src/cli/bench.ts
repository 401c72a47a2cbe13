// `bench`: training throughput of the seed CNN at batch 32 on real MNIST batches, after a warm-up,
// measured in this thread with nothing else running.
import { loadDataset } from '../main/core/dataset/dataset';
import { createEngine } from '../main/core/backend/backends';
import { initialParams } from '../main/core/model/init';
import { Rng } from '../main/core/model/rng';
import type { BackendChoice } from '../shared/contract';

export async function benchCommand(flags: { steps: number; warmup: number; backend: BackendChoice; threads?: number; batchSize: number; json?: boolean }): Promise<void> {
  const dataset = loadDataset();
  const { engine, fallbackReason } = await createEngine(flags.backend, dataset, { maxBatch: flags.batchSize, threads: flags.threads });
  const say = (human: string, json: object): void => void process.stdout.write(`${flags.json ? JSON.stringify(json) : human}\n`);
  say(`backend: ${engine.backend} (${engine.detail})${fallbackReason ? ` because ${fallbackReason}` : ''}`, {
    type: 'backend',
    backend: engine.backend,
    detail: engine.detail,
    fallbackReason,
  });
  engine.setParams(initialParams(0));
  const order = new Rng(0).permutation(dataset.train.count);
  const batch = (i: number): Int32Array => {
    const start = (i * flags.batchSize) % (dataset.train.count - flags.batchSize);
    return order.subarray(start, start + flags.batchSize);
  };
  for (let i = 0; i < flags.warmup; i++) engine.trainStep(batch(i), 0.01, 0.9);
  const tensorsBefore = engine.tensorCount();
  const start = performance.now();
  for (let i = 0; i < flags.steps; i++) engine.trainStep(batch(flags.warmup + i), 0.01, 0.9);
  const seconds = (performance.now() - start) / 1000;
  const examplesPerSecond = (flags.steps * flags.batchSize) / seconds;
  const result = {
    type: 'result',
    backend: engine.backend,
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
  engine.dispose();
}
