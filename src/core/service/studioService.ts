// The app's operations on top of the trainer worker: what the Electron shell's IPC handlers and the
// browser host's WebSocket both call. The service owns the app's state (studioState.ts): every change
// is a numbered event folded into it, so any page can render from getState() and then follow events.
// Every input is validated here, once, against the shared schemas, and every failure comes back as a
// typed error envelope. Nothing in here knows about Electron. The handlers live by feature in
// datasets.ts, runs.ts, models.ts (with the export in exports.ts), images.ts, runLogHandlers.ts and settings.ts; this file
// keeps the state, the worker and the claim.
import { toStudioError } from '@shared/errors';
import { join } from 'node:path';
import { defaultHome } from '../home';
import { API_METHODS, type ApiMethod, type Envelope } from '@shared/api';
import { API_SCHEMAS } from '@shared/apiSchemas';
import type { TrainEvent } from '@shared/training';
import { applyEvent, initialState, type StudioEvent, type StudioEventBody, type StudioState } from '@shared/studioState';
import { unfinishedRuns } from '../store/checkpoint';
import { TrainerClient } from '../trainer/client';
import { fail, type Handlers, type Operation, type ServiceOptions, type StudioContext } from './context';
import { datasetHandlers, openFirstDataset } from './datasets';
import { onRunEvent, runHandlers } from './runs';
import { modelHandlers } from './models';
import { imageHandlers } from './images';
import { runLogHandlers } from './runLogHandlers';
import { settingsHandlers } from './settings';
import { readSettings } from '../store/settings';

export type { ServiceOptions } from './context';

export class StudioService {
  private trainer: TrainerClient;
  private readonly listeners = new Set<(event: StudioEvent) => void>();
  readonly home: string;
  private readonly state: StudioState;
  /** What the feature modules share; the claim, the dataset asked for and the import under way live here. */
  private readonly ctx: StudioContext;
  private readonly handlers: Handlers;

  constructor(options: ServiceOptions = {}) {
    this.home = options.home ?? defaultHome();
    const runsDir = join(this.home, 'runs');
    this.state = initialState(options.pickDirectory !== undefined, join(this.home, 'models'), readSettings(this.home));
    this.state.unfinished = unfinishedRuns(runsDir);
    // The worker is replaced after a crash: the modules read it through this, never keep it.
    const currentTrainer = (): TrainerClient => this.trainer;
    this.ctx = {
      options,
      home: this.home,
      runsDir,
      state: this.state,
      get trainer() {
        return currentTrainer();
      },
      operation: undefined,
      data: options.data ?? {},
      importing: undefined,
      lastRecorder: undefined,
      publish: (body) => this.publish(body),
      claim: (operation) => this.claim(operation),
      withClaim: (kind, action) => this.withClaim(kind, action),
    };
    this.handlers = {
      ping: async () => ({ at: Date.now() }),
      backend: () => this.trainer.request('backend', { choice: 'auto' }),
      backends: () => this.trainer.request('backends', {}),
      getState: async () => {
        this.askBackendOnce();
        return this.getState();
      },
      ...datasetHandlers(this.ctx),
      ...runHandlers(this.ctx),
      ...modelHandlers(this.ctx),
      ...imageHandlers(this.ctx),
      ...runLogHandlers(this.ctx),
      ...settingsHandlers(this.ctx),
    } satisfies Handlers;
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
    const trainer = this.ctx.options.createTrainer?.() ?? new TrainerClient();
    trainer.onEvent((event) => this.onTrainEvent(trainer, event));
    // A fresh worker (first start, or after a crash) starts on the dataset in hand.
    openFirstDataset(this.ctx, trainer);
    return trainer;
  }

  private onTrainEvent(from: TrainerClient, event: TrainEvent): void {
    if (from !== this.trainer) return;
    // A worker that died is replaced; the run's train request fails with it, and that ends the run.
    if (event.type === 'error') {
      if (from.failed) this.trainer = this.newTrainer();
    } else if (event.type === 'import-progress') this.publish(event);
    else onRunEvent(this.ctx, event);
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
    const held = this.ctx.operation;
    if (held?.kind === 'run') fail('busy', 'a run is already training: stop it first');
    if (held) fail('busy', `a model is being ${held.kind === 'open' ? 'opened' : 'saved'}: try again in a moment`);
    this.ctx.operation = operation;
  }

  private async withClaim<T>(kind: 'open' | 'save', action: () => Promise<T>): Promise<T> {
    this.claim({ kind });
    try {
      return await action();
    } finally {
      this.ctx.operation = undefined;
    }
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
