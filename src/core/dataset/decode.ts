// Decodes an image file on the main side (the CLI and the trainer worker's imports) into RGBA pixels,
// after checking it from its bytes (format, extension, declared size): sharp (libvips) for PNG, JPEG,
// WebP and GIF, bmp-ts for BMP, at the image's own size as Chromium decodes for the app (no ICC transform,
// turned as EXIF says), so a file gives the same bytes here as dropped on the app's window. Turning the
// pixels into a model's input (shrinking large ones included) is src/shared/preprocess.ts's job.
import type SharpFn from 'sharp';
import { decode as decodeBmp } from 'bmp-ts';
import { basename } from 'node:path';
import { checkImage, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from '@shared/imageCheck';
import { toModelInput, type InputTarget, type RgbaImage } from '@shared/preprocess';
import { StudioFailure } from '@shared/errors';
import { readRegularFile } from '../store/files';
import { refuse } from './fileRefused';

export class ImageRefused extends StudioFailure {
  readonly code = 'bad-data';
}

let sharpLoaded: Promise<typeof SharpFn> | undefined;
/**
 * sharp (native libvips) loads with the first image decoded, not with this module: the trainer worker
 * imports this file, and a run on IDX data (or a packaged layout where sharp sits unpacked) never needs it.
 */
function loadSharp(): Promise<typeof SharpFn> {
  sharpLoaded ??= import('sharp').then(({ default: sharp }) => {
    // One image at a time per libvips call: many small images are decoded side by side instead.
    sharp.concurrency(1);
    return sharp;
  });
  return sharpLoaded;
}

/** Grey, grey+alpha, RGB or RGBA pixels as RGBA. */
function rgba(data: Uint8Array, width: number, height: number, channels: number): RgbaImage {
  if (channels === 4) return { width, height, data };
  const n = width * height,
    out = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    const s = i * channels,
      colour = channels >= 3 ? 1 : 0;
    out[4 * i] = data[s]!;
    out[4 * i + 1] = data[s + colour]!;
    out[4 * i + 2] = data[s + 2 * colour]!;
    out[4 * i + 3] = channels === 2 ? data[s + 1]! : 255;
  }
  return { width, height, data: out };
}

/**
 * Decodes checked image bytes to RGBA; throws ImageRefused with the reason a person reads. `onNote` hears
 * what is worth saying about an accepted file (a JPEG named .png).
 */
export async function decodeImage(name: string, bytes: Uint8Array, onNote?: (note: string) => void): Promise<RgbaImage> {
  const check = checkImage(name, bytes);
  if (!check.ok) throw new ImageRefused(check.reason);
  if (check.note) onNote?.(check.note);
  const sharp = check.format === 'bmp' ? undefined : await loadSharp();
  try {
    if (check.format === 'bmp') {
      const bmp = decodeBmp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { toRGBA: true });
      // Most BMPs carry no alpha (24-bit, or 32-bit with the byte unused and zero): those are opaque.
      if (!bmp.data.some((v, i) => i % 4 === 3 && v !== 0)) for (let i = 3; i < bmp.data.length; i += 4) bmp.data[i] = 255;
      return { width: bmp.width, height: bmp.height, data: bmp.data };
    }
    // No ensureAlpha or other steps: each costs time on every one of a dataset's many small images.
    const { data, info } = await sharp!(bytes, { limitInputPixels: MAX_IMAGE_PIXELS, animated: false, ignoreIcc: true, autoOrient: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return rgba(data, info.width, info.height, info.channels);
  } catch {
    throw new ImageRefused('the image is damaged and cannot be decoded');
  }
}

/** Reads, checks, decodes and preprocesses one image file into a model's input bytes (H x W x C). */
export async function imageFileInput(file: string, target: InputTarget, onNote?: (note: string) => void): Promise<Uint8Array> {
  const data = readRegularFile(file, MAX_IMAGE_BYTES, refuse);
  const { bytes, empty } = toModelInput(await decodeImage(basename(file), data, onNote), target);
  if (empty) throw new ImageRefused('no ink found: the image is blank');
  return bytes;
}
