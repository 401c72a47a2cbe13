// The app's operations on top of the trainer worker: what the Electron shell's IPC handlers and the
// browser host's WebSocket both call. Every input is validated here, once, against the shared schemas,
// and every failure comes back as a typed error envelope. Nothing in here knows about Electron.
import { basename, join } from 'node:path';
import { MAX_IMAGE_BYTES } from '../../../shared/imageCheck';
import { readRegularFileAsync } from '../store/files';
import { defaultHome } from '../home';
import { API_METHODS, StudioCallError, type ApiInput, type ApiMethod, type ApiOutput, type Envelope, type RunStatus, type StudioEvent } from '../../../shared/api';
import { API_SCHEMAS } from '../../../shared/apiSchemas';
import { SEED_RECIPE, type DataRequest, type BackendInfo, type History, type StudioError, type TrainConfig, type TrainEvent } from '../../../shared/contract';
import { pruneRuns, unfinishedRuns } from '../store/checkpoint';
import { TrainerClient } from '../trainer/client';
import { modelSummary } from '../model/summary';
import { Recents } from '../store/recents';
import { Uploads, UploadError } from './uploads';
import { inputLabel, inputSize, MNIST_SPEC } from '../../../shared/modelSpec';

export interface ServiceOptions {
  /** Where models and the recent list live by default. */
  home?: string;
  /** The dataset to start with (the bundled MNIST without one). */
  data?: DataRequest;
  /** Asks the user for a folder (Electron's dialog); undefined where there is no dialog. */
  pickDirectory?: (purpose: 'save' | 'open' | 'dataset') => Promise<string | undefined>;
  /** Asks the user for image files (Electron's dialog); undefined where there is no dialog. */
  pickImages?: () => Promise<string[] | undefined>;
  /** Makes the trainer worker's client; tests pass one that keeps a handle on it. */
  createTrainer?: () => TrainerClient;
}


type Handlers = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> };

/** Images one predict call may carry. */
const MAX_PREDICT = 256;

/** Checkpoint folders kept under home/runs; older ones are removed as new runs start. */
const KEEP_RUNS = 10;

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

const fail = (code: StudioError['code'], message: string): never => {
  throw StudioCallError.of(code, message);
};

export class StudioService {
  private trainer: TrainerClient;
  private readonly listeners = new Set<(event: StudioEvent) => void>();
  private readonly recents: Recents;
  readonly home: string;
  private status: RunStatus = { training: false, paused: false };
  /** Files the user picked through openImages, by batch: the only paths openedImage will read. */
  private readonly pickedImages = new Map<number, string[]>();
  private readonly uploads: Uploads;
  /** The dataset in hand, as asked for. */
  private data: DataRequest;
  private nextBatch = 1;

  constructor(private readonly options: ServiceOptions = {}) {
    this.home = options.home ?? defaultHome();
    this.recents = new Recents(this.home);
    this.data = options.data ?? {};
    this.uploads = new Uploads(join(this.home, 'uploads'));
    this.trainer = this.newTrainer();
    this.attach();
  }

  private newTrainer(): TrainerClient {
    return this.options.createTrainer?.() ?? new TrainerClient();
  }

  private attach(): void {
    this.trainer.onEvent((event) => this.onTrainEvent(event));
    // A fresh worker (first start, or after a crash) starts on the dataset in hand.
    void this.trainer.request('load-data', { data: this.data, cacheDir: join(this.home, 'datasets') }).catch(() => undefined);
  }

  private onTrainEvent(event: TrainEvent): void {
    if (event.type === 'started') {
      const { backend, detail, fallbackReason, spec } = event;
      this.status = { training: true, paused: false, backend: { backend, detail, fallbackReason }, spec };
    } else if (event.type === 'paused' || event.type === 'resumed') {
      this.status.paused = event.type === 'paused';
    } else if (event.type === 'done') {
      this.status = { ...this.status, training: false, paused: false, history: event.history, dir: undefined };
    } else if (event.type === 'error') {
      // The run failed (its worker dropped the broken engine and still serves), or the worker died: then
      // a fresh one takes its place so the next run can start.
      this.status = { training: false, paused: false };
      if (this.trainer.failed) {
        this.trainer = this.newTrainer();
        this.attach();
      }
    }
    this.emit(event);
  }

  private emit(event: StudioEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  onEvent(listener: (event: StudioEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly handlers: Handlers = {
    ping: async () => ({ at: Date.now() }),
    dataset: () => this.trainer.request('load-data', {}),
    openDataset: async (request) => {
      if (!request.dir && !this.options.pickDirectory) return fail('bad-request', "this window has no file dialog: type the dataset folder's path or drop it");
      const dir = request.dir ?? (await this.options.pickDirectory!('dataset'));
      if (!dir) return { cancelled: true as const };
      return this.switchData({ ...request, dir });
    },
    useBundledDataset: () => this.switchData({}),
    uploadDatasetFiles: async ({ upload, files }) => {
      try {
        return this.uploads.add(upload, files.map((f) => ({ path: f.path, data: Buffer.from(f.data, 'base64') })));
      } catch (error) {
        if (error instanceof UploadError) return fail('bad-request', `upload: ${error.message}`);
        throw error;
      }
    },
    cancelImport: async () => {
      this.trainer.cancelImport();
      return {};
    },
    samples: async ({ split, start, count, indices }) => {
      const rows = indices ?? Array.from({ length: count! }, (_, i) => start! + i);
      const s = await this.trainer.request('samples', { split, indices: rows });
      return { images: base64(s.images), labels: s.labels };
    },
    summary: async () => modelSummary(this.status.spec),
    backend: () => this.trainer.request('backend', { choice: 'auto' }),
    status: async () => ({ ...this.status }),
    startTraining: async (config) => {
      pruneRuns(join(this.home, 'runs'), KEEP_RUNS - 1);
      return this.startRun({ config, checkpointDir: this.freshDir('runs', 'run') });
    },
    resumeRun: async ({ dir }) => this.startRun({ config: { ...SEED_RECIPE, backend: 'auto' }, checkpointDir: dir, resume: true }),
    unfinishedRuns: async () => unfinishedRuns(join(this.home, 'runs')),
    pauseTraining: async () => {
      if (!this.status.training) fail('bad-request', 'nothing is training');
      this.trainer.pause();
      return { ...this.status, paused: true };
    },
    resumeTraining: async () => {
      if (!this.status.training) fail('bad-request', 'nothing is training');
      this.trainer.resume();
      return { ...this.status, paused: false };
    },
    stopTraining: async () => {
      if (this.status.training) this.trainer.stop();
      return { ...this.status };
    },
    saveModel: async ({ dir }) => {
      const target = dir ?? (this.options.pickDirectory ? await this.options.pickDirectory('save') : this.freshDir('models', 'mnist-cnn'));
      if (!target) return { cancelled: true as const };
      const saved = await this.trainer.request('save', { dir: target });
      this.status.dir = saved.dir;
      this.remember(saved.dir, this.status.history);
      this.emit({ type: 'model-saved', dir: saved.dir });
      return saved;
    },
    openModel: async ({ dir }) => {
      if (!dir && !this.options.pickDirectory) return fail('bad-request', "this window has no file dialog: type the model folder's path");
      const target = dir ?? (await this.options.pickDirectory!('open'));
      if (!target) return { cancelled: true as const };
      const opened = await this.trainer.request('open', { dir: target, backend: 'auto' });
      const model = { dir: target, ...opened };
      this.status = { training: false, paused: false, history: opened.history, dir: target, backend: opened, spec: opened.spec };
      this.remember(target, opened.history);
      this.emit({ type: 'model-opened', model });
      return model;
    },
    recentModels: async () => this.recents.list(),
    openImages: async () => {
      const files = this.options.pickImages ? await this.options.pickImages() : undefined;
      if (!files || files.length === 0) return { cancelled: true as const };
      const batch = this.nextBatch++;
      this.pickedImages.set(batch, files);
      const names = files.map((f) => basename(f));
      this.emit({ type: 'images-opened', batch, names });
      return { batch, names };
    },
    openedImage: async ({ batch, index }) => {
      const file = this.pickedImages.get(batch)?.[index];
      if (!file) return fail('bad-request', `no picked image ${batch}/${index}`);
      const bytes = await readRegularFileAsync(file, MAX_IMAGE_BYTES, (_file, problem) => fail('bad-request', `${basename(file)}: ${problem}`));
      return { name: basename(file), data: bytes.toString('base64') };
    },
    predict: async ({ images }) => {
      const bytes = new Uint8Array(Buffer.from(images, 'base64'));
      // The schema caps the payload at 256 of the largest inputs; this caps it at 256 of the model's own.
      const spec = this.status.spec ?? MNIST_SPEC;
      if (bytes.length > MAX_PREDICT * inputSize(spec)) return fail('bad-request', `predict: at most ${MAX_PREDICT} images of ${inputLabel(spec)} at once`);
      return this.trainer.request('predict', { images: bytes });
    },
    testPredictions: async () => {
      const { predicted, labels } = await this.trainer.request('test-predictions', {});
      return { predicted: base64(predicted), labels: base64(labels), count: predicted.length };
    },
  };

  private async switchData(data: DataRequest) {
    if (this.status.training) fail('busy', 'a run is training: stop it before changing the dataset');
    const summary = await this.trainer.request('load-data', { data });
    this.data = data;
    this.emit({ type: 'dataset-opened', dataset: summary });
    return summary;
  }

  /** A new folder name under the app's home, e.g. models/mnist-cnn_2026-11-27_03-10-00. */
  private freshDir(kind: 'models' | 'runs', prefix: string): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 23);
    return join(this.home, kind, `${prefix}_${stamp}`);
  }

  /** Starts the worker on a run and resolves once it has started (or failed to). */
  private startRun(request: { config: TrainConfig; checkpointDir: string; resume?: boolean }): Promise<BackendInfo> {
    if (this.status.training) fail('busy', 'a run is already training');
    return new Promise<BackendInfo>((resolve, reject) => {
      const off = this.trainer.onEvent((e) => {
        if (e.type === 'started') resolve({ backend: e.backend, detail: e.detail, fallbackReason: e.fallbackReason });
        if (e.type === 'started' || e.type === 'error') off();
      });
      this.trainer.request('train', request).catch((error: unknown) => {
        off();
        reject(error);
      });
    });
  }

  private remember(dir: string, history?: History): void {
    const last = history?.epochs.at(-1);
    this.recents.add({ dir, at: new Date().toISOString(), epochs: history?.epochs.length ?? 0, testAccuracy: last?.test.accuracy });
  }

  /** Runs one API call from an untrusted caller: unknown methods and bad inputs become typed errors. */
  async dispatch(method: unknown, input: unknown): Promise<Envelope<unknown>> {
    if (typeof method !== 'string' || !(API_METHODS as readonly string[]).includes(method)) {
      return { ok: false, error: { code: 'bad-request', message: `unknown method ${JSON.stringify(String(method)).slice(0, 80)}` } };
    }
    const m = method as ApiMethod;
    // A call without an argument means {}; null and every other non-object are refused by the schema.
    const parsed = API_SCHEMAS[m].safeParse(input === undefined ? {} : input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      // Messages can quote the input (zod lists unknown keys): keep them one short line.
      const message = `${m}: ${where}${issue?.message ?? 'invalid input'}`;
      return { ok: false, error: { code: 'bad-request', message: message.length > 200 ? `${message.slice(0, 197)}...` : message } };
    }
    try {
      const handler = this.handlers[m] as (i: unknown) => Promise<unknown>;
      return { ok: true, value: await handler(parsed.data) };
    } catch (error) {
      if (error instanceof StudioCallError) return { ok: false, error: error.studio };
      return { ok: false, error: { code: 'internal', message: (error as Error)?.message ?? String(error) } };
    }
  }

  async close(): Promise<void> {
    await this.trainer.close();
  }
}
