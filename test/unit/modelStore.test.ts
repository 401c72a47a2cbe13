// Saving and opening models on real files, and a corpus of broken and hostile model folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, symlinkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openModel, saveModel, ModelFileError } from '@core/store/modelStore';
import { parseJsonSafely } from '@core/store/modelValidation';
import { initialParams } from '@core/model/init';
import { SEED_RECIPE, type History } from '@shared/training';
import { ModelNameSchema } from '@shared/apiSchemas';
import { tempDir } from '../support/helpers';
import type { ModelSpec } from '@shared/modelSpec';

const history: History = {
  config: SEED_RECIPE,
  backend: 'wasm',
  epochs: [{ epoch: 1, train: { loss: 0.2, accuracy: 0.95 }, test: { loss: 0.1, accuracy: 0.97, count: 10000 }, examplesPerSecond: 1500, seconds: 40 }],
};

const weightsFile = (dir: string): string => readdirSync(dir).find((n) => n.endsWith('.bin'))!;

test('a saved model opens with the same weights and history, in the TF.js Layers format', async () => {
  const dir = join(tempDir(), 'm');
  const params = initialParams(11);
  await saveModel(dir, params, history);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.equal(json.modelTopology.class_name, 'Sequential');
  assert.deepEqual(json.weightsManifest[0].paths, [weightsFile(dir)]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')), history);
  const opened = await openModel(dir);
  assert.deepEqual(opened.params, params);
  assert.deepEqual(opened.history, history);
});

test('saving over a model replaces it whole and leaves nothing else behind', async () => {
  const root = tempDir();
  const dir = join(root, 'm');
  await saveModel(dir, initialParams(1), history);
  const second = initialParams(2);
  await saveModel(dir, second);
  assert.deepEqual((await openModel(dir)).params, second);
  assert.deepEqual(readdirSync(root), ['m']);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', weightsFile(dir)].sort());
});

/** Saves a good model, lets `breakIt` damage it, and expects openModel to refuse with `message`. */
async function refused(breakIt: (dir: string, json: Record<string, any>) => void, message: RegExp): Promise<void> {
  const dir = join(tempDir(), 'm');
  await saveModel(dir, initialParams(1), history);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  breakIt(dir, json);
  await assert.rejects(openModel(dir), (e: unknown) => e instanceof ModelFileError && message.test(e.message) && e.message.includes(dir));
}

const rewrite = (dir: string, json: unknown): void => writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
const manifest = (json: Record<string, any>, change: Record<string, unknown>) => ({ ...json, weightsManifest: [{ ...json.weightsManifest[0], ...change }] });
const layers = (json: Record<string, any>) => json.modelTopology.config.layers as Record<string, any>[];

const corpus: [string, (dir: string, json: Record<string, any>) => void, RegExp][] = [
  ['no model.json', (dir) => rmSync(join(dir, 'model.json')), /not a saved model \(no model\.json\)/],
  ['model.json that is not JSON', (dir) => writeFileSync(join(dir, 'model.json'), '{nope'), /not valid JSON/],
  ['an oversized model.json', (dir) => writeFileSync(join(dir, 'model.json'), ' '.repeat(2 * 1024 * 1024)), /model\.json: larger than 1 MB/],
  ['a model.json without a manifest', (dir, json) => rewrite(dir, { ...json, weightsManifest: undefined }), /not a TF\.js layers model \(weightsManifest/],
  [
    'truncated weights',
    (dir) => writeFileSync(join(dir, weightsFile(dir)), readFileSync(join(dir, weightsFile(dir))).subarray(0, 1000)),
    /weight files hold 1000 bytes/,
  ],
  ['a weight path with ..', (dir, json) => rewrite(dir, manifest(json, { paths: ['../weights.bin'] })), /leaves the model folder/],
  ['an absolute weight path', (dir, json) => rewrite(dir, manifest(json, { paths: ['/etc/passwd'] })), /leaves the model folder/],
  [
    'a weight file that is a symlink out of the folder',
    (dir, json) => {
      const outside = join(tempDir(), 'secret.bin');
      writeFileSync(outside, readFileSync(join(dir, weightsFile(dir))));
      symlinkSync(outside, join(dir, 'link.bin'));
      rewrite(dir, manifest(json, { paths: ['link.bin'] }));
    },
    /resolves outside the model folder/,
  ],
  [
    'a weight path that is a folder',
    (dir, json) => (mkdirSync(join(dir, 'sub.bin')), rewrite(dir, manifest(json, { paths: ['sub.bin'] }))),
    /not a regular file/,
  ],
  ['a missing weight file', (dir, json) => rewrite(dir, manifest(json, { paths: ['gone.bin'] })), /gone\.bin: not found/],
  [
    'an unknown dtype',
    (dir, json) => rewrite(dir, manifest(json, { weights: json.weightsManifest[0].weights.map((w: object) => ({ ...w, dtype: 'complex64' })) })),
    /dtype must be float32/,
  ],
  ['a negative dimension', (dir, json) => rewrite(dir, manifest(json, { weights: [{ name: 'k', shape: [-3, 3], dtype: 'float32' }] })), /shape/],
  ['a huge dimension', (dir, json) => rewrite(dir, manifest(json, { weights: [{ name: 'k', shape: [1e9, 1e9], dtype: 'float32' }] })), /shape/],
  [
    'another architecture',
    (dir, json) => rewrite(dir, manifest(json, { weights: json.weightsManifest[0].weights.slice(2) })),
    /are not the Flax Quick Start CNN's/,
  ],
  ['a Lambda layer (arbitrary code in Keras)', (dir, json) => ((layers(json)[1]!.class_name = 'Lambda'), rewrite(dir, json)), /class "Lambda" is not allowed/],
  [
    'an unknown initializer class',
    (dir, json) => ((layers(json)[0]!.config.kernel_initializer.class_name = 'os.system'), rewrite(dir, json)),
    /class "os\.system" is not allowed/,
  ],
  ['an unknown activation', (dir, json) => ((layers(json)[0]!.config.activation = 'eval'), rewrite(dir, json)), /activation "eval" is not allowed/],
  [
    'an input shape its spec does not have',
    (dir, json) => ((layers(json)[0]!.config.batch_input_shape = [null, 32, 32, 3]), rewrite(dir, json)),
    /takes 32x32x3 images but its spec says 28x28x1/,
  ],
  [
    'a number of classes its spec does not name',
    (dir, json) => ((layers(json).at(-1)!.config.units = 12), rewrite(dir, json)),
    /ends in 12 units but names 10 classes/,
  ],
  [
    'an input the network cannot take, in a plain export',
    (dir, json) => ((layers(json)[0]!.config.batch_input_shape = [null, 30, 30, 1]), rewrite(dir, { ...json, userDefinedMetadata: undefined })),
    /spec is not one this app can train \(height: must be a multiple of 4/,
  ],
  [
    'a spec naming a class twice',
    (dir, json) => ((json.userDefinedMetadata.mnistStudio.spec.classes[1] = '0'), rewrite(dir, json)),
    /class names must be unique/,
  ],
  [
    'weights that do not fit the spec',
    (dir, json) => (
      (json.userDefinedMetadata.mnistStudio.spec = { ...json.userDefinedMetadata.mnistStudio.spec, height: 32, width: 32 }),
      (layers(json)[0]!.config.batch_input_shape = [null, 32, 32, 1]),
      rewrite(dir, json)
    ),
    /are not the Flax Quick Start CNN's/,
  ],
  [
    'a malformed history',
    (dir, json) => rewrite(dir, { ...json, userDefinedMetadata: { mnistStudio: { history: { epochs: 'many' } } } }),
    /training history is malformed/,
  ],
  [
    'NaN weights',
    (dir) => {
      const file = join(dir, weightsFile(dir));
      const values = new Float32Array(readFileSync(file).buffer.slice(0));
      values[5] = NaN;
      writeFileSync(file, new Uint8Array(values.buffer));
    },
    /NaN or infinity/,
  ],
];

for (const [what, breakIt, message] of corpus) {
  test(`a model folder with ${what} is refused with a clear message`, () => refused(breakIt, message));
}

test('__proto__ keys in model.json are dropped at every depth, and the model still opens', async () => {
  const text = '{"__proto__":{"polluted":true},"a":{"constructor":{"prototype":{"x":1}},"b":[{"__proto__":{"y":2}}]}}';
  // Plain JSON.parse keeps "__proto__" as an own key, which a later spread or merge would act on.
  assert.ok(Object.hasOwn(JSON.parse(text), '__proto__'));
  const parsed = parseJsonSafely(text, 'model.json') as { a: { b: object[] } };
  assert.equal(Object.hasOwn(parsed, '__proto__'), false);
  assert.equal(Object.hasOwn(parsed.a, 'constructor'), false);
  assert.equal(Object.hasOwn(parsed.a.b[0]!, '__proto__'), false);
  const dir = join(tempDir(), 'm');
  await saveModel(dir, initialParams(1), history);
  writeFileSync(join(dir, 'model.json'), readFileSync(join(dir, 'model.json'), 'utf8').replace('{"format"', '{"__proto__":{"polluted":true},"format"'));
  assert.deepEqual((await openModel(dir)).params, initialParams(1));
});

test('save and open round-trip the spec and class names of a non-MNIST model', async () => {
  const spec: ModelSpec = { height: 32, width: 32, channels: 3, mode: 'photo', classes: ['cat', '<b>dog</b>', 'owl & co'] };
  const dir = join(tempDir(), 'rgb');
  const params = initialParams(4, spec);
  await saveModel(dir, params, history, spec);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.userDefinedMetadata.mnistStudio.spec, spec);
  assert.deepEqual(json.modelTopology.config.layers[0].config.batch_input_shape, [null, 32, 32, 3]);
  const opened = await openModel(dir);
  assert.deepEqual(opened.spec, spec);
  assert.deepEqual(opened.params, params);
  // A plain TF.js export of the same network (no metadata) opens too, its classes named by number.
  rewrite(dir, { ...json, userDefinedMetadata: undefined });
  assert.deepEqual((await openModel(dir)).spec, { height: 32, width: 32, channels: 3, mode: 'drawing', classes: ['0', '1', '2'] });
});

test('a model name refuses control and text-direction characters (newlines, ESC, right-to-left override)', () => {
  for (const name of ['a\nb', 'a\u001b[31mb', 'evil\u202egnp.exe', 'a\u0085b', 'tab\there']) {
    assert.equal(ModelNameSchema.safeParse(name).success, false, JSON.stringify(name));
  }
  assert.equal(ModelNameSchema.safeParse('my model é 2').success, true);
});
