// How long the run log takes to list 10,000 runs (issue 18 asks under 200 ms): writes 10,000 records of a
// 10-epoch run with its step losses (and their summary lines) into a temporary home, then times each case a list
// meets: the first list with no index, in this process and in a fresh one (as `runs` is); a list while the
// folder has just changed; lists of a settled log, here and in a fresh process; a list after one record
// changed; a list after another process wrote a record; and the first list of records with no summaries
// (written before summaries were kept: those are read whole once); and in fresh processes, the lists after
// another process wrote. `npx tsx bench/runList.ts [COUNT] [--keep]`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunLog } from '@core/runs/runLog';
import { JOURNALS } from '@core/runs/summaryJournal';
import { thisWriter } from '@core/runs/writer';
import { RECORD_VERSION, type RunRecord } from '@shared/runs';
import { MNIST_SPEC } from '@shared/modelSpec';
import { SEED_RECIPE } from '@shared/training';
import { emptySteps, addLosses } from '@shared/stepLosses';

const [mode, modeHome, modeArg] = process.argv.slice(2);
const count = Number(/^\d+$/.test(mode ?? '') ? mode : 10_000);
const keep = process.argv.includes('--keep');
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

/** Runs this file again in a fresh process with one of the modes below; prints what it prints. */
const child = (...args: string[]): void => {
  const out = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...args], { encoding: 'utf8' });
  process.stdout.write(out.stdout + out.stderr);
};

const settle = () => new Promise((resolve) => setTimeout(resolve, 2500));
/** A turn of the event loop, in which a list's index is written (just after the list returns), as it is in
 * the app between two requests and in `runs` before it exits; spawnSync below would hold it back. */
const idle = () => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'mnist-studio-runlist-'));
  // Filled without fsync (the bench times listing, not writing); the timed writes below are durable.
  const filling = new RunLog(home, { write: (file, data) => writeFileSync(file, data) });
  const log = new RunLog(home);
  try {
    const t = performance.now();
    for (let i = 0; i < count; i++) filling.save(record(i));
    console.log(`wrote ${count} records in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    child('--list', home, 'cold, in a fresh process (no index: reads every summary, writes the index)');
    // The first fresh process to list a log just filled is slower than the next ones (not yet explained):
    // both are shown.
    rmSync(join(log.dir, '.index'), { recursive: true, force: true });
    child('--list', home, 'cold again, in another fresh process (no index)');
    rmSync(join(log.dir, '.index'), { recursive: true, force: true });
    timed('cold, in this process (no index)', () => log.list().length);
    timed('while the folder has just changed (a stat per record)', () => log.list().length);
    // Once nothing has been written for a moment, the folder's time is trusted and no record is looked at.
    await settle();
    timed('first list once settled (stats every record, writes the index)', () => log.list().length);
    for (let i = 0; i < 5; i++) timed('settled', () => log.list().length);
    await idle();
    child('--list', home, 'settled, in a fresh process');
    log.save({ ...record(7), wallSeconds: 121 });
    timed('after one record changed (this process wrote it)', () => log.list().length);
    timed('right after that', () => log.list().length);
    await settle();
    timed('first list once settled', () => log.list().length);
    await idle();
    child('--save', home, '9');
    timed('after another process wrote a record', () => log.list().length);
    // `runs` in a terminal while the app trains: the index is older than the folder, every record is looked at.
    await settle();
    await idle();
    child('--save', home, '11');
    child('--list', home, 'in a fresh process, right after another process wrote a record (a stat per record)');
    await settle();
    child('--list', home, 'in a fresh process, first list once settled after that (a stat per record, writes the index)');
    child('--list', home, 'in a fresh process, then');
    // Records from before summaries were kept: each is read and checked whole, once; the index keeps the rest.
    rmSync(join(log.dir, JOURNALS), { recursive: true, force: true });
    rmSync(join(log.dir, '.index'), { recursive: true, force: true });
    // A new RunLog, as a new process: this one's would list from what it listed last.
    const older = new RunLog(home);
    timed('cold, no summaries (older records: reads every record)', () => older.list().length);
    timed('then', () => older.list().length);
  } finally {
    if (keep) console.log(`kept ${home}`);
    else rmSync(home, { recursive: true, force: true });
  }
}

if (mode === '--list') timed(modeArg!, () => new RunLog(modeHome!).list().length);
else if (mode === '--save') new RunLog(modeHome!).save({ ...record(Number(modeArg)), wallSeconds: 122 });
else await main();
