// Decides whether a file is an image we will decode, from its bytes alone, before any decoder allocates
// anything: known formats only, and the declared size must be sane (a decompression bomb declares a huge
// size in a tiny file). Decoders go by content, so a name whose extension disagrees (a JPEG named .png)
// is accepted with a note saying so.
import { imageSize } from 'image-size';

export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const MAX_IMAGE_PIXELS = 40_000_000;
export const MAX_IMAGE_SIDE = 16384;

const FORMATS: Record<string, string[]> = {
  png: ['png'],
  jpg: ['jpg', 'jpeg', 'jpe', 'jfif'],
  webp: ['webp'],
  gif: ['gif'],
  bmp: ['bmp', 'dib'],
};
export const IMAGE_EXTENSIONS = Object.values(FORMATS).flat();

/** The one size check for image files, wherever they come from (the same wording as the file reader's cap). */
export function imageTooLarge(bytes: number): string | undefined {
  return bytes > MAX_IMAGE_BYTES ? `larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB` : undefined;
}

/** How each format is written in messages. */
const FORMAT_NAMES: Record<string, string> = { png: 'PNG', jpg: 'JPEG', webp: 'WebP', gif: 'GIF', bmp: 'BMP' };

export type ImageCheck = { ok: true; width: number; height: number; format: string; note?: string } | { ok: false; reason: string };

export function checkImage(name: string, bytes: Uint8Array): ImageCheck {
  if (bytes.length === 0) return { ok: false, reason: 'the file is empty' };
  const tooLarge = imageTooLarge(bytes.length);
  if (tooLarge) return { ok: false, reason: tooLarge };
  let info: { width?: number; height?: number; type?: string };
  try {
    info = imageSize(bytes);
  } catch {
    return { ok: false, reason: 'not an image (PNG, JPEG, WebP, GIF or BMP)' };
  }
  const format = info.type ?? '';
  if (!FORMATS[format]) return { ok: false, reason: `${format.toUpperCase() || 'this'} images are not supported (PNG, JPEG, WebP, GIF or BMP)` };
  const width = info.width ?? 0,
    height = info.height ?? 0;
  if (width < 1 || height < 1) return { ok: false, reason: 'the image declares no size' };
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    return { ok: false, reason: `declares ${width}x${height} pixels, more than the ${MAX_IMAGE_PIXELS / 1e6} million allowed` };
  }
  const extension = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
  if (FORMATS[format]!.includes(extension)) return { ok: true, width, height, format };
  // The name is the sender's: only a short, plain extension is repeated back.
  const named = /^[a-z0-9]{1,10}$/.test(extension) ? `named .${extension}` : extension ? 'with an unusual extension' : 'with no extension';
  const note = `a ${FORMAT_NAMES[format]} ${named}`;
  return { ok: true, width, height, format, note };
}
