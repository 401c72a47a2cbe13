// The run log's store on real files: write, list, get, rename and remove; damaged and foreign files listed
// with their reasons; a dead writer's run read as interrupted; a full disk that loses nothing; names refused
// by the model-name rule; older runs imported once; compare, the bit-for-bit check and the CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { RunLog, RunLogError, type WriteFile } from '@core/runs/runLog';
import { recordRun, type EventSource } from '@core/runs/recorder';
import { importOlderRuns } from '@core/runs/importOlder';
import { compareRuns, epochsCsv, firstMismatch } from '@core/runs/compare';
import { thisWriter } from '@core/runs/writer';
import { keyOf, summaryOf } from '@core/runs/summaryFile';
import { JOURNALS } from '@core/runs/summaryJournal';
import { writeDurably } from '@core/store/files';
import { saveCheckpoint } from '@core/store/checkpoint';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { PARAM_COUNT } from '@shared/architecture';
import { MNIST_SPEC } from '@shared/modelSpec';
import { isDamaged, RECORD_VERSION, type RunRecord, type RunSummary } from '@shared/runs';
import { SEED_RECIPE, type EpochMetrics, type TrainEvent } from '@shared/training';
import { tempDir } from '../support/helpers';

const epoch = (n: number, loss = 1 / (n + 1)): EpochMetrics => ({
  epoch: n,
  train: { loss, accuracy: 0.9 },
  test: { loss: loss / 2, accuracy: 0.95, count: 100 },
  examplesPerSecond: 1000,
  seconds: 1,
});

let serial = 0;
function record(over: Partial<RunRecord> = {}): RunRecord {
  serial++;
  return {
    version: RECORD_VERSION,
    id: `run_2025-01-01_00-00-00-${String(serial).padStart(3, '0')}_abcd1234`,
    startedAt: `2025-01-01T00:00:${String(serial % 60).padStart(2, '0')}.000Z`,
    endedAt: '2025-01-01T01:00:00.000Z',
    outcome: 'finished',
    config: { ...SEED_RECIPE, epochs: 2 },
    spec: MNIST_SPEC,
    dataset: { request: {}, source: 'bundled MNIST', fingerprint: 'f'.repeat(32), classes: MNIST_SPEC.classes, trainCount: 640, testCount: 100 },
    backend: { name: 'wasm', detail: 'WebAssembly SIMD kernels on 2 threads', threads: 2 },
    app: { version: '0.1.0' },
    epochs: [epoch(1), epoch(2)],
    wallSeconds: 2,
    writer: thisWriter(),
    ...over,
  };
}

const summaries = (log: RunLog): RunSummary[] => log.list().filter((r): r is RunSummary => !isDamaged(r));
const refused = (kind: RunLogError['kind'], pattern: RegExp) => (error: unknown) =>
  error instanceof RunLogError && error.kind === kind && pattern.test(error.message);

test('records are written, listed newest first, read back whole, renamed and removed', () => {
  const log = new RunLog(tempDir());
  assert.deepEqual(log.list(), []);
  const [a, b] = [record(), record({ outcome: 'stopped', epochs: [epoch(1)] })];
  log.save(a);
  log.save(b);
  const listed = summaries(log);
  assert.deepEqual(
    listed.map((r) => [r.id, r.outcome, r.epochs]),
    [
      [b.id, 'stopped', 1],
      [a.id, 'finished', 2],
    ],
  );
  assert.deepEqual(listed[1]!.final, epoch(2));
  assert.deepEqual(log.get(a.id), a);
  assert.equal(log.rename(a.id, '  lr 0.1  '), 'lr 0.1');
  assert.equal(log.get(a.id).name, 'lr 0.1');
  assert.equal(summaries(log)[1]!.name, 'lr 0.1');
  // A rename never touches the record, which its writer may be rewriting.
  log.save({ ...a, wallSeconds: 3 });
  assert.equal(log.get(a.id).name, 'lr 0.1');
  log.remove(a.id);
  assert.deepEqual(
    log.list().map((r) => r.id),
    [b.id],
  );
  assert.throws(() => log.get(a.id), refused('missing', new RegExp(`^no run ${a.id}$`)));
});

/** A list writes the index just after it returns: this waits for that write. */
const indexWritten = () => new Promise((resolve) => setImmediate(resolve));

test('the list trusts a settled folder and sees every write after it', async () => {
  const log = new RunLog(tempDir());
  const [a, b] = [record(), record()];
  log.save(a);
  log.save(b);
  assert.equal(log.list().length, 2);
  // As if nothing had been written for a while: the index then records the folder's time.
  const settled = new Date(Date.now() - 10_000);
  const settle = () => utimesSync(log.dir, settled, settled);
  settle();
  log.list();
  assert.ok(!existsSync(join(log.dir, '.index', 'index.json')), 'the index is written after the list returns');
  await indexWritten();
  // A record changed in place (no rename, so the folder's time stays) is not even looked at: the index is used.
  writeFileSync(join(log.dir, `${a.id}.json`), JSON.stringify({ ...a, outcome: 'stopped' }));
  settle();
  assert.equal(summaries(log).find((r) => r.id === a.id)!.outcome, 'finished');
  // Every write the log makes renames a file in, which the folder's time shows.
  log.save({ ...b, outcome: 'failed' });
  const outcomes = Object.fromEntries(summaries(log).map((r) => [r.id, r.outcome]));
  assert.deepEqual(outcomes, { [a.id]: 'stopped', [b.id]: 'failed' });
  log.rename(a.id, 'renamed');
  log.remove(b.id);
  assert.deepEqual(
    summaries(log).map((r) => [r.id, r.name]),
    [[a.id, 'renamed']],
  );
  // A damaged index is no index: the list is rebuilt from the records.
  writeFileSync(join(log.dir, '.index', 'index.json'), '{"version":2}\n{"forged":{}}');
  settle();
  assert.deepEqual(
    log.list().map((r) => r.id),
    [a.id],
  );
});

/** The journal this process writes its summaries to (the only one in a fresh log). */
const journalOf = (log: RunLog): string => {
  const [name] = readdirSync(join(log.dir, JOURNALS));
  return join(log.dir, JOURNALS, name!);
};
/** Lists as a new process would the first time: no index, so every record is looked up in the journals (or read). */
const freshList = (log: RunLog): RunSummary[] => {
  rmSync(join(log.dir, '.index'), { recursive: true, force: true });
  return summaries(new RunLog(dirname(log.dir)));
};
const keyNow = (log: RunLog, id: string) => keyOf(statSync(join(log.dir, `${id}.json`)));

test('a record without a summary is read whole and listed right; get always reads the record', () => {
  const log = new RunLog(tempDir());
  const a = record({ outcome: 'stopped', epochs: [epoch(1)] });
  log.save(a);
  // An older record, or a crash between the record and its summary.
  rmSync(join(log.dir, JOURNALS), { recursive: true });
  const [listed] = freshList(log);
  assert.deepEqual([listed!.id, listed!.outcome, listed!.epochs, listed!.final], [a.id, 'stopped', 1, epoch(1)]);
  assert.deepEqual(log.get(a.id), a);
  log.remove(a.id);
  assert.deepEqual(
    readdirSync(log.dir).filter((f) => !f.startsWith('.')),
    [],
  );
});

test("a summary that does not describe the record on disk (older, newer, someone else's) is passed over", () => {
  const log = new RunLog(tempDir());
  const a = record();
  log.save(a);
  const journal = journalOf(log);
  const older = readFileSync(journal, 'utf8');
  assert.equal(older.split('\n').length, 2, 'one line and its newline');
  // The record rewritten after its summary (a crash between the two writes): the record says.
  writeDurably(join(log.dir, `${a.id}.json`), JSON.stringify({ ...a, outcome: 'failed' }));
  assert.equal(freshList(log)[0]!.outcome, 'failed');
  // A summary newer than its record (the record put back from a copy): the record says.
  log.save({ ...a, outcome: 'stopped', epochs: [epoch(1), epoch(2), epoch(3)] });
  assert.deepEqual(
    freshList(log).map((r) => [r.outcome, r.epochs]),
    [['stopped', 3]],
  );
  writeDurably(join(log.dir, `${a.id}.json`), JSON.stringify(a));
  assert.deepEqual(
    freshList(log).map((r) => [r.outcome, r.epochs]),
    [['finished', 2]],
  );
  // Lines that name the record on disk but hold another run, in the line or in its summary.
  const line = JSON.parse(older.trim()) as { id: string; record: unknown; run: RunSummary };
  const forged = { ...line, record: keyNow(log, a.id), run: { ...line.run, outcome: 'stopped' } };
  writeFileSync(journal, `${JSON.stringify({ ...forged, run: { ...forged.run, id: 'run_someone_else' } })}\n`);
  assert.equal(freshList(log)[0]!.outcome, 'finished');
  writeFileSync(journal, `${JSON.stringify({ ...forged, id: 'run_someone_else' })}\n`);
  assert.equal(freshList(log)[0]!.outcome, 'finished');
  // And the same line with the right run is believed: it is the summary, not the record, that lists.
  writeFileSync(journal, `${JSON.stringify(forged)}\n`);
  assert.equal(freshList(log)[0]!.outcome, 'stopped');
});

test('a damaged journal never stops the list: the record is read instead', () => {
  const log = new RunLog(tempDir());
  const a = record();
  log.save(a);
  const journal = journalOf(log);
  const whole = JSON.parse(readFileSync(journal, 'utf8')) as { record: unknown; run: Record<string, unknown> };
  const forged = (run: Record<string, unknown>) => JSON.stringify({ ...whole, run: { ...whole.run, ...run } });
  // Each believed, the record says otherwise (it is finished, with two epochs).
  const lie = { outcome: 'stopped', epochs: 1 };
  const bad = [
    '',
    '{"record":',
    'null',
    forged({ ...lie, outcome: 'interrupted' }),
    forged({ epochs: 'many' }),
    forged({ ...lie, config: { ...a.config, batchSize: -1 } }),
    forged({ ...lie, config: { ...a.config, backend: 'quantum' } }),
    forged({ ...lie, final: { epoch: 1, train: { loss: 'low' } } }),
    forged({ outcome: 'running' }), // running, with no writer to tell an interrupted run by
    JSON.stringify({ ...whole, pad: 'x'.repeat(70 * 1024) }),
  ];
  for (const text of bad) {
    writeFileSync(journal, `${text}\n`);
    assert.deepEqual(freshList(log), [summaryOf(a)], text.slice(0, 80));
  }
  // A line cut short by a crash (no newline yet) is not read, even where it would parse.
  writeFileSync(journal, forged(lie));
  assert.deepEqual(freshList(log), [summaryOf(a)]);
  writeFileSync(journal, `${forged(lie)}\n`);
  assert.deepEqual(freshList(log)[0]!.epochs, 1, 'the same line, whole, is believed');
  // Not a file: a folder, a link elsewhere, a FIFO where the journal was.
  rmSync(journal);
  mkdirSync(journal);
  assert.deepEqual(freshList(log), [summaryOf(a)]);
  rmSync(journal, { recursive: true });
  const elsewhere = join(tempDir(), 'lines.jsonl');
  writeFileSync(elsewhere, `${forged(lie)}\n`);
  symlinkSync(elsewhere, journal);
  assert.deepEqual(freshList(log), [summaryOf(a)]);
  rmSync(journal);
  if (spawnSync('mkfifo', [journal]).status === 0) {
    assert.deepEqual(freshList(log), [summaryOf(a)]);
    // A FIFO where this writer appends: the record is saved, the line refused at once, nothing waits.
    const b = record();
    log.save(b);
    assert.deepEqual(
      freshList(log).map((r) => r.id),
      [b.id, a.id],
    );
  }
});

test('a long-running writer compacts its own journal, and the journals of writers that are gone are folded into one', () => {
  const log = new RunLog(tempDir(), { write: (file, data) => writeFileSync(file, data) });
  const runs = Array.from({ length: 20 }, () => record());
  // About 600 bytes a line: 2,000 saves is past the size at which a writer keeps only each run's last line.
  for (let i = 0; i < 2000; i++) log.save({ ...runs[i % 20]!, wallSeconds: i });
  const journal = journalOf(log);
  const lines = readFileSync(journal, 'utf8').trim().split('\n');
  assert.ok(lines.length < 1000, `${lines.length} lines after 2,000 saves`);
  const listed = freshList(log);
  assert.deepEqual(
    listed.map((r) => r.wallSeconds).sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => 1980 + i),
  );
  // Twenty one-run processes, all gone now: a journal each, under names that say whose.
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  const tag = basename(journal).split('-')[2];
  for (const [i, line] of lines.slice(-20).entries()) writeFileSync(join(log.dir, JOURNALS, `${gone}-${1000 + i}-${tag}`), `${line}\n`);
  rmSync(journal);
  assert.deepEqual(freshList(log), listed);
  const folded = readdirSync(join(log.dir, JOURNALS));
  assert.equal(folded.length, 1, folded.join(' '));
  assert.match(folded[0]!, /^folded-[0-9a-f]{12}\.jsonl$/);
  // The folded journal lists them as the twenty did, and only runs that still have a record keep a line.
  log.remove(runs[0]!.id);
  assert.deepEqual(
    freshList(log),
    listed.filter((r) => r.id !== runs[0]!.id),
  );
  assert.equal(
    readFileSync(join(log.dir, JOURNALS, folded[0]!), 'utf8')
      .trim()
      .split('\n').length,
    20,
  );
});

test('an id that does not exist, or is not an id at all, is a clear error', () => {
  const log = new RunLog(tempDir());
  log.save(record());
  for (const id of ['run_nope', '../../etc/passwd', 'index', '']) {
    assert.throws(() => log.get(id), refused('missing', /^no run /));
    assert.throws(() => log.remove(id), refused('missing', /^no run /));
    assert.throws(() => log.rename(id, 'x'), refused('missing', /^no run /));
  }
});

test('damaged and foreign files are listed as damaged with their reasons, and never stop the list', () => {
  const log = new RunLog(tempDir());
  const good = record();
  log.save(good);
  mkdirSync(log.dir, { recursive: true });
  writeFileSync(join(log.dir, 'run_2025-01-02_truncated.json'), JSON.stringify(record()).slice(0, 100));
  writeFileSync(join(log.dir, 'run_2025-01-03_foreign.json'), '{"name":"someone else\'s file"}');
  writeFileSync(join(log.dir, 'run_2025-01-04_moved.json'), JSON.stringify(record()));
  writeFileSync(join(log.dir, 'run_2025-01-05_future.json'), JSON.stringify({ ...record(), version: 2 }));
  writeFileSync(join(log.dir, 'run_2025-01-06_huge.json'), JSON.stringify({ ...record(), epochs: Array.from({ length: 10001 }, (_, i) => epoch(i + 1)) }));
  mkdirSync(join(log.dir, 'run_2025-01-07_folder.json'));
  if (spawnSync('mkfifo', [join(log.dir, 'run_2025-01-08_fifo.json')]).status !== 0) writeFileSync(join(log.dir, 'run_2025-01-08_fifo.json'), '');
  writeFileSync(join(log.dir, 'notes.txt'), 'not ours, not a record: ignored');
  const listed = log.list();
  const reasons = Object.fromEntries(listed.filter(isDamaged).map((d) => [d.id, d.damaged]));
  assert.match(reasons['run_2025-01-02_truncated']!, /not valid JSON/);
  assert.match(reasons['run_2025-01-03_foreign']!, /not a run record \(version: /);
  assert.match(reasons['run_2025-01-04_moved']!, /holds run run_.*, not run_2025-01-04_moved/);
  assert.match(reasons['run_2025-01-05_future']!, /version/);
  assert.match(reasons['run_2025-01-06_huge']!, /epochs/);
  assert.match(reasons['run_2025-01-07_folder']!, /not a regular file \(a folder\)/);
  assert.match(reasons['run_2025-01-08_fifo']!, /not a regular file|not a run record|not valid JSON/);
  assert.deepEqual(
    summaries(log).map((r) => r.id),
    [good.id],
  );
  assert.throws(() => log.get('run_2025-01-03_foreign'), refused('damaged', /^run run_2025-01-03_foreign is damaged: not a run record/));
  // A damaged record can still be removed.
  log.remove('run_2025-01-02_truncated');
  assert.ok(!log.list().some((r) => r.id === 'run_2025-01-02_truncated'));
});

test("a run whose writer is gone lists as interrupted, with what it had; a live writer's as running", () => {
  const log = new RunLog(tempDir());
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const gone = record({ outcome: 'running', endedAt: undefined, epochs: [epoch(1)], writer: { ...thisWriter(), pid: Number(dead.stdout.trim()) } });
  // The same pid as a live process but another start time: the pid was reused, the writer is gone.
  const reused = record({ outcome: 'running', endedAt: undefined, writer: { ...thisWriter(), started: '1' } });
  const live = record({ outcome: 'running', endedAt: undefined });
  for (const r of [gone, reused, live]) log.save(r);
  const outcome = (id: string) => summaries(log).find((r) => r.id === id)!.outcome;
  assert.equal(outcome(gone.id), 'interrupted');
  assert.equal(summaries(log).find((r) => r.id === gone.id)!.epochs, 1);
  assert.equal(outcome(reused.id), process.platform === 'linux' ? 'interrupted' : 'running');
  assert.equal(outcome(live.id), 'running');
  assert.equal(log.get(gone.id).outcome, 'interrupted');
  // A run still training cannot be removed (its writer would write it back); an interrupted one can.
  assert.throws(() => log.remove(live.id), refused('refused', /still training/));
  log.remove(gone.id);
});

test('names get the checks model names get', () => {
  const log = new RunLog(tempDir());
  const r = record();
  log.save(r);
  for (const bad of ['', '   ', '../up', 'a/b', '.hidden', 'x'.repeat(101), 'two\nlines', 'evil\u202eexe.txt', 'zero\u200bwidth']) {
    assert.throws(() => log.rename(r.id, bad), refused('refused', /^name: /), JSON.stringify(bad));
  }
  assert.equal(log.get(r.id).name, undefined);
  assert.equal(log.rename(r.id, 'batch 64 — seed 1'), 'batch 64 — seed 1');
});

/** A writer that fails like a full disk (after leaving a partial file behind) while `full` is set. */
function fullDisk(): { write: WriteFile; full: boolean } {
  const disk = {
    full: false,
    write: (file: string, data: string) => {
      if (!disk.full) return writeDurably(file, data);
      writeFileSync(`${file}.partial.tmp`, data.slice(0, 10));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  };
  return disk;
}

/** Events handed to listeners by hand, in the worker's order. */
function events(): EventSource & { send: (e: TrainEvent) => void } {
  const listeners = new Set<(e: TrainEvent) => void>();
  return {
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    send: (e) => listeners.forEach((l) => l(e)),
  };
}

const started: TrainEvent = {
  type: 'started',
  epochs: 2,
  stepsPerEpoch: 20,
  trainCount: 640,
  testCount: 100,
  spec: MNIST_SPEC,
  backend: 'cpu',
  detail: 'tfjs cpu',
};

test('a full disk loses neither the previous record nor the run, and the record is whole once there is room', () => {
  const home = tempDir();
  const disk = fullDisk();
  const log = new RunLog(home, { write: disk.write });
  const source = events();
  const warnings: string[] = [];
  const run = recordRun(source, { home, config: { ...SEED_RECIPE, epochs: 2, backend: 'cpu' }, data: {}, log, warn: (m) => warnings.push(m) });
  source.send(started);
  source.send({ type: 'epoch', ...epoch(1) });
  disk.full = true;
  assert.doesNotThrow(() => source.send({ type: 'epoch', ...epoch(2) }));
  assert.doesNotThrow(() => log.list());
  // What was written before the disk filled is there, whole; the partial file is no record.
  assert.equal(log.get(run.id).epochs.length, 1);
  assert.deepEqual(
    log.list().map((r) => r.id),
    [run.id],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /run log could not be written \(ENOSPC\); the run goes on/);
  disk.full = false;
  source.send({ type: 'done', stopped: false, history: { config: run.record.config, backend: 'cpu', epochs: [epoch(1), epoch(2)] } });
  const final = log.get(run.id);
  assert.equal(final.outcome, 'finished');
  assert.deepEqual(final.epochs, [epoch(1), epoch(2)]);
  assert.equal(final.backend?.name, 'cpu');
  assert.equal(warnings.length, 1);
});

test('the recorder keeps the steps, memory and outcome of a failed run, and stops listening at its end', () => {
  const home = tempDir();
  const log = new RunLog(home);
  const source = events();
  const run = recordRun(source, { home, config: { ...SEED_RECIPE, backend: 'cpu' }, data: {}, log });
  assert.equal(log.get(run.id).outcome, 'running');
  source.send(started);
  source.send({
    type: 'progress',
    epoch: 1,
    step: 3,
    stepsPerEpoch: 20,
    losses: [2.3, 2.2, 2.1],
    loss: 2.2,
    accuracy: 0.1,
    examplesPerSecond: 100,
    etaSeconds: 9,
    phase: 'training',
    tested: 0,
    testCount: 100,
  });
  source.send({ type: 'error', error: { code: 'backend-failed', message: 'the GPU was lost' } });
  source.send({ type: 'epoch', ...epoch(1) });
  const r = log.get(run.id);
  assert.equal(r.outcome, 'failed');
  assert.equal(r.error?.message, 'the GPU was lost');
  assert.deepEqual(r.steps?.means, [2.3, 2.2, 2.1]);
  assert.equal(r.epochs.length, 0);
  assert.ok(r.peakRssBytes! > 0 && r.endedAt);
  assert.equal(r.dataset.fingerprint?.length, 32);
});

test('older checkpoint folders and saved models are imported once', () => {
  const home = tempDir();
  const history = { config: { ...SEED_RECIPE, epochs: 3 }, backend: 'wasm' as const, epochs: [epoch(1)] };
  const velocity = new Float32Array(PARAM_COUNT);
  saveCheckpoint(join(home, 'runs', 'run_old'), { epoch: 1, rng: new Rng(1).state(), history, params: initialParams(0), velocity });
  const model = join(home, 'models', 'digits');
  mkdirSync(model, { recursive: true });
  const saved = { ...history, config: { ...SEED_RECIPE, epochs: 2 }, epochs: [epoch(1, 0.3), epoch(2, 0.2)] };
  writeFileSync(
    join(model, 'model.json'),
    JSON.stringify({ generatedBy: 'MNIST Studio', userDefinedMetadata: { mnistStudio: { spec: MNIST_SPEC, history: saved } } }),
  );
  mkdirSync(join(home, 'runs', 'not-a-checkpoint'));
  const log = new RunLog(home);
  assert.equal(importOlderRuns(log, home), 2);
  const listed = summaries(log);
  assert.deepEqual(listed.map((r) => [r.outcome, r.epochs]).sort(), [
    ['finished', 2],
    ['stopped', 1],
  ]);
  const fromModel = log.get(listed.find((r) => r.epochs === 2)!.id);
  assert.equal(fromModel.modelDir, model);
  assert.equal(fromModel.importedFrom, model);
  // Once: a second start imports nothing, even after a run was removed.
  log.remove(fromModel.id);
  assert.equal(importOlderRuns(log, home), 0);
  assert.equal(log.list().length, 1);
  assert.ok(readdirSync(log.dir).includes('.imported'));
});

test('compare names the fields that differ; the bit-for-bit check names the first epoch and metric that part', () => {
  const a = { ...record(), outcome: 'finished' as const };
  const b = { ...record(), config: { ...a.config, learningRate: 0.1 }, epochs: [epoch(1), epoch(2, 0.25)], outcome: 'finished' as const };
  const c = compareRuns([a, b]);
  assert.deepEqual(c.differences, [{ field: 'config.learningRate', values: [0.01, 0.1] }]);
  assert.deepEqual(
    c.runs.map((r) => r.final?.epoch),
    [2, 2],
  );
  assert.equal(
    firstMismatch(
      a.epochs,
      a.epochs.map((e) => structuredClone(e)),
    ),
    undefined,
  );
  assert.deepEqual(firstMismatch(a.epochs, b.epochs), { epoch: 2, metric: 'train.loss', values: [1 / 3, 0.25] });
  // One ulp is a difference; a missing epoch is one too.
  const nudged = structuredClone(a.epochs);
  nudged[0]!.test.accuracy = 0.9500000000000001;
  assert.deepEqual(firstMismatch(a.epochs, nudged), { epoch: 1, metric: 'test.accuracy', values: [0.95, 0.9500000000000001] });
  assert.equal(firstMismatch(a.epochs, [epoch(1)])?.epoch, 2);
});

test('the CSV has one row per run and epoch, and defuses names a spreadsheet would run', () => {
  const a = { ...record(), name: '=HYPERLINK("x")', outcome: 'finished' as const };
  const lines = epochsCsv([a]).trim().split('\n');
  assert.equal(lines[0], 'run,name,epoch,train_loss,train_accuracy,test_loss,test_accuracy,test_count,examples_per_second,seconds');
  assert.equal(lines.length, 3);
  assert.equal(lines[1], `${a.id},"'=HYPERLINK(""x"")",1,0.5,0.9,0.25,0.95,100,1000,1`);
});

test('a companion that is not a regular file stops a removal before anything is removed, and a rename with one line', () => {
  const log = new RunLog(tempDir());
  const r = record();
  log.save(r);
  mkdirSync(join(log.dir, `${r.id}.name`));
  const before = readdirSync(log.dir).sort();
  assert.throws(() => log.remove(r.id), refused('refused', /^run \S+ cannot be removed: .*\.name is not a regular file \(a folder\)$/));
  assert.deepEqual(readdirSync(log.dir).sort(), before);
  assert.throws(() => log.rename(r.id, 'x'), refused('refused', /^run \S+ cannot be named: .*\.name is not a regular file \(a folder\)$/));
  rmSync(join(log.dir, `${r.id}.name`), { recursive: true });
  // A summary file left by a development build, where something else now is.
  mkdirSync(join(log.dir, `${r.id}.summary.json`));
  assert.throws(() => log.remove(r.id), refused('refused', /summary\.json is not a regular file \(a folder\)$/));
  assert.ok(readdirSync(log.dir).includes(`${r.id}.json`));
});

test('a forged index (its sha256 right, its entries not) is passed over for the files', async () => {
  const log = new RunLog(tempDir());
  const r = record();
  log.save(r);
  const settled = new Date(Date.now() - 10_000);
  // Twice: the first list makes the index's folder, which moves the log folder's time.
  for (let i = 0; i < 2; i++) {
    utimesSync(log.dir, settled, settled);
    log.list();
    await indexWritten();
  }
  const indexFile = join(log.dir, '.index', 'index.json');
  const [headerLine] = readFileSync(indexFile, 'utf8').split('\n');
  const header = JSON.parse(headerLine!) as Record<string, unknown>;
  for (const entries of [
    [{ run: {} }],
    [null],
    [{ m: 1, s: 1, i: 1, run: { id: r.id, outcome: 'finished' } }],
    [{ m: 1, s: 1, i: 1, run: { id: 5, damaged: 'x' } }],
    {},
  ]) {
    const body = JSON.stringify(entries);
    writeFileSync(indexFile, `${JSON.stringify({ ...header, sha256: createHash('sha256').update(body).digest('hex') })}\n${body}`);
    assert.deepEqual(summaries(log), [summaryOf(r)], body);
  }
});

test('a run held by another host, or by a live pid with no start time, is said so, and --force removes it', () => {
  const log = new RunLog(tempDir());
  const far = record({ outcome: 'running', endedAt: undefined, writer: { pid: 4242, host: 'elsewhere.example' } });
  const unsure = record({ outcome: 'running', endedAt: undefined, writer: { pid: process.ppid, host: thisWriter().host } });
  const live = record({ outcome: 'running', endedAt: undefined });
  for (const x of [far, unsure, live]) log.save(x);
  const listed = Object.fromEntries(summaries(log).map((s) => [s.id, s]));
  assert.equal(listed[far.id]!.outcome, 'running');
  assert.equal(listed[far.id]!.host, 'elsewhere.example');
  assert.equal(listed[live.id]!.host, undefined);
  assert.throws(() => log.remove(far.id), refused('refused', /held by pid 4242 on elsewhere\.example.*--force/));
  assert.throws(() => log.remove(unsure.id), refused('refused', new RegExp(`held by pid ${process.ppid} on this machine.*--force`)));
  assert.throws(() => log.remove(live.id, { force: true }), refused('refused', /still training/));
  log.remove(far.id, { force: true });
  log.remove(unsure.id, { force: true });
  assert.deepEqual(
    log.list().map((x) => x.id),
    [live.id],
  );
});

test('a run log that is not a folder is one line; dangling and looping links are listed as damaged', () => {
  const home = tempDir();
  writeFileSync(join(home, 'runlog'), 'not a folder');
  const log = new RunLog(home);
  assert.throws(
    () => log.list(),
    (e: unknown) => e instanceof RunLogError && /runlog: exists and is not a folder$/.test(e.message),
  );
  // A run goes on, and its note keeps the reason.
  const warnings: string[] = [];
  const source = events();
  recordRun(source, { home, config: { ...SEED_RECIPE, epochs: 1, backend: 'cpu' }, data: {}, log, warn: (m) => warnings.push(m) });
  source.send(started);
  assert.match(warnings[0] ?? '', /run log could not be written \(.*runlog: exists and is not a folder\)/);
  const other = new RunLog(tempDir());
  other.save(record());
  symlinkSync(join(other.dir, 'nowhere'), join(other.dir, 'run_dangling.json'));
  symlinkSync(join(other.dir, 'run_loop.json'), join(other.dir, 'run_loop.json'));
  const reasons = Object.fromEntries(
    other
      .list()
      .filter(isDamaged)
      .map((d) => [d.id, d.damaged]),
  );
  assert.match(reasons['run_dangling']!, /symbolic link/);
  assert.match(reasons['run_loop']!, /symbolic link/);
});

test('a file whose name is not a run id is listed with its path, and removed by the name listed', () => {
  const log = new RunLog(tempDir());
  log.save(record());
  writeFileSync(join(log.dir, 'run_nl\nrun_FORGED.json'), '{}');
  const damaged = log.list().filter(isDamaged);
  assert.equal(damaged.length, 1);
  assert.match(damaged[0]!.damaged, /not a run id/);
  log.remove('run_nl\nrun_FORGED');
  assert.equal(log.list().filter(isDamaged).length, 0);
  assert.throws(() => log.remove('../x'), refused('missing', /^no run /));
});
