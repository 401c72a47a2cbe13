// The webgpu engine against the wasm engine on the same real batches and the same initial parameters,
// on whatever adapter Dawn finds (Mesa's llvmpipe through OpenGL ES on machines with no GPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmEngine } from '../src/main/core/backend/wasmEngine';
import { GpuEngine } from '../src/main/core/backend/webgpu/gpuEngine';
import { findAdapter, requestDevice } from '../src/main/core/backend/webgpu/nodeDevice';
import { initialParams } from '../src/main/core/model/init';
import { PARAMS, PARAM_COUNT } from '../src/main/core/model/architecture';
import type { Engine } from '../src/main/core/backend/engine';
import { mnist } from './helpers';

const adapter = await findAdapter();
const skip = typeof adapter === 'string' ? `no WebGPU adapter: ${adapter}` : false;
if (skip) console.log(`# webgpu tests skipped: ${skip}`);

async function gpuEngine(maxBatch: number): Promise<GpuEngine> {
  const found = await findAdapter();
  if (typeof found === 'string') throw new Error(found);
  return GpuEngine.create(await requestDevice(found.adapter), mnist(), { maxBatch, device: found.name, ownsDevice: true });
}

/** The parameter change of one step with zero velocity, learning rate 1 and no momentum: the gradient. */
async function gradient(engine: Engine, params: Float32Array, batch: Int32Array): Promise<Float32Array> {
  engine.setParams(params);
  engine.setVelocity(new Float32Array(PARAM_COUNT));
  await engine.trainStep(batch, 1, 0);
  const after = await engine.getParams();
  return params.map((p, i) => p - after[i]!);
}

const relative = (x: Float32Array, y: Float32Array): number => {
  let diff = 0, norm = 0;
  for (let i = 0; i < x.length; i++) [diff, norm] = [diff + (x[i]! - y[i]!) ** 2, norm + y[i]! ** 2];
  return Math.sqrt(diff / norm);
};

test('every parameter gradient and the logits match the wasm engine on a real batch', { skip }, async () => {
  const data = mnist();
  const [gpu, wasm] = [await gpuEngine(8), new WasmEngine(data, { maxBatch: 8, threads: 1 })];
  try {
    const params = initialParams(3);
    // Small non-zero biases keep pre-activations off ReLU's kink, where float rounding could pick either side.
    for (const spec of PARAMS.filter((p) => p.name === 'bias')) for (let i = 0; i < spec.size; i++) params[spec.offset + i] = 0.01 + 0.001 * i;
    gpu.setParams(params);
    wasm.setParams(params);
    assert.ok(relative(await gpu.logits('test', 0, 8), wasm.logits('test', 0, 8)) < 1e-5);
    const batch = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7], (i) => i * 7919);
    const [gg, gw] = [await gradient(gpu, params, batch), await gradient(wasm, params, batch)];
    for (const spec of PARAMS) {
      const error = relative(gg.subarray(spec.offset, spec.offset + spec.size), gw.subarray(spec.offset, spec.offset + spec.size));
      assert.ok(error < 1e-3, `${spec.layer} ${spec.name}: relative error ${error}`);
    }
  } finally {
    gpu.dispose();
    wasm.dispose();
  }
});
