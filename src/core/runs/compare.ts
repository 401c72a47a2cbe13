// What tells runs apart: the fields of their records that differ, the first epoch metric where a rerun
// parts from its original (bit for bit), and the per-epoch figures as CSV for a spreadsheet or pandas.
import type { EpochMetrics } from '@shared/training';
import type { MetricMismatch, RunComparison, RunDetail, RunDifference } from '@shared/runs';

/** The fields a person changes between runs, or that change under them, by the path `runs compare` prints. */
const FIELDS: [string, (r: RunDetail) => unknown][] = [
  ...(['epochs', 'batchSize', 'learningRate', 'momentum', 'seed', 'trainLimit', 'testLimit', 'backend', 'threads'] as const).map(
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

export function compareRuns(runs: RunDetail[]): RunComparison {
  const differences: RunDifference[] = [];
  for (const [field, read] of FIELDS) {
    const values = runs.map(read);
    const shown = values.map((v) => JSON.stringify(v ?? null));
    if (shown.some((s) => s !== shown[0])) differences.push({ field, values: values.map((v) => v ?? null) });
  }
  return {
    runs: runs.map((r) => ({ id: r.id, ...(r.name ? { name: r.name } : {}), outcome: r.outcome, final: r.epochs.at(-1) })),
    differences,
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

/** A CSV field: quoted where it must be, and a leading = + - @ defused so a spreadsheet shows it, never runs it. */
function field(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const CSV_HEADER = [
  'run',
  'name',
  'epoch',
  'train_loss',
  'train_accuracy',
  'test_loss',
  'test_accuracy',
  'test_count',
  'examples_per_second',
  'seconds',
];

/** One row per run and epoch, numbers as JavaScript writes them (enough digits to read back the same double). */
export function epochsCsv(runs: RunDetail[]): string {
  const rows = [CSV_HEADER.join(',')];
  for (const r of runs) {
    for (const e of r.epochs) {
      rows.push(
        [r.id, r.name, e.epoch, e.train.loss, e.train.accuracy, e.test.loss, e.test.accuracy, e.test.count, e.examplesPerSecond, e.seconds]
          .map(field)
          .join(','),
      );
    }
  }
  return `${rows.join('\n')}\n`;
}
