// `predict`: classifies image files with a saved model, through the same preprocessing as the app: the
// file is decoded at its own size (sharp, or bmp-ts for BMP), and everything after that is the shared
// preprocess, so a file gives the same 28x28 bytes here as dropped on the app's window.
import sharp from 'sharp';
import { decode as decodeBmp } from 'bmp-ts';
import { basename } from 'node:path';
import { preprocess, type RgbaImage } from '../shared/preprocess';
import { checkImage, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from '../shared/imageCheck';
import { readRegularFileAsync } from '../main/core/store/files';
import { TrainerClient } from '../main/core/trainer/client';
import type { BackendChoice } from '../shared/contract';

/** Reads an image file the way the app's drop view does: checked from its bytes first, then decoded.
 * `onNote` hears what is worth saying about an accepted file (a JPEG named .png). */
export async function decodeFile(file: string, onNote?: (note: string) => void): Promise<Uint8Array> {
  // The caller names the file: the error says only what is wrong with it.
  const bytes = await readRegularFileAsync(file, MAX_IMAGE_BYTES, (_file, problem) => new Error(problem));
  const check = checkImage(basename(file), bytes);
  if (!check.ok) throw new Error(check.reason);
  if (check.note) onNote?.(check.note);
  let image: RgbaImage;
  try {
    if (check.format === 'bmp') {
      // sharp (libvips) reads no BMP; bmp-ts does, straight to RGBA.
      const bmp = decodeBmp(bytes, { toRGBA: true });
      // Most BMPs carry no alpha (24-bit, or 32-bit with the byte unused and zero): those are opaque.
      if (!bmp.data.some((v, i) => i % 4 === 3 && v !== 0)) for (let i = 3; i < bmp.data.length; i += 4) bmp.data[i] = 255;
      image = { width: bmp.width, height: bmp.height, data: bmp.data };
    } else {
      // As Chromium decodes for the app: the pixels as stored (no ICC transform), turned as EXIF says.
      const { data, info } = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, animated: false, ignoreIcc: true, autoOrient: true })
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      image = { width: info.width, height: info.height, data };
    }
  } catch {
    throw new Error('the image is damaged and cannot be decoded');
  }
  const { bytes: input, empty } = preprocess(image);
  if (empty) throw new Error('no ink found: the image is blank');
  return input;
}

export async function predictCommand(files: string[], flags: { model: string; json?: boolean; backend: BackendChoice }): Promise<boolean> {
  const client = new TrainerClient();
  let allGood = true;
  try {
    await client.request('open', { dir: flags.model, backend: flags.backend });
    for (const file of files) {
      let pixels: Uint8Array;
      let note: string | undefined;
      try {
        pixels = await decodeFile(file, (n) => (note = n));
      } catch (error) {
        process.stderr.write(`error: ${file}: ${(error as Error).message}\n`);
        allGood = false;
        continue;
      }
      const [p] = await client.request('predict', { images: pixels });
      const { label, probabilities } = p!;
      // The note goes to stderr in text mode, so stdout keeps one `FILE: LABEL (P)` line per file.
      if (note && !flags.json) process.stderr.write(`note: ${file}: ${note}\n`);
      process.stdout.write(flags.json ? `${JSON.stringify({ file, label, probabilities, ...(note ? { note } : {}) })}\n` : `${file}: ${label} (${probabilities[label]!.toFixed(2)})\n`);
    }
  } finally {
    await client.close();
  }
  return allGood;
}
