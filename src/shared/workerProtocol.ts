// What the owner (the service, the CLI) and the one trainer worker say to each other. Requests with an id
// get exactly one reply with that id; events flow from the worker whenever they happen. Requests are named
// after the API method (src/shared/api.ts) they serve where one matches.
import type { AugmentStrength, BackendChoice, BackendInfo, BackendStatus, History, Prediction, TrainConfig, TrainEvent } from './training';
import type { DataRequest, DataSummary } from './dataset';
import type { StudioError } from './errors';
import type { ModelSpec } from './modelSpec';

/** What the owner sends the trainer worker. Requests with an id get exactly one reply with that id. */
export type WorkerRequest =
  /** Opens a dataset (decoded images are cached under cacheDir); progress comes as import-progress events. */
  | { type: 'openDataset'; id: number; data?: DataRequest; cacheDir?: string }
  /** Cancels the import in progress, whose openDataset then fails with 'cancelled'. */
  | { type: 'cancelImport' }
  /**
   * Trains. With checkpointDir, a checkpoint is written there after every epoch; with resume, the run
   * stored there continues (its own recipe is used; config supplies only backend and threads).
   */
  | { type: 'startTraining'; id: number; config: TrainConfig; checkpointDir?: string; resume?: boolean }
  /**
   * Fault injection for tests, ignored unless MNIST_STUDIO_FAULTS=1: the worker throws an uncaught error,
   * or, with kernelThread, that helper thread of the wasm engine exits in the middle of the next step.
   */
  | { type: 'crash'; kernelThread?: number; gpu?: boolean }
  | { type: 'pauseTraining' }
  | { type: 'resumeTraining' }
  | { type: 'stopTraining' }
  /** Ends the worker: it stops what it does, waits for the requests it is handling and exits (no reply). */
  | { type: 'shutdown' }
  /** Images as n x H x W x C bytes (0-255) or floats in [0, 1], in the model in hand's input shape. */
  | { type: 'predict'; id: number; images: Uint8Array | Float32Array }
  | { type: 'saveModel'; id: number; dir: string }
  /** The ONNX model of a saved model folder (checked as open checks it; the model in hand stays), or of the model in hand. */
  | { type: 'exportModel'; id: number; dir?: string }
  | { type: 'openModel'; id: number; dir: string; backend: BackendChoice }
  /** augment: the images varied as a run with this augmentation would (draw `seed`), beside them the originals. */
  | { type: 'samples'; id: number; split: 'train' | 'test'; indices: number[]; augment?: { strength: AugmentStrength; flip?: boolean; seed: number } }
  | { type: 'testPredictions'; id: number }
  | { type: 'backend'; id: number; choice: BackendChoice }
  /** Every choice with its status on this machine, for the app's picker. */
  | { type: 'backends'; id: number }
  | { type: 'memory'; id: number };

/** Replies to requests, keyed by the request's type. */
export interface WorkerReplies {
  openDataset: DataSummary;
  startTraining: { history: History; stopped: boolean };
  predict: Prediction[];
  saveModel: { dir: string };
  openModel: { history?: History; spec: ModelSpec } & BackendInfo;
  exportModel: { onnx: Uint8Array; spec: ModelSpec };
  samples: { images: Uint8Array; labels: number[]; originals?: Uint8Array };
  testPredictions: { predicted: Uint8Array; labels: Uint8Array };
  backend: BackendInfo;
  backends: BackendStatus[];
  memory: { tensors: number; rss: number };
}

/** What the trainer worker sends its owner. */
export type WorkerMessage =
  { type: 'event'; event: TrainEvent } | { type: 'reply'; id: number; ok: true; value: unknown } | { type: 'reply'; id: number; ok: false; error: StudioError };
