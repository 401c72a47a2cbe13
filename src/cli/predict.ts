// `predict`: classifies image files with a saved model, through the same preprocessing as the canvas.
import sharp from 'sharp';
import { preprocess } from '../shared/preprocess';
import { TrainerClient } from '../main/core/trainer/client';
import type { BackendChoice } from '../shared/contract';

/** Refuse images that would decode to more than this many pixels (decompression bombs). */
export const MAX_PIXELS = 40_000_000;

export async function decodeFile(file: string): Promise<Float32Array> {
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await sharp(file, { limitInputPixels: MAX_PIXELS, animated: false }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(/unsupported image format|Input file contains/.test(message) ? 'not a supported image (PNG, JPEG, WebP, GIF, TIFF)' : message.split('\n')[0]);
  }
  const { width, height } = decoded.info;
  return preprocess({ width, height, data: decoded.data }).pixels;
}

export async function predictCommand(files: string[], flags: { model: string; json?: boolean; backend: BackendChoice }): Promise<boolean> {
  const client = new TrainerClient();
  let allGood = true;
  try {
    await client.request('open', { dir: flags.model, backend: flags.backend });
    for (const file of files) {
      let pixels: Float32Array;
      try {
        pixels = await decodeFile(file);
      } catch (error) {
        process.stderr.write(`error: ${file}: ${(error as Error).message}\n`);
        allGood = false;
        continue;
      }
      const [p] = await client.request('predict', { images: pixels });
      const { label, probabilities } = p!;
      process.stdout.write(flags.json ? `${JSON.stringify({ file, label, probabilities })}\n` : `${file}: ${label} (${probabilities[label]!.toFixed(2)})\n`);
    }
  } finally {
    await client.close();
  }
  return allGood;
}
