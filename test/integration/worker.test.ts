// The trainer worker through its typed client: pause, resume and stop mid-run, predictions while
// training, typed errors, and a flat tensor count across epochs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrainerClient } from '@core/trainer/client';
import { StudioCallError } from '@shared/api';
import { SEED_RECIPE, type TrainEvent } from '@shared/training';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mnist, tempDir, writeLabelled } from '../support/helpers';
import { kernelsProblem } from '@core/backend/backends';

const nextEvent = (client: TrainerClient, match: (e: TrainEvent) => boolean): Promise<TrainEvent> =>
  new Promise((resolve) => {
    const off = client.onEvent((e) => {
      if (match(e)) {
        off();
        resolve(e);
      }
    });
  });

test('pause holds the run, resume continues it, stop ends it within a step; predictions are answered meanwhile', async () => {
  const client = new TrainerClient();
  try {
    const events: TrainEvent[] = [];
    client.onEvent((e) => events.push(e));
    const run = client.request('startTraining', { config: { ...SEED_RECIPE, backend: 'wasm', epochs: 1 } });
    const firstProgress = (await nextEvent(client, (e) => e.type === 'progress')) as Extract<TrainEvent, { type: 'progress' }>;
    client.pause();
    const paused = (await nextEvent(client, (e) => e.type === 'paused')) as Extract<TrainEvent, { type: 'paused' }>;
    assert.ok(paused.step >= firstProgress.step && paused.step <= firstProgress.step + 60);
    // While paused: no steps, but a prediction on a real test digit is answered.
    const before = events.length;
    const digit = Float32Array.from(mnist().test.images.subarray(0, 784), (v) => v / 255);
    const [prediction] = await client.request('predict', { images: digit });
    assert.equal(prediction!.probabilities.length, 10);
    assert.ok(Math.abs(prediction!.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(events.slice(before).filter((e) => e.type === 'progress').length, 0);
    client.resume();
    await nextEvent(client, (e) => e.type === 'resumed');
    const moving = (await nextEvent(client, (e) => e.type === 'progress')) as Extract<TrainEvent, { type: 'progress' }>;
    assert.ok(moving.step > paused.step);
    client.stop();
    const result = await run;
    assert.equal(result.stopped, true);
    assert.equal(result.history.epochs.length, 0);
    const last = events.filter((e) => e.type === 'progress').at(-1) as Extract<TrainEvent, { type: 'progress' }>;
    assert.ok(last.step < last.stepsPerEpoch, 'stopped before the epoch ended');
    assert.ok(events.some((e) => e.type === 'done' && e.stopped));
  } finally {
    await client.close();
  }
});

test('bad requests get typed errors and the worker keeps working', async () => {
  const client = new TrainerClient();
  try {
    // The worker's failure arrives as the one error class every layer uses, its StudioError intact.
    await assert.rejects(
      client.request('predict', { images: new Float32Array(784) }),
      (e: unknown) => e instanceof StudioCallError && e.studio.code === 'no-model',
    );
    await assert.rejects(client.request('openDataset', { data: { dir: '/nonexistent' } }), (e: StudioCallError) => e.studio.code === 'bad-data');
    await assert.rejects(client.request('openModel', { dir: '/nonexistent', backend: 'wasm' }), (e: StudioCallError) => e.studio.code === 'bad-model');
    // A request of an older protocol (the kebab-case 'train') is answered, not left waiting for ever.
    await assert.rejects(
      client.request('train' as 'startTraining', { config: SEED_RECIPE }),
      (e: StudioCallError) => e.studio.code === 'bad-request' && /no request train/.test(e.message),
    );
    await client.request('openDataset', {});
    const run = client.request('startTraining', { config: { ...SEED_RECIPE, backend: 'wasm', epochs: 1, trainLimit: 320, testLimit: 100 } });
    await assert.rejects(client.request('startTraining', { config: { ...SEED_RECIPE, backend: 'wasm' } }), (e: StudioCallError) => e.studio.code === 'busy');
    const result = await run;
    assert.equal(result.history.epochs.length, 1);
    await assert.rejects(client.request('predict', { images: new Float32Array(100) }), (e: StudioCallError) => e.studio.code === 'bad-request');
  } finally {
    await client.close();
  }
});

test('the tfjs cpu backend holds a flat tensor count across steps and epochs in the worker', async () => {
  const client = new TrainerClient();
  try {
    const counts: number[] = [];
    client.onEvent((e) => {
      if (e.type === 'epoch') void client.request('memory', {}).then((m) => counts.push(m.tensors));
    });
    await client.request('startTraining', { config: { ...SEED_RECIPE, backend: 'cpu', epochs: 3, batchSize: 4, trainLimit: 8, testLimit: 4 } });
    const after = await client.request('memory', {});
    assert.equal(counts.length, 3);
    assert.ok(
      counts.every((c) => c === after.tensors),
      `tensors per epoch: ${counts.join(', ')}, after: ${after.tensors}`,
    );
  } finally {
    await client.close();
  }
});

test('a worker that goes away turns waiting and later requests into typed errors, not a crash', async () => {
  const client = new TrainerClient();
  const running = client.request('startTraining', { config: { ...SEED_RECIPE, backend: 'wasm', epochs: 1 } });
  await nextEvent(client, (e) => e.type === 'progress');
  const outcome = assert.rejects(running, (e: StudioCallError) => e.studio.code === 'worker-failed');
  await client.close();
  await outcome;
  await assert.rejects(client.request('openDataset', {}), (e: StudioCallError) => e.studio.code === 'worker-failed');
});

test('a second run in the same worker, on the reused engine, repeats the first exactly', async () => {
  const client = new TrainerClient();
  try {
    const config = { ...SEED_RECIPE, backend: 'wasm' as const, epochs: 2, trainLimit: 640, testLimit: 200, seed: 3 };
    const first = await client.request('startTraining', { config });
    await client.request('startTraining', { config: { ...config, seed: 4 } });
    const again = await client.request('startTraining', { config });
    const metrics = (h: typeof first.history) => h.epochs.map((e) => [e.train, e.test]);
    assert.deepEqual(metrics(again.history), metrics(first.history));
  } finally {
    await client.close();
  }
});

const noNative = kernelsProblem();
test(
  'the native kernels train in the trainer worker: the same run as wasm to float32 rounding, named with what they run on',
  { skip: noNative ?? false },
  async () => {
    const client = new TrainerClient();
    try {
      const config = { ...SEED_RECIPE, epochs: 1, trainLimit: 640, testLimit: 200, seed: 3, threads: 2 };
      const started = nextEvent(client, (e) => e.type === 'started');
      const native = await client.request('startTraining', { config: { ...config, backend: 'native' } });
      const event = (await started) as Extract<TrainEvent, { type: 'started' }>;
      assert.equal(event.backend, 'native');
      assert.match(event.detail, /^(AVX-512|AVX2), 2 threads$/);
      const wasm = await client.request('startTraining', { config: { ...config, backend: 'wasm' } });
      const [n, w] = [native.history.epochs[0]!, wasm.history.epochs[0]!];
      for (const key of ['train', 'test'] as const) {
        assert.ok(Math.abs(n[key].loss - w[key].loss) < 1e-4 * w[key].loss, `${key} loss ${n[key].loss} against ${w[key].loss}`);
        assert.ok(Math.abs(n[key].accuracy - w[key].accuracy) <= 0.01, `${key} accuracy ${n[key].accuracy} against ${w[key].accuracy}`);
      }
    } finally {
      await client.close();
    }
  },
);

test('a model trained on a dataset with empty classes keeps a note of them in its saved history', async () => {
  const client = new TrainerClient();
  try {
    // EMNIST letters' way: label 0 unused; and class 3 has training images but the test limit leaves it none.
    const train = Array.from({ length: 16 }, (_, i) => 1 + (i % 3));
    await client.request('openDataset', { data: { dir: writeLabelled(train, [1, 2, 1, 2, 3]) } });
    const started = nextEvent(client, (e) => e.type === 'started');
    const config = { ...SEED_RECIPE, backend: 'cpu' as const, epochs: 1, batchSize: 4, testLimit: 4 };
    const { history } = await client.request('startTraining', { config });
    const notes = [
      'no training images for "0": the model cannot learn that class',
      'no test images for "0", "3": the test accuracy does not cover those classes',
    ];
    assert.deepEqual(history.notes, notes);
    assert.deepEqual(((await started) as { notes?: string[] }).notes, notes);
    const dir = join(tempDir(), 'letters');
    await client.request('saveModel', { dir });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')).notes, notes);
    assert.deepEqual((await client.request('openModel', { dir, backend: 'cpu' })).history?.notes, notes);
    // A dataset whose every class is in both splits leaves no note.
    await client.request('openDataset', { data: { dir: writeLabelled([0, 1, 0, 1], [1, 0]) } });
    const full = await client.request('startTraining', { config: { ...config, batchSize: 2, testLimit: undefined } });
    assert.equal(full.history.notes, undefined);
  } finally {
    await client.close();
  }
});
