// Runs: starting one (new, or resuming a checkpointed one), pausing, resuming and stopping it, and
// what its end leaves behind: the run's events, the model in hand after a failure, the list of
// unfinished runs.
import { recordRun } from '../runs/recorder';
import { toStudioError } from '@shared/errors';
import { join } from 'node:path';
import { StudioCallError } from '@shared/api';
import { trainConfigFor, type BackendChoice, type TrainConfig, type TrainEvent } from '@shared/training';
import { folderName, type ModelInHand, type StudioEventBody } from '@shared/studioState';
import { finishedRunMessage, newRunName, pruneRuns, readCheckpointMeta, removeIfEmpty, unfinishedRuns } from '../store/checkpoint';
import { makeFolders } from '../store/files';
import { announceDataset } from './datasets';
import { fail, fullPath, type Handlers, type RunOperation, type StudioContext } from './context';

/** Checkpoint folders kept under home/runs; older ones are removed as new runs start. */
const KEEP_RUNS = 10;

export function runHandlers(ctx: StudioContext) {
  const running = (): RunOperation => (ctx.operation?.kind === 'run' ? ctx.operation : fail('bad-request', 'nothing is training'));
  return {
    startTraining: (config) => startRun(ctx, { config }),
    resumeRun: ({ dir, backend }) => startRun(ctx, { resumeDir: fullPath(dir), backend }),
    pauseTraining: async () => {
      running();
      ctx.trainer.pause();
      return { status: ctx.state.status };
    },
    resumeTraining: async () => {
      running();
      ctx.trainer.resume();
      return { status: ctx.state.status };
    },
    stopTraining: async () => {
      if (ctx.operation?.kind === 'run') {
        ctx.operation.stopRequested = true;
        ctx.trainer.stop();
      }
      return { status: ctx.state.status };
    },
  } satisfies Partial<Handlers>;
}

/** The worker's events about the run in progress, and which model it put in hand after a failure. */
export function onRunEvent(ctx: StudioContext, event: Exclude<TrainEvent, { type: 'error' | 'import-progress' }>): void {
  const operation = ctx.operation;
  if (operation?.kind !== 'run') return;
  if (event.type === 'model-restored') operation.restored = event.from;
  else if (event.type !== 'done') {
    ctx.publish(event);
    // A resumed run trains on its own dataset, which the worker has just opened: the pages' dataset card
    // must say so (and Start afterwards trains on it, as the card will show).
    if (event.type === 'started' && event.resumedAt !== undefined) announceDataset(ctx);
  }
}

/**
 * Reserves a run before any await (so of two calls at once exactly one starts), checks its recipe
 * against the dataset, announces it and hands it to the worker. It resolves once the run is
 * announced; from then on the run's end, an error included, arrives as an event and frees the service.
 */
export async function startRun(
  ctx: StudioContext,
  request: { config?: TrainConfig; resumeDir?: string; backend?: BackendChoice; reproduces?: string },
): Promise<{ runId: string }> {
  if (ctx.importing) fail('busy', 'a dataset is being opened: wait for it or cancel it, then start');
  const operation: RunOperation = { kind: 'run', id: newRunName(), stopRequested: false, resumed: request.resumeDir !== undefined };
  ctx.claim(operation);
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
      ctx.data = meta.data ?? (meta.dataDir ? { dir: meta.dataDir } : {});
      checkpointDir = request.resumeDir;
    } else {
      const data = await ctx.trainer.request('openDataset', {});
      const parsed = trainConfigFor({ train: data.train.count }).safeParse(request.config);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        fail('bad-request', `startTraining: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid recipe'}`);
      }
      config = parsed.data!;
      pruneRuns(ctx.runsDir, KEEP_RUNS - 1);
      checkpointDir = join(ctx.runsDir, operation.id);
      makeFolders(checkpointDir);
    }
  } catch (error) {
    ctx.operation = undefined;
    throw error instanceof StudioCallError ? error : new StudioCallError(toStudioError(error));
  }
  ctx.publish({ type: 'run-starting', id: operation.id, config, checkpointDir });
  // After run-starting, so that a model that was the last run's own holds its own copy of that history.
  operation.before = structuredClone(ctx.state.model);
  const body = request.resumeDir ? { config, checkpointDir, resume: true } : { config, checkpointDir };
  operation.recorder = recordRun(ctx.trainer, {
    home: ctx.home,
    id: operation.id,
    config,
    data: ctx.data,
    checkpointDir,
    resume: body.resume,
    reproduces: request.reproduces,
  });
  ctx.lastRecorder = operation.recorder;
  ctx.publish({ type: 'run-log-changed' });
  ctx.trainer.request('startTraining', body).then(
    (result) => endRun(ctx, { type: 'done', stopped: result.stopped, stoppedAt: result.history.stoppedAt }),
    (error: unknown) => endRun(ctx, { type: 'error', error: toStudioError(error), ...modelAfterFailure(operation, checkpointDir) }),
  );
  if (operation.stopRequested) ctx.trainer.stop();
  return { runId: operation.id };
}

/** The model in hand after a GPU run failed with its weights: the checkpoint's, or the one from before. */
function modelAfterFailure(operation: RunOperation, checkpointDir: string): { model?: ModelInHand | null } {
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

function endRun(ctx: StudioContext, end: StudioEventBody): void {
  // A resume opens its run's dataset in the worker, even one that then fails: the pages must hear of it.
  if (ctx.operation?.kind === 'run' && ctx.operation.resumed) announceDataset(ctx);
  // A new run that ended before its first checkpoint leaves an empty folder, which pruning (it counts
  // checkpoints) would never take away.
  if (ctx.operation?.kind === 'run' && !ctx.operation.resumed) removeIfEmpty(join(ctx.runsDir, ctx.operation.id));
  ctx.operation = undefined;
  ctx.publish(end);
  ctx.publish({ type: 'runs-changed', unfinished: unfinishedRuns(ctx.runsDir) });
  // The recorder wrote the run's end as the worker's last event came, before this reply.
  ctx.publish({ type: 'run-log-changed' });
}
