// The trainer worker: the one thread that imports tfjs. It routes the owner's requests to the dataset in
// hand, the model in hand and the run job, and answers predictions while a run trains (the loop yields
// between steps).
import { printable } from '@shared/format';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { WorkerMessage, WorkerReplies, WorkerRequest } from '@shared/workerProtocol';
import { inputLabel, inputSize, MNIST_SPEC, sameSpec } from '@shared/modelSpec';
import { StudioCallError } from '@shared/api';
import { paramCountFor } from '@shared/architecture';
import { dataSummary } from '../dataset/dataset';
import { backendStatuses, resolveBackend, useComputePages } from '../backend/backends';
import { pageProvider } from '../backend/webgpu/computeBridge';
import type { PortTimeouts } from '../backend/webgpu/portEngine';
import { WasmEngine } from '../backend/wasmEngine';
import { tf } from '../backend/tfjs';
import { openModel, saveModel } from '../store/modelStore';
import { evaluateTest } from './trainer';
import { Augmenter } from './augment';
import { predictionsOf } from './metrics';
import { onnxModel } from '../export/onnx';
import { DatasetInHand } from './datasetInHand';
import { ModelInHand, predictOnly } from './modelInHand';
import { RunJob } from './runJob';
import { toStudioError } from '@shared/errors';

const given = workerData as { resourcesPath?: string; gpuPages?: MessagePort; gpuTimeouts?: PortTimeouts } | null;
// The owner's process.resourcesPath (Electron sets it on the main thread only), for resourcePath().
if (given?.resourcesPath) Object.defineProperty(process, 'resourcesPath', { value: given.resourcesPath });
// Where the owner can open compute pages (the Electron shell's hidden window), webgpu runs in those, not on Dawn.
if (given?.gpuPages) useComputePages(pageProvider(given.gpuPages, given.gpuTimeouts));

const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);

const data = new DatasetInHand((progress) => post({ type: 'event', event: { type: 'import-progress', ...progress } }));
const model = new ModelInHand();
const run = new RunJob(model, data, post);

/** A GPU that broke between runs gives its model back on the CPU; mid-run, the run job deals with it. */
const recoverLostGpu = (): Promise<boolean> => (run.training ? Promise.resolve(false) : model.recoverLostGpu());

const handlers: { [K in keyof WorkerReplies]: (request: Extract<WorkerRequest, { type: K }>) => Promise<WorkerReplies[K]> } = {
  openDataset: async ({ data: request, cacheDir }) => {
    // Asking what the dataset in hand is stays answered mid-run (a page reloaded during a run asks).
    if (run.training && request && !data.answers(request)) throw StudioCallError.of('busy', 'a run is training: stop it before changing the dataset');
    data.cacheIn(cacheDir);
    return dataSummary(await data.openDataset(request ?? data.request));
  },
  startTraining: (request) => run.start(request),
  predict: async ({ images }) => {
    // The shape is checked first (against MNIST's while there is no model), so bad payloads are bad requests.
    const { spec } = model;
    const size = inputSize(spec);
    const valid = (images instanceof Float32Array || images instanceof Uint8Array) && images.length > 0 && images.length % size === 0;
    if (!valid) throw StudioCallError.of('bad-request', `images must be whole ${inputLabel(spec)} images, as bytes or floats`);
    const engine = model.required();
    const floats = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
    return predictionsOf(await engine.logitsOf(floats), spec.classes);
  },
  testPredictions: async () => {
    model.required();
    const d = await data.openDataset();
    const engine = await model.onData(d);
    let predicted = model.testPredictionsOn(d);
    if (!predicted) {
      predicted = new Uint8Array(d.test.count);
      await evaluateTest(engine, d, d.test.count, predicted);
      model.keepTestPredictions(d, predicted);
    }
    return { predicted, labels: d.test.labels.slice(0, predicted.length) };
  },
  saveModel: async ({ dir }) => ({ dir: await saveModel(dir, await model.required().getParams(), model.history, model.spec) }),
  // A saved folder is checked as opening checks it, without touching the model in hand.
  exportModel: async ({ dir }) => {
    if (dir !== undefined) {
      const saved = await openModel(dir);
      return { onnx: onnxModel(saved.params, saved.spec), spec: saved.spec };
    }
    const engine = model.required();
    return { onnx: onnxModel(await engine.getParams(), model.spec), spec: model.spec };
  },
  openModel: async ({ dir, backend }) => {
    if (run.training) throw StudioCallError.of('busy', 'a run is training');
    const opened = await openModel(dir);
    // The dataset in hand if the model fits it; MNIST's if none is loaded yet; else none (predictions only).
    const current = data.current;
    const d =
      current && sameSpec(current.spec, opened.spec)
        ? current
        : sameSpec(opened.spec, MNIST_SPEC) && !current
          ? await data.openDataset()
          : predictOnly(opened.spec);
    const { engine, fallbackReason } = await model.put(opened.params, d, backend, { spec: opened.spec, history: opened.history });
    engine.setVelocity(new Float32Array(paramCountFor(opened.spec)));
    return { history: opened.history, spec: opened.spec, backend: engine.backend, detail: engine.detail, device: engine.device, fallbackReason };
  },
  samples: async ({ split, indices, augment }) => {
    const d = await data.openDataset();
    const s = d[split];
    const size = inputSize(d.spec);
    const rows = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < s.count);
    const images = new Uint8Array(rows.length * size);
    rows.forEach((row, k) => images.set(s.images.subarray(row * size, (row + 1) * size), k * size));
    const labels = rows.map((row) => s.labels[row]!);
    if (!augment) return { images, labels };
    // Each varied as the image at its place in a run's first batch would be, with this seed.
    const varied = new Augmenter(d.spec, augment).batch(
      s.images,
      Int32Array.from(rows),
      { seed: augment.seed, epoch: 1, step: 0 },
      new Uint8Array(images.length),
    );
    return { images: varied, labels, originals: images };
  },
  backend: ({ choice }) => resolveBackend(choice),
  backends: () => backendStatuses(),
  // All of tfjs's live tensors in this thread, whatever the engine: saving and opening use tfjs even on wasm.
  memory: async () => ({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss }),
};

/** Fault injection for tests (MNIST_STUDIO_FAULTS=1): an uncaught error, a lost GPU device, or a wasm helper thread that exits. */
function crash(request: Extract<WorkerRequest, { type: 'crash' }>): void {
  if (process.env.MNIST_STUDIO_FAULTS !== '1') return;
  const engine = model.engine;
  if (request.gpu) return (engine as { loseDevice?: () => void } | undefined)?.loseDevice?.();
  if (request.kernelThread === undefined) {
    setImmediate(() => {
      throw new Error('injected fault');
    });
  } else if (engine instanceof WasmEngine) engine.threadPool.injectFault(request.kernelThread);
}

/**
 * Requests being handled: the worker ends only once they are settled. Every Dawn call (an adapter, a
 * device, a run's GPU work) is made and awaited inside one of them, so none is then in flight.
 */
const handling = new Set<Promise<unknown>>();
let closing = false;

/**
 * Ends this thread from a plain JavaScript frame once nothing is in flight. Ended from outside
 * (worker.terminate()) in the middle of a Dawn call, the whole process would abort.
 */
async function shutdown(): Promise<void> {
  closing = true;
  run.stop();
  data.cancelImport();
  while (handling.size) await Promise.allSettled([...handling]);
  process.exit(0);
}

port.on('message', (request: WorkerRequest) => {
  // Once closing, requests are not answered: the owner has failed them already.
  if (closing) return;
  if (request.type === 'shutdown') return void shutdown();
  if (request.type === 'pauseTraining') return run.pause();
  if (request.type === 'resumeTraining') return run.resume();
  if (request.type === 'stopTraining') return run.stop();
  if (request.type === 'cancelImport') return data.cancelImport();
  if (request.type === 'crash') return crash(request);
  const handler = handlers[request.type] as ((r: WorkerRequest) => Promise<unknown>) | undefined;
  if (!handler) {
    // A request the worker does not know (a caller of an older protocol) is answered, never left waiting.
    const { id } = request as { id?: unknown };
    const name = printable(String((request as { type?: unknown }).type).slice(0, 100));
    if (typeof id === 'number') post({ type: 'reply', id, ok: false, error: { code: 'bad-request', message: `the trainer worker has no request ${name}` } });
    return;
  }
  // A GPU that went away since the last request is replaced first, its model moved onto the CPU.
  const handled = recoverLostGpu()
    .catch(() => false)
    .then(() => handler(request))
    .then(
      (value) => post({ type: 'reply', id: request.id, ok: true, value }),
      async (error: unknown) => {
        // An engine that broke (a lost GPU, dead kernel threads) cannot be reused: its model goes onto the
        // CPU where a copy exists, else the next run or open makes a fresh one.
        if (model.engine?.broken && !(await recoverLostGpu().catch(() => false))) model.drop();
        post({ type: 'reply', id: request.id, ok: false, error: toStudioError(error) });
      },
    );
  handling.add(handled);
  const settled = () => void handling.delete(handled);
  handled.then(settled, settled);
});
