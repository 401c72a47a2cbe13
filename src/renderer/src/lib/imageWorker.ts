// Decodes and preprocesses image files off the UI thread: checks the bytes first (format, declared
// size), decodes with the browser's own decoders at the image's own size (the pixel cap bounds it), and
// hands the pixels to the shared preprocess, which `cli predict` uses too: the same file gives the same
// bytes in both, in the model's own input mode and shape. Returns those and a small thumbnail.
import { checkImage } from '@shared/imageCheck';
import { toModelInput, type InputTarget } from '@shared/preprocess';
import { MNIST_SPEC } from '@shared/modelSpec';

export interface ImageJob {
  id: number;
  name: string;
  bytes: ArrayBuffer;
  /** The model's input (MNIST's when not given). */
  target?: InputTarget;
}
export type ImageResult =
  { id: number; ok: true; pixels: Uint8Array; thumbnail: Blob; width: number; height: number; note?: string } | { id: number; ok: false; reason: string };

const THUMB_SIDE = 64;

async function handle(job: ImageJob): Promise<ImageResult> {
  const bytes = new Uint8Array(job.bytes);
  const check = checkImage(job.name, bytes);
  if (!check.ok) return { id: job.id, ok: false, reason: check.reason };
  let bitmap: ImageBitmap;
  try {
    // No resizing and no colour management here: the decoded pixels as stored, as sharp gives them.
    bitmap = await createImageBitmap(new Blob([bytes]), { premultiplyAlpha: 'none', colorSpaceConversion: 'none', imageOrientation: 'from-image' });
  } catch {
    return { id: job.id, ok: false, reason: 'the image is damaged and cannot be decoded' };
  }
  const [w, h] = [bitmap.width, bitmap.height];
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, w, h);
  const { bytes: pixels, empty } = toModelInput({ width: w, height: h, data }, job.target ?? MNIST_SPEC);
  if (empty) {
    bitmap.close();
    return { id: job.id, ok: false, reason: 'no ink found: the image is blank' };
  }
  const t = Math.min(1, THUMB_SIDE / Math.max(w, h));
  const thumbCanvas = new OffscreenCanvas(Math.max(1, Math.round(w * t)), Math.max(1, Math.round(h * t)));
  thumbCanvas.getContext('2d')!.drawImage(bitmap, 0, 0, thumbCanvas.width, thumbCanvas.height);
  bitmap.close();
  const thumbnail = await thumbCanvas.convertToBlob({ type: 'image/png' });
  return { id: job.id, ok: true, pixels, thumbnail, width: check.width, height: check.height, note: check.note };
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
