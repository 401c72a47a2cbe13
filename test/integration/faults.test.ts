// Worker faults and long use: a worker that dies becomes a typed error and a fresh worker; runs can be
// started and cancelled again and again; and over thousands of steps and predictions nothing grows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudioService } from '@core/service/studioService';
import { TrainerClient } from '@core/trainer/client';
import type { StudioEvent } from '@shared/api';
import { SEED_RECIPE } from '@shared/training';
import { WasmEngine } from '@core/backend/wasmEngine';
import { TfjsEngine } from '@core/backend/tfjsEngine';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { mnist, tempDir } from '../support/helpers';
import { join } from 'node:path';

function harness() {
  process.env.MNIST_STUDIO_FAULTS = '1';
  const clients: TrainerClient[] = [];
  const service = new StudioService({
    home: tempDir(),
    createTrainer: () => {
      const client = new TrainerClient();
      clients.push(client);
      return client;
    },
  });
  const next = (match: (e: StudioEvent) => boolean): Promise<StudioEvent> =>
    new Promise((resolve) => {
      const off = service.onEvent((e) => match(e) && (off(), resolve(e)));
    });
  return { service, clients, next };
}

const digit = (): string => Buffer.from(mnist().test.images.subarray(0, 784)).toString('base64');

test('a worker that dies mid-run becomes a typed error, and a new run starts on a fresh worker', async () => {
  const { service, clients, next } = harness();
  try {
    assert.equal((await service.dispatch('startTraining', { ...SEED_RECIPE, backend: 'wasm', epochs: 1 })).ok, true);
    await next((e) => e.type === 'progress');
    const failed = next((e) => e.type === 'error');
    clients[0]!.injectFault();
    const event = await failed;
    assert.equal(event.type === 'error' && event.error.code, 'worker-failed');
    assert.match(event.type === 'error' ? event.error.message : '', /injected fault/);
    assert.equal(clients.length, 2, 'a fresh worker took over');
    assert.equal(service.getState().status, 'idle', 'the failed run freed the service');
    assert.equal(service.getState().error?.code, 'worker-failed');
    const again = await service.dispatch('startTraining', { ...SEED_RECIPE, backend: 'wasm', epochs: 1, trainLimit: 320, testLimit: 100 });
    assert.equal(again.ok, true, JSON.stringify(again));
    await next((e) => e.type === 'done');
    const predicted = await service.dispatch('predict', { images: digit() });
    assert.equal(predicted.ok, true);
  } finally {
    await service.close();
  }
});

test('train, cancel and train again, four times in one process: no leak, no crash', async () => {
  const { service, clients, next } = harness();
  try {
    const rss: number[] = [];
    for (let round = 0; round < 4; round++) {
      const started = await service.dispatch('startTraining', { ...SEED_RECIPE, backend: 'wasm', epochs: 2 });
      assert.equal(started.ok, true, JSON.stringify(started));
      await next((e) => e.type === 'progress');
      const done = next((e) => e.type === 'done');
      assert.equal((await service.dispatch('stopTraining', {})).ok, true);
      const event = await done;
      assert.equal(event.type === 'done' && event.stopped, true);
      // Saving builds a tfjs model of the weights (the wasm engine itself holds no tensors): none may stay.
      assert.equal((await service.dispatch('saveModel', { dir: join(service.home, `m${round}`) })).ok, true);
      const memory = await clients[0]!.request('memory', {});
      assert.equal(memory.tensors, 0, 'tfjs tensors left in the worker');
      rss.push(memory.rss);
    }
    assert.equal(clients.length, 1, 'the same worker served every run');
    // Each run reallocates the kernels' memory; the process must not keep the old ones.
    assert.ok(rss[3]! - rss[1]! < 64 * 1024 * 1024, `RSS grew ${((rss[3]! - rss[1]!) / 1e6).toFixed(0)} MB over two runs`);
  } finally {
    await service.close();
  }
});

test('over 2,000 steps and 100 predictions RSS stays within a margin; tfjs tensors stay exactly flat', async () => {
  const data = mnist();
  const engine = new WasmEngine(data, { maxBatch: 16 });
  try {
    engine.setParams(initialParams(0));
    const order = new Rng(0).permutation(data.train.count);
    const step = (i: number): void => void engine.trainStep(order.subarray((i * 16) % 59984, ((i * 16) % 59984) + 16), 0.01, 0.9);
    for (let i = 0; i < 200; i++) step(i);
    const before = process.memoryUsage().rss;
    const images = Float32Array.from(data.test.images.subarray(0, 784), (v) => v / 255);
    for (let i = 0; i < 2000; i++) {
      step(200 + i);
      if (i % 20 === 0) engine.logitsOf(images);
    }
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 32 * 1024 * 1024, `RSS grew ${(grown / 1e6).toFixed(1)} MB`);
  } finally {
    engine.dispose();
  }
  const cpu = new TfjsEngine('cpu', data, { maxBatch: 2 });
  try {
    cpu.setParams(initialParams(0));
    cpu.trainStep(Int32Array.from([0, 1]), 0.01, 0.9);
    cpu.logitsOf(new Float32Array(784));
    const settled = cpu.tensorCount();
    for (let i = 0; i < 20; i++) {
      cpu.trainStep(Int32Array.from([2 * i, 2 * i + 1]), 0.01, 0.9);
      cpu.logitsOf(new Float32Array(784));
      assert.equal(cpu.tensorCount(), settled);
    }
  } finally {
    cpu.dispose();
  }
});
