// Saves and opens models in the TF.js Layers format (model.json + a .bin of weights), with the run's
// history embedded in model.json (userDefinedMetadata) and mirrored to history.json for people.
//
// Saving never exposes a half-written model. The weights go to a new, uniquely named file; model.json,
// which names that file, is then replaced in one atomic rename; only after that are older weight files
// removed. Whatever instant a save is killed at, model.json names a complete weights file: the folder
// holds exactly the old model or exactly the new one. (Renaming a whole staged folder over the old one
// cannot be done atomically on POSIX, where rename refuses a non-empty target.)
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { tf } from '../backend/tfjs';
import * as tfl from '@tensorflow/tfjs-layers';
import { HistorySchema, type History } from '@shared/training';
import { paramCountFor } from '@shared/architecture';
import { MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';
import { buildLayersModel, getFlatWeights, setFlatWeights } from '../model/layersModel';
import { ModelFileError, MODEL_JSON_MAX, parseJsonSafely, validateModelFolder } from './modelValidation';
import { makeFolders, readRegularFile, syncFolder, writeDurably, type MakeError } from './files';

export { ModelFileError };

const modelFileError: MakeError = (file, problem) => new ModelFileError(`${file}: ${problem}`);

/** The tfjs model.json and weight bytes for a flat parameter vector. */
async function artifactsOf(params: Float32Array, spec: ModelSpec): Promise<{ topology: object; specs: tf.io.WeightsManifestEntry[]; weights: Uint8Array }> {
  const model = buildLayersModel(spec);
  try {
    setFlatWeights(model, params, spec);
    let out: { topology: object; specs: tf.io.WeightsManifestEntry[]; weights: Uint8Array } | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        out = { topology: a.modelTopology as object, specs: a.weightSpecs!, weights: new Uint8Array(a.weightData as ArrayBuffer) };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    return out!;
  } finally {
    model.dispose();
  }
}

/** Saves weights of the seed's CNN for `spec`; the spec (input, mode, class names) travels in model.json. */
export async function saveModel(dir: string, params: Float32Array, history?: History, spec: ModelSpec = MNIST_SPEC): Promise<string> {
  const target = resolve(dir);
  const created = !existsSync(target);
  makeFolders(target, modelFileError);
  if (created) syncFolder(dirname(target));
  const { topology, specs, weights } = await artifactsOf(params, spec);
  const weightsName = `weights-${randomBytes(6).toString('hex')}.bin`;
  writeDurably(join(target, weightsName), weights);
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'MNIST Studio',
    modelTopology: topology,
    weightsManifest: [{ paths: [weightsName], weights: specs }],
    userDefinedMetadata: { mnistStudio: { spec, ...(history ? { history } : {}) } },
  };
  writeDurably(join(target, 'model.json'), JSON.stringify(modelJson));
  syncFolder(target);
  // Committed. Older weights and leftovers of interrupted saves can go now.
  for (const name of readdirSync(target)) {
    if ((/^weights-[0-9a-f]+\.bin$/.test(name) && name !== weightsName) || /^\.[0-9a-f]+\.tmp$/.test(name)) rmSync(join(target, name), { force: true });
  }
  if (history) writeDurably(join(target, 'history.json'), JSON.stringify(history, null, 2));
  else rmSync(join(target, 'history.json'), { force: true });
  return target;
}

export interface OpenedModel {
  params: Float32Array;
  spec: ModelSpec;
  history?: History;
}

export async function openModel(dir: string): Promise<OpenedModel> {
  const jsonFile = join(dir, 'model.json');
  if (!existsSync(dir)) throw new ModelFileError(`${dir}: no such folder`);
  if (!statSync(dir).isDirectory()) throw new ModelFileError(`${dir} is a file: a saved model is a folder holding model.json`);
  if (!existsSync(jsonFile)) throw new ModelFileError(`${dir}: this folder is not a saved model (no model.json)`);
  const { json, files, spec } = validateModelFolder(dir, readRegularFile(jsonFile, MODEL_JSON_MAX, modelFileError).toString('utf8'), jsonFile);
  const paramCount = paramCountFor(spec);
  const weightData = new Uint8Array(paramCount * 4);
  let offset = 0;
  for (const { file, size } of files) {
    const bytes = readRegularFile(file, size, modelFileError);
    if (bytes.length !== size || offset + bytes.length > weightData.length) throw new ModelFileError(`${file}: changed while it was read`);
    weightData.set(bytes, offset);
    offset += bytes.length;
  }
  const weights = new Float32Array(weightData.buffer);
  if (!weights.every(Number.isFinite)) throw new ModelFileError(`${jsonFile}: weights contain NaN or infinity`);
  let model: tfl.LayersModel;
  try {
    const specs = json.weightsManifest.flatMap((g) => g.weights);
    model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }));
  } catch (error) {
    throw new ModelFileError(`${jsonFile}: ${(error as Error).message.split('\n')[0]}`);
  }
  const params = getFlatWeights(model, paramCount);
  model.dispose();
  return { params, spec, history: readHistory(dir, json.userDefinedMetadata) };
}

function readHistory(dir: string, metadata: Record<string, unknown> | undefined): History | undefined {
  let raw = (metadata?.mnistStudio as { history?: unknown } | undefined)?.history;
  let file = join(dir, 'model.json');
  if (raw === undefined) {
    file = join(dir, 'history.json');
    if (!existsSync(file)) return undefined;
    raw = parseJsonSafely(readRegularFile(file, MODEL_JSON_MAX, modelFileError).toString('utf8'), file);
  }
  const parsed = HistorySchema.safeParse(raw);
  if (!parsed.success)
    throw new ModelFileError(`${file}: the training history is malformed (${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message})`);
  return parsed.data;
}
