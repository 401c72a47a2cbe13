// Checkpoint folders: round trip, damaged ones refused, the unfinished list, and pruning of old runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, pruneRuns, saveCheckpoint, unfinishedRuns } from '@core/store/checkpoint';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { PARAM_COUNT } from '@shared/architecture';
import { SEED_RECIPE, type History } from '@shared/training';
import { tempDir } from '../support/helpers';
import { MNIST_SPEC } from '@shared/modelSpec';

const epochs = (n: number): History['epochs'] =>
  Array.from({ length: n }, (_, i) => ({
    epoch: i + 1,
    train: { loss: 1 / (i + 2), accuracy: 0.9 },
    test: { loss: 0.1, accuracy: 0.95, count: 100 },
    examplesPerSecond: 1000,
    seconds: 1,
  }));

function write(dir: string, done: number, of = 3): void {
  const history: History = { config: { ...SEED_RECIPE, epochs: of }, backend: 'wasm', epochs: epochs(done) };
  saveCheckpoint(dir, {
    epoch: done,
    rng: new Rng(9).state(),
    history,
    data: {},
    spec: MNIST_SPEC,
    params: initialParams(done),
    velocity: new Float32Array(PARAM_COUNT).fill(0.5),
  });
}

test('a checkpoint round-trips weights, momentum, generator state and history', () => {
  const dir = join(tempDir(), 'ck');
  write(dir, 1);
  write(dir, 2);
  const c = loadCheckpoint(dir);
  assert.equal(c.epoch, 2);
  assert.deepEqual(c.params, initialParams(2));
  assert.ok(c.velocity.every((v) => v === 0.5));
  assert.deepEqual(c.rng, new Rng(9).state());
  assert.equal(c.history.epochs.length, 2);
  assert.equal(readdirSync(dir).length, 3, "the older epoch's data files are gone");
});

test('damaged checkpoints are refused with the file named', () => {
  const dir = join(tempDir(), 'ck');
  assert.throws(() => loadCheckpoint(dir), /not a checkpoint folder/);
  write(dir, 1);
  const meta = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'));
  writeFileSync(join(dir, meta.files.params), new Uint8Array(100));
  assert.throws(() => loadCheckpoint(dir), /params-[0-9a-f]+\.bin: holds 100 bytes/);
  write(dir, 1);
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ ...meta, rng: 'abc' }));
  assert.throws(() => loadCheckpoint(dir), /malformed \(rng/);
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify({ ...meta, files: { params: '../../etc/passwd', velocity: meta.files.velocity } }));
  assert.throws(() => loadCheckpoint(dir), /malformed \(files\.params/);
});

test('only unfinished runs are offered, newest first, and old run folders are pruned', async () => {
  const root = tempDir();
  const names: string[] = [];
  for (let i = 0; i < 12; i++) {
    const name = `run_2026-11-27_03-00-${String(i).padStart(2, '0')}-000`;
    names.push(name);
    write(join(root, name), i % 3 === 0 ? 3 : 1);
    await new Promise((r) => setTimeout(r, 2));
  }
  const open = unfinishedRuns(root);
  assert.equal(open.length, 8);
  assert.ok(open.every((r) => r.epoch === 1 && r.epochs === 3));
  assert.ok(open[0]!.savedAt >= open.at(-1)!.savedAt);
  pruneRuns(root, 9);
  assert.deepEqual(readdirSync(root).sort(), names.slice(3));
});
