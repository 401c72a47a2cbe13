// The training run as the UI sees it, built from the event stream. Per-step losses live in a plain
// array (thousands of points) with a version counter, so charts redraw without deep reactivity.
import type { EpochMetrics, History, TrainEvent, BackendInfo } from '../../../shared/contract';
import type { StudioEvent } from '../../../shared/api';
import { MNIST_SPEC, type ModelSpec } from '../../../shared/modelSpec';

type Progress = Extract<TrainEvent, { type: 'progress' }>;
export type Phase = 'idle' | 'starting' | 'training' | 'paused' | 'done' | 'stopped' | 'failed';

class RunState {
  phase = $state<Phase>('idle');
  backend = $state<BackendInfo | undefined>();
  progress = $state<Progress | undefined>();
  epochs = $state<EpochMetrics[]>([]);
  totalEpochs = $state(0);
  error = $state<string | undefined>();
  /** Where the model in hand was saved or opened from. */
  dir = $state<string | undefined>();
  /** Bumped whenever stepLosses grows. */
  stepVersion = $state(0);
  /** Bumped when a new model is in hand (trained or opened), for views that depend on the weights. */
  modelVersion = $state(0);
  stepLosses: number[] = [];
  /** The model in hand's input shape, mode and class names (MNIST's until another is trained or opened). */
  spec = $state<ModelSpec>(MNIST_SPEC);

  get hasModel(): boolean {
    return this.phase === 'done' || this.phase === 'stopped' || this.dir !== undefined;
  }

  reset(totalEpochs: number): void {
    this.phase = 'starting';
    this.progress = undefined;
    this.epochs = [];
    this.totalEpochs = totalEpochs;
    this.error = undefined;
    this.dir = undefined;
    this.stepLosses = [];
    this.stepVersion++;
  }

  showHistory(history: History | undefined, dir: string | undefined): void {
    this.epochs = history?.epochs ?? [];
    this.totalEpochs = history?.config.epochs ?? this.epochs.length;
    this.progress = undefined;
    this.stepLosses = [];
    this.stepVersion++;
    this.dir = dir;
    this.phase = 'done';
    this.modelVersion++;
  }

  apply(event: StudioEvent): void {
    switch (event.type) {
      case 'started':
        // A new run, or a resumed one bringing the epochs it had already done.
        this.reset(event.epochs);
        this.phase = 'training';
        this.backend = { backend: event.backend, detail: event.detail, fallbackReason: event.fallbackReason };
        this.spec = event.spec;
        this.epochs = event.history?.epochs ?? [];
        break;
      case 'progress':
        this.progress = event;
        this.stepLosses.push(...event.losses);
        this.stepVersion++;
        break;
      case 'epoch':
        this.epochs = [...this.epochs, event];
        this.modelVersion++;
        break;
      case 'paused':
        this.phase = 'paused';
        break;
      case 'resumed':
        this.phase = 'training';
        break;
      case 'done':
        this.phase = event.stopped ? 'stopped' : 'done';
        this.modelVersion++;
        break;
      case 'error':
        this.phase = 'failed';
        this.error = event.error.message;
        break;
      case 'model-opened':
        this.backend = event.model;
        this.spec = event.model.spec;
        this.showHistory(event.model.history, event.model.dir);
        break;
      case 'model-saved':
        this.dir = event.dir;
        break;
    }
  }
}

export const run = new RunState();
