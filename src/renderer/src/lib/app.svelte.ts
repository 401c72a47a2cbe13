// The page's copy of the app's state: the run, the model in hand, the dataset and its import. The app
// owns it: the page loads a snapshot (getState) on load and after every reconnect, then folds in the numbered events with the same applyEvent the app uses. An
// event whose number skips one means some were missed: a fresh snapshot replaces the copy. Nothing that
// matters lives only in the page, so a reload, a second tab or a crash of the page loses nothing.
import type { StudioApi } from '@shared/api';
import type { ImportProgress, RunProgress, StudioEvent, StudioState } from '@shared/studioState';
import type { DataSummary } from '@shared/dataset';
import { applyEvent, modelHistory, modelSpec, shownHistory } from '@shared/studioState';
import { MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';
import type { EpochMetrics, History } from '@shared/training';

export type Phase = 'loading' | 'idle' | 'starting' | 'training' | 'evaluating' | 'saving' | 'paused' | 'done' | 'stopped' | 'failed';

class AppState {
  /** The last snapshot plus the events since; replaced (never mutated) so views update. */
  state = $state.raw<StudioState | undefined>();
  /** Bumped whenever the shown per-step losses may have changed. */
  stepVersion = $state(0);
  /** Bumped when the weights in hand change (a finished epoch, another model), for views that use them. */
  modelVersion = $state(0);
  private modelKey = '';
  /** Bumped when another dataset is in hand, for views that show its images. */
  datasetVersion = $state(0);
  private datasetShown: DataSummary | undefined;

  /** What the run is doing, or how the last one ended. */
  get phase(): Phase {
    const s = this.state;
    if (!s) return 'loading';
    if (s.status === 'training') return s.run?.progress?.phase === 'evaluating' ? 'evaluating' : s.run?.progress?.phase === 'saving' ? 'saving' : 'training';
    if (s.status !== 'idle') return s.status;
    return s.run?.outcome ?? 'idle';
  }

  /** Starting, training or paused: the form and the model buttons wait. */
  get busy(): boolean {
    return this.state !== undefined && this.state.status !== 'idle';
  }

  /** The active run's history, else the model in hand's: what the charts, table and form show. */
  get shown(): History | undefined {
    return this.state ? shownHistory(this.state) : undefined;
  }

  get epochs(): EpochMetrics[] {
    return this.shown?.epochs ?? [];
  }

  get totalEpochs(): number {
    return this.shown?.config.epochs ?? 0;
  }

  get progress(): RunProgress | undefined {
    return this.state?.run?.progress;
  }

  get backend() {
    return this.state?.backend;
  }

  get error(): string | undefined {
    return this.state?.error?.message;
  }

  get model() {
    return this.state?.model;
  }

  /** The model in hand's input shape, mode and class names; with none, those of the dataset in hand's model. */
  get spec(): ModelSpec {
    return this.state ? modelSpec(this.state) : MNIST_SPEC;
  }

  get hasModel(): boolean {
    return this.state?.model !== undefined;
  }

  /** The dataset in hand (undefined until the app has opened the first). */
  get dataset(): DataSummary | undefined {
    return this.state?.dataset;
  }

  /** How the dataset being opened, by this page or another, is getting on. */
  get importing(): ImportProgress | undefined {
    return this.state?.importing;
  }

  /** Shows a state: a fresh snapshot, or the current one with events folded in. */
  show(next: StudioState): void {
    this.state = { ...next };
    this.stepVersion++;
    const m = next.model;
    const key = m ? `${m.name}|${m.dir}|${m.runId}|${modelHistory(next)?.epochs.length ?? 0}` : '';
    if (key !== this.modelKey) {
      this.modelKey = key;
      this.modelVersion++;
    }
    // Every opening is a new summary object, even of the same folder (its files may have changed).
    if (next.dataset !== this.datasetShown) {
      this.datasetShown = next.dataset;
      this.datasetVersion++;
    }
  }
}

export const app = new AppState();

/** Keeps `app` in step with the app's state: snapshot first, then events; a gap or a reconnect re-syncs. */
export function followApp(studio: StudioApi): () => void {
  let current: StudioState | undefined;
  /** Events that arrive while a snapshot is on its way; undefined when none is. */
  let waiting: StudioEvent[] | undefined;
  let closed = false;

  const load = async (): Promise<void> => {
    waiting = [];
    let snapshot: StudioState;
    try {
      snapshot = await studio.getState({});
    } catch {
      // The app is unreachable for now; the transport reports the reconnect, or try again shortly.
      if (!closed) setTimeout(() => void load(), 1000);
      return;
    }
    const queued = waiting ?? [];
    waiting = undefined;
    current = snapshot;
    app.show(current);
    for (const event of queued) accept(event);
  };

  const accept = (event: StudioEvent): void => {
    if (waiting) return void waiting.push(event);
    if (!current || event.seq <= current.seq) return; // already in the snapshot
    if (event.seq !== current.seq + 1) return void load(); // missed some: start over from a snapshot
    applyEvent(current, event);
    app.show(current);
  };

  const offEvents = studio.onEvent(accept);
  const offReconnect = studio.onReconnect(() => void load());
  void load();
  return () => {
    closed = true;
    offEvents();
    offReconnect();
  };
}
