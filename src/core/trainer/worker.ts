// The trainer worker: the one thread that imports tfjs. It owns the dataset, the engine and the run,
// and answers predictions while a run trains (the loop yields between steps).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { BackendChoice, History } from '@shared/training';
import type { DataRequest } from '@shared/dataset';
import { toStudioError } from '@shared/errors';
import type { WorkerMessage, WorkerReplies, WorkerRequest } from '@shared/workerProtocol';
import { inputLabel, inputSize, MNIST_SPEC, sameSpec, type ModelSpec } from '@shared/modelSpec';
import { dataSummary } from '../dataset/dataset';
import type { Dataset } from '@shared/dataset';
import { openData } from '../dataset/openData';
import { backendStatuses, createEngine, resolveBackend, useComputePages } from '../backend/backends';
import { pageProvider } from '../backend/webgpu/computeBridge';
import type { PortTimeouts } from '../backend/webgpu/portEngine';
import { GpuError } from '@gpu/gpuEngine';
import { StudioCallError } from '@shared/api';
import { WasmEngine } from '../backend/wasmEngine';
import { tf } from '../backend/tfjs';
import { paramCountFor } from '@shared/architecture';
import type { Engine } from '@shared/engine';
import { initialParams } from '../model/init';
import { createControl, evaluateTest, train } from './trainer';
import { softmaxRows } from './metrics';
import { openModel, saveModel } from '../store/modelStore';
import { finishedRunMessage, loadCheckpoint, saveCheckpoint } from '../store/checkpoint';

const given = workerData as { resourcesPath?: string; gpuPages?: MessagePort; gpuTimeouts?: PortTimeouts } | null;
// The owner's process.resourcesPath (Electron sets it on the main thread only), for resourcePath().
if (given?.resourcesPath) Object.defineProperty(process, 'resourcesPath', { value: given.resourcesPath });
// Where the owner can open compute pages (the Electron shell's hidden window), webgpu runs in those, not on Dawn.
if (given?.gpuPages) useComputePages(pageProvider(given.gpuPages, given.gpuTimeouts));

const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);

let dataset: Dataset | undefined;
/** The request the dataset in hand answers, and where decoded folders are cached. */
let dataRequest: DataRequest = {};
let cacheDir: string | undefined;
/** The import in progress, if any. */
let importing: AbortController | undefined;
let engine: Engine | undefined;
/** The spec of the model in hand (the engine's), and the backend choice and dataset the engine was made with. */
let modelSpec: ModelSpec = MNIST_SPEC;
let engineChoice: BackendChoice = 'auto';
let engineDataset: Dataset | undefined;
/** What the engine in hand was made for; a run or an open that needs the same reuses it. */
let engineKey = '';
let engineFallback: string | undefined;
let history: History | undefined;
/** The model in hand's predicted test labels; dropped whenever the weights change. */
let testPredicted: Uint8Array | undefined;
let control: ReturnType<typeof createControl> | undefined;

const sameRequest = (a: DataRequest, b: DataRequest): boolean => JSON.stringify([a.dir, a.mode, a.input]) === JSON.stringify([b.dir, b.mode, b.input]);

/** The dataset for a request: the one in hand if it answers it, else opened (imports report progress). */
async function ensureDataset(request: DataRequest = dataRequest): Promise<Dataset> {
  if (dataset && sameRequest(request, dataRequest)) return dataset;
  if (importing) throw StudioCallError.of('busy', 'a dataset is being imported: wait for it or cancel it');
  importing = new AbortController();
  try {
    dataset = await openData(request, {
      cacheDir,
      signal: importing.signal,
      onProgress: (p) => post({ type: 'event', event: { type: 'import-progress', ...p } }),
    });
    dataRequest = request;
    testPredicted = undefined;
    return dataset;
  } finally {
    importing = undefined;
  }
}

const datasetIds = new WeakMap<Dataset, number>();
let datasetCount = 0;

/** A dataset of no images with a model's spec: what the engine of a model opened for other data runs on. */
const predictOnly = (spec: ModelSpec): Dataset => {
  const none = { count: 0, images: new Uint8Array(0), labels: new Uint8Array(0) };
  return { source: 'none', spec, train: none, test: none };
};

/**
 * The engine for a backend choice and batch size. The same one is reused across runs (with fresh
 * weights and momentum): a new wasm engine means a new shared memory of ~150 MB and new threads,
 * and the old memory is only returned when the garbage collector gets round to it.
 */
function dropEngine(): void {
  engine?.dispose();
  [engine, engineKey, testPredicted] = [undefined, '', undefined];
}

async function engineFor(
  choice: BackendChoice,
  dataset: Dataset,
  maxBatch: number,
  threads?: number,
  use: 'train' | 'infer' = 'train',
): Promise<{ engine: Engine; fallbackReason?: string }> {
  // The wasm engine holds its own copy of the images, so a reopened dataset (even of the same folder) needs a new one.
  if (!datasetIds.has(dataset)) datasetIds.set(dataset, ++datasetCount);
  const key = JSON.stringify([choice, use, datasetIds.get(dataset), maxBatch, threads ?? 0]);
  // Predictions run on the engine in hand (if it is for this dataset); without one, auto takes a CPU engine rather than load a GPU.
  if (use === 'infer' && engine && choice === 'auto' && engineDataset === dataset) return { engine, fallbackReason: engineFallback };
  if (!engine || key !== engineKey) {
    dropEngine();
    const pick = await createEngine(choice, dataset, { maxBatch, threads, gpu: use === 'train' });
    [engine, engineKey, engineFallback] = [pick.engine, key, pick.fallbackReason];
  }
  return { engine, fallbackReason: engineFallback };
}

const noModel = (): never => {
  throw StudioCallError.of('no-model', 'no model: train or open one first');
};

/** The engine in hand, moved onto the dataset in hand (same weights) when that one is for the same spec. */
async function engineOnData(): Promise<{ engine: Engine; dataset: Dataset }> {
  if (!engine) return noModel();
  const d = await ensureDataset();
  if (!sameSpec(modelSpec, d.spec)) {
    throw StudioCallError.of(
      'bad-request',
      `the model in hand takes ${inputLabel(modelSpec)} ${modelSpec.mode} input with ${modelSpec.classes.length} classes; the dataset is ${inputLabel(d.spec)} ${d.spec.mode} with ${d.spec.classes.length}`,
    );
  }
  if (engineDataset !== d) {
    const params = await engine.getParams();
    engine = (await engineFor(engineChoice, d, 32, undefined, 'infer')).engine;
    engine.setParams(params);
    engineDataset = d;
  }
  return { engine, dataset: d };
}

/** The model in hand, as a run that has not finished a step must leave it. */
interface InHand {
  params?: Float32Array;
  history?: History;
  spec: ModelSpec;
  choice: BackendChoice;
  dataset?: Dataset;
}

/** The weights of a model in hand that lives on a GPU, read back when its run ended: a GPU lost later (a
 *  crashed compute window, a driver reset) takes that engine, not the model. */
let gpuCopy: { engine: Engine; params: Float32Array } | undefined;

async function keepGpuCopy(): Promise<void> {
  gpuCopy = undefined;
  if (engine?.backend !== 'webgpu' || engine.broken) return;
  try {
    gpuCopy = { engine, params: await engine.getParams() };
  } catch {
    // the GPU failed as the run ended: the next request finds it broken, with no copy to go back to
  }
}

/** A GPU engine that broke between runs: its model comes back on the CPU from the copy. False when there is none. */
async function recoverBrokenGpu(): Promise<boolean> {
  if (control || !engine?.broken || gpuCopy?.engine !== engine) return false;
  const { params } = gpuCopy;
  const on = engineDataset ?? predictOnly(modelSpec);
  dropEngine();
  gpuCopy = undefined;
  await inHandOnCpu(on, params);
  return true;
}

/** Weights put in hand on a CPU engine (auto, which for predictions alone takes no GPU) after a GPU went. */
async function inHandOnCpu(on: Dataset, params: Float32Array): Promise<void> {
  engine = (await engineFor('auto', on, 32, undefined, 'infer')).engine;
  engine.setParams(params);
  engineChoice = 'auto';
}

/** Puts a checkpoint's weights in hand on a CPU engine, with its history; false when there is none to use. */
async function fromCheckpoint(dir: string): Promise<boolean> {
  try {
    const saved = loadCheckpoint(dir);
    if (saved.epoch === 0 || !engineDataset || !sameSpec(saved.spec, engineDataset.spec)) return false;
    await inHandOnCpu(engineDataset, saved.params);
    [history, testPredicted] = [saved.history, undefined];
    return true;
  } catch {
    return false;
  }
}

/** Puts back the model that was in hand before a run that never finished a step. */
async function restore(before: InHand): Promise<void> {
  history = before.history;
  if (!before.params) return;
  const made = engineDataset; // what the engine in hand was made for: the run's data
  [modelSpec, engineChoice] = [before.spec, before.choice];
  try {
    if (!engine || engine.broken || !made || !sameSpec(made.spec, before.spec)) {
      const on = before.dataset ?? predictOnly(before.spec);
      // With no engine left (the run's GPU failed), a model from a GPU comes back on the CPU, not on that GPU.
      const choice = !engine && before.choice === 'webgpu' ? 'auto' : before.choice;
      engine = (await engineFor(choice, on, 32, undefined, 'infer')).engine;
      engineChoice = choice;
      engineDataset = on;
    }
    engine.setParams(before.params);
    testPredicted = undefined;
  } catch {
    // No engine can be made at all: the run's own error says why.
  }
}

const handlers: { [K in keyof WorkerReplies]: (request: Extract<WorkerRequest, { type: K }>) => Promise<WorkerReplies[K]> } = {
  'load-data': async ({ data, cacheDir: dir }) => {
    // Asking what the dataset in hand is stays answered mid-run (a page reloaded during a run asks).
    if (control && data && !(dataset && sameRequest(data, dataRequest)))
      throw StudioCallError.of('busy', 'a run is training: stop it before changing the dataset');
    cacheDir = dir ?? cacheDir;
    return dataSummary(await ensureDataset(data ?? dataRequest));
  },
  // The config was validated once, where it came in (the service's schemas, the CLI's flag parsers).
  train: async ({ config: given, checkpointDir, resume }) => {
    if (control) throw StudioCallError.of('busy', 'a run is already training');
    // Claimed before the first await, so a second request meets `busy` rather than a second run.
    const runControl = (control = createControl());
    let before: InHand = { history, spec: modelSpec, choice: engineChoice, dataset: engineDataset };
    let stepped = false;
    let live: History | undefined;
    try {
      // The model in hand stays in hand until the new run has finished a step.
      before = { ...before, params: engine ? await engine.getParams() : undefined };
      const checkpoint = resume && checkpointDir ? loadCheckpoint(checkpointDir) : undefined;
      const config = checkpoint ? { ...checkpoint.config, backend: given.backend, threads: given.threads } : given;
      if (checkpoint && checkpoint.epoch >= config.epochs) throw StudioCallError.of('bad-request', finishedRunMessage(checkpointDir!, config.epochs));
      const d = await ensureDataset(checkpoint?.data ?? dataRequest);
      if (checkpoint && !sameSpec(checkpoint.spec, d.spec))
        throw StudioCallError.of('bad-data', `the dataset of the run in ${checkpointDir} has changed: its model no longer fits it`);
      const data = dataRequest;
      const pick = await engineFor(config.backend, d, Math.max(32, config.batchSize), config.threads);
      const running = (engine = pick.engine);
      [engineChoice, engineDataset, modelSpec] = [config.backend, d, d.spec];
      const trainCount = Math.min(config.trainLimit ?? Infinity, d.train.count);
      post({
        type: 'event',
        event: {
          type: 'started',
          backend: running.backend,
          detail: running.detail,
          device: running.device,
          fallbackReason: pick.fallbackReason,
          epochs: config.epochs,
          stepsPerEpoch: Math.floor(trainCount / config.batchSize),
          trainCount,
          testCount: Math.min(config.testLimit ?? Infinity, d.test.count),
          spec: d.spec,
          resumedAt: checkpoint?.epoch,
          history: checkpoint && { ...checkpoint.history, config },
        },
      });
      running.setParams(checkpoint?.params ?? initialParams(config.seed, d.spec));
      running.setVelocity(checkpoint?.velocity ?? new Float32Array(paramCountFor(d.spec)));
      const result = await train({
        engine: running,
        dataset: d,
        config,
        control: runControl,
        emit: (event) => {
          if (!stepped && event.type === 'progress' && event.losses.length > 0) {
            stepped = true;
            testPredicted = undefined;
            history = live;
          }
          post({ type: 'event', event });
        },
        onHistory: (h) => (live = h),
        onTestPredictions: (p) => (testPredicted = p),
        onEpochEnd: async (state) => {
          if (checkpointDir)
            saveCheckpoint(checkpointDir, { ...state, data, spec: d.spec, params: await running.getParams(), velocity: await running.getVelocity() });
        },
        start: checkpoint ? { epoch: checkpoint.epoch, rng: checkpoint.rng, history: checkpoint.history } : undefined,
      });
      if (stepped) history = result.history;
      post({ type: 'event', event: { type: 'done', ...result } });
      return result;
    } catch (error) {
      // A failed engine (a lost GPU, a dead wasm helper thread) is dropped: the next run or open makes a fresh one.
      const gpuFailed = error instanceof GpuError;
      if (gpuFailed || engine?.broken) dropEngine();
      if (gpuFailed && stepped) {
        // The trained weights lived on the GPU and are gone with it. What stays in hand is the run's last
        // checkpoint, on the CPU; without one, the model from before the run (restored below).
        const kept = checkpointDir ? await fromCheckpoint(checkpointDir) : false;
        stepped = kept;
        post({ type: 'event', event: { type: 'model-restored', from: kept ? 'checkpoint' : 'previous' } });
      }
      // The run had started, so its listeners wait for an end: this is it.
      post({ type: 'event', event: { type: 'error', error: toStudioError(error) } });
      throw error;
    } finally {
      try {
        if (!stepped) await restore(before);
        await keepGpuCopy();
      } finally {
        control = undefined;
      }
    }
  },
  predict: async ({ images }) => {
    // The shape is checked first (against MNIST's while there is no model), so bad payloads are bad requests.
    const size = inputSize(modelSpec);
    const valid = (images instanceof Float32Array || images instanceof Uint8Array) && images.length > 0 && images.length % size === 0;
    if (!valid) throw StudioCallError.of('bad-request', `images must be whole ${inputLabel(modelSpec)} images, as bytes or floats`);
    if (!engine) return noModel();
    const floats = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
    return softmaxRows(await engine.logitsOf(floats), modelSpec.classes.length).map((probabilities) => {
      const label = probabilities.indexOf(Math.max(...probabilities));
      return { label, class: modelSpec.classes[label]!, probabilities };
    });
  },
  'test-predictions': async () => {
    const { engine: e, dataset: d } = await engineOnData();
    if (!testPredicted || testPredicted.length !== d.test.count) {
      const predicted = new Uint8Array(d.test.count);
      await evaluateTest(e, d, d.test.count, predicted);
      testPredicted = predicted;
    }
    return { predicted: testPredicted, labels: d.test.labels.slice(0, testPredicted.length) };
  },
  save: async ({ dir }) => {
    if (!engine) return noModel();
    return { dir: await saveModel(dir, await engine.getParams(), history, modelSpec) };
  },
  open: async ({ dir, backend }) => {
    if (control) throw StudioCallError.of('busy', 'a run is training');
    const opened = await openModel(dir);
    // The dataset in hand if the model fits it; MNIST's if none is loaded yet; else none (predictions only).
    const d =
      dataset && sameSpec(dataset.spec, opened.spec)
        ? dataset
        : sameSpec(opened.spec, MNIST_SPEC) && !dataset
          ? await ensureDataset()
          : predictOnly(opened.spec);
    const pick = await engineFor(backend, d, 32, undefined, 'infer');
    engine = pick.engine;
    [engineChoice, engineDataset, modelSpec] = [backend, d, opened.spec];
    engine.setParams(opened.params);
    engine.setVelocity(new Float32Array(paramCountFor(opened.spec)));
    history = opened.history;
    testPredicted = undefined;
    return { history, spec: opened.spec, backend: engine.backend, detail: engine.detail, device: engine.device, fallbackReason: pick.fallbackReason };
  },
  samples: async ({ split, indices }) => {
    const d = await ensureDataset();
    const s = d[split];
    const size = inputSize(d.spec);
    const rows = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < s.count);
    const images = new Uint8Array(rows.length * size);
    rows.forEach((row, k) => images.set(s.images.subarray(row * size, (row + 1) * size), k * size));
    return { images, labels: rows.map((row) => s.labels[row]!) };
  },
  backend: ({ choice }) => resolveBackend(choice),
  backends: () => backendStatuses(),
  // All of tfjs's live tensors in this thread, whatever the engine: saving and opening use tfjs even on wasm.
  memory: async () => ({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss }),
};

port.on('message', (request: WorkerRequest) => {
  if (request.type === 'pause') return control?.pause();
  if (request.type === 'resume') return control?.resume();
  if (request.type === 'stop') return control?.stop();
  if (request.type === 'cancel-import') return importing?.abort();
  if (request.type === 'crash') {
    if (process.env.MNIST_STUDIO_FAULTS !== '1') return;
    if (request.gpu) return (engine as { loseDevice?: () => void } | undefined)?.loseDevice?.();
    if (request.kernelThread === undefined) {
      setImmediate(() => {
        throw new Error('injected fault');
      });
    } else if (engine instanceof WasmEngine) engine.threadPool.injectFault(request.kernelThread);
    return;
  }
  const handler = handlers[request.type] as ((r: WorkerRequest) => Promise<unknown>) | undefined;
  if (!handler) return;
  // A GPU that went away since the last request is replaced first, its model moved onto the CPU.
  recoverBrokenGpu()
    .catch(() => false)
    .then(() => handler(request))
    .then(
      (value) => post({ type: 'reply', id: request.id, ok: true, value }),
      async (error: unknown) => {
        // An engine that broke (a lost GPU, dead kernel threads) cannot be reused: its model goes onto the
        // CPU where a copy exists, else the next run or open makes a fresh one.
        if (engine?.broken && !(await recoverBrokenGpu().catch(() => false))) dropEngine();
        post({ type: 'reply', id: request.id, ok: false, error: toStudioError(error) });
      },
    );
});
