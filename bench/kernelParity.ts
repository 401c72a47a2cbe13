// The wasm kernels against another build of them (e.g. the one before a change) on the seed's recipe and
// the bundled MNIST: the same weights after N steps and the same test logits, bit for bit, then training
// throughput of both, side by side, alternating so that machine noise falls on both alike.
//   npx tsx bench/kernelParity.ts --baseline /tmp/cnn-original.wasm [--steps 50] [--bench-steps 300] [--rounds 3] [--threads 2] [--build plain|relaxed]
// The current side is resources/kernels/cnn.wasm (plain SIMD128, the default) or cnn-relaxed.wasm (--build relaxed).
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { readIdxDataset } from '@core/dataset/dataset';
import { WasmEngine } from '@core/backend/wasmEngine';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { scoreLogits, toMetrics } from '@core/trainer/metrics';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    steps: { type: 'string', default: '50' },
    'bench-steps': { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    build: { type: 'string', default: 'plain' },
  },
});
if (!values.baseline) throw new Error('--baseline FILE: the cnn.wasm to compare against');
const steps = Number(values.steps),
  benchSteps = Number(values['bench-steps']),
  rounds = Number(values.rounds),
  threads = Number(values.threads);
const data = readIdxDataset();
const builds = { current: undefined, baseline: values.baseline } as const;
const hash = (f: Float32Array): string =>
  createHash('sha256')
    .update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength))
    .digest('hex')
    .slice(0, 16);

function run(kernelFile: string | undefined) {
  const engine = new WasmEngine(data, { maxBatch: 32, threads, kernelFile, kernelBuild: values.build === 'relaxed' ? 'relaxed' : 'plain' });
  try {
    engine.setParams(initialParams(0));
    engine.setVelocity(new Float32Array(initialParams(0).length));
    const order = new Rng(0).permutation(data.train.count);
    let lossSum = 0;
    for (let s = 0; s < steps; s++) lossSum += engine.trainStep(order.subarray(s * 32, s * 32 + 32), 0.01, 0.9).lossSum;
    const params = engine.getParams(),
      velocity = engine.getVelocity();
    const logits = engine.logits('test', 0, data.test.count);
    const test = toMetrics(scoreLogits(logits, data.test.labels));
    return {
      params: hash(params),
      velocity: hash(velocity),
      logits: hash(logits),
      trainLoss: lossSum / (steps * 32),
      testLoss: test.loss,
      testAccuracy: test.accuracy,
    };
  } finally {
    engine.dispose();
  }
}

const a = run(builds.current),
  b = run(builds.baseline);
console.log(JSON.stringify({ type: 'parity', steps, current: a, baseline: b }));
const same = a.params === b.params && a.velocity === b.velocity && a.logits === b.logits && a.testLoss === b.testLoss && a.trainLoss === b.trainLoss;
console.log(same ? `identical: weights, momentum and all ${data.test.count} test logits after ${steps} steps (test loss ${a.testLoss})` : 'DIFFERENT');

function throughput(kernelFile: string | undefined): number {
  const engine = new WasmEngine(data, { maxBatch: 32, threads, kernelFile, kernelBuild: values.build === 'relaxed' ? 'relaxed' : 'plain' });
  try {
    engine.setParams(initialParams(0));
    const order = new Rng(0).permutation(data.train.count);
    const batch = (i: number) => order.subarray((i * 32) % (data.train.count - 32), ((i * 32) % (data.train.count - 32)) + 32);
    for (let i = 0; i < 20; i++) engine.trainStep(batch(i), 0.01, 0.9);
    const t0 = performance.now();
    for (let i = 0; i < benchSteps; i++) engine.trainStep(batch(20 + i), 0.01, 0.9);
    return (benchSteps * 32) / ((performance.now() - t0) / 1000);
  } finally {
    engine.dispose();
  }
}

const rates: Record<keyof typeof builds, number[]> = { current: [], baseline: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of (r % 2 ? ['baseline', 'current'] : ['current', 'baseline']) as (keyof typeof builds)[]) rates[name].push(throughput(builds[name]));
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const current = median(rates.current),
  baseline = median(rates.baseline);
console.log(
  JSON.stringify({ type: 'throughput', threads, steps: benchSteps, rounds, current: rates.current.map(Math.round), baseline: rates.baseline.map(Math.round) }),
);
console.log(`median examples/s: current ${Math.round(current)}, baseline ${Math.round(baseline)} (${(((current - baseline) / baseline) * 100).toFixed(1)}%)`);
process.exitCode = same ? 0 : 1;
