// The owner's side of the trainer worker: typed requests with promised replies, and training events
// with an unsubscribe. Used by the CLI, the browser host and the Electron shell alike.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { prepareGpuEnvironment } from '../backend/webgpu/nodeDevice';
import { servePages, type GpuPages } from '../backend/webgpu/computeBridge';
import type { StudioError } from '@shared/errors';
import type { TrainEvent } from '@shared/training';
import type { WorkerMessage, WorkerReplies, WorkerRequest } from '@shared/workerProtocol';
import { StudioCallError } from '@shared/api';
import { PendingCalls } from '@shared/rpc';

/** How long close() waits for the worker to end itself (a step, an evaluation slice, a Dawn call). */
const SHUTDOWN_WAIT_MS = 5_000;

type Request = Extract<WorkerRequest, { id: number }>;
type Body<K extends Request['type']> = Omit<Extract<Request, { type: K }>, 'id' | 'type'>;

export interface TrainerOptions {
  /**
   * Where Dawn cannot run (Electron), how to open compute pages for the webgpu backend: the worker
   * then trains webgpu in those, through PortEngine. The Electron shell gives its hidden window here.
   */
  gpu?: GpuPages;
}

/** Starts the worker: built JavaScript next to this module, or the TypeScript source through tsx's loader. */
function startWorker(gpuPages?: MessagePort, options: TrainerOptions = {}): Worker {
  prepareGpuEnvironment();
  // Electron gives only the main thread process.resourcesPath; the worker gets it from here.
  const workerData = { resourcesPath: (process as { resourcesPath?: string }).resourcesPath, gpuPages, gpuTimeouts: options.gpu?.timeouts };
  const transferList = gpuPages ? [gpuPages] : [];
  // In the electron-vite build this module sits in out/main/ or out/main/chunks/, the worker in out/main/.
  for (const built of [new URL('./worker.js', import.meta.url), new URL('../worker.js', import.meta.url)]) {
    if (existsSync(fileURLToPath(built))) return new Worker(built, { workerData, transferList });
  }
  // Node 20 does not hand --import loaders to workers, so the worker registers tsx itself first, with the
  // project's tsconfig named (its path aliases), whatever the working directory.
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./worker.ts', import.meta.url).href;
  const tsconfig = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url));
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register({ tsconfig: ${JSON.stringify(tsconfig)} }); return import(${JSON.stringify(source)}); })`,
    {
      eval: true,
      workerData,
      transferList,
    },
  );
}

export class TrainerClient {
  private readonly worker: Worker;
  private readonly calls = new PendingCalls();
  private readonly listeners = new Set<(event: TrainEvent) => void>();
  private dead: StudioError | undefined;

  private readonly pages: MessagePort | undefined;
  private readonly exited: Promise<void>;

  constructor(options: TrainerOptions = {}) {
    let theirs: MessagePort | undefined;
    if (options.gpu) {
      const { port1, port2 } = new MessageChannel();
      servePages(port1, options.gpu);
      port1.unref();
      [this.pages, theirs] = [port1, port2];
    }
    this.worker = startWorker(theirs, options);
    this.worker.on('message', (m: WorkerMessage) => this.receive(m));
    this.worker.on('error', (error) => this.fail(`the trainer worker failed: ${error.message}`));
    this.exited = new Promise((done) => this.worker.once('exit', () => done()));
    this.worker.on('exit', (code) => this.fail(`the trainer worker exited (code ${code})`));
  }

  /** Whether the worker has died (or was closed): every request now fails with worker-failed. */
  get failed(): boolean {
    return this.dead !== undefined;
  }

  private receive(message: WorkerMessage): void {
    if (message.type === 'event') {
      for (const listener of this.listeners) listener(message.event);
      return;
    }
    if (message.ok) this.calls.settle(message.id, message.value);
    else this.calls.fail(message.id, new StudioCallError(message.error));
  }

  private fail(message: string, announce = true): void {
    if (this.dead) return;
    this.dead = { code: 'worker-failed', message };
    this.calls.failAll(new StudioCallError(this.dead));
    if (announce) for (const listener of this.listeners) listener({ type: 'error', error: this.dead });
  }

  request<K extends Request['type']>(type: K, body: Body<K>): Promise<WorkerReplies[K]> {
    if (this.dead) return Promise.reject(new StudioCallError(this.dead));
    return this.calls.request((id) => this.worker.postMessage({ type, id, ...body } as WorkerRequest)) as Promise<WorkerReplies[K]>;
  }

  pause(): void {
    this.worker.postMessage({ type: 'pauseTraining' } satisfies WorkerRequest);
  }

  resume(): void {
    this.worker.postMessage({ type: 'resumeTraining' } satisfies WorkerRequest);
  }

  stop(): void {
    this.worker.postMessage({ type: 'stopTraining' } satisfies WorkerRequest);
  }

  cancelImport(): void {
    this.worker.postMessage({ type: 'cancelImport' } satisfies WorkerRequest);
  }

  /**
   * Where MNIST_STUDIO_FAULTS=1 (tests only): makes the worker die of an uncaught error or, with a
   * kernel thread's number, makes that helper of the wasm engine exit in the middle of the next step;
   * with 'gpu', loses the webgpu engine's device now.
   */
  injectFault(kernelThread?: number | 'gpu'): void {
    const request: WorkerRequest = kernelThread === 'gpu' ? { type: 'crash', gpu: true } : { type: 'crash', kernelThread };
    this.worker.postMessage(request);
  }

  /** Subscribes to training events; returns the unsubscribe. */
  onEvent(listener: (event: TrainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Ends the worker; requests still waiting are rejected with worker-failed, and its events are no longer
   * heard. The worker ends itself once its requests are settled, so no Dawn call is in flight (ended from
   * outside during one, the whole process aborts); it is ended from outside only after SHUTDOWN_WAIT_MS.
   */
  async close(): Promise<void> {
    this.fail('the trainer was closed', false);
    this.listeners.clear();
    this.pages?.close();
    this.worker.postMessage({ type: 'shutdown' } satisfies WorkerRequest);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((done) => (timer = setTimeout(done, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
