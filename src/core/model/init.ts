// Flax's default initialisation: kernels from lecun_normal (a normal truncated to two standard
// deviations, rescaled so the variance is 1/fan_in), biases zero.
import { architectureOf } from '@shared/architecture';
import { MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';
import { Rng } from './rng';

// The standard deviation of a unit normal truncated to [-2, 2]; dividing by it restores variance 1.
const TRUNCATED_STD = 0.8796256610342398;

export function initialParams(seed: number, spec: ModelSpec = MNIST_SPEC): Float32Array {
  const { params, paramCount } = architectureOf(spec);
  const rng = new Rng(seed);
  const flat = new Float32Array(paramCount);
  for (const p of params) {
    if (p.name !== 'kernel') continue;
    const fanIn = p.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const std = Math.sqrt(1 / fanIn) / TRUNCATED_STD;
    for (let i = 0; i < p.size; i++) {
      let z: number;
      do z = rng.normal();
      while (Math.abs(z) > 2);
      flat[p.offset + i] = z * std;
    }
  }
  return flat;
}
