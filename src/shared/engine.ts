// What a training backend does for the trainer. Four implementations: the hand-written kernels as wasm
// (wasmEngine) and as a native addon (nativeEngine), tfjs's own backends, tfjs-node or the pure-JS cpu one (tfjsEngine), and the
// WebGPU kernels (src/gpu/gpuEngine), whose results arrive asynchronously: callers await every result.
import type { BackendName } from './training';
import type { Dataset } from './dataset';

export interface StepResult {
  /** Cross-entropy summed over the batch (divide by its size for the mean). */
  lossSum: number;
  /** Examples whose argmax matched the label. */
  correct: number;
}

/** A result now (CPU engines) or later (the GPU engine). */
export type Maybe<T> = T | Promise<T>;

export interface EngineOptions {
  /** Largest batch the engine will be asked to train on. */
  maxBatch: number;
  /** Threads for the wasm and native kernels; ignored by tfjs. */
  threads?: number;
  /** May auto consider the GPU (false: predictions only, not worth loading one). Default true. */
  gpu?: boolean;
  /** How long one wasm kernel operation may take before its threads are presumed dead (tests shorten it). */
  deadlineMs?: number;
  /**
   * The run trains on augmented images (made by the trainer, passed with each step): an engine that keeps
   * the train set where its kernels read it reserves room there for a submission's worth of them.
   */
  augmented?: boolean;
  /** Another build of cnn.wasm for the wasm engine (benchmarks and parity checks compare builds). */
  kernelFile?: string;
  /** The wasm engine's build: 'relaxed' (relaxed SIMD, the default where the runtime has it) or 'plain'. */
  kernelBuild?: 'relaxed' | 'plain';
  /** Another cnn.node for the native engine (tests point it at a missing or broken file). */
  nativeFile?: string;
  /** The native engine's instruction set: 'AVX2' on a CPU that has more (tests compare the builds); default the best. */
  nativeIsa?: 'AVX2';
}

/** The most steps the trainer puts in one trainSteps call (and a GPU engine reserves augmented images for). */
export const MAX_GROUP_STEPS = 64;

export interface Engine {
  readonly backend: BackendName;
  /** One line about how it runs, for people: "wasm SIMD kernels, 2 threads". */
  readonly detail: string;
  /** The GPU adapter it runs on, for webgpu: "webgpu: Intel Xe Graphics (vulkan)". */
  readonly device?: string;
  /** All parameters, flat, in tfjs's weight order and layouts. */
  getParams(): Maybe<Float32Array>;
  setParams(flat: Float32Array): void;
  /** The momentum buffers, same layout as the parameters. */
  getVelocity(): Maybe<Float32Array>;
  setVelocity(flat: Float32Array): void;
  /**
   * One SGD-momentum step on the training images at `indices`, or, where `images` is given, on those
   * images (indices.length of them, in batch order, bytes as the dataset stores them) with the labels at
   * `indices`: an augmented batch, in the batch slot the engine reads instead of its own copy of the images.
   */
  trainStep(indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): Maybe<StepResult>;
  /**
   * Several steps in one go, where the engine gains by it (the GPU engine encodes them in one submission
   * and reads their results back once). Without it the trainer calls trainStep per step.
   */
  trainSteps?(batches: Int32Array[], learningRate: number, momentum: number, images?: Uint8Array[]): Promise<StepResult[]>;
  /** Logits [count, K] for rows start.. of a split of the dataset it was made with. */
  logits(split: 'train' | 'test', start: number, count: number): Maybe<Float32Array>;
  /** Logits for images already scaled to [0, 1], [n, H, W, C] of the dataset's spec. */
  logitsOf(images: Float32Array): Maybe<Float32Array>;
  /** Set once the engine can no longer run (a wasm helper thread died): it must be disposed and dropped. */
  readonly broken?: string;
  /** Live tensors, for leak checks (0 where the engine holds none). */
  tensorCount(): number;
  dispose(): void;
}

export type { Dataset };
