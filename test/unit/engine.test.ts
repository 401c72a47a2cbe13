// The wasm kernels against tfjs's own cpu backend on the same real batch and the same weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEngine } from '@core/backend/wasmEngine';
import { TfjsEngine } from '@core/backend/tfjsEngine';
import { initialParams } from '@core/model/init';
import { PARAMS, PARAM_COUNT, LAYERS } from '@shared/architecture';
import { buildLayersModel } from '@core/model/layersModel';
import { modelSummary } from '@core/model/summary';
import { scoreLogits } from '@core/trainer/metrics';
import { mnist, relativeError } from '../support/helpers';

test("the model has the seed's 824,458 parameters in the seed's shapes", () => {
  assert.equal(PARAM_COUNT, 824458);
  assert.deepEqual(
    PARAMS.map((p) => p.size),
    [288, 32, 18432, 64, 802816, 256, 2560, 10],
  );
  const model = buildLayersModel();
  assert.equal(model.countParams(), 824458);
  // Every layer's output shape in tfjs agrees with the spec the summary and kernels use.
  const specs = LAYERS.filter((l) => l.kind !== 'ReLU');
  assert.deepEqual(
    model.layers.map((l) => (l.outputShape as number[]).slice(1)),
    specs.map((s) => [...s.output]),
  );
  model.dispose();
  const summary = modelSummary();
  assert.equal(summary.totalParams, 824458);
  assert.deepEqual(
    summary.rows.filter((r) => r.paramCount).map((r) => r.paramCount),
    [320, 18496, 803072, 2570],
  );
});

test('initialisation is lecun_normal: zero biases, kernel variance 1/fan_in, nothing past two deviations', () => {
  const p = initialParams(0);
  for (const spec of PARAMS) {
    const values = p.subarray(spec.offset, spec.offset + spec.size);
    if (spec.name === 'bias') {
      assert.ok(values.every((v) => v === 0));
      continue;
    }
    const fanIn = spec.size / spec.shape[spec.shape.length - 1]!;
    const variance = values.reduce((a, v) => a + v * v, 0) / values.length;
    assert.ok(Math.abs(variance * fanIn - 1) < 0.15, `${spec.layer} variance*fan_in = ${variance * fanIn}`);
    const bound = (2 * Math.sqrt(1 / fanIn)) / 0.8796256610342398;
    assert.ok(values.every((v) => Math.abs(v) <= bound + 1e-7));
  }
  assert.deepEqual(initialParams(0), p);
  assert.notDeepEqual(initialParams(1), p);
});

function oneStepUpdate(engine: WasmEngine | TfjsEngine, params: Float32Array, batch: Int32Array): Float32Array {
  engine.setParams(params);
  engine.setVelocity(new Float32Array(PARAM_COUNT));
  // With zero velocity, lr 1 and momentum 0 the step subtracts the gradient itself.
  engine.trainStep(batch, 1, 0);
  const after = engine.getParams();
  return params.map((p, i) => p - after[i]!);
}

test('wasm gradients and logits match tfjs cpu on a real batch', () => {
  const data = mnist();
  const wasm = new WasmEngine(data, { maxBatch: 8, threads: 2 });
  const cpu = new TfjsEngine('cpu', data, { maxBatch: 8 });
  try {
    const params = initialParams(3);
    const batch = Int32Array.from([0, 1, 2, 3, 4, 5]);
    wasm.setParams(params);
    cpu.setParams(params);
    const a = wasm.logits('test', 0, 6),
      b = cpu.logits('test', 0, 6);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `logit ${i}: ${a[i]} vs ${b[i]}`);
    const gw = oneStepUpdate(wasm, params, batch);
    const gc = oneStepUpdate(cpu, params, batch);
    for (const spec of PARAMS) {
      const x = gw.subarray(spec.offset, spec.offset + spec.size),
        y = gc.subarray(spec.offset, spec.offset + spec.size);
      assert.ok(
        y.some((v) => v !== 0),
        `${spec.layer} ${spec.name} has a zero reference gradient`,
      );
      const error = relativeError(x, y);
      assert.ok(error < 2e-3, `${spec.layer} ${spec.name}: relative error ${error}`);
    }
  } finally {
    wasm.dispose();
    cpu.dispose();
  }
});

test('on 3 and 4 threads (uneven shards, the default on 4-core laptops) wasm matches tfjs cpu too', () => {
  const data = mnist();
  const cpu = new TfjsEngine('cpu', data, { maxBatch: 7 });
  try {
    const params = initialParams(5);
    // 7 examples: shards of 3,2,2 on 3 threads and 2,2,2,1 on 4.
    const batch = Int32Array.from([10, 11, 12, 13, 14, 15, 16]);
    cpu.setParams(params);
    const referenceLogits = cpu.logits('test', 0, 11);
    const reference = oneStepUpdate(cpu, params, batch);
    for (const threads of [3, 4]) {
      const wasm = new WasmEngine(data, { maxBatch: 7, threads });
      try {
        assert.equal(wasm.detail, `WebAssembly relaxed SIMD kernels on ${threads} threads`);
        wasm.setParams(params);
        const logits = wasm.logits('test', 0, 11);
        for (let i = 0; i < logits.length; i++) assert.ok(Math.abs(logits[i]! - referenceLogits[i]!) < 1e-4, `${threads} threads, logit ${i}`);
        const update = oneStepUpdate(wasm, params, batch);
        for (const spec of PARAMS) {
          const x = update.subarray(spec.offset, spec.offset + spec.size),
            y = reference.subarray(spec.offset, spec.offset + spec.size);
          const error = relativeError(x, y);
          assert.ok(error < 2e-3, `${threads} threads, ${spec.layer} ${spec.name}: relative error ${error}`);
        }
      } finally {
        wasm.dispose();
      }
    }
  } finally {
    cpu.dispose();
  }
});

test('wasm gradient agrees with a central finite difference of the loss', () => {
  const data = mnist();
  const engine = new WasmEngine(data, { maxBatch: 4, threads: 1 });
  try {
    // Fresh biases are exactly zero, which puts every blank-background pre-activation on ReLU's kink,
    // where a finite difference sees half a slope. Small non-zero biases keep the check smooth.
    const params = initialParams(5);
    for (const spec of PARAMS.filter((p) => p.name === 'bias')) {
      for (let i = 0; i < spec.size; i++) params[spec.offset + i] = 0.01 + 0.001 * i;
    }
    const rows = Int32Array.from([0, 1, 2, 3]);
    const grad = oneStepUpdate(engine, params, rows);
    const loss = (p: Float32Array): number => {
      engine.setParams(p);
      return scoreLogits(engine.logits('train', 0, 4), data.train.labels.subarray(0, 4)).lossSum / 4;
    };
    // The largest gradient entries of each layer are the ones a finite difference resolves in float32.
    for (const spec of PARAMS) {
      let best = spec.offset;
      for (let i = spec.offset; i < spec.offset + spec.size; i++) if (Math.abs(grad[i]!) > Math.abs(grad[best]!)) best = i;
      const h = 1e-3;
      const plus = params.slice(),
        minus = params.slice();
      plus[best]! += h;
      minus[best]! -= h;
      const numeric = (loss(plus) - loss(minus)) / (2 * h);
      assert.ok(
        Math.abs(numeric - grad[best]!) < 0.05 * Math.abs(grad[best]!) + 5e-4,
        `${spec.layer} ${spec.name}[${best - spec.offset}]: ${grad[best]} vs ${numeric}`,
      );
    }
  } finally {
    engine.dispose();
  }
});

test('one step lowers the loss on a fixed batch, on wasm and on tfjs cpu', () => {
  const data = mnist();
  for (const engine of [new WasmEngine(data, { maxBatch: 16 }), new TfjsEngine('cpu', data, { maxBatch: 16 })]) {
    try {
      engine.setParams(initialParams(0));
      const rows = Int32Array.from({ length: 16 }, (_, i) => i);
      const loss = () => scoreLogits(engine.logits('train', 0, 16), data.train.labels.subarray(0, 16)).lossSum / 16;
      const before = loss();
      engine.trainStep(rows, 0.01, 0.9);
      const after = loss();
      assert.ok(after < before, `${engine.backend}: loss ${before} -> ${after}`);
    } finally {
      engine.dispose();
    }
  }
});

test('tfjs training steps leak no tensors', () => {
  const engine = new TfjsEngine('cpu', mnist(), { maxBatch: 2 });
  try {
    engine.setParams(initialParams(0));
    engine.trainStep(Int32Array.from([0, 1]), 0.01, 0.9);
    const settled = engine.tensorCount();
    for (let i = 0; i < 3; i++) engine.trainStep(Int32Array.from([2 * i, 2 * i + 1]), 0.01, 0.9);
    engine.logits('test', 0, 4);
    engine.getVelocity();
    assert.equal(engine.tensorCount(), settled);
  } finally {
    engine.dispose();
  }
});
