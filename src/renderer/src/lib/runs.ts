// What the Runs view works out from the run log's summaries: the best test accuracy per dataset, the
// filters' choices, sorting by a column, and one colour per run for the overlaid curves.
import type { RunSummary } from '@shared/runs';

/** Distinct on white and from each other (Tableau 10); a run keeps its colour while it stays selected. */
export const RUN_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export const runLabel = (run: { id: string; name?: string }): string => run.name ?? run.id;

/** The id of the run with the highest final test accuracy, per dataset (the first of equals, newest first). */
export function bestPerDataset(runs: RunSummary[]): Set<string> {
  const best = new Map<string, RunSummary>();
  for (const run of runs) {
    const accuracy = run.final?.test.accuracy;
    if (accuracy === undefined) continue;
    const held = best.get(run.dataset);
    if (!held || accuracy > held.final!.test.accuracy) best.set(run.dataset, run);
  }
  return new Set([...best.values()].map((r) => r.id));
}

export type SortKey = 'started' | 'name' | 'dataset' | 'outcome' | 'backend' | 'epochs' | 'accuracy' | 'wall';

const VALUE: Record<SortKey, (r: RunSummary) => string | number> = {
  started: (r) => r.startedAt,
  name: (r) => runLabel(r).toLowerCase(),
  dataset: (r) => r.dataset,
  outcome: (r) => r.outcome,
  backend: (r) => r.backend ?? '',
  epochs: (r) => r.epochs,
  accuracy: (r) => r.final?.test.accuracy ?? -1,
  wall: (r) => r.wallSeconds,
};

export function sortRuns(runs: RunSummary[], key: SortKey, descending: boolean): RunSummary[] {
  const value = VALUE[key];
  const sign = descending ? -1 : 1;
  return [...runs].sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    return x < y ? -sign : x > y ? sign : 0;
  });
}

export interface RunFilter {
  dataset: string;
  outcome: string;
  backend: string;
  /** yyyy-mm-dd: runs started on or after that day (local time); '' for any. */
  since: string;
}

export const NO_FILTER: RunFilter = { dataset: '', outcome: '', backend: '', since: '' };

export function filterRuns(runs: RunSummary[], f: RunFilter): RunSummary[] {
  const since = f.since ? new Date(`${f.since}T00:00:00`).getTime() : undefined;
  return runs.filter(
    (r) =>
      (!f.dataset || r.dataset === f.dataset) &&
      (!f.outcome || r.outcome === f.outcome) &&
      (!f.backend || (r.backend ?? '') === f.backend) &&
      (since === undefined || Date.parse(r.startedAt) >= since),
  );
}

/** The values a filter can choose among, sorted. */
export const choices = (runs: RunSummary[], read: (r: RunSummary) => string | undefined): string[] =>
  [...new Set(runs.map(read).filter((v): v is string => !!v))].sort();
