// Our CPU engines beside PyTorch in one run, on the same machine and thread count, at batch 32 and 128:
// PyTorch (bench/pytorch_bench.py with /usr/bin/python3), the wasm kernels (plain SIMD128 and relaxed SIMD)
// and the native kernels (the best ISA here, and AVX2 too on an AVX-512 CPU), each for the same number of
// steps over the same real MNIST batches, with examples/s, the ratio to PyTorch and the fraction of the
// machine's peak FLOP/s each reaches.
//   npx tsx bench/vsPyTorch.ts [--steps 200] [--warmup 10] [--threads 2] [--batches 32,128] [--python /usr/bin/python3]
//                              [--ghz N] [--flops-per-cycle N] [--no-pytorch] [--json]
// The peak is cores x GHz x FP32 FLOPs per cycle per core: the clock is /proc/cpuinfo's "cpu MHz" of the first
// core (under a hypervisor, the nominal clock; pass --ghz for the real one), the FLOPs per cycle come from the
// ISA and vendor (see peakPerCycle), both printed; cores are the threads the engines get.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readIdxDataset } from '@core/dataset/dataset';
import { resourcePath } from '@core/resources';
import { WasmEngine } from '@core/backend/wasmEngine';
import { NativeEngine, nativeKernels } from '@core/backend/nativeEngine';
import { relaxedSimd } from '@core/backend/kernelModule';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { architectureOf } from '@shared/architecture';
import type { Engine } from '@shared/engine';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '10' },
    threads: { type: 'string', default: '2' },
    batches: { type: 'string', default: '32,128' },
    python: { type: 'string', default: '/usr/bin/python3' },
    ghz: { type: 'string' },
    'flops-per-cycle': { type: 'string' },
    'no-pytorch': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps),
  warmup = Number(values.warmup),
  threads = Number(values.threads);
const batches = values.batches.split(',').map(Number);
const data = readIdxDataset();

/**
 * Training FLOPs per example from the model's layers: each Conv/Dense layer's multiply-adds once forward,
 * once for its weight gradient and once for its input gradient (not the first layer's: nothing needs it);
 * the element-wise layers (bias, ReLU, pooling) once forward and once back.
 */
function trainingFlops(): number {
  const layers = architectureOf(data.spec).layers;
  let total = 0;
  layers.forEach((layer, i) => {
    if (layer.kind === 'Conv' || layer.kind === 'Dense') {
      const bias = layer.output.reduce((a, b) => a * b, 1);
      const matmul = layer.flops - bias;
      total += (i === 0 ? 2 : 3) * matmul + 2 * bias;
    } else total += 2 * layer.flops;
  });
  return total;
}

const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
const field = (name: string): string => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1] ?? '';
const flags = new Set(field('flags').split(/\s+/));
const vendor = field('vendor_id');

/**
 * FP32 FLOPs per cycle per core of the widest ISA here: FMA units x lanes x 2. Intel cores with AVX-512 are
 * taken to have two 512-bit FMA units (Xeon Gold and Platinum; Silver and Bronze have one: pass
 * --flops-per-cycle 32); AMD's Zen 4 runs AVX-512 on two 256-bit units, so as AVX2 (32); AVX2 with FMA is two
 * 256-bit units (32); without FMA, one 128-bit add and one multiply (8).
 */
function peakPerCycle(): { flops: number; why: string } {
  if (values['flops-per-cycle']) return { flops: Number(values['flops-per-cycle']), why: 'given' };
  if (flags.has('avx512f') && vendor === 'GenuineIntel') return { flops: 64, why: 'AVX-512, two 512-bit FMA units' };
  if (flags.has('avx512f')) return { flops: 32, why: `AVX-512 on ${vendor}: two 256-bit FMA units (Zen 4)` };
  if (flags.has('avx2') && flags.has('fma')) return { flops: 32, why: 'AVX2: two 256-bit FMA units' };
  return { flops: 8, why: 'SSE: one 128-bit add and one multiply' };
}

const ghz = values.ghz ? Number(values.ghz) : Number(field('cpu MHz')) / 1000;
const perCycle = peakPerCycle();
const peak = threads * ghz * 1e9 * perCycle.flops;
const flopsPerExample = trainingFlops();

interface Result {
  engine: string;
  batch: number;
  examplesPerSecond: number;
}

/** Trains `steps` batches after `warmup` ones, from the seed's weights, on the same permutation of MNIST. */
function time(make: (maxBatch: number) => Engine, batch: number): number {
  const engine = make(batch);
  try {
    engine.setParams(initialParams(0));
    const order = new Rng(0).permutation(data.train.count);
    const at = (i: number) => order.subarray((i * batch) % (data.train.count - batch), ((i * batch) % (data.train.count - batch)) + batch);
    for (let i = 0; i < warmup; i++) void engine.trainStep(at(i), 0.01, 0.9);
    const start = performance.now();
    for (let i = 0; i < steps; i++) void engine.trainStep(at(warmup + i), 0.01, 0.9);
    return (steps * batch * 1000) / (performance.now() - start);
  } finally {
    engine.dispose();
  }
}

function pytorch(batch: number): number | string {
  const run = spawnSync(values.python, ['bench/pytorch_bench.py', String(steps), 'cpu', resourcePath('mnist'), String(batch), String(threads)], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  const rate = /: (\d+) examples\/s/.exec(run.stdout ?? '');
  return rate ? Number(rate[1]) : `pytorch did not run: ${(run.stderr || run.error?.message || 'no output').trim().split('\n').at(-1)}`;
}

const native = nativeKernels();
const engines: [string, (maxBatch: number) => Engine][] = [['wasm', (maxBatch) => new WasmEngine(data, { maxBatch, threads, kernelBuild: 'plain' })]];
if (relaxedSimd()) engines.push(['wasm-relaxed', (maxBatch) => new WasmEngine(data, { maxBatch, threads, kernelBuild: 'relaxed' })]);
if (typeof native !== 'string') {
  engines.push([`native ${native.isa}`, (maxBatch) => new NativeEngine(data, { maxBatch, threads })]);
  if (native.isa !== 'AVX2') engines.push(['native AVX2', (maxBatch) => new NativeEngine(data, { maxBatch, threads, nativeIsa: 'AVX2' })]);
}

const say = (line: string): void => void (values.json || console.log(line));
say(
  `${field('model name')}, ${threads} threads; peak ${(peak / 1e9).toFixed(0)} GFLOP/s = ${threads} cores x ${ghz.toFixed(2)} GHz x ${perCycle.flops} FLOPs/cycle`,
);
say(`  (clock: ${values.ghz ? 'given' : "/proc/cpuinfo's cpu MHz"}; FLOPs/cycle: ${perCycle.why})`);
say(`training FLOPs per example: ${(flopsPerExample / 1e6).toFixed(1)} M (forward, weight and input gradients of each Conv/Dense layer)`);
if (typeof native === 'string') say(`native: ${native}`);
if (!relaxedSimd()) say('wasm-relaxed: this runtime has no relaxed SIMD');

const results: Result[] = [];
for (const batch of batches) {
  const torch = values['no-pytorch'] ? 'skipped (--no-pytorch)' : pytorch(batch);
  if (typeof torch === 'number') results.push({ engine: 'pytorch', batch, examplesPerSecond: torch });
  else say(`batch ${batch}: ${torch}`);
  for (const [name, make] of engines) results.push({ engine: name, batch, examplesPerSecond: time(make, batch) });
}

say('');
say(`${'engine'.padEnd(16)}${'batch'.padStart(6)}${'examples/s'.padStart(12)}${'x pytorch'.padStart(11)}${'% of peak'.padStart(11)}`);
for (const r of results) {
  const torch = results.find((t) => t.engine === 'pytorch' && t.batch === r.batch);
  const fraction = (r.examplesPerSecond * flopsPerExample) / peak;
  if (values.json) console.log(JSON.stringify({ ...r, vsPytorch: torch ? r.examplesPerSecond / torch.examplesPerSecond : null, fractionOfPeak: fraction }));
  say(
    `${r.engine.padEnd(16)}${String(r.batch).padStart(6)}${Math.round(r.examplesPerSecond).toString().padStart(12)}${(torch ? (r.examplesPerSecond / torch.examplesPerSecond).toFixed(2) + 'x' : '-').padStart(11)}${((100 * fraction).toFixed(1) + '%').padStart(11)}`,
  );
}
