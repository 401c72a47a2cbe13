// The seed's CNN as a tfjs Layers model: what the tfjs backends train, and the format models are saved in
// (model.json plus a .bin of weights), so a saved model opens in any TF.js program.
import { tf } from '../backend/tfjs';
import * as tfl from '@tensorflow/tfjs-layers';
import { architectureOf, C1, C2, HIDDEN } from '@shared/architecture';
import { MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';

export function buildLayersModel(spec: ModelSpec = MNIST_SPEC): tfl.Sequential {
  return tfl.sequential({
    name: 'mnist_cnn',
    layers: [
      tfl.layers.conv2d({
        name: 'Conv_0',
        inputShape: [spec.height, spec.width, spec.channels],
        filters: C1,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tfl.layers.averagePooling2d({ name: 'avg_pool_0', poolSize: 2, strides: 2 }),
      tfl.layers.conv2d({ name: 'Conv_1', filters: C2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.averagePooling2d({ name: 'avg_pool_1', poolSize: 2, strides: 2 }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'Dense_0', units: HIDDEN, activation: 'relu' }),
      tfl.layers.dense({ name: 'Dense_1', units: spec.classes.length }),
    ],
  });
}

/** Puts a flat parameter vector into the model's weights (same order and layouts). */
export function setFlatWeights(model: tfl.LayersModel, flat: Float32Array, spec: ModelSpec = MNIST_SPEC): void {
  const tensors = architectureOf(spec).params.map((p) => tf.tensor(flat.subarray(p.offset, p.offset + p.size), [...p.shape]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

export function getFlatWeights(model: tfl.LayersModel, total: number): Float32Array {
  const flat = new Float32Array(total);
  let offset = 0;
  for (const w of model.getWeights()) {
    const values = w.dataSync() as Float32Array;
    flat.set(values, offset);
    offset += values.length;
  }
  return flat;
}
