// The trainer worker: the one thread that imports tfjs. It owns the dataset, the engine and the run,
// and answers predictions while a run trains (the loop yields between steps).
import { parentPort } from 'node:worker_threads';
import { type BackendChoice, type History, type StudioError, type WorkerMessage, type WorkerReplies, type WorkerRequest } from '../../../shared/contract';
import { dataSummary, loadDataset, type Dataset } from '../dataset/dataset';
import { DataError } from '../dataset/idx';
import { createEngine, resolveBackend, BackendUnavailableError } from '../backend/backends';
import { KernelThreadError } from '../backend/kernelThreads';
import { StudioCallError } from '../../../shared/api';
import { WasmEngine } from '../backend/wasmEngine';
import { tf } from '../backend/tfjs';
import { PARAM_COUNT } from '../model/architecture';
import type { Engine } from '../backend/engine';
import { initialParams } from '../model/init';
import { createControl, evaluateTest, train } from './trainer';
import { softmaxRows } from './metrics';
import { ModelFileError, openModel, saveModel } from '../store/modelStore';
import { loadCheckpoint, saveCheckpoint } from '../store/checkpoint';

const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);

let dataset: Dataset | undefined;
let dataDir: string | undefined;
let engine: Engine | undefined;
/** What the engine in hand was made for; a run or an open that needs the same reuses it. */
let engineKey = '';
let engineFallback: string | undefined;
let history: History | undefined;
/** The model in hand's predicted test labels; dropped whenever the weights change. */
let testPredicted: Uint8Array | undefined;
let control: ReturnType<typeof createControl> | undefined;

function ensureDataset(dir?: string): Dataset {
  if (!dataset || dir !== dataDir) {
    dataset = loadDataset(dir);
    dataDir = dir;
  }
  return dataset;
}

/**
 * The engine for a backend choice and batch size. The same one is reused across runs (with fresh
 * weights and momentum): a new wasm engine means a new shared memory of ~150 MB and new threads,
 * and the old memory is only returned when the garbage collector gets round to it.
 */
function dropEngine(): void {
  engine?.dispose();
  [engine, engineKey, testPredicted] = [undefined, '', undefined];
}

async function engineFor(choice: BackendChoice, dataset: Dataset, maxBatch: number, threads?: number, use: 'train' | 'infer' = 'train'): Promise<{ engine: Engine; fallbackReason?: string }> {
  const key = JSON.stringify([choice, use, dataDir ?? '', dataset.train.count, dataset.test.count, maxBatch, threads ?? 0]);
  // Predictions run on whatever engine is in hand; without one, auto takes a CPU engine rather than load a GPU.
  if (use === 'infer' && engine && choice === 'auto') return { engine, fallbackReason: engineFallback };
  if (!engine || key !== engineKey) {
    dropEngine();
    const pick = await createEngine(choice, dataset, { maxBatch, threads, gpu: use === 'train' });
    [engine, engineKey, engineFallback] = [pick.engine, key, pick.fallbackReason];
  }
  return { engine, fallbackReason: engineFallback };
}

function toStudioError(error: unknown): StudioError {
  if (error instanceof DataError) return { code: 'bad-data', message: error.message };
  if (error instanceof ModelFileError) return { code: 'bad-model', message: error.message };
  if (error instanceof BackendUnavailableError) return { code: 'backend-unavailable', message: error.message };
  if ((error as { code?: string })?.code === 'gpu-failed') return { code: 'backend-failed', message: (error as Error).message };
  if (error instanceof KernelThreadError) return { code: 'backend-failed', message: error.message };
  if (error instanceof StudioCallError) return error.studio;
  return { code: 'internal', message: (error as Error)?.message ?? String(error) };
}

const handlers: { [K in keyof WorkerReplies]: (request: Extract<WorkerRequest, { type: K }>) => Promise<WorkerReplies[K]> } = {
  'load-data': async ({ dataDir: dir }) => dataSummary(ensureDataset(dir)),
  // The config was validated once, where it came in (the service's schemas, the CLI's flag parsers).
  train: async ({ config: given, checkpointDir, resume }) => {
    if (control) throw StudioCallError.of('busy', 'a run is already training');
    const checkpoint = resume && checkpointDir ? loadCheckpoint(checkpointDir) : undefined;
    const config = checkpoint ? { ...checkpoint.config, backend: given.backend, threads: given.threads } : given;
    if (checkpoint && checkpoint.epoch >= config.epochs) throw StudioCallError.of('bad-request', `the run in ${checkpointDir} already finished its ${config.epochs} epochs`);
    const d = ensureDataset(checkpoint?.dataDir ?? dataDir);
    const pick = await engineFor(config.backend, d, Math.max(32, config.batchSize), config.threads);
    engine = pick.engine;
    engine.setParams(checkpoint?.params ?? initialParams(config.seed));
    engine.setVelocity(checkpoint?.velocity ?? new Float32Array(PARAM_COUNT));
    const trainCount = Math.min(config.trainLimit ?? Infinity, d.train.count);
    control = createControl();
    post({
      type: 'event',
      event: {
        type: 'started',
        backend: engine.backend,
        detail: engine.detail,
        device: engine.device,
        fallbackReason: pick.fallbackReason,
        epochs: config.epochs,
        stepsPerEpoch: Math.floor(trainCount / config.batchSize),
        trainCount,
        testCount: Math.min(config.testLimit ?? Infinity, d.test.count),
        resumedAt: checkpoint?.epoch,
        history: checkpoint?.history,
      },
    });
    const running = engine;
    try {
      testPredicted = undefined;
      const result = await train({
        engine: running,
        dataset: d,
        config,
        control,
        emit: (event) => post({ type: 'event', event }),
        onTestPredictions: (p) => (testPredicted = p),
        onEpochEnd: async (state) => {
          if (checkpointDir) saveCheckpoint(checkpointDir, { ...state, dataDir, params: await running.getParams(), velocity: await running.getVelocity() });
        },
        start: checkpoint ? { epoch: checkpoint.epoch, rng: checkpoint.rng, history: checkpoint.history } : undefined,
      });
      history = result.history;
      post({ type: 'event', event: { type: 'done', ...result } });
      return result;
    } catch (error) {
      // A failed engine (a lost GPU, a dead wasm helper thread) is dropped: the next run or open makes a fresh one.
      if ((error as { code?: string })?.code === 'gpu-failed' || engine?.broken) dropEngine();
      // The run had started, so its listeners wait for an end: this is it.
      post({ type: 'event', event: { type: 'error', error: toStudioError(error) } });
      throw error;
    } finally {
      control = undefined;
    }
  },
  predict: async ({ images }) => {
    if (!engine) throw StudioCallError.of('no-model', 'no model: train or open one first');
    const valid = (images instanceof Float32Array || images instanceof Uint8Array) && images.length > 0 && images.length % 784 === 0;
    if (!valid) throw StudioCallError.of('bad-request', 'images must be whole 28x28 images, as bytes or floats');
    const floats = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
    return softmaxRows(await engine.logitsOf(floats), ensureDataset(dataDir).spec.classes.length).map((probabilities) => ({ label: probabilities.indexOf(Math.max(...probabilities)), probabilities }));
  },
  'test-predictions': async () => {
    if (!engine) throw StudioCallError.of('no-model', 'no model: train or open one first');
    const d = ensureDataset(dataDir);
    if (!testPredicted || testPredicted.length !== d.test.count) {
      const predicted = new Uint8Array(d.test.count);
      await evaluateTest(engine, d, d.test.count, predicted);
      testPredicted = predicted;
    }
    return { predicted: testPredicted, labels: d.test.labels.slice(0, testPredicted.length) };
  },
  save: async ({ dir }) => {
    if (!engine) throw StudioCallError.of('no-model', 'no model: train or open one first');
    return { dir: await saveModel(dir, await engine.getParams(), history) };
  },
  open: async ({ dir, backend }) => {
    if (control) throw StudioCallError.of('busy', 'a run is training');
    const opened = await openModel(dir);
    const pick = await engineFor(backend, ensureDataset(dataDir), 32, undefined, 'infer');
    engine = pick.engine;
    engine.setParams(opened.params);
    engine.setVelocity(new Float32Array(PARAM_COUNT));
    history = opened.history;
    testPredicted = undefined;
    return { history, backend: engine.backend, detail: engine.detail, device: engine.device, fallbackReason: pick.fallbackReason };
  },
  samples: async ({ split, indices }) => {
    const s = ensureDataset(dataDir)[split];
    const rows = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < s.count);
    const images = new Uint8Array(rows.length * 784);
    rows.forEach((row, k) => images.set(s.images.subarray(row * 784, row * 784 + 784), k * 784));
    return { images, labels: rows.map((row) => s.labels[row]!) };
  },
  backend: ({ choice }) => resolveBackend(choice),
  // All of tfjs's live tensors in this thread, whatever the engine: saving and opening use tfjs even on wasm.
  memory: async () => ({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss }),
};

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'pause') return control?.pause();
  if (request.type === 'resume') return control?.resume();
  if (request.type === 'stop') return control?.stop();
  if (request.type === 'crash') {
    if (process.env.MNIST_STUDIO_FAULTS !== '1') return;
    if (request.kernelThread === undefined) {
      setImmediate(() => {
        throw new Error('injected fault');
      });
    } else if (engine instanceof WasmEngine) engine.threadPool.injectFault(request.kernelThread);
    return;
  }
  const handler = handlers[request.type] as ((r: WorkerRequest) => Promise<unknown>) | undefined;
  if (!handler) return;
  handler(request).then(
    (value) => post({ type: 'reply', id: request.id, ok: true, value }),
    (error: unknown) => {
      // An engine whose kernel threads died cannot be reused: the next run or open makes a fresh one.
      if (engine?.broken) dropEngine();
      post({ type: 'reply', id: request.id, ok: false, error: toStudioError(error) });
    },
  );
});
