// The run log as people use it: real short runs through the CLI and the real worker, listed, shown,
// compared, exported and reproduced bit for bit; a run killed mid-way lists as interrupted with what it
// had; two trains at once on one home are both kept.
import { CLI_ARGS, runCli } from '../support/cli';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RunDetail, RunListing, RunSummary } from '@shared/runs';
import { tempDir } from '../support/helpers';

const QUICK = ['--epochs', '1', '--train-limit', '640', '--test-limit', '200', '--backend', 'wasm'];
const cli = (home: string, ...args: string[]) => runCli(args, { env: { MNIST_STUDIO_HOME: home } });

/** A train in the background: resolves with its exit code and stdout lines; `onLine` sees each line as it comes. */
function train(home: string, args: string[], onLine: (line: string, kill: () => void) => void = () => undefined) {
  const child = spawn(process.execPath, [...CLI_ARGS, 'train', ...args], {
    env: { ...process.env, MNIST_STUDIO_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    onLine(line, () => child.kill('SIGKILL'));
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[]; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, lines, stderr })),
  );
}

const listed = (home: string): RunListing[] =>
  cli(home, 'runs', '--json')
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test('a run is logged as it trains: listed, shown, compared, exported and reproduced bit for bit', () => {
  const home = tempDir();
  const first = cli(home, 'train', ...QUICK, '--json');
  assert.equal(first.code, 0, first.stderr);
  const events = first.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'started');
  const id = events[0].runId as string;
  assert.match(id, /^run_/);
  const epoch = events.find((e) => e.type === 'epoch');

  const [run] = listed(home) as RunSummary[];
  assert.equal(run!.id, id);
  assert.equal(run!.outcome, 'finished');
  assert.equal(run!.epochs, 1);
  assert.deepEqual(run!.final!.test, epoch.test);
  const detail = JSON.parse(cli(home, 'runs', 'show', id, '--json').stdout) as RunDetail;
  assert.equal(detail.backend?.name, 'wasm');
  assert.ok(detail.backend!.threads! >= 1);
  assert.equal(detail.dataset.source, 'bundled MNIST');
  assert.equal(detail.dataset.trainCount, 640);
  assert.equal(detail.dataset.fingerprint?.length, 32);
  assert.equal(detail.app.version, JSON.parse(readFileSync('package.json', 'utf8')).version);
  assert.ok(detail.steps!.means.length === 20 && detail.peakRssBytes! > 0 && detail.wallSeconds > 0);

  // Without --json, train says its run id before it trains.
  const second = cli(home, 'train', ...QUICK, '--learning-rate', '0.05');
  assert.equal(second.code, 0, second.stderr);
  const other = /^run: (run_\S+)$/m.exec(second.stdout)![1]!;
  assert.ok(second.stdout.indexOf('run: ') < second.stdout.indexOf('train epoch'));

  const compared = cli(home, 'runs', 'compare', id, other);
  assert.equal(compared.code, 0, compared.stderr);
  assert.match(compared.stdout, /^config\.learningRate: 0\.01 \| 0\.05$/m);
  assert.doesNotMatch(compared.stdout, /config\.seed|dataset\.|backend\./);
  const json = JSON.parse(cli(home, 'runs', 'compare', id, other, '--json').stdout);
  assert.deepEqual(json.differences, [{ field: 'config.learningRate', values: [0.01, 0.05] }]);
  assert.equal(json.runs[0].final.test.accuracy, epoch.test.accuracy);

  const csv = join(tempDir(), 'epochs.csv');
  assert.equal(cli(home, 'runs', 'export', id, other, '--csv', csv).code, 0);
  const rows = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(rows.length, 3);
  assert.equal(
    rows[1],
    [id, '', 1, epoch.train.loss, epoch.train.accuracy, epoch.test.loss, epoch.test.accuracy, 200, epoch.examplesPerSecond, epoch.seconds].join(','),
  );

  const again = cli(home, 'runs', 'reproduce', id);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.match(again.stdout, /^identical: 1 epoch, bit for bit$/m);
  const rerun = (listed(home) as RunSummary[]).find((r) => r.id !== id && r.id !== other)!;
  assert.equal(JSON.parse(cli(home, 'runs', 'show', rerun.id, '--json').stdout).reproduces, id);

  assert.equal(cli(home, 'runs', 'rm', other).code, 0);
  assert.equal(listed(home).length, 2);
});

test('a run killed mid-way lists as interrupted with what it had; resumed, it is a run of both parts that reproduces bit for bit', async () => {
  const home = tempDir();
  const checkpoint = join(tempDir(), 'checkpoint');
  let id = '';
  const recipe = ['--epochs', '2', '--train-limit', '3200', '--test-limit', '200', '--backend', 'wasm', '--json'];
  const killed = await train(home, [...recipe, '--checkpoint', checkpoint], (line, kill) => {
    const e = JSON.parse(line);
    if (e.type === 'started') id = e.runId;
    // The first epoch's record is written before its line is printed: kill in the second epoch.
    if (e.type === 'progress' && e.epoch === 2) kill();
  });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const [run] = listed(home) as RunSummary[];
  assert.equal(run!.id, id);
  assert.equal(run!.outcome, 'interrupted');
  assert.equal(run!.epochs, 1);
  const shown = cli(home, 'runs', 'show', id);
  assert.match(shown.stdout, /^outcome: interrupted$/m);
  assert.match(shown.stdout, /^epoch 1: train loss /m);
  assert.match(cli(home, 'runs').stdout, new RegExp(`${id} .* interrupted .* 1/2 `));

  const resumed = cli(home, 'train', '--resume', checkpoint, '--backend', 'wasm', '--json');
  assert.equal(resumed.code, 0, resumed.stderr);
  const resumedId = JSON.parse(resumed.stdout.split('\n')[0]!).runId as string;
  const record = JSON.parse(cli(home, 'runs', 'show', resumedId, '--json').stdout) as RunDetail;
  assert.equal(record.outcome, 'finished');
  assert.deepEqual(record.resumed, { checkpointDir: checkpoint, afterEpoch: 1 });
  assert.deepEqual(
    record.epochs.map((e) => e.epoch),
    [1, 2],
  );
  assert.equal(record.config.trainLimit, 3200);
  // Trained again from the start, uninterrupted, it gives the same numbers as the run that was killed and resumed.
  assert.match(cli(home, 'runs', 'reproduce', resumedId).stdout, /^identical: 2 epochs, bit for bit$/m);
});

test('two trains at once on one home are both logged', async () => {
  const home = tempDir();
  const [a, b] = await Promise.all([train(home, [...QUICK, '--json']), train(home, [...QUICK, '--seed', '1', '--json'])]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const ids = [a, b].map((r) => JSON.parse(r.lines[0]!).runId as string);
  const runs = listed(home) as RunSummary[];
  assert.deepEqual(runs.map((r) => r.id).sort(), [...ids].sort());
  assert.deepEqual(
    runs.map((r) => [r.outcome, r.epochs]),
    [
      ['finished', 1],
      ['finished', 1],
    ],
  );
});

test('runs export --csv keeps the rules of export: a .csv name, `~` expanded, no special or read-only file replaced', () => {
  const home = tempDir();
  const folder = tempDir();
  writeFileSync(join(folder, 'locked.csv'), 'old');
  chmodSync(join(folder, 'locked.csv'), 0o444);
  assert.equal(spawnSync('mkfifo', [join(folder, 'fifo.csv')]).status, 0);
  const person = tempDir();
  for (const [csv, refusal] of [
    ['', /an empty name/],
    [folder, /is a folder: give the file/],
    [join(folder, 'x.txt'), /must end in \.csv/],
    [join(folder, 'locked.csv'), /locked\.csv: the file there is read-only/],
    [join(folder, 'fifo.csv'), /fifo\.csv: a FIFO is in the way/],
    ['~/missing/x.csv', new RegExp(`${join(person, 'missing')}: no such folder`)],
  ] as const) {
    const r = spawnSync(process.execPath, [...CLI_ARGS, 'runs', 'export', 'run_nope', '--csv', csv], {
      encoding: 'utf8',
      env: { ...process.env, MNIST_STUDIO_HOME: home, HOME: person },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^error: [^\n]*\n$/);
    assert.match(r.stderr, refusal);
  }
  assert.equal(readFileSync(join(folder, 'locked.csv'), 'utf8'), 'old');
});

test('a run id that does not exist is one error line, exit 2', () => {
  const home = tempDir();
  for (const args of [
    ['show', 'run_nope'],
    ['rm', 'run_nope'],
    ['reproduce', 'run_nope'],
    ['compare', 'run_nope', 'run_nada'],
    ['export', '../x', '--csv', join(home, 'x.csv')],
  ]) {
    const r = cli(home, 'runs', ...args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: no run (run_nope|\.\.\/x)\n$/);
  }
  assert.equal(cli(home, 'runs').stdout.trim(), 'no runs yet');
});

test('hostile run log files: escaped in the table, refused whole by rm, and one line where runlog is not a folder', () => {
  const home = tempDir();
  const dir = join(home, 'runlog');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run_nl\nrun_FORGED  x  finished.json'), '{}');
  writeFileSync(join(dir, 'run_esc\u001b[2J.json'), '{}');
  const listing = cli(home, 'runs');
  assert.equal(listing.code, 0, listing.stderr);
  assert.doesNotMatch(listing.stdout, /^run_FORGED/m);
  assert.ok(!listing.stdout.includes(String.fromCharCode(27)), 'no raw ESC reaches the terminal');
  assert.match(listing.stdout, /run_nl\\u000arun_FORGED/);
  const id = 'run_2025-01-01_00-00-00-001_abcd1234';
  writeFileSync(join(dir, `${id}.json`), '{}');
  mkdirSync(join(dir, `${id}.name`));
  const rm = cli(home, 'runs', 'rm', id);
  assert.equal(rm.code, 2);
  assert.match(rm.stderr, /^error: run \S+ cannot be removed: .*\.name is not a regular file \(a folder\)\n$/);
  assert.ok(existsSync(join(dir, `${id}.json`)));
  assert.match(cli(home, 'runs', 'rename', id, 'x').stderr, /^error: run \S+ (is damaged|cannot be named).*\n$/);
  const file = join(tempDir(), 'runlog-home');
  mkdirSync(file);
  writeFileSync(join(file, 'runlog'), '');
  const bad = cli(file, 'runs');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: .*runlog: exists and is not a folder\n$/);
});
