// What tells runs apart: the fields of their records, side by side with the differing ones marked, and the
// first epoch metric where a rerun parts from its original (bit for bit). Shared: the CLI's `runs compare`
// and `runs reproduce`, the service's reproducibility check and the Runs view all read runs the same way.
import type { EpochMetrics, TrainConfig } from './training';
import type { MetricMismatch, ReproCheck, RunComparison, RunDetail, RunDifference } from './runs';

/** The fields a person changes between runs, or that change under them, by the path `runs compare` prints. */
const FIELDS: [string, (r: RunDetail) => unknown][] = [
  ...(['epochs', 'batchSize', 'learningRate', 'momentum', 'seed', 'trainLimit', 'testLimit', 'augment', 'augmentFlip', 'backend', 'threads'] as const).map(
    (key): [string, (r: RunDetail) => unknown] => [`config.${key}`, (r) => r.config[key]],
  ),
  ['dataset.source', (r) => r.dataset.source],
  ['dataset.fingerprint', (r) => r.dataset.fingerprint],
  ['dataset.mode', (r) => r.dataset.request.mode],
  ['dataset.input', (r) => r.dataset.request.input],
  ['dataset.classes', (r) => r.dataset.classes],
  ['dataset.trainCount', (r) => r.dataset.trainCount],
  ['dataset.testCount', (r) => r.dataset.testCount],
  ['spec', (r) => r.spec],
  ['backend.name', (r) => r.backend?.name],
  ['backend.device', (r) => r.backend?.device],
  ['backend.threads', (r) => r.backend?.threads],
  ['app.version', (r) => r.app.version],
  ['app.commit', (r) => r.app.commit],
  ['outcome', (r) => r.outcome],
];

/** Every field, each run's value (null where it has none) and whether they differ. */
export function recipeRows(runs: RunDetail[]): (RunDifference & { differs: boolean })[] {
  return FIELDS.map(([field, read]) => {
    const values = runs.map((r) => read(r) ?? null);
    const shown = values.map((v) => JSON.stringify(v));
    return { field, values, differs: shown.some((s) => s !== shown[0]) };
  });
}

export function compareRuns(runs: RunDetail[]): RunComparison {
  return {
    runs: runs.map((r) => ({ id: r.id, ...(r.name ? { name: r.name } : {}), outcome: r.outcome, final: r.epochs.at(-1) })),
    differences: recipeRows(runs)
      .filter((row) => row.differs)
      .map(({ field, values }) => ({ field, values })),
  };
}

const METRICS: [string, (e: EpochMetrics) => number][] = [
  ['train.loss', (e) => e.train.loss],
  ['train.accuracy', (e) => e.train.accuracy],
  ['test.loss', (e) => e.test.loss],
  ['test.accuracy', (e) => e.test.accuracy],
  ['test.count', (e) => e.test.count],
];

/** The first epoch and metric where two runs differ (Object.is: bit for bit, -0 and NaN included), over `epochs` epochs. */
export function firstMismatch(a: EpochMetrics[], b: EpochMetrics[], epochs = Math.max(a.length, b.length)): MetricMismatch | undefined {
  for (let i = 0; i < epochs; i++) {
    const [x, y] = [a[i], b[i]];
    for (const [metric, read] of METRICS) {
      const [u, v] = [x && read(x), y && read(y)];
      if (!Object.is(u, v)) return { epoch: i + 1, metric, values: [u, v] };
    }
  }
  return undefined;
}

/** A rerun against the run it repeats (undefined where that run is gone or unreadable: `missing` says why). */
export function reproductionCheck(rerun: RunDetail, original: RunDetail | undefined, missing = 'the original run is gone'): ReproCheck {
  const of = rerun.reproduces!;
  if (!original) return { of, result: 'unavailable', epochs: 0, reason: missing };
  const epochs = original.epochs.length;
  const changed =
    original.dataset.fingerprint && rerun.dataset.fingerprint && original.dataset.fingerprint !== rerun.dataset.fingerprint
      ? 'the dataset has changed since the original run'
      : undefined;
  const note = changed ? { reason: changed } : {};
  if (rerun.outcome === 'running') return { of, result: 'pending', epochs, ...note };
  if (rerun.outcome !== 'finished' || rerun.epochs.length < epochs)
    return { of, result: 'unfinished', epochs, reason: `the rerun ${rerun.outcome} before epoch ${epochs}` };
  const mismatch = firstMismatch(original.epochs, rerun.epochs, epochs);
  return mismatch ? { of, result: 'differs', epochs, mismatch, ...note } : { of, result: 'identical', epochs, ...note };
}

/** The recipe a rerun trains: the original's finished epochs, on the backend and thread count it ran on (not `auto`). */
export function rerunConfig(original: RunDetail): TrainConfig {
  const done = original.epochs.length;
  return {
    ...original.config,
    epochs: done > 0 ? done : original.config.epochs,
    backend: original.backend?.name ?? original.config.backend,
    threads: original.backend?.threads ?? original.config.threads,
  };
}
