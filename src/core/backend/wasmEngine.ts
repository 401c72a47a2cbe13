// The portable engine: the seed's CNN on hand-written WebAssembly SIMD kernels (kernels/cnn.c; the
// relaxed-SIMD build where the runtime has it), on as many threads as the machine has cores (up to 4),
// with no tfjs in the training path at all.
import { availableParallelism } from 'node:os';
import type { Engine, EngineOptions, StepResult } from '@shared/engine';
import type { Dataset } from '@shared/dataset';
import { KernelPool, Op, kernelImports, type KernelExports } from './kernelThreads';
import { kernelBuild, kernelModule, type KernelBuild } from './kernelModule';
import { architectureOf } from '@shared/architecture';
import { inputSize } from '@shared/modelSpec';

const P = { params: 0, velocity: 1, stats: 3, batch: 4, out: 5, predictX: 6, trainX: 7, trainY: 8, testX: 9, testY: 10, stack: 11 };
const SOURCE = { train: 0, test: 1, predict: 2 } as const;
const PAGE = 65536;
/** Rows of logits one infer call can return; larger requests are chunked. */
const OUT_ROWS = 2048;

/** Threads the kernels use: as asked, else one per core, at most 4 (the batch of 32 splits no further usefully). */
export const wasmThreads = (asked?: number): number => Math.max(1, Math.min(asked ?? availableParallelism(), 4));
export const wasmDetail = (threads: number, build: KernelBuild = kernelBuild()): string =>
  `WebAssembly ${build === 'relaxed' ? 'relaxed ' : ''}SIMD kernels on ${threads} thread${threads > 1 ? 's' : ''}`;

export class WasmEngine implements Engine {
  readonly backend = 'wasm' as const;
  readonly detail: string;
  private readonly k: KernelExports;
  private readonly memory: WebAssembly.Memory;
  private readonly pool: KernelPool;
  private readonly paramCount: number;
  private readonly classes: number;
  private readonly pixels: number;
  /** The train set's rows; the batch slot's maxBatch rows follow them in the kernels' train images. */
  private readonly trainRows: number;
  private readonly trainLabels: Uint8Array;

  constructor(dataset: Dataset, options: EngineOptions) {
    const threads = wasmThreads(options.threads);
    // One shard per thread keeps every thread busy; the shard count fixes the summation order.
    const shards = threads;
    const build = kernelBuild(options.kernelBuild);
    const module = kernelModule(options.kernelFile, build);
    const { train, test, spec } = dataset;
    this.paramCount = architectureOf(spec).paramCount;
    this.classes = spec.classes.length;
    this.pixels = inputSize(spec);
    const shape = [spec.height, spec.width, spec.channels, this.classes] as const;
    // The kernels read a step's images by row number: an augmented batch goes into rows past the train set.
    [this.trainRows, this.trainLabels] = [train.count, train.labels];
    const trainSlots = train.count + options.maxBatch;
    // Size the memory from a throwaway plan, then lay it out for real in the shared memory.
    const probeMemory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
    const probe = new WebAssembly.Instance(module, { env: { memory: probeMemory, ...kernelImports.env } }).exports as unknown as KernelExports;
    const base = probe.__heap_base.value as number;
    const end = probe.plan(base, trainSlots, test.count, options.maxBatch, shards, threads, OUT_ROWS, ...shape);
    const pages = Math.ceil(end / PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.k = new WebAssembly.Instance(module, { env: { memory: this.memory, ...kernelImports.env } }).exports as unknown as KernelExports;
    this.k.plan(base, trainSlots, test.count, options.maxBatch, shards, threads, OUT_ROWS, ...shape);
    this.k.__stack_pointer.value = this.k.ptr(P.stack, 0);
    this.bytes(P.trainX, train.images.length).set(train.images);
    this.bytes(P.trainY, train.labels.length).set(train.labels);
    this.bytes(P.testX, test.images.length).set(test.images);
    this.bytes(P.testY, test.labels.length).set(test.labels);
    this.pool = new KernelPool(this.k, module, this.memory, threads, shards, options.deadlineMs);
    this.detail = wasmDetail(threads, build);
  }

  private bytes(which: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, this.k.ptr(which, 0), length);
  }

  private floats(which: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.k.ptr(which, 0), length);
  }

  getParams(): Float32Array {
    return this.floats(P.params, this.paramCount).slice();
  }

  setParams(flat: Float32Array): void {
    this.floats(P.params, this.paramCount).set(flat);
  }

  getVelocity(): Float32Array {
    return this.floats(P.velocity, this.paramCount).slice();
  }

  setVelocity(flat: Float32Array): void {
    this.floats(P.velocity, this.paramCount).set(flat);
  }

  trainStep(indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): StepResult {
    const rows = new Int32Array(this.memory.buffer, this.k.ptr(P.batch, 0), indices.length);
    if (images) {
      const [first, px] = [this.trainRows, this.pixels];
      new Uint8Array(this.memory.buffer, this.k.ptr(P.trainX, 0) + first * px, indices.length * px).set(images.subarray(0, indices.length * px));
      const labels = new Uint8Array(this.memory.buffer, this.k.ptr(P.trainY, 0) + first, indices.length);
      for (let i = 0; i < indices.length; i++) [labels[i], rows[i]] = [this.trainLabels[indices[i]!]!, first + i];
    } else rows.set(indices);
    this.pool.run(Op.Train, [indices.length]);
    const stats = new Float32Array(this.memory.buffer, this.k.ptr(P.stats, 0), this.pool.shards * 2);
    let lossSum = 0,
      correct = 0;
    for (let s = 0; s < this.pool.shards; s++) {
      lossSum += stats[2 * s]!;
      correct += stats[2 * s + 1]!;
    }
    this.pool.run(Op.Update, [], [learningRate, momentum]);
    return { lossSum, correct };
  }

  private infer(source: number, start: number, count: number): Float32Array {
    const k = this.classes;
    const result = new Float32Array(count * k);
    for (let done = 0; done < count; done += OUT_ROWS) {
      const n = Math.min(OUT_ROWS, count - done);
      this.pool.run(Op.Infer, [source, start + done, n]);
      result.set(this.floats(P.out, n * k), done * k);
    }
    return result;
  }

  logits(split: 'train' | 'test', start: number, count: number): Float32Array {
    return this.infer(SOURCE[split], start, count);
  }

  logitsOf(images: Float32Array): Float32Array {
    const [px, k] = [this.pixels, this.classes];
    const n = images.length / px;
    const result = new Float32Array(n * k);
    for (let done = 0; done < n; done += OUT_ROWS) {
      const m = Math.min(OUT_ROWS, n - done);
      this.floats(P.predictX, m * px).set(images.subarray(done * px, (done + m) * px));
      result.set(this.infer(SOURCE.predict, 0, m), done * k);
    }
    return result;
  }

  get broken(): string | undefined {
    return this.pool.broken;
  }

  /** The kernel thread pool, for fault injection in tests. */
  get threadPool(): KernelPool {
    return this.pool;
  }

  tensorCount(): number {
    return 0;
  }

  dispose(): void {
    this.pool.dispose();
  }
}
