// Saves and opens models in the TF.js Layers format (model.json + weights.bin) with the run's
// history.json beside them. A save is written to a temporary folder and renamed into place, so an
// interrupted save never leaves a half-written model where a whole one was.
import { tf } from '../backend/tfjs';
import * as tfl from '@tensorflow/tfjs-layers';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { History } from '../../../shared/contract';
import { PARAMS, PARAM_COUNT } from '../model/architecture';
import { buildLayersModel, getFlatWeights, setFlatWeights } from '../model/layersModel';

export class ModelFileError extends Error {
  readonly code = 'bad-model';
}

const MODEL_JSON_MAX = 1024 * 1024;

function writeSynced(file: string, data: string | Uint8Array): void {
  writeFileSync(file, data);
  const fd = openSync(file, 'r');
  fsyncSync(fd);
  closeSync(fd);
}

export async function saveModel(dir: string, params: Float32Array, history?: History): Promise<string> {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.saving-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const model = buildLayersModel();
  try {
    setFlatWeights(model, params);
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
        writeSynced(join(staging, 'weights.bin'), weights);
        const modelJson = {
          format: 'layers-model',
          generatedBy: 'MNIST Studio',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        };
        writeSynced(join(staging, 'model.json'), JSON.stringify(modelJson));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  } finally {
    model.dispose();
  }
  if (history) writeSynced(join(staging, 'history.json'), JSON.stringify(history, null, 2));
  // Swap the finished folder in; the old one is removed only once the new one is in place.
  const old = `${staging}.old`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(staging, target);
  rmSync(old, { recursive: true, force: true });
  return target;
}

export interface OpenedModel {
  params: Float32Array;
  history?: History;
}

export async function openModel(dir: string): Promise<OpenedModel> {
  const jsonFile = join(dir, 'model.json');
  if (!existsSync(jsonFile)) throw new ModelFileError(`${jsonFile}: not found`);
  if (statSync(jsonFile).size > MODEL_JSON_MAX) throw new ModelFileError(`${jsonFile}: larger than ${MODEL_JSON_MAX} bytes`);
  let json: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch {
    throw new ModelFileError(`${jsonFile}: not valid JSON`);
  }
  const manifest = json.weightsManifest;
  if (!json.modelTopology || !Array.isArray(manifest) || manifest.length === 0) throw new ModelFileError(`${jsonFile}: not a TF.js layers model`);
  const specs = manifest.flatMap((g) => g.weights ?? []);
  const buffers: Uint8Array[] = [];
  for (const group of manifest) {
    for (const path of group.paths ?? []) {
      const file = resolve(dir, path);
      if (dirname(file) !== resolve(dir)) throw new ModelFileError(`${jsonFile}: weight path ${JSON.stringify(path)} leaves the model folder`);
      if (!existsSync(file)) throw new ModelFileError(`${file}: not found`);
      buffers.push(readFileSync(file));
    }
  }
  const expected = PARAMS.map((p) => p.shape.join('x')).join(',');
  const found = specs.map((s) => (s.shape ?? []).join('x')).join(',');
  if (found !== expected || specs.some((s) => s.dtype !== 'float32')) {
    throw new ModelFileError(`${jsonFile}: weights ${found || 'none'} are not the seed CNN's ${expected}`);
  }
  const total = buffers.reduce((a, b) => a + b.length, 0);
  if (total !== PARAM_COUNT * 4) throw new ModelFileError(`${jsonFile}: weight files hold ${total} bytes, expected ${PARAM_COUNT * 4}`);
  const weightData = new Uint8Array(total);
  buffers.reduce((offset, b) => (weightData.set(b, offset), offset + b.length), 0);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }));
  } catch (error) {
    throw new ModelFileError(`${jsonFile}: ${(error as Error).message.split('\n')[0]}`);
  }
  const params = getFlatWeights(model, PARAM_COUNT);
  model.dispose();
  if (params.some((v) => !Number.isFinite(v))) throw new ModelFileError(`${jsonFile}: weights contain NaN or infinity`);
  const historyFile = join(dir, 'history.json');
  let history: History | undefined;
  if (existsSync(historyFile)) {
    try {
      history = JSON.parse(readFileSync(historyFile, 'utf8')) as History;
    } catch {
      throw new ModelFileError(`${historyFile}: not valid JSON`);
    }
  }
  return { params, history };
}
