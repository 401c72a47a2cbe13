// `train`: the seed's recipe in the trainer worker, with the seed's two lines per epoch (or JSON events).
import { trainConfigFor, type TrainConfig, type TrainEvent } from '@shared/training';
import { RECIPE_FIELDS } from '@shared/recipe';
import { foreignFolder } from '@core/store/modelFolders';
import { makeFolders } from '@core/store/files';
import { readCheckpointMeta } from '@core/store/checkpoint';
import { toStudioError } from '@shared/errors';
import { TrainerClient } from '@core/trainer/client';
import { ProgressBar } from './progress';
import { UsageError } from './options';
import type { Command } from 'commander';
import type { InputMode, InputShape } from '@shared/modelSpec';
import { inputLabel } from '@shared/modelSpec';
import { printable } from '@shared/format';
import { cacheDir, dataRequest } from './data';
import { defaultHome } from '@core/home';
import { recordRun, type RunRecorder } from '@core/runs/recorder';

/** The recipe's flags (the recipe table's fields and the backend), and where the run's data and results are. */
export interface TrainFlags extends TrainConfig {
  data?: string;
  input?: InputShape;
  mode?: InputMode;
  out?: string;
  json?: boolean;
  checkpoint?: string;
  resume?: string;
}

/** Flags that set the recipe; a resumed run keeps its own recipe, so these cannot go with --resume. */
const RECIPE_FLAGS: (keyof TrainFlags)[] = [...RECIPE_FIELDS.filter((f) => !f.machine).map((f) => f.key), 'augment', 'augmentFlip', 'data', 'input', 'mode'];
const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export async function trainCommand(flags: TrainFlags, command: Command): Promise<void> {
  if (flags.resume) {
    const clash = RECIPE_FLAGS.find((key) => command.getOptionValueSource(key) === 'cli');
    if (clash) throw new UsageError(`${flagName(clash)} cannot be combined with --resume: a resumed run keeps its own recipe`);
    if (flags.checkpoint && flags.checkpoint !== flags.resume)
      throw new UsageError('--resume keeps writing checkpoints to its own folder; leave out --checkpoint');
  }
  const config = { ...Object.fromEntries(RECIPE_FIELDS.map((f) => [f.key, flags[f.key]])), backend: flags.backend } as TrainConfig;
  // Left out of the recipe unless asked for: the seed's recipe stays exactly as it was.
  if (flags.augment && flags.augment !== 'none') config.augment = flags.augment;
  if (flags.augmentFlip) {
    if (!config.augment) throw new UsageError('--augment-flip goes with --augment');
    config.augmentFlip = true;
  }
  // Where the run's results go is checked before it trains, not after: a model that cannot be saved is lost.
  for (const [flag, dir] of [
    ['--out', flags.out],
    ['--checkpoint', flags.resume ? undefined : flags.checkpoint],
  ] as const) {
    if (!dir) continue;
    const foreign = foreignFolder(dir);
    if (foreign) throw new UsageError(`${flag} ${foreign}; give a new or empty folder`);
    makeFolders(dir, (_file, problem) => new UsageError(`${flag} ${dir}: ${problem}`));
  }
  const client = new TrainerClient();
  const bar = !flags.json && process.stderr.isTTY ? new ProgressBar(process.stderr, config.epochs) : undefined;
  const print = (line: string): void => {
    bar?.clear();
    process.stdout.write(`${line}\n`);
  };
  let run: RunRecorder | undefined;
  const onEvent = (e: TrainEvent): void => {
    // Import progress goes to a terminal's stderr only: --json streams start with the run's started event.
    if (e.type === 'import-progress' || e.type === 'model-restored') return;
    if (flags.json) return print(JSON.stringify(e.type === 'started' ? { ...e, runId: run?.id } : e));
    if (e.type === 'started') {
      print(`backend: ${e.backend} (${e.detail})${e.fallbackReason ? ` because ${e.fallbackReason}` : ''}`);
      if (e.resumedAt) print(`resuming after epoch ${e.resumedAt} of ${e.epochs}`);
      const augment = e.history?.config.augment ?? config.augment;
      const varied = augment && augment !== 'none' ? `, augmented (${augment})` : '';
      print(`training on ${e.trainCount} images${varied}, testing on ${e.testCount}, ${e.stepsPerEpoch} steps per epoch`);
    } else if (e.type === 'progress') {
      bar?.update(e);
    } else if (e.type === 'epoch') {
      print(`train epoch: ${e.epoch}, loss: ${e.train.loss.toFixed(4)}, accuracy: ${(e.train.accuracy * 100).toFixed(2)}`);
      print(`test epoch: ${e.epoch}, loss: ${e.test.loss.toFixed(4)}, accuracy: ${(e.test.accuracy * 100).toFixed(2)}`);
    }
  };
  client.onEvent(onEvent);
  if (!flags.json && process.stderr.isTTY) {
    client.onEvent((e) => {
      if (e.type === 'import-progress' && e.phase === 'decoding')
        process.stderr.write(`\r\x1b[Kdecoding images: ${e.done} of ${e.total}${e.done === e.total ? '\n' : ''}`);
    });
  }
  const stop = (): void => client.stop();
  process.once('SIGINT', stop);
  try {
    if (!flags.resume) {
      const data = await client.request('openDataset', { data: dataRequest(flags), cacheDir: cacheDir() });
      // With --json the started event carries the spec (classes, input); `data --json` has the rest.
      if (!flags.json) {
        print(`data: ${data.source}: ${data.classes.length} classes, ${inputLabel(data.spec)} ${data.spec.mode} input`);
        for (const note of data.notes) print(`note: ${printable(note)}`);
        if (data.refused.length) print(`refused ${data.refused.length} file${data.refused.length === 1 ? '' : 's'} (see: data --data DIR)`);
      }
      // Checked against the dataset before any backend is chosen or probed, in the app's plain words.
      const checked = trainConfigFor({ train: data.train.count }).safeParse(config);
      if (!checked.success) {
        const issue = checked.error.issues[0]!;
        throw new UsageError(`${flagName(String(issue.path[0]))}: ${issue.message}`);
      }
    }
    const checkpointDir = flags.resume ?? flags.checkpoint;
    run = recordRun(client, { home: defaultHome(), config, data: dataRequest(flags), checkpointDir, resume: flags.resume !== undefined });
    if (!flags.json) print(`run: ${run.id}`);
    const result = await client.request('startTraining', { config, checkpointDir, resume: flags.resume !== undefined });
    if (flags.out) {
      const { dir } = await client.request('saveModel', { dir: flags.out });
      run.keptModel(dir);
      if (flags.json) print(JSON.stringify({ type: 'saved', dir }));
      else print(`saved the model to ${dir}`);
    }
    if (result.stopped && !flags.json) print('stopped early');
  } catch (error) {
    // A GPU that failed mid-run leaves the run's last checkpoint: say how to go on from it.
    const kept = flags.resume ?? flags.checkpoint;
    if (toStudioError(error).code === 'backend-failed' && kept && checkpointEpoch(kept))
      process.stderr.write(`note: the checkpoint in ${printable(kept)} is kept: train --resume ${printable(kept)} --backend wasm goes on from it\n`);
    throw error;
  } finally {
    process.off('SIGINT', stop);
    bar?.clear();
    await client.close();
  }
}

/** The epoch a checkpoint folder holds, or 0 where it holds none. */
function checkpointEpoch(dir: string): number {
  try {
    return readCheckpointMeta(dir).epoch;
  } catch {
    return 0;
  }
}
