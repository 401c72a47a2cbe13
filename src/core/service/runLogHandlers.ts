// The run log for the app's pages: the list (damaged records among it, with their reasons), one run's
// record with its reproducibility check, renaming, deleting (the record only: a checkpoint or a model
// saved from the run stays), and Run again, which trains the run's recipe anew through the same start
// path as the Train form. Every change is published, so every open page's Runs view reads the log again.
import type { RunDetail } from '@shared/runs';
import { rerunConfig, reproductionCheck } from '../runs/compare';
import { runLogAt } from '../runs/importOlder';
import type { RunLog } from '../runs/runLog';
import { openDataset } from './datasets';
import { startRun } from './runs';
import { fail, type Handlers, type StudioContext } from './context';

export function runLogHandlers(ctx: StudioContext) {
  let opened: RunLog | undefined;
  // Opened on first use: bringing in runs from before the log reads the home's folders once.
  const log = (): RunLog => (opened ??= runLogAt(ctx.home));

  return {
    runs: async () => log().list(),
    run: async ({ id }) => {
      const run = log().get(id);
      if (!run.reproduces) return { run };
      let original: RunDetail | undefined;
      let missing: string | undefined;
      try {
        original = log().get(run.reproduces);
      } catch (error) {
        missing = (error as Error).message;
      }
      return { run, check: reproductionCheck(run, original, missing) };
    },
    renameRun: async ({ id, name }) => {
      const kept = log().rename(id, name);
      ctx.publish({ type: 'run-log-changed' });
      return { name: kept };
    },
    deleteRun: async ({ id }) => {
      log().remove(id);
      ctx.publish({ type: 'run-log-changed' });
      return {};
    },
    runAgain: async ({ id }) => {
      const original = log().get(id);
      if (ctx.operation?.kind === 'run') fail('busy', 'a run is already training: stop it first');
      // The rerun trains on the original's dataset, which becomes the dataset in hand (the card says so).
      const data = original.dataset.request;
      if (JSON.stringify(data) !== JSON.stringify(ctx.data)) await openDataset(ctx, data);
      return startRun(ctx, { config: rerunConfig(original), reproduces: id });
    },
  } satisfies Partial<Handlers>;
}
