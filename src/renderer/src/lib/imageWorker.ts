// Decodes and preprocesses image files off the UI thread: checks the bytes first (format, declared
// size), decodes with the browser's own decoders, shrinks very large images while decoding,
// and returns the 28x28 input and a small thumbnail.
import { checkImage } from '../../../shared/imageCheck';
import { preprocess } from '../../../shared/preprocess';

export interface ImageJob {
  id: number;
  name: string;
  bytes: ArrayBuffer;
}
export type ImageResult =
  | { id: number; ok: true; pixels: Uint8Array; thumbnail: Blob; width: number; height: number; note?: string }
  | { id: number; ok: false; reason: string };

/** Larger images are scaled down while decoding: plenty for a 20x20 digit, and bounded work. */
const WORK_SIDE = 1024;
const THUMB_SIDE = 64;

async function handle(job: ImageJob): Promise<ImageResult> {
  const bytes = new Uint8Array(job.bytes);
  const check = checkImage(job.name, bytes);
  if (!check.ok) return { id: job.id, ok: false, reason: check.reason };
  const scale = Math.min(1, WORK_SIDE / Math.max(check.width, check.height));
  const w = Math.max(1, Math.round(check.width * scale)), h = Math.max(1, Math.round(check.height * scale));
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes]), { resizeWidth: w, resizeHeight: h, resizeQuality: 'medium', premultiplyAlpha: 'none' });
  } catch {
    return { id: job.id, ok: false, reason: 'the image is damaged and cannot be decoded' };
  }
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, w, h);
  const { pixels, empty } = preprocess({ width: w, height: h, data });
  if (empty) {
    bitmap.close();
    return { id: job.id, ok: false, reason: 'no ink found: the image is blank' };
  }
  const t = Math.min(1, THUMB_SIDE / Math.max(w, h));
  const thumbCanvas = new OffscreenCanvas(Math.max(1, Math.round(w * t)), Math.max(1, Math.round(h * t)));
  thumbCanvas.getContext('2d')!.drawImage(bitmap, 0, 0, thumbCanvas.width, thumbCanvas.height);
  bitmap.close();
  const thumbnail = await thumbCanvas.convertToBlob({ type: 'image/png' });
  return { id: job.id, ok: true, pixels: Uint8Array.from(pixels, (v) => Math.round(v * 255)), thumbnail, width: check.width, height: check.height, note: check.note };
}

self.onmessage = async (event: MessageEvent<ImageJob>) => {
  let result: ImageResult;
  try {
    result = await handle(event.data);
  } catch (error) {
    result = { id: event.data.id, ok: false, reason: (error as Error).message || 'cannot be read' };
  }
  (self as unknown as Worker).postMessage(result);
};
