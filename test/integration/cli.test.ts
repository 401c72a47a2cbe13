// The command-line interface as users run it: real processes, real files, exit codes and error lines.
import { assertUsageError, runCli } from '../support/cli';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { IDX_FILES } from '@core/dataset/dataset';
import { idxImages, mnist, tempDir, writeLabelled, writeSlice } from '../support/helpers';
import sharp from 'sharp';
import { styledBmp, styledImage, styledPng } from '../support/digitStyles';
import { png } from '../support/imageFolders';
import { TrainerClient } from '@core/trainer/client';
import { kernelsProblem, tfjsNodeProblem } from '@core/backend/backends';

function cli(...args: string[]) {
  return cliWith({}, ...args);
}

const cliWith = (env: Record<string, string>, ...args: string[]) => runCli(args, { env });

test('data --json summarises the bundled MNIST', () => {
  const r = cli('data', '--json');
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.train.count, 60000);
  assert.equal(summary.test.count, 10000);
  assert.equal(summary.train.height, 28);
  assert.deepEqual(summary.test.labelCounts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

test('data --data reads a folder of IDX files and names a bad file in its error', () => {
  const dir = writeSlice(40, 20, { gzip: true });
  const good = JSON.parse(cli('data', '--data', dir, '--json').stdout);
  assert.equal(good.train.count, 40);
  writeFileSync(join(dir, `${IDX_FILES.testImages}.gz`), idxImages(mnist().test.images.subarray(0, 784 * 2), 3));
  assertUsageError(cli('data', '--data', dir), new RegExp(`t10k-images-idx3-ubyte.gz: header says 3x28x28`));
});

test('data --data prints 201 mostly empty classes compactly, asks for classes.txt in one line, and --json lists every class', () => {
  const dir = writeLabelled(new Array(30).fill(3), new Array(10).fill(200));
  const r = cli('data', '--data', dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.includes('train: 30 images; per class 3:30; 200 classes with none'), r.stdout);
  assert.ok(lines.includes('test: 10 images; per class 200:10; 200 classes with none'), r.stdout);
  assert.equal(lines.filter((l) => /^note: .*name the classes in classes\.txt/.test(l)).length, 1, r.stdout);
  const json = JSON.parse(cli('data', '--data', dir, '--json').stdout);
  assert.equal(json.classes.length, 201);
  assert.equal(json.train.labelCounts.length, 201);
  assert.deepEqual([json.train.labelCounts[3], json.test.labelCounts[200], json.test.labelCounts[3]], [30, 10, 0]);
  // 256 classes, none empty: the first few, then how many more.
  const full = Array.from({ length: 256 }, (_, i) => i);
  const wide = cli('data', '--data', writeLabelled(full, full));
  assert.equal(wide.code, 0, wide.stderr);
  const train = wide.stdout.split('\n').find((l) => l.startsWith('train: '))!;
  assert.match(train, /^train: 256 images; per class 0:1 1:1 .* 31:1 and 224 more \(--json lists every class\)$/);
});

test('bad flags get one error line and exit 2', () => {
  assertUsageError(cli('train', '--epochs', '0'), /--epochs.*expected an integer from 1/);
  assertUsageError(cli('train', '--learning-rate', 'fast'), /--learning-rate/);
  assertUsageError(cli('train', '--momentum', '1'), /--momentum/);
  assertUsageError(cli('train', '--backend', 'gpu'), /expected one of auto, native, webgpu, wasm, tfjs-node, cpu/);
  assertUsageError(cli('train', '--frobnicate'), /unknown option '--frobnicate'/);
  assertUsageError(cli('launch'), /unknown command 'launch'/);
  assertUsageError(cli('predict', '/tmp/x.png'), /--model/);
});

test('train checks where its results go, and its recipe against the data, before it trains', () => {
  // Another tool's model folder is not overwritten (the app asks; the command line refuses).
  const foreign = tempDir();
  writeFileSync(join(foreign, 'model.json'), '{"format":"layers-model"}');
  writeFileSync(join(foreign, 'weights-abc.bin'), 'theirs');
  const refused = cli('train', '--epochs', '1', '--train-limit', '64', '--test-limit', '32', '--out', foreign);
  assertUsageError(refused, /--out .* already holds files \(model\.json, weights-abc\.bin\) and is not a saved model.*give a new or empty folder/);
  assert.equal(readFileSync(join(foreign, 'weights-abc.bin'), 'utf8'), 'theirs');
  assert.doesNotMatch(refused.stdout, /train epoch/);
  // A folder that cannot be made fails at once, not after the run.
  const unmakeable = cli('train', '--epochs', '1', '--train-limit', '64', '--out', '/proc/self/mnist-model');
  assertUsageError(unmakeable, /--out \/proc\/self\/mnist-model: /);
  assert.doesNotMatch(unmakeable.stdout, /train epoch/);
  // A train limit below the batch size, in the form's words, before any backend is chosen.
  const small = cli('train', '--train-limit', '10');
  assertUsageError(small, /--train-limit: at least the batch size, 32/);
  assert.doesNotMatch(small.stdout, /backend:/);
  // serve with a dataset folder that is not there says so instead of serving MNIST.
  assertUsageError(cli('serve', '--data', '/no/such/folder'), /--data \/no\/such\/folder: no such folder/);
});

test('--backend tfjs-node trains where tfjs-node loads, and is one error line where it does not', async () => {
  const problem = await tfjsNodeProblem();
  const r = cli('train', '--backend', 'tfjs-node', '--epochs', '1', '--train-limit', '64', '--test-limit', '32', '--json');
  if (problem) assertUsageError(r, /^error: backend tfjs-node is unavailable: tfjs-node/);
  else {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.split('\n')[0]!).backend, 'tfjs-node');
  }
});

test('--backend native trains on the native kernels where they load; a broken addon is one line, and auto falls back to wasm saying why', () => {
  const args = ['train', '--epochs', '1', '--train-limit', '64', '--test-limit', '32', '--json'];
  const problem = kernelsProblem();
  const r = cli(...args, '--backend', 'native');
  if (problem) assertUsageError(r, /^error: backend native is unavailable: the native kernels/);
  else {
    assert.equal(r.code, 0, r.stderr);
    const started = JSON.parse(r.stdout.split('\n')[0]!) as { backend: string; detail: string };
    assert.deepEqual([started.backend, /^(AVX-512|AVX2), \d threads?$/.test(started.detail)], ['native', true]);
  }
  const garbage = join(tempDir(), 'cnn.node');
  writeFileSync(garbage, 'not an ELF file');
  const env = { MNIST_STUDIO_NATIVE_KERNELS: garbage };
  assertUsageError(
    runCli([...args, '--backend', 'native'], { env }),
    /^error: backend native is unavailable: the native kernels failed to load: .*(invalid ELF header|file too short)/,
  );
  const auto = runCli([...args, '--backend', 'auto'], { env });
  assert.equal(auto.code, 0, auto.stderr);
  const started = JSON.parse(auto.stdout.split('\n')[0]!) as { backend: string; fallbackReason?: string };
  assert.equal(started.backend, 'wasm');
  assert.match(started.fallbackReason!, /no native kernels: the native kernels failed to load: .*(invalid ELF header|file too short)/);
});

test('summary prints the seed table with 824,458 parameters and FLOPs', () => {
  const r = cli('summary');
  assert.equal(r.code, 0);
  for (const text of ['Conv_0', 'Conv_1', 'Dense_0', 'Dense_1', 'float32[N,7,7,64]', '803,072', '824,458', 'FLOPs']) assert.ok(r.stdout.includes(text), text);
});

test('train --json streams epoch events, saves with --out, and predict classifies PNGs with it', async () => {
  const out = join(tempDir(), 'model');
  const r = cli('train', '--epochs', '1', '--train-limit', '6400', '--test-limit', '500', '--backend', 'wasm', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const epoch = events.find((e) => e.type === 'epoch');
  assert.equal(epoch.epoch, 1);
  assert.equal(epoch.test.count, 500);
  assert.ok(epoch.test.accuracy > 0.8 && epoch.test.accuracy <= 1);
  assert.ok(epoch.examplesPerSecond > 0);
  assert.equal(events[0].type, 'started');
  assert.equal(events[0].backend, 'wasm');
  for (const f of ['model.json', 'history.json']) assert.ok(existsSync(join(out, f)), f);
  assert.equal(readdirSync(out).filter((f) => /^weights-[0-9a-f]+\.bin$/.test(f)).length, 1);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  assert.equal(history.epochs[0].test.accuracy, epoch.test.accuracy);

  // Real test digits as plain 28x28 PNGs.
  const dir = tempDir();
  const d = mnist();
  const files: string[] = [];
  for (let i = 0; i < 20; i++) {
    const file = join(dir, `digit-${i}.png`);
    await sharp(Buffer.from(d.test.images.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(file);
    files.push(file);
  }
  const p = cli('predict', '--model', out, '--json', ...files);
  assert.equal(p.code, 0, p.stderr);
  const predictions = p.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(predictions.length, 20);
  const right = predictions.filter((q, i) => q.label === d.test.labels[i]).length;
  assert.ok(right >= 16, `${right}/20 right`);
  assert.ok(predictions.every((q) => q.probabilities.length === 10));
  // The same digits as a page, a canvas export and a small off-centre digit.
  const styled: string[] = [];
  for (const style of ['page', 'canvas', 'offcentre'] as const) {
    for (let i = 0; i < 10; i++) {
      const file = join(dir, `${style}-${i}.png`);
      writeFileSync(file, await styledPng(d.test.images.subarray(i * 784, (i + 1) * 784), style, i));
      styled.push(file);
    }
  }
  const s = cli('predict', '--model', out, '--json', ...styled);
  assert.equal(s.code, 0, s.stderr);
  const styledRight = s.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((q, k) => q.label === d.test.labels[k % 10]).length;
  assert.ok(styledRight >= 24, `${styledRight}/30 styled digits right`);
  // JPEG, WebP and GIF through sharp, BMP through bmp-ts.
  const formats = { jpg: 'jpeg', webp: 'webp', gif: 'gif' } as const;
  const others = await Promise.all(
    Object.entries(formats).map(async ([extension, format], k) => {
      const file = join(dir, `page-${k}.${extension}`);
      writeFileSync(file, await styledImage(d.test.images.subarray(k * 784, (k + 1) * 784), 'page', format, k));
      return file;
    }),
  );
  const o = cli('predict', '--model', out, '--json', ...others);
  assert.equal(o.code, 0, o.stderr);
  assert.ok(
    o.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((q, k) => q.label === d.test.labels[k]).length >= 2,
  );
  const bmp = join(dir, 'page-3.bmp');
  writeFileSync(bmp, styledBmp(d.test.images.subarray(3 * 784, 4 * 784), 'page', 3));
  assert.match(cli('predict', '--model', out, bmp).stdout, new RegExp(`page-3\\.bmp: ${d.test.labels[3]} `));
  // A PNG named .jpg is decoded by its contents, with a note on stderr (and in the JSON line).
  const misnamed = join(dir, 'digit.jpg');
  writeFileSync(misnamed, readFileSync(files[0]!));
  const named = cli('predict', '--model', out, misnamed);
  assert.equal(named.code, 0, named.stderr);
  assert.match(named.stdout, new RegExp(`^${misnamed}: ${d.test.labels[0]} \\(\\d\\.\\d\\d\\)\\n$`));
  assert.equal(named.stderr, `note: ${misnamed}: a PNG named .jpg\n`);
  assert.equal(JSON.parse(cli('predict', '--model', out, '--json', misnamed).stdout).note, 'a PNG named .jpg');
  const plain = cli('predict', '--model', out, files[0]!);
  assert.match(plain.stdout, new RegExp(`^${files[0]}: ${d.test.labels[0]} \\(\\d\\.\\d\\d\\)\\n$`));
  // `~` as a script or a quoted argument passes it: expanded for the model and the files, as in the app.
  const tilde = cliWith({ HOME: dirname(out) }, 'predict', '--model', `~/${basename(out)}`, `~/${relative(dirname(out), files[0]!)}`);
  assert.equal(tilde.code, 0, tilde.stderr);
  assert.match(tilde.stdout, new RegExp(`^${files[0]}: ${d.test.labels[0]} `));

  // A file that is not an image: one error line for it, the rest still answered, exit 2.
  const bad = join(dir, 'notes.png');
  writeFileSync(bad, 'not an image');
  const mixed = cli('predict', '--model', out, bad, files[1]!);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr.trim(), /^error: .*notes\.png: /);
  assert.match(mixed.stdout, /digit-1\.png: \d/);
  assertUsageError(cli('predict', '--model', dir, files[0]!), /not a saved model \(no model\.json\)/);

  // 300 real test digits written as 28x28 PNGs are already in MNIST's form: predict must see exactly the
  // raw pixels, and so give exactly the predictions the same model gives on the dataset's own bytes.
  const many: string[] = [];
  for (let i = 0; i < 300; i++) {
    const file = join(dir, `mnist-${i}.png`);
    await sharp(Buffer.from(d.test.images.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(file);
    many.push(file);
  }
  const viaFiles = cli('predict', '--model', out, '--json', ...many);
  assert.equal(viaFiles.code, 0, viaFiles.stderr);
  const fromFiles = viaFiles.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { label: number; probabilities: number[] });
  const client = new TrainerClient();
  try {
    await client.request('openModel', { dir: out, backend: 'wasm' });
    // Two requests: the worker takes at most 256 images per predict call.
    const raw = [
      ...(await client.request('predict', { images: d.test.images.slice(0, 150 * 784) })),
      ...(await client.request('predict', { images: d.test.images.slice(150 * 784, 300 * 784) })),
    ];
    const differing = raw.filter((p, i) => p.label !== fromFiles[i]!.label).length;
    assert.equal(differing, 0, `${differing} of 300 labels differ from the raw-pixel predictions`);
    assert.deepEqual(
      fromFiles.map((p) => p.probabilities),
      raw.map((p) => p.probabilities),
    );
  } finally {
    await client.close();
  }
});

test('file and folder names with control characters are printed escaped, so every error stays one line', async () => {
  const dir = tempDir();
  for (const name of ['ok', 'bad\u001b[31m\nname']) {
    mkdirSync(join(dir, name));
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, name, `${i}.png`), await png('circle', i));
  }
  const r = cli('data', '--data', dir);
  assertUsageError(r, /bad\\u001b\[31m\\u000aname/);
  assert.ok(!r.stderr.includes('\u001b'), 'no raw ESC on stderr');
  // Invisible marks that reorder or hide text are escaped too, and refused as class names: the Arabic
  // letter mark, the right-to-left mark, a zero-width space that makes 'ca t' read as 'cat'.
  for (const [mark, escaped] of [
    ['\u061c', '\\u061c'],
    ['\u200f', '\\u200f'],
    ['\u200b', '\\u200b'],
  ] as const) {
    const marked = tempDir();
    for (const name of ['dog', `ca${mark}t`]) {
      mkdirSync(join(marked, name));
      for (let i = 0; i < 3; i++) writeFileSync(join(marked, name, `${i}.png`), await png('circle', i));
    }
    const refused = cli('data', '--data', marked);
    assertUsageError(refused, new RegExp(`ca\\${escaped}t: cannot be a class name: class names cannot hold control, text-direction or invisible characters`));
    assert.ok(!refused.stderr.includes(mark), `no raw ${escaped} on stderr`);
  }
});

test('data says one image and one class in the singular', () => {
  const dir = writeLabelled([0, 1], [1]);
  const r = cli('data', '--data', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^test: 1 image; /m);
  writeFileSync(join(dir, 'classes.txt'), 'only\n');
  assertUsageError(cli('data', '--data', dir), /names 1 class but the labels go up to 1/);
});
