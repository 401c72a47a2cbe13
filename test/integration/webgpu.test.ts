// The webgpu engine against the wasm engine on the same real batches and the same initial parameters,
// on whatever adapter Dawn finds (Mesa's llvmpipe through OpenGL ES on machines with no GPU).
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { WasmEngine } from '@core/backend/wasmEngine';
import { GpuEngine } from '@gpu/gpuEngine';
import { findAdapter, requestDevice } from '@core/backend/webgpu/nodeDevice';
import { initialParams } from '@core/model/init';
import { PARAMS, PARAM_COUNT } from '@shared/architecture';
import type { Engine } from '@shared/engine';
import { createControl, train } from '@core/trainer/trainer';
import { TrainerClient } from '@core/trainer/client';
import type { Envelope, StudioCallError, StudioEvent, StudioState } from '@shared/api';
import { StudioService } from '@core/service/studioService';
import { kernelsProblem, tfjsNodeProblem } from '@core/backend/backends';
import { loadCheckpoint } from '@core/store/checkpoint';
import { SEED_RECIPE, type BackendStatus, type TrainConfig } from '@shared/training';
import { Rng } from '@core/model/rng';
import { mnist, relativeError, stepGradient, tempDir } from '../support/helpers';

const adapter = await findAdapter();
const skip = typeof adapter === 'string' ? `no WebGPU adapter: ${adapter}` : false;
if (skip) console.log(`# webgpu tests skipped: ${skip}`);

async function gpuEngine(maxBatch: number): Promise<GpuEngine> {
  const found = await findAdapter();
  if (typeof found === 'string') throw new Error(found);
  return GpuEngine.create(await requestDevice(found.adapter), mnist(), { maxBatch, device: found.name, ownsDevice: true });
}

const [gradient, relative] = [stepGradient, relativeError];

test('every parameter gradient and the logits match the wasm engine on a real batch', { skip }, async () => {
  const data = mnist();
  const [gpu, wasm] = [await gpuEngine(8), new WasmEngine(data, { maxBatch: 8, threads: 1 })];
  try {
    const params = initialParams(3);
    // Small non-zero biases keep pre-activations off ReLU's kink, where float rounding could pick either side.
    for (const spec of PARAMS.filter((p) => p.name === 'bias')) for (let i = 0; i < spec.size; i++) params[spec.offset + i] = 0.01 + 0.001 * i;
    gpu.setParams(params);
    wasm.setParams(params);
    assert.ok(relative(await gpu.logits('test', 0, 8), wasm.logits('test', 0, 8)) < 1e-5);
    const batch = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7], (i) => i * 7919);
    const [gg, gw] = [await gradient(gpu, params, batch), await gradient(wasm, params, batch)];
    for (const spec of PARAMS) {
      const error = relative(gg.subarray(spec.offset, spec.offset + spec.size), gw.subarray(spec.offset, spec.offset + spec.size));
      assert.ok(error < 1e-3, `${spec.layer} ${spec.name}: relative error ${error}`);
    }
  } finally {
    gpu.dispose();
    wasm.dispose();
  }
});

test(
  'ten steps from the same parameters on the same batches: losses within 1e-4 of wasm; one group equals ten single steps, bit for bit',
  { skip },
  async () => {
    const data = mnist();
    const order = new Rng(11).permutation(data.train.count);
    const batches = Array.from({ length: 10 }, (_, i) => order.subarray(i * 8, i * 8 + 8));
    const wasm = new WasmEngine(data, { maxBatch: 8, threads: 1 });
    const gpu = await gpuEngine(8);
    try {
      const start = (e: Engine) => {
        e.setParams(initialParams(4));
        e.setVelocity(new Float32Array(PARAM_COUNT));
      };
      start(wasm);
      const expected = batches.map((b) => wasm.trainStep(b, 0.01, 0.9).lossSum);
      start(gpu);
      const single: number[] = [];
      for (const b of batches) single.push((await gpu.trainStep(b, 0.01, 0.9)).lossSum);
      const afterSingle = await gpu.getParams();
      single.forEach((loss, i) => assert.ok(Math.abs(loss - expected[i]!) / expected[i]! < 1e-4, `step ${i + 1}: ${loss} vs wasm ${expected[i]}`));
      start(gpu);
      const grouped = (await gpu.trainSteps(batches, 0.01, 0.9)).map((r) => r.lossSum);
      assert.deepEqual(grouped, single);
      assert.deepEqual(await gpu.getParams(), afterSingle);
    } finally {
      gpu.dispose();
      wasm.dispose();
    }
  },
);

test("a short run's test loss is within 1e-3 of wasm's on the same recipe", { skip }, async () => {
  const data = mnist();
  const config: TrainConfig = { ...SEED_RECIPE, epochs: 1, batchSize: 8, trainLimit: 96, testLimit: 300, seed: 2 };
  const run = async (engine: Engine) => {
    engine.setParams(initialParams(config.seed));
    engine.setVelocity(new Float32Array(PARAM_COUNT));
    return (await train({ engine, dataset: data, config, control: createControl(), emit: () => undefined })).history.epochs[0]!;
  };
  const wasm = new WasmEngine(data, { maxBatch: 8, threads: 1 });
  const gpu = await gpuEngine(8);
  try {
    const [a, b] = [await run(wasm), await run(gpu)];
    assert.ok(Math.abs(b.test.loss - a.test.loss) / a.test.loss < 1e-3, `test loss ${b.test.loss} vs wasm ${a.test.loss}`);
    assert.ok(Math.abs(b.train.loss - a.train.loss) / a.train.loss < 1e-3, `train loss ${b.train.loss} vs wasm ${a.train.loss}`);
    assert.equal(b.test.accuracy, a.test.accuracy);
  } finally {
    gpu.dispose();
    wasm.dispose();
  }
});

/** A worker with a GPU fault armed (see backends.ts), and the recipe it trains. */
function faulty(fault: string) {
  process.env.MNIST_STUDIO_FAULTS = '1';
  process.env.MNIST_STUDIO_GPU_FAULT = fault;
  try {
    return new TrainerClient();
  } finally {
    delete process.env.MNIST_STUDIO_GPU_FAULT;
  }
}
const FAULT_RECIPE: TrainConfig = { ...SEED_RECIPE, backend: 'webgpu', epochs: 3, batchSize: 8, trainLimit: 40, testLimit: 40 };

// Two ways a GPU fails mid-run. Five steps make epoch 1; the fault strikes at epoch 2's third step.
for (const [fault, what, message] of [
  ['lost:7', 'a device lost', /GPU device was lost/],
  ['oom:7', 'the GPU running out of memory', /the GPU ran out of memory: injected/],
] as const) {
  test(`${what} mid-run ends the run with a clear error, keeps the last checkpoint, and the next run starts afresh`, { skip }, async () => {
    const client = faulty(fault);
    const dir = tempDir();
    try {
      const epochs: number[] = [];
      client.onEvent((e) => e.type === 'epoch' && epochs.push(e.epoch));
      await assert.rejects(client.request('startTraining', { config: FAULT_RECIPE, checkpointDir: dir }), (e: StudioCallError) => {
        assert.equal(e.studio.code, 'backend-failed');
        assert.match(e.message, message);
        return true;
      });
      assert.deepEqual(epochs, [1]);
      assert.equal(loadCheckpoint(dir).epoch, 1);
      // The weights on the GPU are gone: the model in hand is now the checkpoint's, on the CPU.
      assert.equal((await client.request('predict', { images: new Float32Array(784) })).length, 1);
      // The worker survives; a run on another backend goes ahead.
      const result = await client.request('startTraining', { config: { ...FAULT_RECIPE, backend: 'wasm', epochs: 1 } });
      assert.equal(result.history.epochs.length, 1);
    } finally {
      await client.close();
    }
  });
}

test("a shader that does not compile fails the run at its start with the compiler's message", { skip }, async () => {
  const client = faulty('shader');
  try {
    await assert.rejects(client.request('startTraining', { config: FAULT_RECIPE }), (e: StudioCallError) => {
      assert.equal(e.studio.code, 'backend-failed');
      assert.match(e.message, /^webgpu could not start: shader error at line \d+: .*undefined_name/);
      return true;
    });
  } finally {
    await client.close();
  }
});

test('in the app: a GPU run that loses its device offers its checkpoint, and it resumes from there on the CPU backend asked for', { skip }, async () => {
  const service = new StudioService({ home: tempDir(), createTrainer: () => faulty('lost:7') });
  const next = (type: StudioEvent['type']): Promise<StudioEvent> =>
    new Promise((resolve) => {
      const off = service.onEvent((e) => e.type === type && (off(), resolve(e)));
    });
  try {
    const failed = next('error');
    const started = await service.dispatch('startTraining', FAULT_RECIPE);
    assert.ok(started.ok);
    await failed;
    const state = (await service.dispatch('getState', {})) as Envelope<StudioState>;
    assert.ok(state.ok);
    const { run, error, unfinished } = state.value;
    assert.equal(error?.code, 'backend-failed');
    assert.equal(run?.backend, 'webgpu');
    // What the page's "Resume on wasm" needs: the failed run's checkpoint among the unfinished runs.
    const kept = unfinished.find((u) => u.dir === run!.checkpointDir);
    assert.equal(kept?.epoch, 1);
    // The weights of epoch 2's first steps went with the GPU: the model in hand is the checkpoint's, on the CPU.
    const model = state.value.model;
    assert.deepEqual([model?.name, model?.saved, model?.runId, model?.history?.epochs.map((e) => e.epoch)], ['untitled', false, undefined, [1]]);
    const predicted = await service.dispatch('predict', { images: Buffer.from(mnist().test.images.subarray(0, 784)).toString('base64') });
    assert.ok(predicted.ok, JSON.stringify(predicted));
    // The page asks for wasm; cpu here, because auto (what a resume uses unless told) picks wasm on a
    // machine whose only adapter is a software one, and the backend asked for must be the one used.
    const done = next('done');
    assert.ok((await service.dispatch('resumeRun', { dir: kept!.dir, backend: 'cpu' })).ok);
    await done;
    const after = (await service.dispatch('getState', {})) as Envelope<StudioState>;
    assert.ok(after.ok);
    assert.equal(after.value.run?.backend, 'cpu');
    assert.deepEqual(
      after.value.run?.epochs.map((e) => e.epoch),
      [1, 2, 3],
    );
    assert.equal(after.value.error, undefined);
  } finally {
    await service.close();
  }
});

test('a GPU lost after its run ended takes the engine, not the model: predictions, test predictions and Save go on on the CPU', { skip }, async () => {
  const client = faulty('');
  try {
    await client.request('startTraining', { config: { ...FAULT_RECIPE, epochs: 1 } });
    const images = mnist().test.images.subarray(0, 784 * 8);
    const before = await client.request('predict', { images });
    client.injectFault('gpu');
    // The loss reaches the engine a moment later, as a driver reset would.
    await new Promise((r) => setTimeout(r, 500));
    const after = await client.request('predict', { images });
    assert.deepEqual(
      after.map((p) => p.label),
      before.map((p) => p.label),
    );
    for (const [i, p] of after.entries()) assert.ok(relative(Float32Array.from(p.probabilities), Float32Array.from(before[i]!.probabilities)) < 1e-4);
    assert.equal((await client.request('testPredictions', {})).predicted.length, mnist().test.count);
    const dir = join(tempDir(), 'saved');
    assert.equal((await client.request('saveModel', { dir })).dir, dir);
  } finally {
    await client.close();
  }
});

test('the CLI: a GPU that fails mid-run says how to go on from the checkpoint it kept, then its one error line', { skip }, () => {
  const dir = join(tempDir(), 'run');
  const args = ['train', '--backend', 'webgpu', '--epochs', '2', '--batch-size', '8', '--train-limit', '40', '--test-limit', '40', '--checkpoint', dir];
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, MNIST_STUDIO_FAULTS: '1', MNIST_STUDIO_GPU_FAULT: 'lost:7', MNIST_STUDIO_HOME: tempDir() },
  });
  assert.equal(run.status, 2, run.stderr);
  const ours = run.stderr.split('\n').filter((line) => /^(note|error): /.test(line));
  assert.deepEqual(ours.slice(-2), [
    `note: the checkpoint in ${dir} is kept: train --resume ${dir} --backend wasm goes on from it`,
    'error: the GPU device was lost (destroyed): device was destroyed',
  ]);
});

test('in the app: a GPU run that loses its device before any checkpoint leaves the model from before the run in hand', { skip }, async () => {
  const service = new StudioService({ home: tempDir(), createTrainer: () => faulty('lost:2') });
  const next = (type: StudioEvent['type']): Promise<StudioEvent> =>
    new Promise((resolve) => {
      const off = service.onEvent((e) => e.type === type && (off(), resolve(e)));
    });
  const images = Buffer.from(mnist().test.images.subarray(0, 784 * 2)).toString('base64');
  try {
    const trained = next('done');
    assert.ok((await service.dispatch('startTraining', { ...FAULT_RECIPE, backend: 'wasm', epochs: 1 })).ok);
    await trained;
    assert.ok((await service.dispatch('saveModel', { name: 'first' })).ok);
    const before = await service.dispatch('predict', { images });
    const failed = next('error');
    assert.ok((await service.dispatch('startTraining', FAULT_RECIPE)).ok);
    await failed;
    const state = (await service.dispatch('getState', {})) as Envelope<StudioState>;
    assert.ok(state.ok);
    assert.equal(state.value.error?.code, 'backend-failed');
    assert.deepEqual([state.value.model?.name, state.value.model?.saved], ['first', true]);
    assert.deepEqual(await service.dispatch('predict', { images }), before, 'the worker put the same weights back');
  } finally {
    await service.close();
  }
});

test("the app's backend picker: every choice with its status here, and a one-line reason for each unavailable one", async () => {
  const service = new StudioService({ home: tempDir() });
  try {
    const reply = (await service.dispatch('backends', {})) as Envelope<BackendStatus[]>;
    assert.ok(reply.ok);
    const byChoice = Object.fromEntries(reply.value.map((b) => [b.choice, b]));
    assert.deepEqual(Object.keys(byChoice), ['auto', 'webgpu', 'native', 'wasm', 'tfjs-node', 'cpu']);
    assert.equal(byChoice.wasm!.available, true);
    assert.match(byChoice.wasm!.detail, /WebAssembly (relaxed )?SIMD kernels on \d threads?/);
    const native = kernelsProblem();
    assert.equal(byChoice.native!.available, native === undefined);
    assert.equal(byChoice.native!.detail, native ?? byChoice.native!.detail);
    if (!native) assert.match(byChoice.native!.detail, /^(AVX-512|AVX2), \d threads?$/);
    const tfjsNode = await tfjsNodeProblem();
    assert.equal(byChoice['tfjs-node']!.available, tfjsNode === undefined);
    if (tfjsNode) assert.equal(byChoice['tfjs-node']!.detail, tfjsNode);
    assert.equal(byChoice.webgpu!.available, typeof adapter !== 'string');
    assert.ok(byChoice.webgpu!.detail.startsWith(typeof adapter === 'string' ? adapter : adapter.name), byChoice.webgpu!.detail);
    if (typeof adapter !== 'string' && adapter.software) assert.match(byChoice.webgpu!.detail, /software renderer/);
    for (const b of reply.value) assert.ok(b.detail.length > 0 && !b.detail.includes('\n'), `${b.choice}: one line`);
    assert.match(byChoice.auto!.detail, /^(webgpu|native|tfjs-node|wasm): /);
  } finally {
    await service.close();
  }
});

// Ended from outside during a Dawn call, a worker took the whole process down (Dawn's napi_throw fails in a
// terminating thread, and node-addon-api aborts): a service closed while its worker looked for an adapter
// aborted the integration run. close() now lets the worker end itself once its requests, Dawn's calls
// among them, are settled.
test('closing trainers while Dawn works for them ends each worker, never the process', { skip }, () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join('test', 'support', 'closeDuringDawn.ts'), '12'], {
    encoding: 'utf8',
    env: { ...process.env, MNIST_STUDIO_HOME: tempDir() },
    timeout: 180_000,
    // Dawn warns on every adapter it hands out: more than spawnSync's default 1 MB, past which it kills the child.
    maxBuffer: 256 * 1024 * 1024,
  });
  const said = run.stderr
    .split('\n')
    .filter((line) => line && !/^Warning: |BackendVk/.test(line))
    .slice(-30)
    .join('\n');
  assert.ok(!run.stderr.includes('FATAL ERROR'), `the process aborted:\n${said}`);
  assert.equal(run.status, 0, `signal ${run.signal}:\n${said}`);
  assert.match(run.stdout, /^closed 12$/m);
});
