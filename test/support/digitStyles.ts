// Real MNIST test digits re-drawn the way people hand them to the app, as PNG files:
// plain 28x28, dark ink on a large white page, an RGBA canvas export, and a small digit off-centre.
import sharp from 'sharp';
import { encode as encodeBmp } from 'bmp-ts';

export const STYLES = ['plain', 'page', 'canvas', 'offcentre'] as const;
export type Style = (typeof STYLES)[number];

/** Bilinear upscaling of a 28x28 byte digit to size x size. */
function upscale(digit: Uint8Array, size: number): Float32Array {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sx = Math.min(27, Math.max(0, ((x + 0.5) * 28) / size - 0.5)),
        sy = Math.min(27, Math.max(0, ((y + 0.5) * 28) / size - 0.5));
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy),
        x1 = Math.min(27, x0 + 1),
        y1 = Math.min(27, y0 + 1);
      const fx = sx - x0,
        fy = sy - y0;
      const v = (a: number, b: number): number => digit[b * 28 + a]! / 255;
      out[y * size + x] = (1 - fy) * ((1 - fx) * v(x0, y0) + fx * v(x1, y0)) + fy * ((1 - fx) * v(x0, y1) + fx * v(x1, y1));
    }
  return out;
}

/** RGBA pixels of a digit in a style. `ink` is 0..1 coverage; the page and ink colours depend on the style. */
export function styledDigit(digit: Uint8Array, style: Style, variant = 0): { width: number; height: number; data: Uint8Array } {
  if (style === 'plain') {
    const data = new Uint8Array(28 * 28 * 4);
    for (let i = 0; i < 784; i++) data.set([digit[i]!, digit[i]!, digit[i]!, 255], i * 4);
    return { width: 28, height: 28, data };
  }
  const spec = {
    page: { width: 640, height: 480, size: 200, x: 180 + (variant % 5) * 20, y: 120 + (variant % 3) * 30, paper: 245, inkLevel: 40, alpha: false },
    canvas: { width: 280, height: 280, size: 280, x: 0, y: 0, paper: 0, inkLevel: 0, alpha: true },
    offcentre: { width: 600, height: 600, size: 56, x: 40 + (variant % 4) * 10, y: 470 - (variant % 3) * 15, paper: 255, inkLevel: 20, alpha: false },
  }[style];
  const ink = upscale(digit, spec.size);
  const data = new Uint8Array(spec.width * spec.height * 4);
  for (let y = 0; y < spec.height; y++)
    for (let x = 0; x < spec.width; x++) {
      const dx = x - spec.x,
        dy = y - spec.y;
      const v = dx >= 0 && dy >= 0 && dx < spec.size && dy < spec.size ? ink[dy * spec.size + dx]! : 0;
      const o = (y * spec.width + x) * 4;
      if (spec.alpha) {
        // A drawing app's export: black strokes on a transparent background.
        data.set([0, 0, 0, Math.round(v * 255)], o);
      } else {
        const grain = ((x * 7 + y * 13) % 5) - 2; // a little paper texture
        const level = Math.min(252, Math.max(0, Math.round(spec.paper * (1 - v) + spec.inkLevel * v + grain)));
        data.set([level, level, Math.min(255, level + 3), 255], o);
      }
    }
  return { width: spec.width, height: spec.height, data };
}

export async function styledPng(digit: Uint8Array, style: Style, variant = 0): Promise<Buffer> {
  const { width, height, data } = styledDigit(digit, style, variant);
  return sharp(Buffer.from(data), { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** The same picture as a 24-bit BMP (bmp-ts takes ABGR pixels). */
export function styledBmp(digit: Uint8Array, style: Style, variant = 0): Buffer {
  const { width, height, data } = styledDigit(digit, style, variant);
  const abgr = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i += 4) abgr.set([data[i + 3]!, data[i + 2]!, data[i + 1]!, data[i]!], i);
  return encodeBmp({ width, height, data: abgr, bitPP: 24 } as Parameters<typeof encodeBmp>[0]).data;
}

/** The same picture in another format sharp writes: JPEG, WebP or GIF. */
export async function styledImage(digit: Uint8Array, style: Style, format: 'jpeg' | 'webp' | 'gif', variant = 0): Promise<Buffer> {
  const { width, height, data } = styledDigit(digit, style, variant);
  return sharp(Buffer.from(data), { raw: { width, height, channels: 4 } })
    .toFormat(format)
    .toBuffer();
}
