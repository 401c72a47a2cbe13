// Image folders end to end through the real CLI and the real worker: data, train, summary and predict
// speak in class names; imports report progress and can be cancelled.
import { runCli } from '../support/cli';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TrainerClient } from '@core/trainer/client';
import { StudioCallError } from '@shared/api';
import type { TrainEvent } from '@shared/training';
import { tempDir } from '../support/helpers';
import { drawingsFolder } from '../support/imageFolders';

const home = tempDir();
const cli = (...args: string[]) => runCli(args, { env: { MNIST_STUDIO_HOME: home } });

test('data, train, summary and predict on a folder of 3 classes speak in class names', async () => {
  const root = await drawingsFolder(12);
  const d = cli('data', '--data', root, '--json');
  assert.equal(d.code, 0, d.stderr);
  const data = JSON.parse(d.stdout);
  assert.deepEqual(data.classes, ['bar', 'circle', 'square']);
  assert.equal(data.train.labelCounts.length, 3);
  assert.deepEqual(data.test.labelCounts, [3, 3, 2]);
  assert.equal(data.input, '28x28x1');
  assert.equal(data.refused.length, 5);
  const text = cli('data', '--data', root);
  assert.match(text.stdout, /per class bar:\d+ circle:\d+ square:\d+/);
  assert.match(text.stdout, /square\/pipe\.png: not a regular file/);

  const out = join(tempDir(), 'shapes-model');
  const t = cli('train', '--data', root, '--epochs', '4', '--batch-size', '4', '--backend', 'wasm', '--out', out, '--json');
  assert.equal(t.code, 0, t.stderr);
  const events = t.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'started');
  assert.deepEqual(events[0].spec.classes, ['bar', 'circle', 'square']);
  assert.equal(events.find((e) => e.type === 'epoch').test.count, 8);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).userDefinedMetadata.mnistStudio.spec.classes, ['bar', 'circle', 'square']);

  const s = cli('summary', '--model', out);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /input: 28x28x1 \(drawing\); 3 classes: bar, circle, square/);

  // A folder of files is classified file by file; JSON keeps the index as label and adds the class name.
  const p = cli('predict', '--model', out, '--json', join(root, 'circle'));
  const predictions = p.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(predictions.length, 12); // the 12 drawings: links are not followed, hidden files skipped
  for (const q of predictions) {
    assert.equal(q.probabilities.length, 3);
    assert.equal(q.class, ['bar', 'circle', 'square'][q.label]);
  }
  assert.ok(predictions.filter((q) => q.class === 'circle').length >= 9, JSON.stringify(predictions.map((q) => q.class)));
  const line = cli('predict', '--model', out, join(root, 'bar', 'bar-0.png'));
  assert.match(line.stdout, /bar-0\.png: (bar|circle|square) \(\d\.\d\d\)/);

  // --input and --mode choose another shape; they apply to image folders only.
  const rgb = cli('data', '--data', root, '--input', '16x16x3', '--mode', 'photo', '--json');
  assert.equal(JSON.parse(rgb.stdout).input, '16x16x3');
  assert.match(cli('train', '--input', '30x30').stderr, /^error: .*--input.*multiples of 4/m);
  assert.match(cli('data', '--mode', 'photo').stderr, /^error: bundled MNIST: --mode and --input apply to image folders only/m);
});

test('an import reports progress, and a cancelled one fails with its own error while the worker keeps working', async () => {
  const root = await drawingsFolder(40);
  const client = new TrainerClient();
  try {
    const phases = new Set<string>();
    const off = client.onEvent((e: TrainEvent) => void (e.type === 'import-progress' && phases.add(e.phase)));
    const summary = await client.request('openDataset', { data: { dir: root } });
    assert.deepEqual(summary.classes, ['bar', 'circle', 'square']);
    assert.ok(phases.has('listing') && phases.has('decoding'), [...phases].join());
    off();
    const other = await drawingsFolder(40);
    const cancel = client.onEvent((e) => void (e.type === 'import-progress' && client.cancelImport()));
    await assert.rejects(client.request('openDataset', { data: { dir: other } }), (e: StudioCallError) => e.studio.code === 'cancelled');
    cancel();
    // The dataset in hand is still the first one.
    assert.equal((await client.request('openDataset', {})).source, root);
  } finally {
    await client.close();
  }
});
