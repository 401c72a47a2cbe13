// What augmentation costs and what it buys. (1) Speed: the trainer's own loop on the wasm and native engines (and
// webgpu through Dawn with --gpu, where Dawn finds an adapter), with and without augmentation, rounds
// interleaved so a busy machine slows both alike. (2) Accuracy: the seed recipe trained one epoch on all
// of MNIST with each strength, measured on MNIST's test set, on bench/predictStyles.ts's styles of MNIST
// test digits, and on scikit-learn's 8x8 handwritten digits (bench/sklearnDigits.py writes them as PNG
// files, scaled up, dark ink on white), every file read through the app's own image path (sharp's decode
// and the shared preprocessing, as `predict` and a dropped image take).
// Run: npx tsx bench/augment.ts [--steps 200] [--rounds 2] [--gpu] [--gpu-steps 20] [--strengths light,strong] [--count 500]
//      [--no-speed] [--no-accuracy] [--backend wasm]
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { TrainerClient } from '@core/trainer/client';
import { WasmEngine } from '@core/backend/wasmEngine';
import { NativeEngine, nativeKernels } from '@core/backend/nativeEngine';
import { findAdapter, requestDevice } from '@core/backend/webgpu/nodeDevice';
import { GpuEngine } from '@gpu/gpuEngine';
import { readIdxDataset } from '@core/dataset/dataset';
import { initialParams } from '@core/model/init';
import { createControl, train } from '@core/trainer/trainer';
import { Augmenter } from '@core/trainer/augment';
import { PARAM_COUNT } from '@shared/architecture';
import { AUGMENT_STRENGTHS, SEED_RECIPE, type AugmentStrength, type TrainConfig } from '@shared/training';
import type { Engine } from '@shared/engine';
import { decodeFile } from '../src/cli/predict';
import { STYLES, styledPng } from '../test/support/digitStyles';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '2' },
    gpu: { type: 'boolean', default: false },
    strengths: { type: 'string', default: 'light,strong' },
    count: { type: 'string', default: '500' },
    'gpu-steps': { type: 'string', default: '20' },
    'no-speed': { type: 'boolean', default: false },
    'no-accuracy': { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
  },
});
const strengths = ['none', ...values.strengths.split(',')] as AugmentStrength[];
if (strengths.some((s) => !AUGMENT_STRENGTHS.includes(s))) throw new Error(`--strengths: ${AUGMENT_STRENGTHS.join(', ')}`);
const dataset = readIdxDataset();
const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

// (1) Speed.
async function speed(name: string, steps: number, make: () => Promise<Engine>): Promise<void> {
  const engine = await make();
  const rates: Record<string, number[]> = { none: [], strong: [] };
  try {
    for (let round = 0; round < Number(values.rounds); round++)
      for (const augment of ['none', 'strong'] as const) {
        engine.setParams(initialParams(0));
        engine.setVelocity(new Float32Array(PARAM_COUNT));
        const config: TrainConfig = { ...SEED_RECIPE, epochs: 1, trainLimit: steps * 32, testLimit: 32, ...(augment === 'none' ? {} : { augment }) };
        const { history } = await train({ engine, dataset, config, control: createControl(), emit: () => undefined });
        rates[augment]!.push(history.epochs[0]!.examplesPerSecond);
      }
  } finally {
    engine.dispose();
  }
  const best = (r: number[]) => Math.max(...r);
  const [plain, varied] = [best(rates.none!), best(rates.strong!)];
  console.log(
    `${name.padEnd(8)} none ${Math.round(plain)} ex/s, strong ${Math.round(varied)} ex/s (best of ${values.rounds}, ${steps} steps of 32): ${(((plain - varied) / plain) * 100).toFixed(1)}% slower`,
  );
}

/** Medians of one batch's augmentation and one engine step, interleaved: their ratio holds up on a busy machine. */
function shares(name: string, engine: Engine & { detail: string }): void {
  const augmenter = new Augmenter(dataset.spec, { strength: 'strong' });
  engine.setParams(initialParams(0));
  engine.setVelocity(new Float32Array(PARAM_COUNT));
  const made: number[] = [],
    stepped: number[] = [];
  const out = new Uint8Array(32 * 784);
  try {
    for (let step = 0; step < Number(values.steps); step++) {
      const indices = Int32Array.from({ length: 32 }, (_, i) => (step * 32 + i) % dataset.train.count);
      let t = performance.now();
      augmenter.batch(dataset.train.images, indices, { seed: 0, epoch: 1, step }, out);
      made.push(performance.now() - t);
      t = performance.now();
      void engine.trainStep(indices, 0.01, 0.9, out);
      stepped.push(performance.now() - t);
    }
  } finally {
    engine.dispose();
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  const [a, b] = [median(made), median(stepped)];
  console.log(
    `${name.padEnd(8)} a batch of 32 augmented (strong) in ${a.toFixed(2)} ms, a step in ${b.toFixed(2)} ms (${engine.detail}): ${((a / b) * 100).toFixed(1)}% (medians of ${values.steps})`,
  );
}

if (!values['no-speed']) {
  console.log("speed: the trainer's loop, batch 32");
  shares('wasm', new WasmEngine(dataset, { maxBatch: 32, augmented: true }));
  await speed('wasm', Number(values.steps), async () => new WasmEngine(dataset, { maxBatch: 32, augmented: true }));
  const native = nativeKernels();
  if (typeof native === 'string') console.log(`native   skipped: ${native}`);
  else {
    shares('native', new NativeEngine(dataset, { maxBatch: 32, augmented: true }));
    await speed('native', Number(values.steps), async () => new NativeEngine(dataset, { maxBatch: 32, augmented: true }));
  }
}
if (values.gpu && !values['no-speed']) {
  const adapter = await findAdapter();
  if (typeof adapter === 'string') console.log(`webgpu   skipped: ${adapter}`);
  else
    await speed('webgpu', Number(values['gpu-steps']), async () =>
      GpuEngine.create(await requestDevice(adapter.adapter), dataset, { maxBatch: 32, augmented: true, device: adapter.name, ownsDevice: true }),
    );
}
if (values['no-accuracy']) process.exit(0);

// (2) Accuracy. The test files are made and read once, through the app's image path; each model predicts them all.
const count = Number(values.count),
  offset = 5000;
const dir = mkdtempSync(join(tmpdir(), 'mnist-augment-'));
const sets: { name: string; images: Uint8Array[]; labels: number[] }[] = [];
for (const style of STYLES) {
  const set = { name: `style ${style}`, images: [] as Uint8Array[], labels: [] as number[] };
  for (let k = 0; k < count; k++) {
    const i = offset + k;
    const file = join(dir, `${style}-${i}.png`);
    writeFileSync(file, await styledPng(dataset.test.images.subarray(i * 784, (i + 1) * 784), style, i));
    set.images.push(await decodeFile(file));
    set.labels.push(dataset.test.labels[i]!);
  }
  sets.push(set);
}
const sklearn = join(dir, 'sklearn');
execFileSync('mkdir', ['-p', sklearn]);
execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'sklearnDigits.py'), sklearn]);
const sk = { name: 'sklearn 8x8', images: [] as Uint8Array[], labels: [] as number[] };
for (const file of readdirSync(sklearn).sort((a, b) => parseInt(a) - parseInt(b))) {
  sk.images.push(await decodeFile(join(sklearn, file)));
  sk.labels.push(Number(file.split('-')[1]!.split('.')[0]));
}
sets.push(sk);

const client = new TrainerClient();
const table: Record<string, Record<string, string>> = {};
try {
  for (const augment of strengths) {
    const started = performance.now();
    const config: TrainConfig = { ...SEED_RECIPE, epochs: 1, backend: values.backend as TrainConfig['backend'], ...(augment === 'none' ? {} : { augment }) };
    const { history } = await client.request('startTraining', { config });
    const column: Record<string, string> = { 'MNIST test': pct(history.epochs[0]!.test.accuracy) };
    for (const set of sets) {
      let right = 0;
      for (let at = 0; at < set.images.length; at += 256) {
        const part = set.images.slice(at, at + 256);
        const bytes = new Uint8Array(part.length * 784);
        part.forEach((image, i) => bytes.set(image, i * 784));
        const predictions = await client.request('predict', { images: bytes });
        predictions.forEach((p, i) => (right += p.label === set.labels[at + i] ? 1 : 0));
      }
      column[`${set.name} (${set.images.length})`] = pct(right / set.images.length);
    }
    table[augment] = column;
    console.error(`trained and measured augment ${augment} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  await client.close();
}
console.log(`\naccuracy: the seed recipe, 1 epoch on all 60,000 images, ${values.backend}, seed 0`);
const rows = Object.keys(table.none!);
console.log(['', ...strengths].map((s, i) => (i === 0 ? s.padEnd(24) : s.padStart(9))).join(''));
for (const row of rows) console.log([row.padEnd(24), ...strengths.map((s) => table[s]![row]!.padStart(9))].join(''));
