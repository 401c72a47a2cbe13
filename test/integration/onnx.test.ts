// ONNX export, verified by a real runtime: models trained by the real CLI are exported, run in ONNX Runtime
// (onnxruntime-node) and compared with the app's own logits (the tfjs model the app saves and opens);
// ONNX's own checker reads the files where Python's onnx is installed. Refusals leave no file behind.
import { assertUsageError, runCli } from '../support/cli';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { tf } from '@core/backend/tfjs';
import { buildLayersModel, setFlatWeights } from '@core/model/layersModel';
import { openModel } from '@core/store/modelStore';
import { openDataset } from '@core/dataset/openDataset';
import onnxProto from 'onnx-proto';
import { META, specOfOnnx } from '@core/export/onnx';
import { exportOnnxFile } from '@core/export/exportFile';
import { writeOutput } from '@core/store/outputFile';
import type { ModelSpec } from '@shared/modelSpec';
import { StudioService } from '@core/service/studioService';
import { mnist, tempDir } from '../support/helpers';

const cli = (...args: string[]) => runCli(args, { timeoutMs: 300_000 });

/** The app's own logits: the saved model opened as the app opens it, run by tfjs. */
async function appLogits(dir: string, images: Float32Array, spec: ModelSpec): Promise<Float32Array> {
  const { params } = await openModel(dir);
  const model = buildLayersModel(spec);
  try {
    setFlatWeights(model, params, spec);
    const input = tf.tensor(images, [images.length / (spec.height * spec.width * spec.channels), spec.height, spec.width, spec.channels]);
    const output = model.predict(input) as tf.Tensor;
    const logits = output.dataSync() as Float32Array;
    tf.dispose([input, output]);
    return logits;
  } finally {
    model.dispose();
  }
}

const argmax = (row: Float32Array): number => row.indexOf(Math.max(...row));

/** Exports `dir` through the CLI and checks ONNX Runtime against the app on `images` (bytes, as the app preprocesses them). */
async function assertSameAsApp(dir: string, images: Uint8Array, spec: ModelSpec): Promise<string> {
  const file = join(tempDir(), 'model.onnx');
  const r = cli('export', dir, '--format', 'onnx', '--out', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).file, file);
  const bytes = readFileSync(file);
  assert.deepEqual(specOfOnnx(bytes), spec, 'the spec travels in the metadata');
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual([session.inputNames, session.outputNames], [['image'], ['logits']]);
  const floats = Float32Array.from(images, (v) => v / 255);
  const n = floats.length / (spec.height * spec.width * spec.channels);
  const k = spec.classes.length;
  const input = new ort.Tensor('float32', floats, [n, spec.height, spec.width, spec.channels]);
  const output = (await session.run({ image: input })).logits!;
  assert.deepEqual(output.dims, [n, k]);
  const theirs = output.data as Float32Array;
  const ours = await appLogits(dir, floats, spec);
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!));
  assert.ok(worst < 1e-4, `ONNX Runtime's logits differ from the app's by up to ${worst}`);
  for (let i = 0; i < n; i++) assert.equal(argmax(theirs.subarray(i * k, (i + 1) * k)), argmax(ours.subarray(i * k, (i + 1) * k)), `image ${i}`);
  // The batch is dynamic: one image alone gives the same row.
  const one = (await session.run({ image: new ort.Tensor('float32', floats.subarray(0, floats.length / n), [1, spec.height, spec.width, spec.channels]) }))
    .logits!;
  assert.deepEqual(Array.from(one.data as Float32Array), Array.from(theirs.subarray(0, k)));
  await session.release();
  return file;
}

/** ONNX's own checker (Debian's python3-onnx: the system Python, which another python3 on the PATH may hide), or why it cannot run here. */
function onnxChecker(): ((file: string) => void) | string {
  const problems: string[] = [];
  for (const python of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(python, ['-c', 'import onnx'], { encoding: 'utf8' });
    if (probe.status === 0) {
      return (file) => {
        const r = spawnSync(python, ['-c', 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { encoding: 'utf8' });
        assert.equal(r.status, 0, `onnx.checker refuses ${file}: ${r.stderr}`);
      };
    }
    problems.push(`${python}: ${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}`);
  }
  return `no python3 with onnx here (${problems.join('; ')})`;
}
const checker = onnxChecker();
const exported: string[] = [];

const MNIST_TEST = 1000;
const mnistModel = join(tempDir(), 'mnist-model');

test("the bundled MNIST model after a short run: ONNX Runtime gives the app's logits on 1,000 test images", async () => {
  const r = cli('train', '--epochs', '1', '--train-limit', '2000', '--test-limit', String(MNIST_TEST), '--backend', 'wasm', '--out', mnistModel);
  assert.equal(r.code, 0, r.stderr);
  const d = mnist();
  exported.push(await assertSameAsApp(mnistModel, d.test.images.subarray(0, MNIST_TEST * 784), (await openModel(mnistModel)).spec));
});

/** A folder of 5 classes of 16x16 colour pictures, each class its own tint over noise: train/<class>/* and test/<class>/*. */
async function colourFolder(train: number, test: number): Promise<string> {
  const root = join(tempDir(), 'colours');
  const tints = [
    [220, 40, 40],
    [40, 200, 60],
    [50, 70, 230],
    [230, 210, 40],
    [160, 60, 200],
  ];
  for (const [split, count] of [
    ['train', train],
    ['test', test],
  ] as const)
    for (const [c, tint] of tints.entries()) {
      const folder = join(root, split, `class-${c}`);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < count; i++) {
        const data = Buffer.alloc(16 * 16 * 3);
        for (let p = 0; p < data.length; p++) data[p] = Math.max(0, Math.min(255, tint[p % 3]! + (((p * 7919 + i * 104729 + c) % 97) - 48)));
        writeFileSync(
          join(folder, `${i}.png`),
          await sharp(data, { raw: { width: 16, height: 16, channels: 3 } })
            .png()
            .toBuffer(),
        );
      }
    }
  return root;
}

test("a 3-channel, 5-class folder model: ONNX Runtime gives the app's logits on 1,000 test images", async () => {
  const data = await colourFolder(12, 200);
  const dir = join(tempDir(), 'colour-model');
  const r = cli('train', '--data', data, '--input', '16x16x3', '--mode', 'photo', '--epochs', '1', '--batch-size', '8', '--backend', 'wasm', '--out', dir);
  assert.equal(r.code, 0, r.stderr);
  // The test images as the app preprocesses them.
  const dataset = await openDataset({ dir: data, input: { height: 16, width: 16, channels: 3 }, mode: 'photo' });
  assert.equal(dataset.test.count, 1000);
  const spec = (await openModel(dir)).spec;
  assert.deepEqual([spec.channels, spec.classes.length], [3, 5]);
  exported.push(await assertSameAsApp(dir, dataset.test.images, spec));
});

test("ONNX's checker accepts the exported files", (t) => {
  if (typeof checker === 'string') return void t.skip(checker);
  assert.equal(exported.length, 2, 'both models were exported');
  for (const file of exported) checker(file);
});

test('predict --model FILE.onnx classifies as predict with the model folder does', async () => {
  const images = tempDir();
  const d = mnist();
  for (let i = 0; i < 4; i++) {
    const png = await sharp(Buffer.from(d.test.images.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer();
    writeFileSync(join(images, `digit-${i}.png`), png);
  }
  const onnxFile = exported[0] ?? assert.fail('the MNIST model was exported');
  const viaOnnx = cli('predict', '--model', onnxFile, '--json', images);
  const viaFolder = cli('predict', '--model', mnistModel, '--json', images);
  assert.equal(viaOnnx.code, 0, viaOnnx.stderr);
  assert.equal(viaFolder.code, 0, viaFolder.stderr);
  const [a, b] = [viaOnnx, viaFolder].map((r) =>
    r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line)),
  );
  assert.equal(a!.length, 4);
  for (const [i, row] of a!.entries()) {
    assert.equal(row.class, b![i].class);
    row.probabilities.forEach((p: number, k: number) => assert.ok(Math.abs(p - b![i].probabilities[k]) < 1e-4));
  }
  assertUsageError(cli('predict', '--model', join(images, 'digit-0.png.onnx'), images), /not found/);
  writeFileSync(join(images, 'fake.onnx'), 'not a protobuf at all');
  assertUsageError(
    cli('predict', '--model', join(images, 'fake.onnx'), join(images, 'digit-0.png')),
    /fake\.onnx: not (an ONNX model|exported by MNIST Studio)/,
  );
  // A graph that does not take or give what its metadata says is refused at load, naming the file.
  const altered = (name: string, change: (m: onnxProto.onnx.ModelProto, spec: Record<string, unknown>) => void): string => {
    const model = onnxProto.onnx.ModelProto.decode(readFileSync(onnxFile));
    const entry = model.metadataProps.find((p) => p.key === META.spec)!;
    const spec = JSON.parse(entry.value!);
    change(model, spec);
    entry.value = JSON.stringify(spec);
    const file = join(images, name);
    writeFileSync(file, onnxProto.onnx.ModelProto.encode(model).finish());
    return file;
  };
  const digit = join(images, 'digit-0.png');
  const threeClasses = altered('three.onnx', (_, spec) => void (spec.classes = ['a', 'b', 'c']));
  assertUsageError(cli('predict', '--model', threeClasses, digit), /three\.onnx: its output is \[N, 10\], but its metadata names 3 classes/);
  const taller = altered('taller.onnx', (_, spec) => void (spec.height = 32));
  assertUsageError(cli('predict', '--model', taller, digit), /taller\.onnx: its input is \[N, 28, 28, 1\], but its metadata says \[N, 32, 28, 1\]/);
  const renamed = altered('renamed.onnx', (model) => {
    model.graph!.input![0]!.name = 'input_1';
    for (const n of model.graph!.node!) n.input = n.input!.map((i) => (i === 'image' ? 'input_1' : i));
  });
  assertUsageError(cli('predict', '--model', renamed, digit), /renamed\.onnx: its inputs are 'input_1', not 'image'/);
});

/** Nothing under `name`, and no staging file beside it. */
function assertNothingLeft(folder: string, name: string): void {
  assert.equal(existsSync(join(folder, name)), false, `${name} was left in ${folder}`);
  assert.deepEqual(
    readdirSync(folder).filter((f) => f.endsWith('.tmp')),
    [],
    'no staging file is left',
  );
}

test('export refuses what it cannot honour in one line and leaves no file', () => {
  const out = tempDir();
  // A folder that fails validation.
  const bad = join(tempDir(), 'bad-model');
  mkdirSync(bad);
  writeFileSync(join(bad, 'model.json'), '{"modelTopology": {}, "weightsManifest": []}');
  assertUsageError(cli('export', bad, '--out', join(out, 'bad.onnx')), /bad-model.*not a TF\.js layers model/);
  assertNothingLeft(out, 'bad.onnx');
  assertUsageError(cli('export', join(out, 'absent'), '--out', join(out, 'absent.onnx')), /absent: no such folder/);
  // Inside the model folder, also by way of a link to it.
  assertUsageError(cli('export', mnistModel, '--out', join(mnistModel, 'model.onnx')), /inside the model folder/);
  assertNothingLeft(mnistModel, 'model.onnx');
  // A folder where the file was asked for, and a folder that does not exist.
  assertUsageError(cli('export', mnistModel, '--out', out), /is a folder: give the file/);
  assertUsageError(cli('export', mnistModel, '--out', join(out, 'missing', 'm.onnx')), /missing: no such folder/);
  // An unwritable place: a read-only folder (root may write there regardless: then /proc, which takes no new files).
  const locked = join(tempDir(), 'locked');
  mkdirSync(locked);
  chmodSync(locked, 0o500);
  const place = process.getuid?.() === 0 ? '/proc/self' : locked;
  assertUsageError(cli('export', mnistModel, '--out', join(place, 'm.onnx')), /m\.onnx: cannot be written/);
  assertNothingLeft(locked, 'm.onnx');
  assertUsageError(cli('export', mnistModel, '--format', 'tflite', '--out', join(out, 'm.tflite')), /tflite/);
});

test("export replaces only a regular, writable .onnx file, and never in the app's own folders", () => {
  const out = tempDir();
  const kept = (file: string, content: string) => assert.equal(readFileSync(file, 'utf8'), content, `${file} was replaced`);
  // Another model's files, and any file in a saved model's folder or the run log's.
  const other = join(tempDir(), 'other-model');
  mkdirSync(other);
  writeFileSync(join(other, 'model.json'), '{"mine": true}');
  assertUsageError(cli('export', mnistModel, '--out', join(other, 'model.json')), /must end in \.onnx/);
  kept(join(other, 'model.json'), '{"mine": true}');
  assertUsageError(cli('export', mnistModel, '--out', join(other, 'other.onnx')), /holds a saved model/);
  assertNothingLeft(other, 'other.onnx');
  const runLog = join(process.env.MNIST_STUDIO_HOME!, 'runlog');
  mkdirSync(runLog, { recursive: true });
  writeFileSync(join(runLog, 'run_x.json'), '{}');
  assertUsageError(cli('export', mnistModel, '--out', join(runLog, 'run_x.json')), /must end in \.onnx/);
  kept(join(runLog, 'run_x.json'), '{}');
  assertUsageError(cli('export', mnistModel, '--out', join(runLog, 'run.onnx')), /run log folder/);
  assertNothingLeft(runLog, 'run.onnx');
  // A read-only file, a FIFO, a device, a link: each stays as it is.
  writeFileSync(join(out, 'locked.onnx'), 'old');
  chmodSync(join(out, 'locked.onnx'), 0o444);
  assertUsageError(cli('export', mnistModel, '--out', join(out, 'locked.onnx')), /locked\.onnx: the file there is read-only/);
  kept(join(out, 'locked.onnx'), 'old');
  assert.equal(statSync(join(out, 'locked.onnx')).mode & 0o777, 0o444);
  assert.equal(spawnSync('mkfifo', [join(out, 'fifo.onnx')]).status, 0);
  assertUsageError(cli('export', mnistModel, '--out', join(out, 'fifo.onnx')), /fifo\.onnx: a FIFO is in the way/);
  assert.ok(lstatSync(join(out, 'fifo.onnx')).isFIFO());
  if (process.getuid?.() === 0) {
    assert.equal(spawnSync('mknod', [join(out, 'null.onnx'), 'c', '1', '3']).status, 0);
    assertUsageError(cli('export', mnistModel, '--out', join(out, 'null.onnx')), /null\.onnx: a device is in the way/);
    assert.ok(lstatSync(join(out, 'null.onnx')).isCharacterDevice());
  }
  writeFileSync(join(out, 'real.onnx'), 'old');
  symlinkSync(join(out, 'real.onnx'), join(out, 'link.onnx'));
  assertUsageError(cli('export', mnistModel, '--out', join(out, 'link.onnx')), /link\.onnx: a symbolic link is in the way/);
  assert.ok(lstatSync(join(out, 'link.onnx')).isSymbolicLink());
  kept(join(out, 'real.onnx'), 'old');
  // A trailing slash asks for a folder; a name too long for the file system is refused in words.
  assertUsageError(cli('export', mnistModel, '--out', `${join(out, 'slash.onnx')}/`), /is a folder: give the file/);
  assertNothingLeft(out, 'slash.onnx');
  assertUsageError(cli('export', mnistModel, '--out', join(out, `${'n'.repeat(300)}.onnx`)), /the name is too long/);
  // A regular, writable .onnx file (any case) is replaced.
  writeFileSync(join(out, 'OLD.ONNX'), 'old');
  const replaced = cli('export', mnistModel, '--out', join(out, 'OLD.ONNX'));
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(typeof specOfOnnx(readFileSync(join(out, 'OLD.ONNX'))), 'object');
});

test('the target is checked again once the bytes exist: a folder swapped for a link to the model meanwhile is refused', async () => {
  const model = join(tempDir(), 'model');
  mkdirSync(model);
  writeFileSync(join(model, 'model.json'), '{}');
  const parent = tempDir();
  const place = join(parent, 'place');
  mkdirSync(place);
  // The worker's second: the folder asked for becomes a link into the model's folder.
  const trainer = {
    request: async () => {
      renameSync(place, join(parent, 'moved'));
      symlinkSync(model, place);
      return { onnx: new Uint8Array(100) };
    },
  } as unknown as Parameters<typeof exportOnnxFile>[0];
  await assert.rejects(exportOnnxFile(trainer, { dir: model, out: join(place, 'm.onnx') }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'bad-request');
    assert.match(e.message, /inside the model folder/);
    return true;
  });
  assert.deepEqual(readdirSync(model), ['model.json']);
});

test('a write that fails at the last step leaves no staging file behind', () => {
  const folder = tempDir();
  // A non-empty folder under the name asked for: the staged file cannot be renamed over it.
  mkdirSync(join(folder, 'model.onnx'));
  writeFileSync(join(folder, 'model.onnx', 'keep'), 'x');
  assert.throws(() => writeOutput(join(folder, 'model.onnx'), new Uint8Array(1000)), /model\.onnx: cannot be written/);
  assert.deepEqual(readdirSync(folder), ['model.onnx']);
});

test('exportModel: the model in hand or a saved one, to a path, through the dialog, or as bytes to download', async () => {
  const pages = new StudioService({ home: tempDir() });
  const picked: string[] = [];
  const target = join(tempDir(), 'picked.onnx');
  const desktop = new StudioService({ home: tempDir(), pickExportFile: async (name) => (picked.push(name), target) });
  try {
    const none = await pages.dispatch('exportModel', {});
    assert.deepEqual(none, { ok: false, error: { code: 'no-model', message: 'no model: train or open one first' } });
    // A saved model, with no dialog: its bytes come back to be downloaded.
    const bytes = await pages.dispatch('exportModel', { dir: mnistModel });
    assert.ok(bytes.ok, JSON.stringify(bytes));
    const { name, data } = bytes.value as { name: string; data: string };
    assert.equal(name, 'mnist-model.onnx');
    const exportedSpec = specOfOnnx(Buffer.from(data, 'base64'));
    assert.equal(typeof exportedSpec, 'object');
    // The model in hand, to a path; never into its own folder.
    assert.ok((await pages.dispatch('openModel', { dir: mnistModel })).ok);
    const out = join(tempDir(), 'in-hand.onnx');
    assert.deepEqual(await pages.dispatch('exportModel', { out }), { ok: true, value: { file: out } });
    assert.deepEqual(readFileSync(out), Buffer.from(data, 'base64'), 'the same weights give the same file');
    const inside = await pages.dispatch('exportModel', { out: join(mnistModel, 'm.onnx') });
    assert.equal(inside.ok ? 'ok' : inside.error.code, 'bad-request');
    assert.match(inside.ok ? '' : inside.error.message, /inside the model folder/);
    assert.match(JSON.stringify(await pages.dispatch('exportModel', { out: 'relative.onnx' })), /give the full path/);
    // The API keeps the export's rules: a trailing slash, a read-only file, a name too long.
    const refusal = async (asked: string) => {
      const r = await pages.dispatch('exportModel', { dir: mnistModel, out: asked });
      return r.ok ? 'written' : `${r.error.code}: ${r.error.message}`;
    };
    assert.match(await refusal(`${out}/`), /^bad-request: .* is a folder/);
    chmodSync(out, 0o444);
    assert.match(await refusal(out), /^bad-request: .*read-only/);
    assert.match(await refusal(join(tempDir(), `${'n'.repeat(300)}.onnx`)), /^bad-request: .*the name is too long/);
    assert.match(JSON.stringify(await pages.dispatch('exportModel', { dir: mnistModel, extra: 1 })), /bad-request/);
    // Electron asks with its save dialog, suggesting the model's name.
    assert.deepEqual(await desktop.dispatch('exportModel', { dir: mnistModel }), { ok: true, value: { file: target } });
    assert.deepEqual(picked, ['mnist-model.onnx']);
    assert.deepEqual(readFileSync(target), readFileSync(out));
  } finally {
    await Promise.all([pages.close(), desktop.close()]);
  }
});
