// The training loop on the real core: accuracy on a short real run, determinism, and the throttled events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEngine } from '@core/backend/wasmEngine';
import { initialParams } from '@core/model/init';
import { createControl, train } from '@core/trainer/trainer';
import { SEED_RECIPE, type TrainConfig, type TrainEvent } from '@shared/training';
import { mnist } from '../support/helpers';

async function run(config: Partial<TrainConfig>, threads = 2) {
  const data = mnist();
  const full = { ...SEED_RECIPE, backend: 'wasm' as const, ...config };
  const engine = new WasmEngine(data, { maxBatch: full.batchSize, threads });
  engine.setParams(initialParams(full.seed));
  const events: TrainEvent[] = [];
  try {
    const result = await train({ engine, dataset: data, config: full, control: createControl(), emit: (e) => events.push(e) });
    return { ...result, events, params: engine.getParams() };
  } finally {
    engine.dispose();
  }
}

test('a short run (12,800 real training images, 1 epoch) beats 90% on 2,000 test images', async () => {
  const { history, events } = await run({ epochs: 1, trainLimit: 12800, testLimit: 2000 });
  const [epoch] = history.epochs;
  assert.ok(epoch!.test.accuracy > 0.9, `test accuracy ${epoch!.test.accuracy}`);
  assert.equal(epoch!.test.count, 2000);
  assert.ok(epoch!.train.loss < 1 && epoch!.train.accuracy > 0.7);
  const progress = events.filter((e) => e.type === 'progress');
  // Throttled, yet every step's loss arrives for the per-step chart.
  assert.ok(progress.length < 400);
  assert.equal(
    progress.reduce((n, e) => n + e.losses.length, 0),
    400,
  );
  assert.equal(progress.at(-1)!.step, 400);
});

test('the same seed gives identical numbers; another seed does not', async () => {
  const config = { epochs: 2, trainLimit: 640, testLimit: 300, seed: 7 };
  const a = await run(config);
  const b = await run(config);
  assert.deepEqual(
    a.history.epochs.map((e) => [e.train, e.test]),
    b.history.epochs.map((e) => [e.train, e.test]),
  );
  assert.deepEqual(a.params, b.params);
  const c = await run({ ...config, seed: 8 });
  assert.notDeepEqual(c.history.epochs[0]!.train, a.history.epochs[0]!.train);
});

test('batches drop the remainder and every epoch is a fresh seeded permutation', async () => {
  // The engine the loop drives, recording which training images each step was given.
  const data = mnist();
  const seen = async (seed: number): Promise<number[][]> => {
    const engine = new WasmEngine(data, { maxBatch: 32, threads: 2 });
    const epochs: number[][] = [[]];
    const recording = Object.assign(Object.create(engine) as WasmEngine, {
      trainStep(indices: Int32Array, lr: number, momentum: number) {
        epochs.at(-1)!.push(...indices);
        return engine.trainStep(indices, lr, momentum);
      },
    });
    engine.setParams(initialParams(seed));
    const config = { ...SEED_RECIPE, backend: 'wasm' as const, epochs: 3, trainLimit: 100, testLimit: 10, batchSize: 32, seed };
    try {
      await train({ engine: recording, dataset: data, config, control: createControl(), emit: () => undefined, onEpochEnd: async () => void epochs.push([]) });
    } finally {
      engine.dispose();
    }
    return epochs.filter((e) => e.length > 0);
  };
  const runs = await seen(0);
  assert.equal(runs.length, 3);
  for (const order of runs) {
    assert.equal(order.length, 96, 'three batches of 32; the last 4 of the 100 images are dropped');
    assert.equal(new Set(order).size, 96, 'no image twice in an epoch');
    assert.ok(
      order.every((i) => i >= 0 && i < 100),
      'only the first trainLimit images',
    );
  }
  assert.notDeepEqual(runs[0], runs[1]);
  assert.notDeepEqual(runs[1], runs[2]);
  assert.notDeepEqual(
    runs[0],
    Array.from({ length: 96 }, (_, i) => i),
    'shuffled, not in order',
  );
  assert.deepEqual(await seen(0), runs, 'the same seed, the same orders');
  assert.notDeepEqual(await seen(1), runs, 'another seed, other orders');
});

test('pause and stop act while the test set is scored, and its progress moves every 500 images', async () => {
  const data = mnist();
  const config: TrainConfig = { ...SEED_RECIPE, backend: 'wasm', epochs: 2, trainLimit: 320, testLimit: 10_000 };
  const engine = new WasmEngine(data, { maxBatch: 32, threads: 2 });
  engine.setParams(initialParams(0));
  try {
    const control = createControl();
    const events: TrainEvent[] = [];
    let pausedAt = -1;
    const emit = (e: TrainEvent): void => {
      events.push(e);
      // Paused once the test pass is under way; stopped while paused, still inside epoch 1's test.
      if (e.type === 'progress' && e.phase === 'evaluating' && e.tested > 0 && pausedAt < 0) {
        pausedAt = e.tested;
        control.pause();
      }
      if (e.type === 'paused') setTimeout(() => control.stop(), 200);
    };
    const result = await train({ engine, dataset: data, config, control, emit });
    assert.ok(result.stopped);
    const paused = events.find((e) => e.type === 'paused');
    assert.ok(paused && paused.type === 'paused' && paused.epoch === 1, 'paused inside the test pass');
    const tested = events.flatMap((e) => (e.type === 'progress' && e.phase === 'evaluating' ? [e.tested] : []));
    assert.ok(tested.every((t) => t % 500 === 0) && Math.max(...tested) < 10_000, `tested ${tested.join(', ')}`);
    assert.ok(!events.some((e) => e.type === 'epoch'), 'epoch 1 was not finished: its test pass was stopped');
    assert.deepEqual(result.history.stoppedAt, { epoch: 1, step: 10, of: 10 });
  } finally {
    engine.dispose();
  }
});

test('examples/s and the ETA stay true when steps come back in groups (as on the GPU), at the end of an epoch too', async () => {
  const data = mnist();
  const engine = new WasmEngine(data, { maxBatch: 32, threads: 2 });
  // A stand-in for the GPU engine's timing: groups queue one behind the other, as on a GPU, and each comes
  // back at once, 2 ms per step.
  let busyMs = 0;
  let queue = Promise.resolve();
  const grouped = Object.assign(Object.create(engine) as WasmEngine, {
    async trainSteps(batches: Int32Array[]) {
      const done = queue.then(async () => {
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, 2 * batches.length));
        busyMs += performance.now() - t0;
      });
      queue = done;
      await done;
      return batches.map((b) => ({ lossSum: 2.3 * b.length, correct: 3 }));
    },
  });
  const events: TrainEvent[] = [];
  // 319 steps: groups of 1, 2, ..., 64, then 64 three times, so each epoch ends inside a 128 ms group whose
  // first step was reported.
  const config = { ...SEED_RECIPE, backend: 'wasm' as const, epochs: 3, trainLimit: 32 * 319, testLimit: 10 };
  try {
    engine.setParams(initialParams(0));
    await train({ engine: grouped, dataset: data, config, control: createControl(), emit: (e) => events.push(e) });
  } finally {
    engine.dispose();
  }
  const truth = (3 * 319 * 32) / (busyMs / 1000);
  const rates = events.flatMap((e) => (e.type === 'progress' && e.phase === 'training' ? [e.examplesPerSecond] : []));
  assert.ok(rates.length >= 6, `${rates.length} reports: ${rates.map(Math.round).join(', ')}`);
  // Past the first estimate: within a factor of two of the true rate (an epoch's last step, reported a
  // moment after the step before it in the same group, used to count as thousands of times faster).
  const off = rates.slice(3).filter((r) => r > 2 * truth || r < truth / 2);
  assert.deepEqual(off, [], `true rate ${Math.round(truth)} examples/s`);
});
