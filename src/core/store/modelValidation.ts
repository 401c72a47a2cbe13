// Model folders are untrusted input (people open models others send them), so everything is checked
// here before tfjs sees a byte: tfjs itself joins weightsManifest paths to the folder with no boundary
// check, and Keras-style configs have been used to smuggle code (CVE-2025-1550). Checks, in order:
// model.json's size and structure, weight paths confined to the folder (symlinks resolved), known dtypes,
// shapes made of small positive integers, byte counts that add up, class names on an allowlist, and the
// architecture: the seed's CNN for the model's spec (input H x W x C -> K classes). The spec comes from
// our metadata (checked against ModelSpecSchema) or, for a plain TF.js export, from the topology itself.
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { architectureOf } from '@shared/architecture';
import { digitClasses, ModelSpecSchema, type ModelSpec } from '@shared/modelSpec';
import { StudioFailure } from '@shared/errors';

export class ModelFileError extends StudioFailure {
  readonly code = 'bad-model';
}

export const MODEL_JSON_MAX = 1024 * 1024;
/** No single dimension of a weight may exceed this, nor a tensor hold more than MAX_ELEMENTS. */
const MAX_DIM = 1 << 16;
const MAX_ELEMENTS = 1 << 24;
const DTYPE_BYTES = { float32: 4 } as const;

/** Every class_name a saved Sequential CNN of ours (or a compatible TF.js export) may contain. */
const CLASS_NAMES = new Set([
  'Sequential',
  'Model',
  'Functional',
  'InputLayer',
  'Conv2D',
  'AveragePooling2D',
  'Flatten',
  'Dense',
  'VarianceScaling',
  'Zeros',
  'Ones',
  'Constant',
  'GlorotUniform',
  'GlorotNormal',
  'HeNormal',
  'HeUniform',
  'LeCunNormal',
  'LeCunUniform',
  'RandomNormal',
  'RandomUniform',
  'TruncatedNormal',
]);
const ACTIVATIONS = new Set(['relu', 'linear', 'softmax']);

const WeightSpec = z
  .object({
    name: z.string().max(256),
    shape: z.array(z.number().int().min(1).max(MAX_DIM)).max(8),
    dtype: z.enum(['float32'], { message: 'dtype must be float32' }),
  })
  .strict();

const ModelJson = z.object({
  format: z.literal('layers-model').optional(),
  generatedBy: z.string().max(256).optional(),
  convertedBy: z.string().max(256).nullable().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z
    .array(z.object({ paths: z.array(z.string().min(1).max(256)).min(1).max(64), weights: z.array(WeightSpec).max(64) }).strict())
    .min(1)
    .max(16),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
});
export type ModelJson = z.infer<typeof ModelJson>;

function fail(file: string, problem: string): never {
  throw new ModelFileError(`${file}: ${problem}`);
}

/** Parses JSON without letting keys like __proto__ reach any object we later spread or merge. */
export function parseJsonSafely(text: string, file: string): unknown {
  try {
    return JSON.parse(text, (key, value) => (key === '__proto__' || key === 'constructor' || key === 'prototype' ? undefined : value));
  } catch {
    return fail(file, 'not valid JSON');
  }
}

function checkTopology(topology: unknown, file: string): { input: number[]; units: number | undefined } {
  const walk = (node: unknown, depth: number): void => {
    if (depth > 32) fail(file, 'modelTopology is nested too deeply');
    if (Array.isArray(node)) return node.forEach((n) => walk(n, depth + 1));
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if ('class_name' in record && !(typeof record.class_name === 'string' && CLASS_NAMES.has(record.class_name))) {
      fail(file, `layer or object class ${JSON.stringify(record.class_name).slice(0, 60)} is not allowed`);
    }
    if ('activation' in record && !(typeof record.activation === 'string' && ACTIVATIONS.has(record.activation))) {
      fail(file, `activation ${JSON.stringify(record.activation).slice(0, 60)} is not allowed`);
    }
    for (const value of Object.values(record)) walk(value, depth + 1);
  };
  walk(topology, 0);
  // An H x W x C -> K classifier: the input shape the first layer declares, and K units at the end.
  const shape = /"batch_input_shape":\[null,(\d{1,3}),(\d{1,3}),(\d)\]/.exec(JSON.stringify(topology));
  if (!shape) fail(file, 'the model declares no H x W x C input shape');
  const layers = ((topology as { config?: { layers?: { class_name: string; config?: { units?: number } }[] } }).config?.layers ?? []).filter(
    (l) => l.class_name === 'Dense',
  );
  const units = layers.at(-1)?.config?.units;
  return { input: shape.slice(1).map(Number), units: typeof units === 'number' ? units : undefined };
}

/** The model's spec: ours from the metadata, else read off the topology (plain exports: classes named by number). */
function specOf(json: ModelJson, topology: { input: number[]; units: number | undefined }, file: string): ModelSpec {
  const stored = (json.userDefinedMetadata?.mnistStudio as { spec?: unknown } | undefined)?.spec;
  const [height, width, channels] = topology.input as [number, number, number];
  const raw = stored ?? { height, width, channels, mode: 'drawing', classes: digitClasses(topology.units ?? 0) };
  const parsed = ModelSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(file, `the model's spec is not one this app can train (${issue.path.join('.') || 'spec'}: ${issue.message})`);
  }
  const spec = parsed.data;
  if (spec.height !== height || spec.width !== width || spec.channels !== channels) {
    fail(file, `the model takes ${height}x${width}x${channels} images but its spec says ${spec.height}x${spec.width}x${spec.channels}`);
  }
  if (topology.units !== spec.classes.length) fail(file, `the model ends in ${topology.units ?? 'no'} units but names ${spec.classes.length} classes`);
  return spec;
}

/** The weight files of a manifest, each confined to the folder (after resolving symlinks) and sized. */
function weightFiles(dir: string, json: ModelJson, jsonFile: string): { file: string; size: number }[] {
  const root = realpathSync(dir);
  return json.weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      if (isAbsolute(path) || path.includes('\\') || path.includes('\0') || path.split('/').some((part) => part === '..' || part === '.' || part === '')) {
        fail(jsonFile, `weight path ${JSON.stringify(path)} leaves the model folder`);
      }
      const file = join(dir, path);
      let real: string;
      try {
        lstatSync(file);
        real = realpathSync(file);
      } catch {
        return fail(file, 'not found');
      }
      const rel = relative(root, real);
      if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep)[0] === '..')
        fail(jsonFile, `weight path ${JSON.stringify(path)} resolves outside the model folder`);
      const stat = statSync(real);
      if (!stat.isFile()) fail(file, 'not a regular file');
      return { file: real, size: stat.size };
    }),
  );
}

export interface ValidatedModel {
  json: ModelJson;
  spec: ModelSpec;
  files: { file: string; size: number }[];
}

/** Validates model.json and its weight files' metadata; reads no weight bytes. */
export function validateModelFolder(dir: string, text: string, jsonFile: string): ValidatedModel {
  const parsed = ModelJson.safeParse(parseJsonSafely(text, jsonFile));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail(jsonFile, `not a TF.js layers model (${issue.path.join('.') || 'top level'}: ${issue.message})`);
  }
  const json = parsed.data;
  const spec = specOf(json, checkTopology(json.modelTopology, jsonFile), jsonFile);
  const { params, paramCount } = architectureOf(spec);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  for (const spec of specs) {
    const elements = spec.shape.reduce((a, b) => a * b, 1);
    if (elements > MAX_ELEMENTS) fail(jsonFile, `weight ${spec.name} declares ${elements} elements, more than ${MAX_ELEMENTS}`);
  }
  const expected = params.map((p) => p.shape.join('x')).join(',');
  const found = specs.map((s) => s.shape.join('x')).join(',');
  if (found !== expected) fail(jsonFile, `weights ${found || 'none'} are not the Flax Quick Start CNN's ${expected}`);
  const declared = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * DTYPE_BYTES[s.dtype], 0);
  const files = weightFiles(dir, json, jsonFile);
  const actual = files.reduce((a, f) => a + f.size, 0);
  if (declared !== paramCount * 4 || actual !== declared) fail(jsonFile, `weight files hold ${actual} bytes, the manifest declares ${declared}`);
  return { json, spec, files };
}
