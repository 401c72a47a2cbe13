// Files to classify (dropped, picked, or opened from the menu) and their results. Files are read one by
// one, decoded off the UI thread, and predicted in batches, so a thousand files keep the window responsive.
import { imageTooLarge } from '@shared/imageCheck';
import { predictImages, prepareImage } from './images';
import { app } from './app.svelte';
import type { ModelSpec } from '@shared/modelSpec';
import { m } from '@shared/i18n/locale';
import { errorText } from './texts';

export interface Source {
  name: string;
  size: number;
  read(): Promise<ArrayBuffer>;
}

export interface DropResult {
  id: number;
  name: string;
  state: 'waiting' | 'done' | 'refused';
  reason?: string;
  /** Something worth knowing about an accepted file (a JPEG named .png). */
  note?: string;
  label?: number;
  /** The predicted class's name (shown as text). */
  className?: string;
  confidence?: number;
  pixels?: Uint8Array;
  /** The model the input was made for: its shape paints the input. */
  spec?: ModelSpec;
  thumbnail?: string;
}

const BATCH = 32;

class Drops {
  results = $state<DropResult[]>([]);
  total = $state(0);
  processed = $state(0);
  private queue: { result: DropResult; source: Source }[] = [];
  private running = false;
  private nextId = 1;

  add(sources: Source[]): void {
    for (const source of sources) {
      const result: DropResult = { id: this.nextId++, name: source.name, state: 'waiting' };
      this.results.push(result);
      this.queue.push({ result: this.results.at(-1)!, source });
    }
    this.total += sources.length;
    if (!this.running) void this.drain();
  }

  clear(): void {
    for (const r of this.results) if (r.thumbnail) URL.revokeObjectURL(r.thumbnail);
    this.results = [];
    this.queue = [];
    this.total = this.processed = 0;
  }

  private async drain(): Promise<void> {
    this.running = true;
    let batch: { result: DropResult; pixels: Uint8Array }[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const current = batch;
      batch = [];
      try {
        const predictions = await predictImages(current.map((b) => b.pixels));
        predictions.forEach((p, i) =>
          Object.assign(current[i]!.result, { state: 'done', label: p.label, className: p.class, confidence: p.probabilities[p.label] }),
        );
      } catch (e) {
        for (const b of current) Object.assign(b.result, { state: 'refused', reason: errorText(e) });
      }
      this.processed += current.length;
    };
    while (this.queue.length > 0) {
      const { result, source } = this.queue.shift()!;
      const tooLarge = imageTooLarge(source.size);
      if (tooLarge) {
        Object.assign(result, { state: 'refused', reason: tooLarge });
        this.processed++;
        continue;
      }
      let prepared;
      try {
        prepared = await prepareImage(source.name, await source.read(), $state.snapshot(app.spec));
      } catch (e) {
        prepared = { ok: false as const, reason: m.cannot_be_read({ reason: (e as Error).message }) };
      }
      if (!prepared.ok) {
        Object.assign(result, { state: 'refused', reason: prepared.reason });
        this.processed++;
        continue;
      }
      Object.assign(result, {
        pixels: prepared.pixels,
        spec: $state.snapshot(app.spec),
        thumbnail: URL.createObjectURL(prepared.thumbnail),
        note: prepared.note,
      });
      batch.push({ result, pixels: prepared.pixels });
      if (batch.length === BATCH) await flush();
    }
    await flush();
    this.running = false;
  }
}

export const drops = new Drops();

export const fromFiles = (files: Iterable<File>): Source[] => Array.from(files, (f) => ({ name: f.name, size: f.size, read: () => f.arrayBuffer() }));
