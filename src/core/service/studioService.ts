// The app's operations on top of the trainer worker: what the Electron shell's IPC handlers and the
// browser host's WebSocket both call. The service owns the app's state (studioState.ts): every change
// is a numbered event folded into it, so any page can render from getState() and then follow events.
// Every input is validated here, once, against the shared schemas, and every failure comes back as a
// typed error envelope. Nothing in here knows about Electron.
import { basename, isAbsolute, join, resolve } from 'node:path';
import { readRegularFileAsync } from '../store/files';
import { defaultHome } from '../home';
import { MAX_IMAGE_BYTES } from '@shared/imageCheck';
import { API_METHODS, StudioCallError, type ApiInput, type ApiMethod, type ApiOutput, type Envelope, type SavedModel } from '@shared/api';
import { API_SCHEMAS, PREDICT_MAX_IMAGES } from '@shared/apiSchemas';
import { trainConfigFor, type BackendChoice, type TrainConfig, type TrainEvent } from '@shared/training';
import type { DataRequest } from '@shared/dataset';
import { toStudioError, type StudioError } from '@shared/errors';
import {
  applyEvent,
  folderName,
  initialState,
  modelHistory,
  modelSpec,
  type ModelInHand,
  type StudioEvent,
  type StudioEventBody,
  type StudioState,
} from '@shared/studioState';
import { finishedRunMessage, newRunName, pruneRuns, readCheckpointMeta, removeIfEmpty, unfinishedRuns } from '../store/checkpoint';
import { describeModel, expandHome, foreignFolder, modelsUnder } from '../store/modelFolders';
import { makeFolders } from '../store/files';
import { TrainerClient } from '../trainer/client';
import { modelSummary } from '../model/summary';
import { Recents } from '../store/recents';
import { recordRun } from '../runs/recorder';
import { Uploads, UploadError } from './uploads';
import { exportModel } from './exports';
import { inputLabel, inputSize } from '@shared/modelSpec';

export interface ServiceOptions {
  /** Where models and the recent list live by default. */
  home?: string;
  /** The dataset to start with (the bundled MNIST without one). */
  data?: DataRequest;
  /** Asks the user for a folder (Electron's dialog); undefined where there is no dialog. */
  pickDirectory?: (purpose: 'save' | 'open' | 'dataset') => Promise<string | undefined>;
  /** Asks the user to confirm (Electron's message box), for a folder picked in the native dialog. */
  confirm?: (message: string) => Promise<boolean>;
  /** Asks where to write an export, suggesting a file name (Electron's save dialog); undefined where there is none. */
  pickExportFile?: (suggested: string) => Promise<string | undefined>;
  /** Asks the user for image files (Electron's dialog); undefined where there is no dialog. */
  pickImages?: () => Promise<string[] | undefined>;
  /** Makes the trainer worker's client; tests pass one that keeps a handle on it. */
  createTrainer?: () => TrainerClient;
}

type Handlers = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> };

/** Images one predict call may carry (and at most PREDICT_MAX_BASE64 characters of them, by the schema). */
const MAX_PREDICT = PREDICT_MAX_IMAGES;

/** Checkpoint folders kept under home/runs; older ones are removed as new runs start. */
const KEEP_RUNS = 10;

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

const fail = (code: StudioError['code'], message: string): never => {
  throw StudioCallError.of(code, message);
};

/**
 * A path typed into a page: `~` expanded; a relative one refused, since it would resolve against wherever
 * the app happened to start, which the person typing cannot see.
 */
function fullPath(path: string): string {
  const given = path.trim();
  if (given !== '~' && !given.startsWith('~/') && !given.startsWith('~\\') && !isAbsolute(given))
    fail('bad-request', `${given || 'an empty path'}: give the full path (starting with / or ~)`);
  return expandHome(given);
}

/** What holds the worker's model: a run (from reservation to its end), an open or a save. */
type Operation =
  | {
      kind: 'run';
      id: string;
      stopRequested: boolean;
      resumed: boolean;
      /** The model in hand as the run began, and where the worker says the model in hand now comes from. */
      before?: ModelInHand;
      restored?: 'checkpoint' | 'previous';
    }
  | { kind: 'open' | 'save' };

export class StudioService {
  private trainer: TrainerClient;
  private readonly listeners = new Set<(event: StudioEvent) => void>();
  private readonly recents: Recents;
  readonly home: string;
  private readonly runsDir: string;
  private readonly state: StudioState;
  /** Set synchronously, before any await, by whatever claims the worker's model; cleared when it ends. */
  private operation: Operation | undefined;
  /** The dataset being opened, while it is: a run cannot start on a dataset about to be replaced. */
  private importing: Promise<unknown> | undefined;
  /** Files the user picked through openImages, by batch: the only paths openedImage will read. */
  private readonly pickedImages = new Map<number, string[]>();
  private readonly uploads: Uploads;
  /** The dataset in hand, as asked for. */
  private data: DataRequest;
  private nextBatch = 1;

  constructor(private readonly options: ServiceOptions = {}) {
    this.home = options.home ?? defaultHome();
    this.runsDir = join(this.home, 'runs');
    this.recents = new Recents(this.home);
    this.data = options.data ?? {};
    // The dataset in hand and unfinished runs' datasets may be uploads: those are kept.
    this.uploads = new Uploads(join(this.home, 'uploads'), () => [
      ...(this.data.dir ? [this.data.dir] : []),
      ...unfinishedRuns(this.runsDir).flatMap((run) => {
        try {
          const meta = readCheckpointMeta(run.dir);
          return meta.data?.dir ?? meta.dataDir ?? [];
        } catch {
          return [];
        }
      }),
    ]);
    this.state = initialState(options.pickDirectory !== undefined, join(this.home, 'models'));
    this.state.unfinished = unfinishedRuns(this.runsDir);
    this.trainer = this.newTrainer();
  }

  private backendAsked = false;
  /**
   * What `auto` picks, for the snapshot, asked once when a page first loads: the answer may take a GPU
   * probe, which need not hold up a service that no page looks at (the CLI's, the tests').
   */
  private askBackendOnce(): void {
    if (this.backendAsked) return;
    this.backendAsked = true;
    void this.trainer.request('backend', { choice: 'auto' }).then(
      (backend) => this.state.backend ?? this.publish({ type: 'backend', backend }),
      () => undefined,
    );
  }

  private newTrainer(): TrainerClient {
    const trainer = this.options.createTrainer?.() ?? new TrainerClient();
    trainer.onEvent((event) => this.onTrainEvent(trainer, event));
    // A fresh worker (first start, or after a crash) starts on the dataset in hand.
    void trainer.request('openDataset', { data: this.data, cacheDir: join(this.home, 'datasets') }).catch(() => undefined);
    return trainer;
  }

  private onTrainEvent(from: TrainerClient, event: TrainEvent): void {
    if (from !== this.trainer) return;
    // A worker that died is replaced; the run's train request fails with it, and that ends the run.
    if (event.type === 'error') {
      if (from.failed) this.trainer = this.newTrainer();
    } else if (event.type === 'import-progress') this.publish(event);
    else if (event.type === 'model-restored') {
      if (this.operation?.kind === 'run') this.operation.restored = event.from;
    } else if (event.type !== 'done' && this.operation?.kind === 'run') {
      this.publish(event);
      // A resumed run trains on its own dataset, which the worker has just opened: the pages' dataset card
      // must say so (and Start afterwards trains on it, as the card will show).
      if (event.type === 'started' && event.resumedAt !== undefined) this.announceDataset();
    }
  }

  /** Tells the pages which dataset the worker has in hand (after a resume opened its run's own). */
  private announceDataset(): void {
    void this.trainer.request('openDataset', {}).then(
      (dataset) => this.publish({ type: 'dataset-opened', dataset }),
      () => undefined,
    );
  }

  /** Numbers an event, folds it into the state and sends it to every page. */
  private publish(body: StudioEventBody): void {
    const event = { ...body, seq: this.state.seq + 1 } as StudioEvent;
    applyEvent(this.state, event);
    for (const listener of this.listeners) listener(event);
  }

  onEvent(listener: (event: StudioEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The whole state, as of the last event published. */
  getState(): StudioState {
    return structuredClone(this.state);
  }

  /** Claims the worker's model for an operation, synchronously; a second claim meets `busy`. */
  private claim(operation: Operation): void {
    if (this.operation?.kind === 'run') fail('busy', 'a run is already training: stop it first');
    if (this.operation) fail('busy', `a model is being ${this.operation.kind === 'open' ? 'opened' : 'saved'}: try again in a moment`);
    this.operation = operation;
  }

  private async withClaim<T>(kind: 'open' | 'save', action: () => Promise<T>): Promise<T> {
    this.claim({ kind });
    try {
      return await action();
    } finally {
      this.operation = undefined;
    }
  }

  private readonly handlers: Handlers = {
    ping: async () => ({ at: Date.now() }),
    dataset: () => this.trainer.request('openDataset', {}),
    openDataset: async (request) => {
      if (!request.dir && !this.options.pickDirectory) return fail('bad-request', "this window has no file dialog: type the dataset folder's path or drop it");
      const dir = request.dir !== undefined ? fullPath(request.dir) : await this.options.pickDirectory!('dataset');
      if (!dir) return { cancelled: true as const };
      return this.switchData({ ...request, dir });
    },
    useBundledDataset: () => this.switchData({}),
    uploadDatasetFiles: async ({ upload, files }) => {
      try {
        return this.uploads.add(
          upload,
          files.map((f) => ({ path: f.path, data: Buffer.from(f.data, 'base64') })),
        );
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
    summary: async () => modelSummary(modelSpec(this.state)),
    backend: () => this.trainer.request('backend', { choice: 'auto' }),
    backends: () => this.trainer.request('backends', {}),
    getState: async () => {
      this.askBackendOnce();
      return this.getState();
    },
    startTraining: (config) => this.startRun({ config }),
    resumeRun: ({ dir, backend }) => this.startRun({ resumeDir: fullPath(dir), backend }),
    pauseTraining: async () => {
      if (this.operation?.kind !== 'run') fail('bad-request', 'nothing is training');
      this.trainer.pause();
      return { status: this.state.status };
    },
    resumeTraining: async () => {
      if (this.operation?.kind !== 'run') fail('bad-request', 'nothing is training');
      this.trainer.resume();
      return { status: this.state.status };
    },
    stopTraining: async () => {
      if (this.operation?.kind === 'run') {
        this.operation.stopRequested = true;
        this.trainer.stop();
      }
      return { status: this.state.status };
    },
    saveModel: ({ dir, name, overwrite }) =>
      this.withClaim('save', async () => {
        if (!this.state.model) fail('no-model', 'no model: train or open one first');
        const picked = dir === undefined && name === undefined;
        if (picked && !this.options.pickDirectory) fail('bad-request', 'give the model a name');
        const target = dir !== undefined ? fullPath(dir) : name !== undefined ? join(this.state.modelsDir, name) : await this.options.pickDirectory!('save');
        if (!target) return { cancelled: true as const };
        // A name is how people tell their models apart: another model under the same name is not replaced unasked.
        const other = name !== undefined && !overwrite && resolve(target) !== resolve(this.state.model?.dir ?? '') ? describeModel(target) : undefined;
        if (other)
          fail('model-exists', `a model named ${name} already exists (${other.epochs} epoch${other.epochs === 1 ? '' : 's'}, saved ${other.at.slice(0, 10)})`);
        const foreign = overwrite ? undefined : foreignFolder(target);
        if (foreign) {
          // A folder picked in the native dialog is confirmed natively; pages confirm and call again with overwrite.
          if (!picked || !this.options.confirm) fail('foreign-folder', foreign);
          if (!(await this.options.confirm!(`${foreign}. Save there anyway?`))) return { cancelled: true as const };
        }
        const saved = await this.trainer.request('saveModel', { dir: target });
        this.remember(saved.dir);
        this.publish({ type: 'model-saved', dir: saved.dir });
        return saved;
      }),
    openModel: ({ dir }) =>
      this.withClaim('open', async () => {
        if (dir === undefined && !this.options.pickDirectory) fail('bad-request', "give the model folder's path");
        const target = dir !== undefined ? fullPath(dir) : await this.options.pickDirectory!('open');
        if (!target) return { cancelled: true as const };
        const opened = await this.trainer.request('openModel', { dir: target, backend: 'auto' });
        const { history, spec, ...backend } = opened;
        this.publish({ type: 'backend', backend });
        this.publish({
          type: 'model-opened',
          model: { name: folderName(target), dir: target, saved: true, accuracy: history?.epochs.at(-1)?.test.accuracy, history, spec },
        });
        this.remember(target);
        return { dir: target };
      }),
    savedModels: async () => {
      const all = [...modelsUnder(this.state.modelsDir), ...this.recents.list().map((r): SavedModel => ({ ...r, name: folderName(r.dir) }))];
      return all.filter((m, i) => all.findIndex((n) => n.dir === m.dir) === i).sort((a, b) => b.at.localeCompare(a.at));
    },
    exportModel: (input) =>
      exportModel(input, {
        trainer: this.trainer,
        model: this.state.model,
        training: this.operation?.kind === 'run',
        pickFile: this.options.pickExportFile,
        fullPath,
      }),
    openImages: async () => {
      const files = this.options.pickImages ? await this.options.pickImages() : undefined;
      if (!files || files.length === 0) return { cancelled: true as const };
      const batch = this.nextBatch++;
      this.pickedImages.set(batch, files);
      const names = files.map((f) => basename(f));
      this.publish({ type: 'images-opened', batch, names });
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
      const spec = modelSpec(this.state);
      if (bytes.length > MAX_PREDICT * inputSize(spec)) return fail('bad-request', `predict: at most ${MAX_PREDICT} images of ${inputLabel(spec)} at once`);
      return this.trainer.request('predict', { images: bytes });
    },
    testPredictions: async () => {
      const { predicted, labels } = await this.trainer.request('testPredictions', {});
      return { predicted: base64(predicted), labels: base64(labels), count: predicted.length };
    },
  };

  private async switchData(data: DataRequest) {
    if (this.operation?.kind === 'run') fail('busy', 'a run is training: stop it before changing the dataset');
    // The latest choice wins: an import still under way is cancelled, not left to finish over it.
    if (this.importing) {
      this.trainer.cancelImport();
      await this.importing.catch(() => undefined);
    }
    const loading = this.trainer.request('openDataset', { data });
    this.importing = loading;
    try {
      const summary = await loading;
      this.data = data;
      this.publish({ type: 'dataset-opened', dataset: summary });
      return summary;
    } finally {
      if (this.importing === loading) this.importing = undefined;
    }
  }

  /**
   * Reserves a run before any await (so of two calls at once exactly one starts), checks its recipe
   * against the dataset, announces it and hands it to the worker. It resolves once the run is
   * announced; from then on the run's end, an error included, arrives as an event and frees the service.
   */
  private async startRun(request: { config?: TrainConfig; resumeDir?: string; backend?: BackendChoice }): Promise<{ runId: string }> {
    if (this.importing) fail('busy', 'a dataset is being opened: wait for it or cancel it, then start');
    const operation: Extract<Operation, { kind: 'run' }> = { kind: 'run', id: newRunName(), stopRequested: false, resumed: request.resumeDir !== undefined };
    this.claim(operation);
    let config: TrainConfig;
    let checkpointDir: string;
    try {
      if (request.resumeDir) {
        // The run goes on with its own recipe, on the backend asked for now (the one it failed on may be gone).
        const meta = readCheckpointMeta(request.resumeDir);
        // Refused here, not after the run is announced: the worker would only find nothing left to train.
        if (meta.epoch >= meta.history.config.epochs) fail('bad-request', finishedRunMessage(folderName(request.resumeDir), meta.history.config.epochs));
        config = { ...meta.history.config, backend: request.backend ?? 'auto' };
        // The worker opens the run's dataset; a worker started afresh later must open the same one.
        this.data = meta.data ?? (meta.dataDir ? { dir: meta.dataDir } : {});
        checkpointDir = request.resumeDir;
      } else {
        const data = await this.trainer.request('openDataset', {});
        const parsed = trainConfigFor({ train: data.train.count }).safeParse(request.config);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          fail('bad-request', `startTraining: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid recipe'}`);
        }
        config = parsed.data!;
        pruneRuns(this.runsDir, KEEP_RUNS - 1);
        checkpointDir = join(this.runsDir, operation.id);
        makeFolders(checkpointDir);
      }
    } catch (error) {
      this.operation = undefined;
      throw error instanceof StudioCallError ? error : new StudioCallError(toStudioError(error));
    }
    this.publish({ type: 'run-starting', id: operation.id, config, checkpointDir });
    // After run-starting, so that a model that was the last run's own holds its own copy of that history.
    operation.before = structuredClone(this.state.model);
    const body = request.resumeDir ? { config, checkpointDir, resume: true } : { config, checkpointDir };
    recordRun(this.trainer, { home: this.home, id: operation.id, config, data: this.data, checkpointDir, resume: body.resume });
    this.trainer.request('startTraining', body).then(
      (result) => this.endRun({ type: 'done', stopped: result.stopped, stoppedAt: result.history.stoppedAt }),
      (error: unknown) => this.endRun({ type: 'error', error: toStudioError(error), ...this.modelAfterFailure(operation, checkpointDir) }),
    );
    if (operation.stopRequested) this.trainer.stop();
    return { runId: operation.id };
  }

  /** The model in hand after a GPU run failed with its weights: the checkpoint's, or the one from before. */
  private modelAfterFailure(operation: Extract<Operation, { kind: 'run' }>, checkpointDir: string): { model?: ModelInHand | null } {
    if (operation.restored === 'previous') return { model: operation.before ?? null };
    if (operation.restored !== 'checkpoint') return {};
    try {
      const { history, spec } = readCheckpointMeta(checkpointDir);
      if (!spec) return { model: null };
      return { model: { name: 'untitled', saved: false, history, spec, accuracy: history.epochs.at(-1)?.test.accuracy } };
    } catch {
      return { model: null };
    }
  }

  private endRun(end: StudioEventBody): void {
    // A resume opens its run's dataset in the worker, even one that then fails: the pages must hear of it.
    if (this.operation?.kind === 'run' && this.operation.resumed) this.announceDataset();
    // A new run that ended before its first checkpoint leaves an empty folder, which pruning (it counts
    // checkpoints) would never take away.
    if (this.operation?.kind === 'run' && !this.operation.resumed) removeIfEmpty(join(this.runsDir, this.operation.id));
    this.operation = undefined;
    this.publish(end);
    this.publish({ type: 'runs-changed', unfinished: unfinishedRuns(this.runsDir) });
  }

  private remember(dir: string): void {
    const history = modelHistory(this.state);
    this.recents.add({ dir, at: new Date().toISOString(), epochs: history?.epochs.length ?? 0, testAccuracy: history?.epochs.at(-1)?.test.accuracy });
  }

  /** Runs one API call from an untrusted caller: unknown methods and bad inputs become typed errors. */
  async dispatch(method: unknown, input: unknown): Promise<Envelope<unknown>> {
    if (typeof method !== 'string' || !(API_METHODS as readonly string[]).includes(method)) {
      return { ok: false, error: { code: 'bad-request', message: `unknown method ${JSON.stringify(String(method)).slice(0, 80)}` } };
    }
    const m = method as ApiMethod;
    // A call without an argument means {}; null and every other non-object are refused by the schema.
    let parsed: ReturnType<(typeof API_SCHEMAS)[ApiMethod]['safeParse']>;
    try {
      parsed = API_SCHEMAS[m].safeParse(input === undefined ? {} : input);
    } catch (error) {
      // A schema that throws is our bug; the caller still gets one reply, never silence.
      return { ok: false, error: { code: 'internal', message: `${m}: ${(error as Error)?.message ?? 'input check failed'}`.slice(0, 200) } };
    }
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
      return { ok: false, error: toStudioError(error) };
    }
  }

  async close(): Promise<void> {
    await this.trainer.close();
  }
}
