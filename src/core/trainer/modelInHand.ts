// The trainer worker's model in hand: its engine (and what that engine was made for), its spec, the
// backend it was asked for, its history and test predictions, and a copy of its weights while they live
// on a GPU. Every way the model changes hands goes through here: put (weights onto an engine), snapshot
// and restore (around a run that may not finish a step), recovery from a lost GPU, and drop.
import type { BackendChoice, History } from '@shared/training';
import type { Dataset } from '@shared/dataset';
import type { Engine } from '@shared/engine';
import { inputLabel, MNIST_SPEC, sameSpec, type ModelSpec } from '@shared/modelSpec';
import { StudioCallError } from '@shared/api';
import { createEngine, type BackendPick } from '../backend/backends';
import { loadCheckpoint } from '../store/checkpoint';

/** A dataset of no images with a model's spec: what the engine of a model opened for other data runs on. */
export const predictOnly = (spec: ModelSpec): Dataset => {
  const none = { count: 0, images: new Uint8Array(0), labels: new Uint8Array(0) };
  return { source: 'none', spec, train: none, test: none };
};

/** The model in hand, as a run that has not finished a step must leave it. */
export interface Snapshot {
  params?: Float32Array;
  history?: History;
  spec: ModelSpec;
  choice: BackendChoice;
  dataset?: Dataset;
}

export interface TakeOptions {
  maxBatch?: number;
  threads?: number;
  /** Training may load a GPU; predictions alone, with auto, take a CPU engine rather than load one. */
  use?: 'train' | 'infer';
  /** The spec the model in hand has from now on (by default the one it had). */
  spec?: ModelSpec;
  /** The run trains on augmented batches (see EngineOptions.augmented). */
  augmented?: boolean;
}

export class ModelInHand {
  engine: Engine | undefined;
  spec: ModelSpec = MNIST_SPEC;
  /** The backend choice and dataset the engine in hand was made with. */
  choice: BackendChoice = 'auto';
  dataset: Dataset | undefined;
  history: History | undefined;
  /** What the engine in hand was made for; a run or an open that needs the same reuses it. */
  private engineKey = '';
  private engineFallback: string | undefined;
  /** The model in hand's predicted test labels, and the dataset they are for; dropped whenever the weights change. */
  private testPredicted: { on: Dataset; predicted: Uint8Array } | undefined;
  /** The weights of a model in hand that lives on a GPU, read back when its run ended: a GPU lost later (a
   *  crashed compute window, a driver reset) takes that engine, not the model. */
  private gpuCopy: { engine: Engine; params: Float32Array } | undefined;
  private readonly datasetIds = new WeakMap<Dataset, number>();
  private datasetCount = 0;

  /** The engine in hand, or the no-model error. */
  required(): Engine {
    if (!this.engine) throw StudioCallError.of('no-model', 'no model: train or open one first');
    return this.engine;
  }

  /** Disposes of the engine in hand (the next run or open makes a fresh one). */
  drop(): void {
    this.engine?.dispose();
    [this.engine, this.engineKey, this.testPredicted] = [undefined, '', undefined];
  }

  /**
   * The engine for a backend choice and batch size. The same one is reused across runs (with fresh
   * weights and momentum): a new wasm engine means a new shared memory of ~150 MB and new threads,
   * and the old memory is only returned when the garbage collector gets round to it.
   */
  private async engineFor(choice: BackendChoice, dataset: Dataset, options: TakeOptions): Promise<BackendPick> {
    const { maxBatch = 32, threads, use = 'infer', augmented = false } = options;
    // The wasm engine holds its own copy of the images, so a reopened dataset (even of the same folder) needs a new one.
    if (!this.datasetIds.has(dataset)) this.datasetIds.set(dataset, ++this.datasetCount);
    const key = JSON.stringify([choice, use, this.datasetIds.get(dataset), maxBatch, threads ?? 0, augmented]);
    // Predictions run on the engine in hand (if it is for this dataset); without one, auto takes a CPU engine rather than load a GPU.
    if (use === 'infer' && this.engine && choice === 'auto' && this.dataset === dataset) return { engine: this.engine, fallbackReason: this.engineFallback };
    if (!this.engine || key !== this.engineKey) {
      this.drop();
      const pick = await createEngine(choice, dataset, { maxBatch, threads, gpu: use === 'train', augmented });
      [this.engine, this.engineKey, this.engineFallback] = [pick.engine, key, pick.fallbackReason];
    }
    return { engine: this.engine, fallbackReason: this.engineFallback };
  }

  /** Makes the engine for a choice on a dataset (or reuses the one in hand) the model in hand's; its weights are the caller's to set. */
  async take(choice: BackendChoice, on: Dataset, options: TakeOptions = {}): Promise<BackendPick> {
    const pick = await this.engineFor(choice, on, options);
    [this.engine, this.choice, this.dataset, this.spec] = [pick.engine, choice, on, options.spec ?? this.spec];
    return pick;
  }

  /** Puts weights in hand on the engine for a choice on a dataset, with the spec and history they come with. */
  async put(params: Float32Array, on: Dataset, choice: BackendChoice, given: { spec?: ModelSpec; history?: History } = {}): Promise<BackendPick> {
    const pick = await this.take(choice, on, { spec: given.spec });
    pick.engine.setParams(params);
    [this.history, this.testPredicted] = ['history' in given ? given.history : this.history, undefined];
    return pick;
  }

  /** The engine in hand, moved onto a dataset (same weights) when that one is for the same spec. */
  async onData(d: Dataset): Promise<Engine> {
    const engine = this.required();
    if (!sameSpec(this.spec, d.spec)) {
      const { spec } = this;
      throw StudioCallError.of(
        'bad-request',
        `the model in hand takes ${inputLabel(spec)} ${spec.mode} input with ${spec.classes.length} classes; the dataset is ${inputLabel(d.spec)} ${d.spec.mode} with ${d.spec.classes.length}`,
      );
    }
    if (this.dataset !== d) await this.put(await engine.getParams(), d, this.choice);
    return this.engine!;
  }

  /** The model in hand's predicted labels for a dataset's whole test set, if they are known. */
  testPredictionsOn(d: Dataset): Uint8Array | undefined {
    const known = this.testPredicted;
    return known?.on === d && known.predicted.length === d.test.count ? known.predicted : undefined;
  }

  keepTestPredictions(on: Dataset, predicted: Uint8Array): void {
    this.testPredicted = { on, predicted };
  }

  /** A run's first step changed the weights: the run's history is the model's now, and old predictions are stale. */
  stepped(history: History | undefined): void {
    [this.history, this.testPredicted] = [history, undefined];
  }

  /** The model in hand as it is before a run, to put back if the run finishes no step. */
  async snapshot(): Promise<Snapshot> {
    const { history, spec, choice, dataset, engine } = this;
    return { history, spec, choice, dataset, params: engine ? await engine.getParams() : undefined };
  }

  /** Puts back the model that was in hand before a run that never finished a step. */
  async restore(before: Snapshot): Promise<void> {
    this.history = before.history;
    if (!before.params) return;
    const made = this.dataset; // what the engine in hand was made for: the run's data
    [this.spec, this.choice] = [before.spec, before.choice];
    try {
      if (!this.engine || this.engine.broken || !made || !sameSpec(made.spec, before.spec)) {
        // With no engine left (the run's GPU failed), a model from a GPU comes back on the CPU, not on that GPU.
        const choice = !this.engine && before.choice === 'webgpu' ? 'auto' : before.choice;
        await this.put(before.params, before.dataset ?? predictOnly(before.spec), choice);
      } else {
        this.engine.setParams(before.params);
        this.testPredicted = undefined;
      }
    } catch {
      // No engine can be made at all: the run's own error says why.
    }
  }

  /** Reads back the weights of a model in hand on a GPU, as its run ends, for recoverLostGpu. */
  async keepGpuCopy(): Promise<void> {
    this.gpuCopy = undefined;
    const engine = this.engine;
    if (engine?.backend !== 'webgpu' || engine.broken) return;
    try {
      this.gpuCopy = { engine, params: await engine.getParams() };
    } catch {
      // the GPU failed as the run ended: the next request finds it broken, with no copy to go back to
    }
  }

  /** A GPU engine that broke between runs: its model comes back on the CPU from the copy. False when there is none. */
  async recoverLostGpu(): Promise<boolean> {
    if (!this.engine?.broken || this.gpuCopy?.engine !== this.engine) return false;
    const { params } = this.gpuCopy;
    const on = this.dataset ?? predictOnly(this.spec);
    this.drop();
    this.gpuCopy = undefined;
    await this.put(params, on, 'auto'); // auto, which for predictions alone takes no GPU
    return true;
  }

  /** After a GPU failed mid-run: puts a checkpoint's weights in hand on a CPU engine, with its history; false when there is none to use. */
  async fromCheckpoint(dir: string): Promise<boolean> {
    try {
      const saved = loadCheckpoint(dir);
      if (saved.epoch === 0 || !this.dataset || !sameSpec(saved.spec, this.dataset.spec)) return false;
      await this.put(saved.params, this.dataset, 'auto', { history: saved.history });
      return true;
    } catch {
      return false;
    }
  }
}
