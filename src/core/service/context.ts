// What the service's feature modules (datasets, runs, models, images, the run log) share: the service's state and
// worker, and the few helpers every handler uses. Each module exports a function that takes this
// context and returns its handlers (Electron fiddle's setupX(ctx) shape); studioService.ts combines
// them into the one handler per API method.
import { isAbsolute } from 'node:path';
import { StudioCallError, type ApiInput, type ApiMethod, type ApiOutput } from '@shared/api';
import type { DataRequest } from '@shared/dataset';
import type { StudioError } from '@shared/errors';
import type { ModelInHand, StudioEventBody, StudioState } from '@shared/studioState';
import type { TrainerClient } from '../trainer/client';
import { expandHome } from '../store/modelFolders';
import type { RunRecorder } from '../runs/recorder';

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

/** One handler per API method, typed by the method list; each feature module returns some of them. */
export type Handlers = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> };

/** What holds the worker's model: a run (from reservation to its end), an open or a save. */
export type Operation = RunOperation | { kind: 'open' | 'save' };

export interface RunOperation {
  kind: 'run';
  id: string;
  stopRequested: boolean;
  resumed: boolean;
  /** The model in hand as the run began, and where the worker says the model in hand now comes from. */
  before?: ModelInHand;
  restored?: 'checkpoint' | 'previous';
  /** The run's record in the run log, from when it is handed to the worker. */
  recorder?: RunRecorder;
}

export interface StudioContext {
  readonly options: ServiceOptions;
  readonly home: string;
  readonly runsDir: string;
  /** The app's state: read it here, change it only through publish. */
  readonly state: StudioState;
  /** The worker's client; a new one after a crash, so read it at each use. */
  readonly trainer: TrainerClient;
  /** Set synchronously, before any await, by whatever claims the worker's model; cleared when it ends. */
  operation: Operation | undefined;
  /** The dataset in hand, as asked for: what a fresh worker opens. */
  data: DataRequest;
  /** The dataset being opened, while it is: a run cannot start on a dataset about to be replaced. */
  importing: Promise<unknown> | undefined;
  /** The last run's record: saving the model it trained notes the folder there (Open model in the Runs view). */
  lastRecorder: RunRecorder | undefined;
  /** Numbers an event, folds it into the state and sends it to every page. */
  publish(body: StudioEventBody): void;
  /** Claims the worker's model for an operation, synchronously; a second claim meets `busy`. */
  claim(operation: Operation): void;
  /** Runs an open or a save under a claim, released however it ends. */
  withClaim<T>(kind: 'open' | 'save', action: () => Promise<T>): Promise<T>;
}

export const fail = (code: StudioError['code'], message: string): never => {
  throw StudioCallError.of(code, message);
};

export const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/**
 * A path typed into a page: `~` expanded; a relative one refused, since it would resolve against wherever
 * the app happened to start, which the person typing cannot see.
 */
export function fullPath(path: string): string {
  const given = path.trim();
  if (given !== '~' && !given.startsWith('~/') && !given.startsWith('~\\') && !isAbsolute(given))
    fail('bad-request', `${given || 'an empty path'}: give the full path (starting with / or ~)`);
  return expandHome(given);
}
