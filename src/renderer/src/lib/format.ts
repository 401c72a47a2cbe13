export { percent } from '../../../shared/format';

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export const integer = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Decodes base64 bytes (the API's image payloads). */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Paints one 28x28 greyscale digit (bytes or [0,1] floats) into a canvas context at (x, y). */
export function paintDigit(ctx: CanvasRenderingContext2D, pixels: ArrayLike<number>, x: number, y: number, scale = 255): void {
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i]! * (255 / scale));
    image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, x, y);
}
