// The app's API: every operation the renderer can ask for, and the one event stream it listens to.
// Electron's preload and the browser host's WebSocket both carry exactly this, so no UI code knows
// which transport it is on. This file is schema-free so the sandboxed preload can import it whole.
import type { AugmentStrength, BackendChoice, BackendInfo, BackendStatus, ModelSummary, Prediction, TrainConfig } from './training';
import type { DataRequest, DataSummary } from './dataset';
import { StudioFailure, type ErrorCode, type StudioError } from './errors';
import type { Settings, StudioEvent, StudioState, StudioStatus } from './studioState';
import type { LocaleChoice } from './i18n/locale';
import type { ReproCheck, RunDetail, RunListing } from './runs';

export type { StudioEvent, StudioState, UnfinishedRun } from './studioState';

export const API_METHODS = [
  'ping',
  'dataset',
  'openDataset',
  'useBundledDataset',
  'cancelImport',
  'uploadDatasetFiles',
  'samples',
  'augmentedExamples',
  'summary',
  'backend',
  'backends',
  'getState',
  'startTraining',
  'pauseTraining',
  'resumeTraining',
  'stopTraining',
  'saveModel',
  'openModel',
  'savedModels',
  'exportModel',
  'predict',
  'testPredictions',
  'openImages',
  'openedImage',
  'resumeRun',
  'runs',
  'run',
  'renameRun',
  'deleteRun',
  'runAgain',
  'setLocale',
] as const;
export type ApiMethod = (typeof API_METHODS)[number];

/** Methods that only read or compute: a call lost with its connection can be sent again without harm. */
export const QUERY_METHODS: ReadonlySet<ApiMethod> = new Set<ApiMethod>([
  'ping',
  'dataset',
  'samples',
  'augmentedExamples',
  'summary',
  'backend',
  'backends',
  'getState',
  'savedModels',
  'predict',
  'testPredictions',
  'openedImage',
  'runs',
  'run',
]);

export interface Samples {
  /** count x H x W x C bytes of the dataset's spec, base64, so the same payload crosses IPC and JSON alike. */
  images: string;
  labels: number[];
}

/** A saved model the app knows of: under its home, or saved or opened elsewhere recently. */
export interface SavedModel {
  dir: string;
  name: string;
  /** When it was saved (the folder's model.json), or last opened. */
  at: string;
  epochs: number;
  testAccuracy?: number;
}

/** Inputs and outputs of each method. */
export interface ApiShape {
  ping: [Record<string, never>, { at: number }];
  /** The dataset in hand (the bundled MNIST until another is opened). */
  dataset: [Record<string, never>, DataSummary];
  /**
   * Opens an IDX folder or a folder of images named by class (asking for it where there is a dialog);
   * progress comes as import-progress events. Mode and input apply to image folders.
   */
  openDataset: [DataRequest, DataSummary | { cancelled: true }];
  /** Back to the bundled MNIST. */
  useBundledDataset: [Record<string, never>, DataSummary];
  /**
   * A folder dropped on a page that cannot know its path: its files (paths relative to the folder, base64
   * bytes), a batch at a time, into a new upload (no id) or the one begun; then openDataset on the dir.
   */
  uploadDatasetFiles: [{ upload?: number; files: { path: string; data: string }[] }, { upload: number; dir: string }];
  /** Cancels the dataset import in progress (its openDataset fails with 'cancelled'). */
  cancelImport: [Record<string, never>, Record<string, never>];
  /** Images by range (start, count) or by index (indices). */
  samples: [{ split: 'train' | 'test'; start?: number; count?: number; indices?: number[] }, Samples];
  /**
   * The first `count` training images as a run with this augmentation would vary them (draw `seed`: another
   * seed, another variation), beside the images as they are: the strip the training form shows.
   */
  augmentedExamples: [
    { augment: Exclude<AugmentStrength, 'none'>; augmentFlip?: boolean; count: number; seed?: number },
    Samples & { /** The same images unvaried, base64 like images. */ originals: string },
  ];
  /** The model table of the model in hand (the seed's MNIST model until another is trained or opened). */
  summary: [Record<string, never>, ModelSummary];
  backend: [Record<string, never>, BackendInfo];
  /** Every backend with its status here: the picker's lines. */
  backends: [Record<string, never>, BackendStatus[]];
  /** The app's whole state; events then say what changed (see studioState.ts). */
  getState: [Record<string, never>, StudioState];
  /** Reserves the run at once: a second call while one starts or trains fails with `busy`. */
  startTraining: [TrainConfig, { runId: string }];
  pauseTraining: [Record<string, never>, { status: StudioStatus }];
  resumeTraining: [Record<string, never>, { status: StudioStatus }];
  stopTraining: [Record<string, never>, { status: StudioStatus }];
  /**
   * Saves the model in hand: to dir, or to `name` under the app's models folder, or (neither) where the
   * user picks in Electron's dialog. A folder that holds files but no model of ours is refused with
   * `foreign-folder` unless overwrite is set.
   */
  saveModel: [{ dir?: string; name?: string; overwrite?: boolean }, { dir: string } | { cancelled: true }];
  openModel: [{ dir?: string }, { dir: string } | { cancelled: true }];
  /**
   * Exports a saved model (dir) or the model in hand (no dir) as ONNX (docs/export.md): to `out`, or where
   * the user picks in Electron's save dialog, or (a page with no dialog) as the file's bytes, base64, to download.
   */
  exportModel: [{ dir?: string; out?: string }, { file: string } | { name: string; data: string } | { cancelled: true }];
  /** Models under the app's home and those saved or opened recently elsewhere, newest first. */
  savedModels: [Record<string, never>, SavedModel[]];
  /** Images as base64 bytes, n x H x W x C of the model's spec (0-255; drawings white ink on black), 1 to 256 of them. */
  predict: [{ images: string }, Prediction[]];
  /** The model in hand's predicted label for every test image, with the true labels (base64 bytes each). */
  testPredictions: [Record<string, never>, { predicted: string; labels: string; count: number }];
  /** Asks the shell for image files (Electron's dialog); the renderer then reads each with openedImage. */
  openImages: [Record<string, never>, { batch: number; names: string[] } | { cancelled: true }];
  /** One file of a batch the user picked in openImages, as base64 bytes. */
  openedImage: [{ batch: number; index: number }, { name: string; data: string }];
  /** Continues a checkpointed run where it stopped, on the backend it ran on (auto) or the one given. */
  resumeRun: [{ dir: string; backend?: BackendChoice }, { runId: string }];
  /** The run log, newest first: every run's summary, and each damaged record with its reason. */
  runs: [Record<string, never>, RunListing[]];
  /** One run's whole record; for a rerun, how its numbers compare with the run it repeats. */
  run: [{ id: string }, { run: RunDetail; check?: ReproCheck }];
  /** Names a run (the rules of model names); returns the name as kept. */
  renameRun: [{ id: string; name: string }, { name: string }];
  /** Removes a run's record; its checkpoint and any model saved from it stay. */
  deleteRun: [{ id: string }, Record<string, never>];
  /**
   * Trains a run's recipe again on its dataset, backend and thread count (its finished epochs), as a run
   * of its own that says which it reproduces; `run` on it then says identical or where they part.
   */
  runAgain: [{ id: string }, { runId: string }];
  /** Sets the language of every page, menu and dialog ("system": the system's); kept for the next start. */
  setLocale: [{ locale: LocaleChoice }, Settings];
}

export type ApiInput<M extends ApiMethod> = ApiShape[M][0];
export type ApiOutput<M extends ApiMethod> = ApiShape[M][1];

/** The renderer's view of the app: one method per operation, plus the event stream. */
export type StudioApi = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> } & {
  /** Subscribes to events; returns the unsubscribe. */
  onEvent(listener: (event: StudioEvent) => void): () => void;
  /** A dropped file's or folder's path, where the shell knows it (Electron); absent in a browser. */
  pathForFile?(file: File): string | undefined;
  /** Called after the connection to the app was lost and is back (events may have been missed). */
  onReconnect(listener: () => void): () => void;
  /** The browser host's page: why it cannot reach the app (undefined once it can again). Absent in Electron. */
  onConnectionTrouble?(listener: (problem: string | undefined) => void): () => void;
};

/** Replies travel as envelopes so a typed error survives IPC and JSON (thrown Errors lose their fields). */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: StudioError };

/** Channel names, derived from the method list: nothing is spelled twice. */
export const channelOf = (method: ApiMethod): string => `studio:${method}`;
export const EVENT_CHANNEL = 'studio:event';

/**
 * The one error class for a failed call, wherever it fails: thrown by the worker's handlers, carried to
 * the owner as a StudioError, rethrown by the worker's client, returned by the service as an envelope,
 * and rethrown by unwrap in the renderer. `studio` is what crosses every boundary.
 */
export class StudioCallError extends StudioFailure {
  readonly code: ErrorCode;

  constructor(readonly studio: StudioError) {
    super(studio.message);
    this.name = 'StudioCallError';
    this.code = studio.code;
  }

  static of(code: StudioError['code'], message: string): StudioCallError {
    return new StudioCallError({ code, message });
  }
}

export function unwrap<T>(envelope: Envelope<T>): T {
  if (envelope.ok) return envelope.value;
  throw new StudioCallError(envelope.error);
}
