// Saving and opening models in the TF.js Layers format, on real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openModel, saveModel, ModelFileError } from '../src/main/core/store/modelStore';
import { initialParams } from '../src/main/core/model/init';
import { SEED_RECIPE, type History } from '../src/shared/contract';
import { tempDir } from './helpers';

const history: History = {
  config: SEED_RECIPE,
  backend: 'wasm',
  epochs: [{ epoch: 1, train: { loss: 0.2, accuracy: 0.95 }, test: { loss: 0.1, accuracy: 0.97, count: 10000 }, examplesPerSecond: 1500, seconds: 40 }],
};

test('a saved model opens with the same weights and history, in the TF.js Layers format', async () => {
  const dir = join(tempDir(), 'm');
  const params = initialParams(11);
  await saveModel(dir, params, history);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.equal(json.modelTopology.class_name, 'Sequential');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  const opened = await openModel(dir);
  assert.deepEqual(opened.params, params);
  assert.deepEqual(opened.history, history);
});

test('saving over a model replaces it whole and leaves no staging folders behind', async () => {
  const root = tempDir();
  const dir = join(root, 'm');
  await saveModel(dir, initialParams(1), history);
  const second = initialParams(2);
  await saveModel(dir, second);
  assert.deepEqual((await openModel(dir)).params, second);
  assert.deepEqual(readdirSync(root), ['m']);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
});

test('broken model folders are refused with the file and the problem named', async () => {
  const dir = join(tempDir(), 'm');
  await saveModel(dir, initialParams(1));
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const cases: [string, () => void, RegExp][] = [
    ['truncated weights', () => writeFileSync(join(dir, 'weights.bin'), readFileSync(join(dir, 'weights.bin')).subarray(0, 1000)), /weight files hold 1000 bytes/],
    ['a path out of the folder', () => writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], paths: ['../weights.bin'] }] })), /leaves the model folder/],
    ['not JSON', () => writeFileSync(join(dir, 'model.json'), '{nope'), /not valid JSON/],
    ['another architecture', () => writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...json, weightsManifest: [{ ...json.weightsManifest[0], weights: json.weightsManifest[0].weights.slice(2) }] })), /are not the seed CNN's/],
  ];
  for (const [what, breakIt, message] of cases) {
    await saveModel(dir, initialParams(1));
    breakIt();
    await assert.rejects(openModel(dir), (e: unknown) => e instanceof ModelFileError && message.test(e.message), what);
  }
  await saveModel(dir, initialParams(1));
  const nan = new Float32Array(readFileSync(join(dir, 'weights.bin')).buffer.slice(0));
  nan[5] = NaN;
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(nan.buffer));
  await assert.rejects(openModel(dir), /NaN or infinity/);
});
