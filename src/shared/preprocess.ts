// Turns any picture of a digit into what MNIST looks like: white ink on black, the ink's bounding box
// scaled to fit 20x20 with its aspect kept, placed in 28x28 with its centre of mass at the centre,
// values in [0, 1]. Pure TypeScript on pixel arrays, so the canvas, dropped files and the CLI share it.

export interface RgbaImage {
  width: number;
  height: number;
  /** width*height*4 bytes, RGBA. */
  data: Uint8Array | Uint8ClampedArray;
}

export interface Preprocessed {
  /** 784 values in [0, 1], row-major 28x28. */
  pixels: Float32Array;
  /** No ink was found: the image is blank. */
  empty: boolean;
}

const SIZE = 28;
const BOX = 20;

/** Ink in [0, 1] per pixel: alpha decides on transparent images, brightness against the background otherwise. */
function inkMap(image: RgbaImage): Float32Array {
  const { width, height, data } = image;
  const n = width * height;
  const lum = new Float32Array(n);
  const alpha = new Float32Array(n);
  let transparent = 0;
  for (let i = 0; i < n; i++) {
    lum[i] = (0.299 * data[4 * i]! + 0.587 * data[4 * i + 1]! + 0.114 * data[4 * i + 2]!) / 255;
    alpha[i] = data[4 * i + 3]! / 255;
    if (alpha[i]! < 0.5) transparent++;
  }
  const ink = new Float32Array(n);
  if (transparent > n * 0.05) {
    // A canvas export or a cut-out: strokes are the opaque pixels, dark or light.
    let sum = 0, count = 0;
    for (let i = 0; i < n; i++) if (alpha[i]! >= 0.5) (sum += lum[i]!), count++;
    const darkStrokes = count > 0 && sum / count < 0.5;
    for (let i = 0; i < n; i++) ink[i] = alpha[i]! * (darkStrokes ? 1 - lum[i]! : lum[i]!);
    return ink;
  }
  // Opaque: the border tells the background; a light one (paper, a scan) is inverted.
  let border = 0, borderCount = 0;
  for (let x = 0; x < width; x++) (border += lum[x]! + lum[(height - 1) * width + x]!), (borderCount += 2);
  for (let y = 0; y < height; y++) (border += lum[y * width]! + lum[y * width + width - 1]!), (borderCount += 2);
  const invert = border / borderCount > 0.5;
  const background = invert ? 1 - border / borderCount : border / borderCount;
  for (let i = 0; i < n; i++) {
    const v = invert ? 1 - lum[i]! : lum[i]!;
    // Lift the background to zero so paper grain and JPEG noise do not count as ink.
    ink[i] = Math.max(0, (v - background) / Math.max(1e-6, 1 - background));
  }
  return ink;
}

/** Area-weighted resampling of a w x h map to nw x nh (box filter when shrinking, linear-ish when growing). */
function resample(src: Float32Array, w: number, h: number, nw: number, nh: number): Float32Array {
  const axis = (from: number, to: number): { index: number; weight: number }[][] => {
    const scale = from / to;
    return Array.from({ length: to }, (_, o) => {
      const a = o * scale, b = (o + 1) * scale;
      const taps: { index: number; weight: number }[] = [];
      for (let i = Math.floor(a); i < Math.min(from, Math.ceil(b)); i++) {
        const weight = Math.min(b, i + 1) - Math.max(a, i);
        if (weight > 0) taps.push({ index: i, weight: weight / scale });
      }
      return taps;
    });
  };
  const xs = axis(w, nw), ys = axis(h, nh);
  const rows = new Float32Array(h * nw);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < nw; x++) rows[y * nw + x] = xs[x]!.reduce((s, t) => s + t.weight * src[y * w + t.index]!, 0);
  const out = new Float32Array(nw * nh);
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) out[y * nw + x] = ys[y]!.reduce((s, t) => s + t.weight * rows[t.index * nw + x]!, 0);
  return out;
}

export function preprocess(image: RgbaImage): Preprocessed {
  const { width, height } = image;
  const ink = inkMap(image);
  const peak = ink.reduce((m, v) => (v > m ? v : m), 0);
  const pixels = new Float32Array(SIZE * SIZE);
  if (peak < 0.1) return { pixels, empty: true };
  // The bounding box of clear ink (a quarter of the peak), ignoring faint specks.
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink[y * width + x]! > peak * 0.25) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  const cw = x1 - x0 + 1, ch = y1 - y0 + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(ink.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + cw), y * cw);
  const scale = BOX / Math.max(cw, ch);
  const nw = Math.max(1, Math.round(cw * scale)), nh = Math.max(1, Math.round(ch * scale));
  const small = resample(crop, cw, ch, nw, nh);
  // Centre of mass of the scaled digit, then the shift that puts it at the field's centre.
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) {
      const v = small[y * nw + x]!;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const ox = clamp(Math.round((SIZE - 1) / 2 - mx / mass), SIZE - nw);
  const oy = clamp(Math.round((SIZE - 1) / 2 - my / mass), SIZE - nh);
  const top = small.reduce((m, v) => (v > m ? v : m), 0);
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) pixels[(oy + y) * SIZE + ox + x] = Math.min(1, small[y * nw + x]! / top);
  return { pixels, empty: false };
}
