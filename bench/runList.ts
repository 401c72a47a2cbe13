// How long the run log takes to list 10,000 runs (issue 18 asks under 200 ms): writes 10,000 records of a
// 10-epoch run with its step losses into a temporary home, then times the first list (which builds the
// index), lists that reuse it (the figure the issue asks about), and a list after one record changed. `npx tsx bench/runList.ts [COUNT]`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunLog } from '@core/runs/runLog';
import { thisWriter } from '@core/runs/writer';
import { RECORD_VERSION, type RunRecord } from '@shared/runs';
import { MNIST_SPEC } from '@shared/modelSpec';
import { SEED_RECIPE } from '@shared/training';
import { emptySteps, addLosses } from '@shared/stepLosses';

const count = Number(process.argv[2] ?? 10_000);
const keep = process.argv.includes('--keep');
const home = mkdtempSync(join(tmpdir(), 'mnist-studio-runlist-'));
// Filled without fsync (the bench times listing, not writing); the timed writes below are durable.
const filling = new RunLog(home, { write: (file, data) => writeFileSync(file, data) });
const log = new RunLog(home);
const steps = emptySteps();
addLosses(
  steps,
  Array.from({ length: 18_750 }, (_, i) => 2.3 / (1 + i / 500)),
);
const record = (i: number): RunRecord => ({
  version: RECORD_VERSION,
  id: `run_2025-01-01_00-00-00-000_${i.toString(16).padStart(8, '0')}`,
  startedAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
  endedAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000 + 50_000).toISOString(),
  outcome: 'finished',
  config: { ...SEED_RECIPE, seed: i },
  spec: MNIST_SPEC,
  dataset: { request: {}, source: 'bundled MNIST', fingerprint: '0'.repeat(32), classes: MNIST_SPEC.classes, trainCount: 60000, testCount: 10000 },
  backend: { name: 'wasm', detail: 'WebAssembly SIMD kernels on 4 threads', threads: 4 },
  app: { version: '0.1.0' },
  epochs: Array.from({ length: 10 }, (_, e) => ({
    epoch: e + 1,
    train: { loss: 0.1 / (e + 1), accuracy: 0.97 },
    test: { loss: 0.05 / (e + 1), accuracy: 0.98, count: 10000 },
    examplesPerSecond: 5000,
    seconds: 12,
  })),
  steps,
  wallSeconds: 120,
  writer: thisWriter(),
});

const timed = (label: string, action: () => number): void => {
  const t = performance.now();
  const n = action();
  console.log(`${label}: ${(performance.now() - t).toFixed(1)} ms (${n} runs)`);
};

try {
  const t = performance.now();
  for (let i = 0; i < count; i++) filling.save(record(i));
  console.log(`wrote ${count} records in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  timed('first list (reads every record, writes the index)', () => log.list().length);
  timed('list while the folder has just changed (a stat per record)', () => log.list().length);
  // Once nothing has been written for a moment, the folder's time is trusted and no record is looked at.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  log.list();
  for (let i = 0; i < 6; i++) timed('list', () => log.list().length);
  log.save({ ...record(7), wallSeconds: 121 });
  timed('list after one record changed', () => log.list().length);
} finally {
  if (keep) console.log(`kept ${home}`);
  else rmSync(home, { recursive: true, force: true });
}
