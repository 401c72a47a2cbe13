// Training on tfjs's own backends: 'tfjs-node' (libtensorflow) where it installed, and 'cpu'
// (pure JavaScript: correct but far too slow to train this CNN; kept as the reference for gradient checks).
import { tf } from './tfjs';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Engine, EngineOptions, StepResult } from '@shared/engine';
import type { Dataset, Split } from '@shared/dataset';
import { buildLayersModel, getFlatWeights, setFlatWeights } from '../model/layersModel';
import { architectureOf, type ParamSpec } from '@shared/architecture';
import { inputSize, type ModelSpec } from '@shared/modelSpec';

const EVAL_CHUNK = 500;

export const TFJS_DETAIL = { 'tfjs-node': 'tfjs-node (libtensorflow)', cpu: 'tfjs cpu backend (pure JavaScript, slow)' } as const;

/** The images at `rows` of `images` (a split's, or an augmented batch's with rows 0..n-1), scaled to [0, 1]. */
function imagesTensor(spec: ModelSpec, images: Uint8Array, rows: ArrayLike<number>): tf.Tensor4D {
  const px = inputSize(spec);
  const x = new Float32Array(rows.length * px);
  for (let b = 0; b < rows.length; b++) {
    const src = images.subarray(rows[b]! * px, rows[b]! * px + px);
    for (let p = 0; p < px; p++) x[b * px + p] = src[p]! / 255;
  }
  return tf.tensor4d(x, [rows.length, spec.height, spec.width, spec.channels]);
}

export class TfjsEngine implements Engine {
  readonly detail: string;
  private readonly model: tfl.Sequential;
  private readonly velocity: tf.Variable[];
  private readonly spec: ModelSpec;
  private readonly params: readonly ParamSpec[];
  private readonly paramCount: number;

  constructor(
    readonly backend: 'tfjs-node' | 'cpu',
    private readonly dataset: Dataset,
    _options: EngineOptions,
  ) {
    // Both backends initialise synchronously, so the switch has happened when setBackend returns.
    const name = backend === 'tfjs-node' ? 'tensorflow' : 'cpu';
    void tf.setBackend(name);
    if (tf.getBackend() !== name) throw new Error(`tfjs backend ${name} failed to start`);
    this.spec = dataset.spec;
    ({ params: this.params, paramCount: this.paramCount } = architectureOf(this.spec));
    this.model = buildLayersModel(this.spec);
    this.velocity = this.params.map((p) => tf.variable(tf.zeros([...p.shape]), false));
    this.detail = TFJS_DETAIL[backend];
  }

  getParams(): Float32Array {
    return getFlatWeights(this.model, this.paramCount);
  }

  setParams(flat: Float32Array): void {
    setFlatWeights(this.model, flat, this.spec);
  }

  getVelocity(): Float32Array {
    const flat = new Float32Array(this.paramCount);
    this.velocity.forEach((v, i) => flat.set(v.dataSync() as Float32Array, this.params[i]!.offset));
    return flat;
  }

  setVelocity(flat: Float32Array): void {
    tf.tidy(() =>
      this.velocity.forEach((v, i) => v.assign(tf.tensor(flat.subarray(this.params[i]!.offset, this.params[i]!.offset + this.params[i]!.size), v.shape))),
    );
  }

  trainStep(indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): StepResult {
    const { train } = this.dataset;
    const labels = Array.from(indices, (i) => train.labels[i]!);
    const weights = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const [loss, correct] = tf.tidy(() => {
      const x = images
        ? imagesTensor(
            this.spec,
            images,
            indices.map((_, i) => i),
          )
        : imagesTensor(this.spec, train.images, indices);
      const y = tf.tensor1d(labels, 'int32');
      let hits: tf.Scalar | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.model.apply(x, { training: true }) as tf.Tensor2D;
        hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32'))) as tf.Scalar;
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, this.spec.classes.length), tf.logSoftmax(logits)), 1))) as tf.Scalar;
      }, weights);
      // Heavy-ball momentum as optax does it: v = m*v + g; p -= lr*v. Written out (rather than
      // tf.train.momentum) so the velocity is ours to save in checkpoints and restore.
      weights.forEach((w, i) => {
        const v = this.velocity[i]!;
        v.assign(tf.add(tf.mul(v, momentum), grads[w.name]!));
        w.assign(tf.sub(w, tf.mul(v, learningRate)));
      });
      return [value, hits!] as const;
    });
    const out = { lossSum: loss.dataSync()[0]! * indices.length, correct: correct.dataSync()[0]! };
    tf.dispose([loss, correct]);
    return out;
  }

  private chunks(split: Split, start: number, count: number): Float32Array {
    const k = this.spec.classes.length;
    const out = new Float32Array(count * k);
    for (let done = 0; done < count; done += EVAL_CHUNK) {
      const n = Math.min(EVAL_CHUNK, count - done);
      const rows = Array.from({ length: n }, (_, i) => start + done + i);
      const logits = tf.tidy(() => this.model.predict(imagesTensor(this.spec, split.images, rows)) as tf.Tensor);
      out.set(logits.dataSync() as Float32Array, done * k);
      logits.dispose();
    }
    return out;
  }

  logits(split: 'train' | 'test', start: number, count: number): Float32Array {
    return this.chunks(this.dataset[split], start, count);
  }

  logitsOf(images: Float32Array): Float32Array {
    const { height, width, channels } = this.spec;
    const n = images.length / inputSize(this.spec);
    const logits = tf.tidy(() => this.model.predict(tf.tensor4d(images, [n, height, width, channels])) as tf.Tensor);
    const out = logits.dataSync() as Float32Array;
    logits.dispose();
    return out.slice();
  }

  tensorCount(): number {
    return tf.memory().numTensors;
  }

  dispose(): void {
    tf.dispose(this.velocity);
    this.model.dispose();
  }
}
