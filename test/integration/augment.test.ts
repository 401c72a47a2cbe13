// Augmented training through the real engines and the real trainer: each engine's batch slot trains on
// exactly the images it is given, every engine is given the same bytes for the same recipe (wasm, tfjs's
// cpu backend, and webgpu through Dawn where it finds an adapter), a run resumed from its checkpoint goes
// on with the images an uninterrupted run would have drawn, and the CLI takes --augment and records it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasmEngine } from '@core/backend/wasmEngine';
import { NativeEngine, nativeKernels } from '@core/backend/nativeEngine';
import { TfjsEngine } from '@core/backend/tfjsEngine';
import { GpuEngine } from '@gpu/gpuEngine';
import { findAdapter, requestDevice } from '@core/backend/webgpu/nodeDevice';
import { initialParams } from '@core/model/init';
import { PARAM_COUNT } from '@shared/architecture';
import type { Engine } from '@shared/engine';
import type { Dataset } from '@shared/dataset';
import { createControl, train, type EpochEnd } from '@core/trainer/trainer';
import { SEED_RECIPE, type TrainConfig } from '@shared/training';
import { mnist, tempDir } from '../support/helpers';
import { assertUsageError, runCli } from '../support/cli';
import { StudioService } from '@core/service/studioService';

const PX = 784;
const adapter = await findAdapter();
const noGpu = typeof adapter === 'string' ? `no WebGPU adapter: ${adapter}` : false;
const kernels = nativeKernels();
const noNative = typeof kernels === 'string' ? kernels : false;

async function gpuEngine(dataset: Dataset, maxBatch: number): Promise<GpuEngine> {
  // An adapter makes one device: a fresh one each time.
  const found = await findAdapter();
  if (typeof found === 'string') throw new Error(found);
  return GpuEngine.create(await requestDevice(found.adapter), dataset, { maxBatch, augmented: true, device: found.name, ownsDevice: true });
}

/** The first `count` training images with the batch's rows replaced by `images`: what a slot step must equal. */
function withImages(indices: Int32Array, images: Uint8Array): Dataset {
  const d = mnist();
  const trainImages = Uint8Array.from(d.train.images.subarray(0, 256 * PX));
  indices.forEach((row, i) => trainImages.set(images.subarray(i * PX, (i + 1) * PX), row * PX));
  return { ...d, train: { count: 256, images: trainImages, labels: d.train.labels.subarray(0, 256) } };
}

test("each engine's batch slot trains on the images it is given, bit for bit as if they were the dataset's own", async () => {
  const indices = Int32Array.of(5, 17, 3, 200, 42, 9, 77, 128);
  // Any other images will do: the next eight of the train set.
  const images = Uint8Array.from(mnist().train.images.subarray(1000 * PX, 1008 * PX));
  const params = initialParams(4);
  const after = async (engine: Engine, slot: boolean): Promise<Float32Array> => {
    try {
      engine.setParams(params);
      engine.setVelocity(new Float32Array(PARAM_COUNT));
      await engine.trainStep(indices, 0.05, 0.9, slot ? images : undefined);
      await engine.trainStep(indices, 0.05, 0.9, slot ? images : undefined);
      return await engine.getParams();
    } finally {
      engine.dispose();
    }
  };
  const makers: [string, (d: Dataset) => Engine | Promise<Engine>][] = [
    ['wasm', (d) => new WasmEngine(d, { maxBatch: 8, threads: 1 })],
    ['cpu', (d) => new TfjsEngine('cpu', d, { maxBatch: 8 })],
  ];
  if (!noGpu) makers.push(['webgpu', (d) => gpuEngine(d, 8)]);
  if (!noNative) makers.push(['native', (d) => new NativeEngine(d, { maxBatch: 8, threads: 1 })]);
  for (const [name, make] of makers) {
    const slotted = await after(await make(withImages(Int32Array.of(), new Uint8Array())), true);
    const own = await after(await make(withImages(indices, images)), false);
    assert.deepEqual(slotted, own, `${name}: the slot's step differs from the same images in the dataset`);
    if (name === 'wasm' || name === 'native') {
      const plain = await after(await make(withImages(Int32Array.of(), new Uint8Array())), false);
      assert.notDeepEqual(slotted, plain, `${name}: the slot's images were not used`);
    }
  }
});

/** An engine that notes a digest of the images each step is given, in step order. */
function recording(engine: Engine): { engine: Engine; seen: string[] } {
  const seen: string[] = [];
  const digest = (images?: Uint8Array) => (images ? createHash('sha256').update(images).digest('hex') : 'none');
  const wrapped = Object.create(engine) as Engine;
  wrapped.trainStep = (indices, lr, m, images) => (seen.push(digest(images)), engine.trainStep(indices, lr, m, images));
  if (engine.trainSteps)
    wrapped.trainSteps = (batches, lr, m, images) => (images?.forEach((i) => seen.push(digest(i))), engine.trainSteps!(batches, lr, m, images));
  return { engine: wrapped, seen };
}

const RECIPE: TrainConfig = { ...SEED_RECIPE, epochs: 1, batchSize: 8, trainLimit: 48, testLimit: 100, seed: 3, augment: 'strong' };

async function run(engine: Engine, config: TrainConfig, onEpochEnd?: (state: EpochEnd) => Promise<void>, start?: EpochEnd) {
  const control = createControl();
  const result = await train({
    engine,
    dataset: mnist(),
    config,
    control,
    emit: () => undefined,
    onEpochEnd: onEpochEnd && ((s) => onEpochEnd(s).then(() => control.stop())),
    start,
  });
  return { ...result, params: await engine.getParams() };
}

test('a short augmented run gives every engine the same images, step for step, and they train alike', async () => {
  const engines: [string, () => Engine | Promise<Engine>][] = [
    ['wasm', () => new WasmEngine(mnist(), { maxBatch: 8, threads: 1, augmented: true })],
    ['cpu', () => new TfjsEngine('cpu', mnist(), { maxBatch: 8, augmented: true })],
  ];
  if (!noGpu) engines.push(['webgpu', () => gpuEngine(mnist(), 8)]);
  if (!noNative) engines.push(['native', () => new NativeEngine(mnist(), { maxBatch: 8, threads: 1, augmented: true })]);
  const runs: { name: string; seen: string[]; loss: number }[] = [];
  for (const [name, make] of engines) {
    const made = await make();
    try {
      made.setParams(initialParams(RECIPE.seed));
      made.setVelocity(new Float32Array(PARAM_COUNT));
      const { engine, seen } = recording(made);
      const { history } = await run(engine, RECIPE);
      runs.push({ name, seen, loss: history.epochs[0]!.test.loss });
    } finally {
      made.dispose();
    }
  }
  const [wasm, ...others] = runs;
  assert.equal(wasm!.seen.length, 6);
  assert.ok(!wasm!.seen.includes('none') && new Set(wasm!.seen).size === 6, 'every step had its own augmented images');
  for (const other of others) {
    assert.deepEqual(other.seen, wasm!.seen, `${other.name} was given other images than wasm`);
    assert.ok(Math.abs(other.loss - wasm!.loss) / wasm!.loss < 1e-3, `${other.name} test loss ${other.loss} vs wasm ${wasm!.loss}`);
  }
  // The seed's recipe trains on the dataset's own images: no augmented batch reaches the engine.
  const plain = recording(new WasmEngine(mnist(), { maxBatch: 8, threads: 1 }));
  plain.engine.setParams(initialParams(0));
  plain.engine.setVelocity(new Float32Array(PARAM_COUNT));
  await run(plain.engine, { ...RECIPE, augment: undefined });
  plain.engine.dispose();
  assert.deepEqual(new Set(plain.seen), new Set(['none']));
  if (noGpu) console.log(`# webgpu part skipped: ${noGpu}`);
  if (noNative) console.log(`# native part skipped: ${noNative}`);
});

test('a run resumed from its checkpoint goes on with the images, and so the weights, of an uninterrupted run', async () => {
  const config: TrainConfig = { ...RECIPE, epochs: 3, trainLimit: 32 };
  const fresh = () => {
    const engine = new WasmEngine(mnist(), { maxBatch: 8, threads: 1 });
    engine.setParams(initialParams(config.seed));
    engine.setVelocity(new Float32Array(PARAM_COUNT));
    return engine;
  };
  const whole = fresh();
  const uninterrupted = await run(whole, config);
  whole.dispose();
  // The same run stopped after its first epoch's checkpoint, then continued from it on a new engine.
  const first = fresh();
  let saved: { state: EpochEnd; params: Float32Array; velocity: Float32Array } | undefined;
  await run(first, config, async (state) => void (saved = { state, params: first.getParams(), velocity: first.getVelocity() }));
  first.dispose();
  assert.equal(saved?.state.epoch, 1);
  const second = fresh();
  second.setParams(saved!.params);
  second.setVelocity(saved!.velocity);
  const resumed = await run(second, config, undefined, saved!.state);
  second.dispose();
  assert.equal(resumed.history.epochs.length, 3);
  assert.deepEqual(
    resumed.history.epochs.map((e) => e.test.loss),
    uninterrupted.history.epochs.map((e) => e.test.loss),
  );
  assert.deepEqual(resumed.params, uninterrupted.params);
});

test('train --augment: a bad strength or a stray --augment-flip is one usage line; the strength is kept in the history and the run log', () => {
  assertUsageError(runCli(['train', '--augment', 'heavy']), /--augment.*expected one of none, light, strong/);
  assertUsageError(runCli(['train', '--augment-flip']), /^error: --augment-flip goes with --augment$/);
  assertUsageError(runCli(['train', '--resume', tempDir(), '--augment', 'light']), /--augment cannot be combined with --resume/);
  const out = join(tempDir(), 'model');
  const home = tempDir();
  const r = runCli(['train', '--augment', '--epochs', '1', '--train-limit', '64', '--test-limit', '32', '--backend', 'wasm', '--out', out, '--json'], {
    env: { MNIST_STUDIO_HOME: home },
  });
  assert.equal(r.code, 0, r.stderr);
  const started = JSON.parse(r.stdout.split('\n')[0]!);
  assert.equal(JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')).config.augment, 'strong');
  const shown = runCli(['runs', 'show', started.runId, '--json'], { env: { MNIST_STUDIO_HOME: home } });
  assert.equal(shown.code, 0, shown.stderr);
  assert.equal(JSON.parse(shown.stdout).config.augment, 'strong');
  // Without the flag the recipe has no augment at all, as before.
  const plain = runCli(['train', '--augment', 'none', '--epochs', '1', '--train-limit', '32', '--test-limit', '32', '--backend', 'wasm', '--json'], {
    env: { MNIST_STUDIO_HOME: home },
  });
  assert.equal(plain.code, 0, plain.stderr);
  const plainRun = JSON.parse(runCli(['runs', 'show', JSON.parse(plain.stdout.split('\n')[0]!).runId, '--json'], { env: { MNIST_STUDIO_HOME: home } }).stdout);
  assert.equal('augment' in plainRun.config, false);
  // The terminal's lines say so.
  const light = runCli(['train', '--augment', 'light', '--epochs', '1', '--train-limit', '32', '--test-limit', '32', '--backend', 'wasm'], {
    env: { MNIST_STUDIO_HOME: home },
  });
  assert.match(light.stdout, /^training on 32 images, augmented \(light\), testing on 32, 1 steps per epoch$/m);
});

test('augmentedExamples: the first training images varied by a draw seed, the same for the same seed, beside the originals', async () => {
  const service = new StudioService({ home: tempDir() });
  try {
    const ask = async (input: unknown) => {
      const reply = await service.dispatch('augmentedExamples', input);
      assert.ok(reply.ok, JSON.stringify(reply));
      return reply.value as { images: string; originals: string; labels: number[] };
    };
    const a = await ask({ augment: 'strong', count: 6, seed: 1 });
    assert.deepEqual(a.labels, Array.from(mnist().train.labels.subarray(0, 6)));
    const [images, originals] = [Buffer.from(a.images, 'base64'), Buffer.from(a.originals, 'base64')];
    assert.equal(images.length, 6 * PX);
    assert.deepEqual(originals, Buffer.from(mnist().train.images.subarray(0, 6 * PX)));
    for (let i = 0; i < 6; i++) assert.notDeepEqual(images.subarray(i * PX, (i + 1) * PX), originals.subarray(i * PX, (i + 1) * PX), `image ${i}`);
    assert.equal((await ask({ augment: 'strong', count: 6, seed: 1 })).images, a.images);
    assert.notEqual((await ask({ augment: 'strong', count: 6, seed: 2 })).images, a.images);
    assert.notEqual((await ask({ augment: 'light', count: 6, seed: 1 })).images, a.images);
    const refused = await service.dispatch('augmentedExamples', { augment: 'none', count: 6 });
    assert.equal(!refused.ok && refused.error.code, 'bad-request');
  } finally {
    await service.close();
  }
});
