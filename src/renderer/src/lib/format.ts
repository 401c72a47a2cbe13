export { percent } from '@shared/format';

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
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

export type ImageShape = { height: number; width: number; channels: number };
const MNIST_SHAPE: ImageShape = { height: 28, width: 28, channels: 1 };

/** Paints one model input (H x W x C bytes, or [0,1] floats with scale 1) into a canvas context at (x, y). */
export function paintImage(ctx: CanvasRenderingContext2D, pixels: ArrayLike<number>, x: number, y: number, shape: ImageShape = MNIST_SHAPE, scale = 255): void {
  const { height, width, channels } = shape;
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(pixels[i * channels + (channels === 3 ? c : 0)]! * (255 / scale));
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, x, y);
}

/** Svelte action: paints an input into its canvas (sized to the shape). */
export function painted(canvas: HTMLCanvasElement, image: [ArrayLike<number>, ImageShape]): { update(image: [ArrayLike<number>, ImageShape]): void } {
  const paint = ([pixels, shape]: [ArrayLike<number>, ImageShape]): void => {
    canvas.width = shape.width;
    canvas.height = shape.height;
    paintImage(canvas.getContext('2d')!, pixels, 0, 0, shape);
  };
  paint(image);
  // Svelte reuses a list's canvases when the list changes (another dataset, another page of the gallery):
  // each must show its new image, not keep the one it was first given.
  return { update: paint };
}
