// A helper thread of the wasm engine that dies in the middle of an operation: the owner, blocked in a
// synchronous wait, must not hang. A helper that exits is reported at once with its reason; one killed
// outright (no chance to say anything) is caught by the operation deadline; the broken engine refuses
// further work, and the trainer drops it, reports the helper's error, and trains again on a fresh one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEngine } from '@core/backend/wasmEngine';
import { KernelThreadError } from '@core/backend/kernelThreads';
import { TrainerClient } from '@core/trainer/client';
import { StudioService } from '@core/service/studioService';
import type { StudioEvent } from '@shared/api';
import type { StudioError } from '@shared/errors';
import { SEED_RECIPE } from '@shared/training';
import { initialParams } from '@core/model/init';
import { mnist, tempDir } from '../support/helpers';

const batch = Int32Array.from({ length: 32 }, (_, i) => i);

function engine(threads: number, deadlineMs?: number): WasmEngine {
  const e = new WasmEngine(mnist(), { maxBatch: 32, threads, deadlineMs });
  e.setParams(initialParams(0));
  e.setVelocity(new Float32Array(initialParams(0).length));
  e.trainStep(batch, 0.01, 0.9); // all helpers up and working
  return e;
}

test('a helper that exits mid-step: the step fails at once with its reason, and the engine stays refused', () => {
  const e = engine(3);
  try {
    e.threadPool.injectFault(2);
    const started = Date.now();
    assert.throws(
      () => e.trainStep(batch, 0.01, 0.9),
      (err: unknown) => err instanceof KernelThreadError && /kernel thread 2 died: exited with code 70/.test(err.message),
    );
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.match(e.broken!, /kernel thread 2 died/);
    assert.throws(() => e.logitsOf(new Float32Array(784)), /kernel thread 2 died/);
  } finally {
    e.dispose();
  }
});

test('a helper killed outright mid-step (no last words): the deadline ends the wait with an error', async () => {
  const e = engine(4, 1500);
  try {
    void e.threadPool.helpers[1]!.terminate();
    const started = Date.now();
    assert.throws(
      () => {
        for (let i = 0; i < 1000; i++) e.trainStep(batch, 0.01, 0.9);
      },
      (err: unknown) => err instanceof KernelThreadError && /did not finish an operation within 1\.5 s|died/.test(err.message),
    );
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    // Once the owner's event loop runs again, the helper's exit is on record too.
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(e.broken);
  } finally {
    e.dispose();
  }
});

test('helpers woken without a new operation go back to sleep: no step runs twice, and the weights match an undisturbed run', async () => {
  // Seen on CI under load as "-1 kernel thread did not finish an operation within 60 s": the owner's
  // notify landed after a helper had already run the operation, and the helper ran it again.
  const woken = engine(4, 5000);
  const steady = engine(4, 5000);
  try {
    for (let step = 1; step <= 20; step++) {
      const indices = Int32Array.from({ length: 32 }, (_, i) => (step * 32 + i) % 6400);
      woken.threadPool.wakeWithoutWork();
      await new Promise((r) => setTimeout(r, 20)); // let the helpers act on the wake-up
      assert.deepEqual(woken.trainStep(indices, 0.01, 0.9), steady.trainStep(indices, 0.01, 0.9), `step ${step}`);
    }
    assert.deepEqual(woken.getParams(), steady.getParams());
  } finally {
    woken.dispose();
    steady.dispose();
  }
});

test('in the trainer: a run whose helper dies ends with that error, the engine is dropped, and the next run trains', async () => {
  process.env.MNIST_STUDIO_FAULTS = '1';
  const client = new TrainerClient();
  try {
    const events: string[] = [];
    let failure: StudioError | undefined;
    client.onEvent((e) => {
      events.push(e.type);
      if (e.type === 'progress' && events.filter((t) => t === 'progress').length === 1) client.injectFault(1);
      if (e.type === 'error') failure = e.error;
    });
    await assert.rejects(
      client.request('startTraining', { config: { ...SEED_RECIPE, backend: 'wasm', threads: 3, epochs: 1, trainLimit: 6400, testLimit: 100 } }),
      (err: { studio?: StudioError }) => err.studio?.code === 'backend-failed' && /kernel thread 1 died: exited with code 70/.test(err.studio.message),
    );
    assert.match(failure?.message ?? '', /kernel thread 1 died/);
    assert.ok(!events.includes('done'));
    await assert.rejects(client.request('predict', { images: new Float32Array(784) }), (err: { studio?: StudioError }) => err.studio?.code === 'no-model');
    const again = await client.request('startTraining', {
      config: { ...SEED_RECIPE, backend: 'wasm', threads: 3, epochs: 1, trainLimit: 320, testLimit: 100 },
    });
    assert.equal(again.history.epochs.length, 1);
  } finally {
    await client.close();
  }
});

test('in the app: the run ends with an error event, status says not training, and a new run starts', async () => {
  process.env.MNIST_STUDIO_FAULTS = '1';
  const clients: TrainerClient[] = [];
  const service = new StudioService({ home: tempDir(), createTrainer: () => (clients.push(new TrainerClient()), clients.at(-1)!) });
  const next = (match: (e: StudioEvent) => boolean): Promise<StudioEvent> =>
    new Promise((resolve) => {
      const off = service.onEvent((e) => match(e) && (off(), resolve(e)));
    });
  try {
    const progress = next((e) => e.type === 'progress');
    assert.equal(
      (await service.dispatch('startTraining', { ...SEED_RECIPE, backend: 'wasm', threads: 3, epochs: 1, trainLimit: 6400, testLimit: 100 })).ok,
      true,
    );
    await progress;
    const failed = next((e) => e.type === 'error');
    clients[0]!.injectFault(2);
    const event = await failed;
    assert.match(event.type === 'error' ? event.error.message : '', /kernel thread 2 died/);
    const status = await service.dispatch('status', {});
    assert.equal(status.ok && (status.value as { training: boolean }).training, false);
    const done = next((e) => e.type === 'done');
    assert.equal(
      (await service.dispatch('startTraining', { ...SEED_RECIPE, backend: 'wasm', threads: 3, epochs: 1, trainLimit: 320, testLimit: 100 })).ok,
      true,
    );
    await done;
  } finally {
    await service.close();
  }
});
