// The per-epoch figures of runs as CSV, for a spreadsheet or pandas.
import type { RunDetail } from '@shared/runs';

// Comparing runs is shared with the Runs view; the CLI and the service import it from here as before.
export { compareRuns, firstMismatch, recipeRows, rerunConfig, reproductionCheck } from '@shared/runCompare';

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
