// The app's state, owned by the service: one snapshot (getState) and the numbered events that change it.
// The service and the page fold events in with the same applyEvent, so a page that loads a snapshot
// and then follows events holds exactly the service's state; a gap in the numbers means "fetch a
// fresh snapshot". Plain data only: it crosses IPC and JSON unchanged.
import type { BackendInfo, EpochMetrics, History, RunPhase, StoppedAt, TrainConfig, TrainEvent } from './training';
import type { DataSummary } from './dataset';
import type { StudioError } from './errors';
import { MNIST_SPEC, type ModelSpec } from './modelSpec';
import { addLosses, emptySteps, type StepLosses } from './stepLosses';
import type { LocaleChoice } from './i18n/locale';

export interface UnfinishedRun {
  dir: string;
  epoch: number;
  epochs: number;
  savedAt: string;
  testAccuracy?: number;
}

export interface RunProgress {
  phase: RunPhase;
  epoch: number;
  /** Steps done in this epoch, of stepsPerEpoch. */
  step: number;
  stepsPerEpoch: number;
  tested: number;
  testCount: number;
  loss: number;
  accuracy: number;
  examplesPerSecond: number;
  etaSeconds: number;
}

/** The current run, or the last one once it has ended. */
export interface RunView {
  /** Unique; also the name of its checkpoint folder. */
  id: string;
  config: TrainConfig;
  /** Where its checkpoints go (a resumed run's is the folder it resumes). */
  checkpointDir: string;
  /** Set once the worker has started it. */
  stepsPerEpoch?: number;
  trainCount?: number;
  testCount?: number;
  progress?: RunProgress;
  epochs: EpochMetrics[];
  steps: StepLosses;
  backend?: BackendInfo['backend'];
  /** The input and classes of the run's data, once started. */
  spec?: ModelSpec;
  outcome?: 'done' | 'stopped' | 'failed';
  /** Where a run stopped inside an epoch (see History.stoppedAt). */
  stoppedAt?: StoppedAt;
  /** Its notes on its data, once started (see History.notes). */
  notes?: string[];
}

/** The model whose weights are in the worker: what predictions, the gallery and Save use. */
export interface ModelInHand {
  /** The folder's name, or "untitled" for a model not saved yet. */
  name: string;
  /** Where it was saved or opened from. */
  dir?: string;
  saved: boolean;
  /** Test accuracy after its last epoch, a fraction. */
  accuracy?: number;
  /** Set while the model is the run's own: its history is then that run's, not a copy. */
  runId?: string;
  history?: History;
  /** Its input shape, input mode and class names. */
  spec: ModelSpec;
}

export type StudioStatus = 'idle' | 'starting' | 'training' | 'paused';

/** What the person set, kept under the app's home: every window and reload shows the same. */
export interface Settings {
  /** The language the pages, menus and dialogs show: one of the app's, or the system's ("system"). */
  locale: LocaleChoice;
}
export const DEFAULT_SETTINGS: Settings = { locale: 'system' };

/** How the dataset being opened is getting on (folders of images report it; IDX folders open at once). */
export type ImportProgress = Omit<Extract<TrainEvent, { type: 'import-progress' }>, 'type'>;

export interface StudioState {
  /** The number of the last event folded in. */
  seq: number;
  status: StudioStatus;
  run?: RunView;
  model?: ModelInHand;
  /** Why the last run ended early, until the next one starts. */
  error?: StudioError;
  /** The backend in use (the last run's or opened model's, else what "auto" picks). */
  backend?: BackendInfo;
  unfinished: UnfinishedRun[];
  /** Electron has native file dialogs; the browser host has its own in the page. */
  nativeDialogs: boolean;
  /** Where Save puts a model given by name. */
  modelsDir: string;
  /** The dataset in hand, once the worker has opened the first one. */
  dataset?: DataSummary;
  /** Set while a dataset is being opened, from its first progress report until it is in hand or failed. */
  importing?: ImportProgress;
  /** Counts the run log's changes (a run recorded, ended, renamed or deleted): the Runs view reads it again. */
  runLog: number;
  settings: Settings;
}

type WorkerRunEvent = Extract<TrainEvent, { type: 'started' | 'progress' | 'epoch' | 'paused' | 'resumed' }>;

/** Everything the app pushes to pages, before numbering. */
export type StudioEventBody =
  | { type: 'run-starting'; id: string; config: TrainConfig; checkpointDir: string }
  | WorkerRunEvent
  | { type: 'done'; stopped: boolean; stoppedAt?: StoppedAt }
  /** The run ended with an error; the service is idle again. `model`, where given, is the model in hand
   *  from now on (null: none), after a GPU failure took the run's weights. */
  | { type: 'error'; error: StudioError; model?: ModelInHand | null }
  | { type: 'model-opened'; model: ModelInHand }
  | { type: 'model-saved'; dir: string }
  | { type: 'runs-changed'; unfinished: UnfinishedRun[] }
  /** A record in the run log was written anew, renamed or removed. */
  | { type: 'run-log-changed' }
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'images-opened'; batch: number; names: string[] }
  /** The dataset in hand changed (the import, if any, is over). */
  | { type: 'dataset-opened'; dataset: DataSummary }
  /** How an import is getting on. */
  | Extract<TrainEvent, { type: 'import-progress' }>
  /** An import failed or was cancelled: the dataset in hand stays as it was. */
  | { type: 'import-failed'; error: StudioError }
  | { type: 'settings-changed'; settings: Settings };
/** Events carry consecutive numbers; a page that sees one skipped fetches a fresh snapshot. */
export type StudioEvent = StudioEventBody & { seq: number };

export const initialState = (nativeDialogs: boolean, modelsDir: string, settings: Settings = DEFAULT_SETTINGS): StudioState => ({
  seq: 0,
  status: 'idle',
  unfinished: [],
  nativeDialogs,
  modelsDir,
  runLog: 0,
  settings: { ...settings },
});

export const folderName = (dir: string): string => dir.split(/[\\/]/).filter(Boolean).at(-1) ?? dir;

export function runHistory(run: RunView): History {
  return {
    config: run.config,
    backend: run.backend ?? 'wasm',
    epochs: run.epochs,
    steps: run.steps,
    ...(run.stoppedAt ? { stoppedAt: run.stoppedAt } : {}),
    ...(run.notes?.length ? { notes: run.notes } : {}),
  };
}

/** The model in hand's history: its run's while it is that run's model, else its own. */
export function modelHistory(s: StudioState): History | undefined {
  if (s.model?.runId && s.run?.id === s.model.runId) return runHistory(s.run);
  return s.model?.history;
}

/** The model in hand's input and classes; MNIST's until one is trained or opened. */
/** The model in hand's spec; with none, the one a run would train on the dataset in hand (its summary, its classes). */
export const modelSpec = (s: StudioState): ModelSpec => s.model?.spec ?? s.dataset?.spec ?? MNIST_SPEC;

/** What the charts, table and form show: the active run, else the model in hand, else the last run. */
export function shownHistory(s: StudioState): History | undefined {
  if (s.status !== 'idle' && s.run) return runHistory(s.run);
  return modelHistory(s) ?? (s.run ? runHistory(s.run) : undefined);
}

/** Folds one event into the state, in place. */
export function applyEvent(s: StudioState, e: StudioEvent): void {
  s.seq = e.seq;
  const run = s.run;
  switch (e.type) {
    case 'run-starting':
      // The model in hand keeps a copy of its run's history from here on: the new run replaces `run`.
      if (s.model?.runId && run && s.model.runId === run.id) s.model = { ...s.model, runId: undefined, history: structuredClone(runHistory(run)) };
      s.run = { id: e.id, config: e.config, checkpointDir: e.checkpointDir, epochs: [], steps: emptySteps() };
      s.status = 'starting';
      s.error = undefined;
      break;
    case 'started':
      if (!run) break;
      Object.assign(run, { stepsPerEpoch: e.stepsPerEpoch, trainCount: e.trainCount, testCount: e.testCount, backend: e.backend, spec: e.spec });
      // Only where there are some: a state that crosses JSON keeps no key set to undefined.
      if (e.notes?.length) run.notes = e.notes;
      if (e.history) Object.assign(run, { config: e.history.config, epochs: [...e.history.epochs], steps: e.history.steps ?? emptySteps() });
      s.backend = { backend: e.backend, detail: e.detail, fallbackReason: e.fallbackReason };
      s.status = 'training';
      break;
    case 'progress':
      if (!run) break;
      run.progress = {
        phase: e.phase,
        epoch: e.epoch,
        step: e.step,
        stepsPerEpoch: e.stepsPerEpoch,
        tested: e.tested,
        testCount: e.testCount,
        loss: e.loss,
        accuracy: e.accuracy,
        examplesPerSecond: e.examplesPerSecond,
        etaSeconds: e.etaSeconds,
      };
      addLosses(run.steps, e.losses);
      // The new weights become the model in hand once the run has finished a step (the worker agrees).
      if (e.losses.length > 0 && s.model?.runId !== run.id)
        s.model = { name: 'untitled', saved: false, runId: run.id, accuracy: run.epochs.at(-1)?.test.accuracy, spec: run.spec ?? MNIST_SPEC };
      break;
    case 'epoch': {
      if (!run) break;
      const { type: _type, seq: _seq, ...metrics } = e;
      run.epochs.push(metrics);
      if (s.model?.runId === run.id) s.model.accuracy = metrics.test.accuracy;
      break;
    }
    case 'paused':
    case 'resumed':
      if (s.status !== 'idle') s.status = e.type === 'paused' ? 'paused' : 'training';
      break;
    case 'done':
      s.status = 'idle';
      if (run) Object.assign(run, { outcome: e.stopped ? 'stopped' : 'done', stoppedAt: e.stoppedAt });
      break;
    case 'error':
      s.status = 'idle';
      s.error = e.error;
      if (run) run.outcome = 'failed';
      if (e.model !== undefined) s.model = e.model ?? undefined;
      break;
    case 'model-opened':
      s.model = e.model;
      if (s.status === 'idle') s.run = undefined;
      break;
    case 'model-saved':
      if (s.model) Object.assign(s.model, { dir: e.dir, name: folderName(e.dir), saved: true });
      break;
    case 'runs-changed':
      s.unfinished = e.unfinished;
      break;
    case 'run-log-changed':
      s.runLog++;
      break;
    case 'backend':
      s.backend = e.backend;
      break;
    case 'dataset-opened':
      s.dataset = e.dataset;
      s.importing = undefined;
      break;
    case 'import-progress': {
      const { type: _type, seq: _seq, ...progress } = e;
      s.importing = progress;
      break;
    }
    case 'import-failed':
      s.importing = undefined;
      break;
    case 'settings-changed':
      s.settings = e.settings;
      break;
    case 'images-opened':
      break;
  }
}
