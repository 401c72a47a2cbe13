// The native engine (the same kernels as the wasm engine, built for AVX2+FMA and AVX-512) against the
// plain wasm build, and the relaxed-SIMD wasm build against the plain one: the same gradient on a real
// batch and the same weights after 50 steps, within float32 rounding (fused multiply-adds round once
// where the plain build rounds twice; nothing else differs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WasmEngine } from '@core/backend/wasmEngine';
import { NativeEngine, nativeKernelFile, nativeKernels } from '@core/backend/nativeEngine';
import { relaxedSimd } from '@core/backend/kernelModule';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
import { PARAMS, PARAM_COUNT } from '@shared/architecture';
import type { Dataset } from '@shared/dataset';
import type { Engine, EngineOptions } from '@shared/engine';
import { mnist, relativeError, tempDir } from '../support/helpers';

/** The first 2,048 training and 256 test images: enough for 50 steps of 32 without repeats. */
function slice(): Dataset {
  const d = mnist();
  const part = (s: Dataset['train'], n: number) => ({ count: n, images: s.images.subarray(0, n * 784), labels: s.labels.subarray(0, n) });
  return { ...d, train: part(d.train, 2048), test: part(d.test, 256) };
}

const native = nativeKernels();
const skipNative = typeof native === 'string' ? `no native kernels here: ${native}` : false;
const isas = typeof native === 'string' ? [] : native.isa === 'AVX-512' ? (['AVX-512', 'AVX2'] as const) : (['AVX2'] as const);

/** The gradient of one real batch: with zero velocity, lr 1 and momentum 0 a step subtracts it. */
function gradient(engine: Engine, params: Float32Array, batch: Int32Array): Float32Array {
  engine.setParams(params);
  engine.setVelocity(new Float32Array(PARAM_COUNT));
  void engine.trainStep(batch, 1, 0);
  const after = engine.getParams() as Float32Array;
  return params.map((p, i) => p - after[i]!);
}

/** Weights after 50 steps of the seed's recipe at batch 32. */
function fiftySteps(engine: Engine, data: Dataset): Float32Array {
  engine.setParams(initialParams(0));
  engine.setVelocity(new Float32Array(PARAM_COUNT));
  const order = new Rng(0).permutation(data.train.count);
  for (let s = 0; s < 50; s++) void engine.trainStep(order.subarray(s * 32, s * 32 + 32), 0.01, 0.9);
  return engine.getParams() as Float32Array;
}

function assertLayersClose(x: Float32Array, y: Float32Array, tolerance: number, what: string): void {
  for (const spec of PARAMS) {
    const error = relativeError(x.subarray(spec.offset, spec.offset + spec.size), y.subarray(spec.offset, spec.offset + spec.size));
    assert.ok(error < tolerance, `${what}, ${spec.layer} ${spec.name}: relative error ${error}`);
  }
}

/** Compares an engine with the plain wasm build on 2 threads: gradient, test logits and 50-step weights. */
function assertMatchesPlainWasm(make: (data: Dataset, options: EngineOptions) => Engine, what: string): void {
  const data = slice();
  const wasm = new WasmEngine(data, { maxBatch: 32, threads: 2, kernelBuild: 'plain' });
  const other = make(data, { maxBatch: 32, threads: 2 });
  try {
    const params = initialParams(3);
    const batch = Int32Array.from({ length: 32 }, (_, i) => 100 + 7 * i);
    const [g0, g1] = [gradient(wasm, params, batch), gradient(other, params, batch)];
    assert.ok(g0.some((v) => v !== 0));
    // Float32 rounding: a fused multiply-add per term, over sums of up to 25,088 terms.
    assertLayersClose(g1, g0, 1e-4, `${what} gradient`);
    wasm.setParams(params);
    other.setParams(params);
    const [l0, l1] = [wasm.logits('test', 0, 256), other.logits('test', 0, 256) as Float32Array];
    assert.ok(relativeError(l1, l0) < 1e-5, `${what} logits: relative error ${relativeError(l1, l0)}`);
    const [w0, w1] = [fiftySteps(wasm, data), fiftySteps(other, data)];
    assert.ok(relativeError(w1, initialParams(0)) > 1e-3, 'training moved the weights');
    assertLayersClose(w1, w0, 1e-4, `${what} weights after 50 steps`);
  } finally {
    wasm.dispose();
    other.dispose();
  }
}

for (const isa of isas) {
  test(`native ${isa} kernels match the plain wasm build: gradient, logits and 50-step weights`, { skip: skipNative }, () => {
    assertMatchesPlainWasm((data, options) => new NativeEngine(data, { ...options, nativeIsa: isa === 'AVX2' ? 'AVX2' : undefined }), `native ${isa}`);
  });
}

test('the relaxed-SIMD wasm build matches the plain one: gradient, logits and 50-step weights', () => {
  assert.equal(relaxedSimd(), true, 'Node 20 takes --experimental-wasm-relaxed-simd at run time');
  assertMatchesPlainWasm((data, options) => new WasmEngine(data, { ...options, kernelBuild: 'relaxed' }), 'relaxed wasm');
});

test('the native engine says what it runs on, and is deterministic across runs', { skip: skipNative }, () => {
  const data = slice();
  const a = new NativeEngine(data, { maxBatch: 32, threads: 2 });
  const b = new NativeEngine(data, { maxBatch: 32, threads: 2 });
  try {
    assert.match(a.detail, /^(AVX-512|AVX2), 2 threads$/);
    // Two engines live at once in one process, each with its own state: the same weights, bit for bit.
    assert.deepEqual(fiftySteps(a, data), fiftySteps(b, data));
  } finally {
    a.dispose();
    b.dispose();
  }
});

test('a missing or broken addon is one line saying why, and the engine is refused with it', () => {
  const dir = tempDir();
  const garbage = join(dir, 'cnn.node');
  writeFileSync(garbage, 'not an ELF file at all');
  assert.match(nativeKernels(join(dir, 'missing.node')) as string, /^the native kernels (are missing|are built for linux-x64 only)/);
  const broken = nativeKernels(garbage);
  assert.equal(typeof broken, 'string');
  assert.match(broken as string, /^the native kernels failed to load: .*(invalid ELF header|file too short)/);
  assert.doesNotMatch(broken as string, /\n/);
  // A FIFO (or a device) where the addon should be would block dlopen for ever: refused unopened.
  const fifo = join(dir, 'fifo.node');
  spawnSync('mkfifo', [fifo]);
  assert.match(nativeKernels(fifo) as string, /^the native kernels are not a regular file/);
  assert.match(nativeKernels('/dev/zero') as string, /^the native kernels are not a regular file/);
  assert.throws(
    () => new NativeEngine(slice(), { maxBatch: 8, nativeFile: garbage }),
    (e: Error & { code?: string }) => e.code === 'backend-unavailable' && /^backend native is unavailable: the native kernels failed to load/.test(e.message),
  );
});

test('a truncated copy of the addon is one line saying so, not a SIGBUS that kills the app', { skip: skipNative }, () => {
  const whole = readFileSync(nativeKernelFile());
  const dir = tempDir();
  // Cut inside the program headers, inside the code and just before the section headers' end.
  for (const length of [100, 4000, 70000, Math.floor(whole.length * 0.9)]) {
    const cut = join(dir, `cut-${length}.node`);
    writeFileSync(cut, whole.subarray(0, length));
    const result = nativeKernels(cut);
    assert.equal(typeof result, 'string', `a copy cut at ${length} bytes loaded`);
    assert.match(result as string, /^the native kernels in .* are cut short \(/);
  }
});

test('hostile calls into the native engine are one error each, and the engine still trains after them', { skip: skipNative }, () => {
  const data = slice();
  const engine = new NativeEngine(data, { maxBatch: 16, threads: 2 });
  const addon = (native as Exclude<typeof native, string>).addon;
  try {
    engine.setParams(initialParams(0));
    const refusals: [string, () => unknown, RegExp][] = [
      ['an index past the set', () => engine.trainStep(Int32Array.from([0, 2048]), 0.01, 0.9), /outside the training set/],
      ['a negative index', () => engine.trainStep(Int32Array.from([-1]), 0.01, 0.9), /outside the training set/],
      ['a batch over the largest', () => engine.trainStep(new Int32Array(17), 0.01, 0.9), /larger than the engine's largest/],
      ['an empty batch', () => engine.trainStep(new Int32Array(0), 0.01, 0.9), /empty/],
      ['a NaN learning rate', () => engine.trainStep(new Int32Array(4), NaN, 0.9), /must be numbers/],
      ['indices of the wrong type', () => engine.trainStep(new Float32Array(4) as unknown as Int32Array, 0.01, 0.9), /Int32Array/],
      ['too few parameters', () => engine.setParams(new Float32Array(10)), /Float32Array of 824458 parameters/],
      ['too many momenta', () => engine.setVelocity(new Float32Array(PARAM_COUNT + 1)), /824458/],
      ['rows past the split', () => engine.logits('test', 200, 57), /outside the split/],
      ['a negative start', () => engine.logits('train', -1, 1), /outside the split/],
      ['part of an image', () => engine.logitsOf(new Float32Array(783)), /whole images/],
      ['no engine at all', () => addon.get({} as never, 0), /disposed \(or this is not one\)/],
      ['too few arguments', () => (addon.create as (...a: unknown[]) => unknown)(), /12 arguments/],
      [
        'labels past the classes',
        () => addon.create(new Uint8Array(784), Uint8Array.of(10), new Uint8Array(0), new Uint8Array(0), 1, 1, 1, 28, 28, 1, 10, ''),
        /label is not a class/,
      ],
      [
        'images and labels disagree',
        () => addon.create(new Uint8Array(700), Uint8Array.of(1), new Uint8Array(0), new Uint8Array(0), 1, 1, 1, 28, 28, 1, 10, ''),
        /disagree/,
      ],
      [
        'a size out of range',
        () => addon.create(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), 1, 1e9, 1, 28, 28, 1, 10, ''),
        /out of range/,
      ],
    ];
    for (const [what, call, message] of refusals) assert.throws(call, message, what);
    // Inference over an empty range and the last rows is fine; the engine still trains and learns.
    assert.equal(engine.logits('test', 256, 0).length, 0);
    assert.equal(engine.logits('test', 255, 1).length, 10);
    const first = engine.trainStep(
      Int32Array.from({ length: 16 }, (_, i) => i),
      0.01,
      0.9,
    );
    assert.ok(Number.isFinite(first.lossSum) && first.lossSum > 0);
  } finally {
    engine.dispose();
  }
  engine.dispose();
  assert.throws(() => engine.getParams(), /disposed/);
});
