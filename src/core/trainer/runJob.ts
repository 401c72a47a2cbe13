// The trainer worker's one run at a time: it claims the model in hand, trains it on the dataset in hand,
// and on the way out leaves a model in hand that has weights behind it, whatever happened (see the
// GPU-loss paths below). Pause, resume and stop reach the run in progress.
import { augments, type History } from '@shared/training';
import type { WorkerMessage, WorkerReplies, WorkerRequest } from '@shared/workerProtocol';
import { sameSpec } from '@shared/modelSpec';
import { StudioCallError } from '@shared/api';
import { paramCountFor } from '@shared/architecture';
import { initialParams } from '../model/init';
import { finishedRunMessage, loadCheckpoint, saveCheckpoint } from '../store/checkpoint';
import { createControl, runNotes, train } from './trainer';
import type { DatasetInHand } from './datasetInHand';
import type { ModelInHand, Snapshot } from './modelInHand';
import { toStudioError } from '@shared/errors';
import { GpuError } from '@gpu/gpuEngine';

type StartRequest = Extract<WorkerRequest, { type: 'startTraining' }>;

export class RunJob {
  private control: ReturnType<typeof createControl> | undefined;

  constructor(
    private readonly model: ModelInHand,
    private readonly data: DatasetInHand,
    private readonly post: (message: WorkerMessage) => void,
  ) {}

  /** Whether a run is in progress (from its request until the model in hand is settled after it). */
  get training(): boolean {
    return this.control !== undefined;
  }

  pause(): void {
    this.control?.pause();
  }

  resume(): void {
    this.control?.resume();
  }

  stop(): void {
    this.control?.stop();
  }

  /** Trains. The config was validated once, where it came in (the service's schemas, the CLI's flag parsers). */
  async start({ config: given, checkpointDir, resume }: StartRequest): Promise<WorkerReplies['startTraining']> {
    if (this.control) throw StudioCallError.of('busy', 'a run is already training');
    // Claimed before the first await, so a second request meets `busy` rather than a second run.
    const control = (this.control = createControl());
    const { model, post } = this;
    let before: Snapshot | undefined;
    let stepped = false;
    let live: History | undefined;
    try {
      // The model in hand stays in hand until the new run has finished a step.
      before = await model.snapshot();
      const checkpoint = resume && checkpointDir ? loadCheckpoint(checkpointDir) : undefined;
      const config = checkpoint ? { ...checkpoint.config, backend: given.backend, threads: given.threads } : given;
      if (checkpoint && checkpoint.epoch >= config.epochs) throw StudioCallError.of('bad-request', finishedRunMessage(checkpointDir!, config.epochs));
      const d = await this.data.openDataset(checkpoint?.data ?? this.data.request);
      if (checkpoint && !sameSpec(checkpoint.spec, d.spec))
        throw StudioCallError.of('bad-data', `the dataset of the run in ${checkpointDir} has changed: its model no longer fits it`);
      const data = this.data.request;
      const pick = await model.take(config.backend, d, {
        maxBatch: Math.max(32, config.batchSize),
        threads: config.threads,
        use: 'train',
        spec: d.spec,
        augmented: augments(config),
      });
      const running = pick.engine;
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
          notes: runNotes(d, config),
        },
      });
      running.setParams(checkpoint?.params ?? initialParams(config.seed, d.spec));
      running.setVelocity(checkpoint?.velocity ?? new Float32Array(paramCountFor(d.spec)));
      const result = await train({
        engine: running,
        dataset: d,
        config,
        control,
        emit: (event) => {
          if (!stepped && event.type === 'progress' && event.losses.length > 0) {
            stepped = true;
            model.stepped(live);
          }
          post({ type: 'event', event });
        },
        onHistory: (h) => (live = h),
        onTestPredictions: (p) => model.keepTestPredictions(d, p),
        onEpochEnd: async (state) => {
          if (checkpointDir)
            saveCheckpoint(checkpointDir, { ...state, data, spec: d.spec, params: await running.getParams(), velocity: await running.getVelocity() });
        },
        start: checkpoint ? { epoch: checkpoint.epoch, rng: checkpoint.rng, history: checkpoint.history } : undefined,
      });
      if (stepped) model.history = result.history;
      post({ type: 'event', event: { type: 'done', ...result } });
      return result;
    } catch (error) {
      // A failed engine (a lost GPU, a dead wasm helper thread) is dropped: the next run or open makes a fresh one.
      const gpuFailed = error instanceof GpuError;
      if (gpuFailed || model.engine?.broken) model.drop();
      if (gpuFailed && stepped) {
        // The trained weights lived on the GPU and are gone with it. What stays in hand is the run's last
        // checkpoint, on the CPU; without one, the model from before the run (restored below).
        const kept = checkpointDir ? await model.fromCheckpoint(checkpointDir) : false;
        stepped = kept;
        post({ type: 'event', event: { type: 'model-restored', from: kept ? 'checkpoint' : 'previous' } });
      }
      // The run had started, so its listeners wait for an end: this is it.
      post({ type: 'event', event: { type: 'error', error: toStudioError(error) } });
      throw error;
    } finally {
      try {
        if (!stepped && before) await model.restore(before);
        await model.keepGpuCopy();
      } finally {
        this.control = undefined;
      }
    }
  }
}
