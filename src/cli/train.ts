// `train`: the seed's recipe in the trainer worker, with the seed's two lines per epoch (or JSON events).
import type { TrainConfig, TrainEvent } from '../shared/contract';
import { TrainerClient } from '../main/core/trainer/client';
import { ProgressBar } from './progress';

export interface TrainFlags {
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  seed: number;
  trainLimit?: number;
  testLimit?: number;
  data?: string;
  backend: TrainConfig['backend'];
  threads?: number;
  out?: string;
  json?: boolean;
}

export async function trainCommand(flags: TrainFlags): Promise<void> {
  const config: TrainConfig = {
    epochs: flags.epochs,
    batchSize: flags.batchSize,
    learningRate: flags.learningRate,
    momentum: flags.momentum,
    seed: flags.seed,
    trainLimit: flags.trainLimit,
    testLimit: flags.testLimit,
    backend: flags.backend,
    threads: flags.threads,
  };
  const client = new TrainerClient();
  const bar = !flags.json && process.stderr.isTTY ? new ProgressBar(process.stderr, config.epochs) : undefined;
  const print = (line: string): void => {
    bar?.clear();
    process.stdout.write(`${line}\n`);
  };
  const onEvent = (e: TrainEvent): void => {
    if (flags.json) return print(JSON.stringify(e));
    if (e.type === 'started') {
      print(`backend: ${e.backend} (${e.detail})${e.fallbackReason ? ` because ${e.fallbackReason}` : ''}`);
      print(`training on ${e.trainCount} images, testing on ${e.testCount}, ${e.stepsPerEpoch} steps per epoch`);
    } else if (e.type === 'progress') {
      bar?.update(e);
    } else if (e.type === 'epoch') {
      print(`train epoch: ${e.epoch}, loss: ${e.train.loss.toFixed(4)}, accuracy: ${(e.train.accuracy * 100).toFixed(2)}`);
      print(`test epoch: ${e.epoch}, loss: ${e.test.loss.toFixed(4)}, accuracy: ${(e.test.accuracy * 100).toFixed(2)}`);
    }
  };
  client.onEvent(onEvent);
  const stop = (): void => client.stop();
  process.once('SIGINT', stop);
  try {
    await client.request('load-data', { dataDir: flags.data });
    const result = await client.request('train', { config });
    if (flags.out) {
      const { dir } = await client.request('save', { dir: flags.out });
      if (flags.json) print(JSON.stringify({ type: 'saved', dir }));
      else print(`saved the model to ${dir}`);
    }
    if (result.stopped && !flags.json) print('stopped early');
  } finally {
    process.off('SIGINT', stop);
    bar?.clear();
    await client.close();
  }
}
