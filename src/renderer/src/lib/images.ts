// The UI's side of image classification: files go through the image worker, then to the model in
// batches. Used by the drop view (dropped files, the Open images button, the menu's Open images…).
import type { ImageJob, ImageResult } from './imageWorker';
import type { Prediction } from '@shared/training';
import type { InputTarget } from '@shared/preprocess';
import { predictBatchSize } from '@shared/apiSchemas';
import { studio } from './studio';
import { PendingCalls } from '@shared/rpc';

export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

let worker: Worker | undefined;
const preparing = new PendingCalls<ImageResult>();

/** Checks, decodes and preprocesses one file off the UI thread. */
export function prepareImage(name: string, bytes: ArrayBuffer, target: InputTarget): Promise<ImageResult> {
  worker ??= (() => {
    const w = new Worker(new URL('./imageWorker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<ImageResult>) => void preparing.settle(e.data.id, e.data);
    return w;
  })();
  return preparing.request((id) => worker!.postMessage({ id, name, bytes, target } satisfies ImageJob, [bytes]));
}

/**
 * Predictions for several byte images of the model's input shape, in as few calls as the API's limits
 * allow (at most 256 images, and about 1 MB of base64, per call: 62 images of 64x64x3).
 */
export async function predictImages(images: Uint8Array[]): Promise<Prediction[]> {
  const size = images[0]?.length ?? 0;
  const batch = predictBatchSize(size);
  const predictions: Prediction[] = [];
  for (let start = 0; start < images.length; start += batch) {
    const part = images.slice(start, start + batch);
    const all = new Uint8Array(part.length * size);
    part.forEach((img, i) => all.set(img, i * size));
    predictions.push(...(await studio.predict({ images: toBase64(all) })));
  }
  return predictions;
}
