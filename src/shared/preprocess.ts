// Turns any picture of a digit into what MNIST looks like: white ink on black, the ink's bounding box
// scaled to fit 20x20 with its aspect kept, placed in 28x28 with its centre of mass at the centre, as
// bytes. Pure TypeScript on decoded RGBA pixels, so the canvas, dropped files (decoded by Chromium) and
// `cli predict` (decoded by sharp) share every step after decoding and get the same bytes: colours are
// first premultiplied by alpha (what a canvas stores, so a browser's round trip through one cannot change
// the result), large images are shrunk here rather than by either decoder, and an image already in
// MNIST's form passes through untouched.
//
// That is the "drawing" input mode (ModelSpec.mode), into any field size (MNIST's 28x28 by default, the
// ink's box scaled to 20/28 of it). The "photo" mode centre-crops the picture to the input's aspect ratio
// and area-resamples it to H x W, greyscale or RGB, transparent pixels over white. toModelInput picks.
import type { InputMode } from './modelSpec';

export interface RgbaImage {
  width: number;
  height: number;
  /** width*height*4 bytes, RGBA. */
  data: Uint8Array | Uint8ClampedArray;
}

export interface Preprocessed {
  /** H x W x C bytes, row-major, channels last (784 for MNIST's 28x28): what the model is given. */
  bytes: Uint8Array;
  /** The same as values in [0, 1] (bytes / 255). */
  pixels: Float32Array;
  /** No ink was found: the image is blank. */
  empty: boolean;
  /** The image was already in MNIST's form and passed through as it was. */
  untouched: boolean;
}

/** What a picture is turned into: the input part of a ModelSpec. */
export interface InputTarget {
  height: number;
  width: number;
  channels: 1 | 3;
  mode: InputMode;
}

const SIZE = 28;
const MNIST_FIELD = { height: SIZE, width: SIZE };
/** MNIST's digits fill 20 of the field's 28 pixels. */
const BOX_FRACTION = 20 / 28;
/** Larger images are shrunk to this longest side first: plenty for a 20x20 digit, and bounded work. */
export const WORK_SIDE = 1024;

/** c·a/255 rounded, exactly as Skia premultiplies (SkMulDiv255Round). */
const premultiply = (c: number, a: number): number => {
  const product = c * a + 128;
  return (product + (product >> 8)) >> 8;
};

/**
 * The image the framing works on: colours premultiplied by alpha, as a canvas stores them (a browser hands
 * canvas pixels back un-premultiplied, losing precision where alpha is low, and premultiplying again lands
 * on the values it stored, so both decoders' pixels meet here), and shrunk by a whole factor to at most
 * maxSide, each block averaged (partial blocks at the edges by their own size). One pass, one output-row
 * of sums: a full-size image is read once and never copied.
 */
export function workingImage(image: RgbaImage, maxSide = WORK_SIDE): RgbaImage {
  const { width, height, data } = image;
  const factor = Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
  const nw = Math.ceil(width / factor),
    nh = Math.ceil(height / factor);
  const out = new Uint8Array(nw * nh * 4);
  const sums = new Uint32Array(nw * 4);
  for (let by = 0; by < nh; by++) {
    sums.fill(0);
    const rows = Math.min(factor, height - by * factor);
    for (let y = by * factor; y < by * factor + rows; y++)
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4,
          o = Math.floor(x / factor) * 4,
          a = data[i + 3]!;
        for (let c = 0; c < 3; c++) sums[o + c]! += a === 255 ? data[i + c]! : premultiply(data[i + c]!, a);
        sums[o + 3]! += a;
      }
    for (let bx = 0; bx < nw; bx++) {
      const count = rows * Math.min(factor, width - bx * factor);
      for (let c = 0; c < 4; c++) out[(by * nw + bx) * 4 + c] = Math.round(sums[bx * 4 + c]! / count);
    }
  }
  return { width: nw, height: nh, data: out };
}

/**
 * MNIST's form: 28x28, opaque grey, a dark background (most of the outer ring near black), the ink's box
 * within 22x22 and its centre of mass within two pixels of the middle. Every MNIST digit passes.
 */
function mnistForm(image: RgbaImage): Uint8Array | undefined {
  const { width, height, data } = image;
  if (width !== SIZE || height !== SIZE) return undefined;
  const grey = new Uint8Array(SIZE * SIZE);
  for (let i = 0; i < grey.length; i++) {
    const [r, g, b, a] = [data[4 * i]!, data[4 * i + 1]!, data[4 * i + 2]!, data[4 * i + 3]!];
    if (a !== 255 || r !== g || g !== b) return undefined;
    grey[i] = r;
  }
  let ring = 0,
    dark = 0,
    mass = 0,
    mx = 0,
    my = 0,
    x0 = SIZE,
    x1 = -1,
    y0 = SIZE,
    y1 = -1;
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const v = grey[y * SIZE + x]!;
      if (x === 0 || y === 0 || x === SIZE - 1 || y === SIZE - 1) (ring++, v < 32 && dark++);
      ((mass += v), (mx += v * x), (my += v * y));
      if (v >= 64) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  if (dark < ring * 0.8 || x1 < 0 || x1 - x0 >= 22 || y1 - y0 >= 22) return undefined;
  return Math.abs(mx / mass - 14) <= 2 && Math.abs(my / mass - 14) <= 2 ? grey : undefined;
}

/** Ink in [0, 1] per pixel of premultiplied RGBA: alpha decides on transparent images, brightness against the background otherwise. */
function inkMap(image: RgbaImage): Float32Array {
  const { width, height, data } = image;
  const n = width * height;
  // Premultiplied: lum is alpha x the colour's luminance.
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
    let sum = 0,
      count = 0;
    for (let i = 0; i < n; i++) if (alpha[i]! >= 0.5) ((sum += lum[i]! / alpha[i]!), count++);
    const darkStrokes = count > 0 && sum / count < 0.5;
    for (let i = 0; i < n; i++) ink[i] = darkStrokes ? alpha[i]! - lum[i]! : lum[i]!;
    return ink;
  }
  // Opaque: the border tells the background; a light one (paper, a scan) is inverted.
  let border = 0,
    borderCount = 0;
  for (let x = 0; x < width; x++) ((border += lum[x]! + lum[(height - 1) * width + x]!), (borderCount += 2));
  for (let y = 0; y < height; y++) ((border += lum[y * width]! + lum[y * width + width - 1]!), (borderCount += 2));
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
      const a = o * scale,
        b = (o + 1) * scale;
      const taps: { index: number; weight: number }[] = [];
      for (let i = Math.floor(a); i < Math.min(from, Math.ceil(b)); i++) {
        const weight = Math.min(b, i + 1) - Math.max(a, i);
        if (weight > 0) taps.push({ index: i, weight: weight / scale });
      }
      return taps;
    });
  };
  const xs = axis(w, nw),
    ys = axis(h, nh);
  // Plain loops (not reduce): the same sums in the same order, without a closure call per tap.
  const rows = new Float32Array(h * nw);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < nw; x++) {
      let s = 0;
      for (const t of xs[x]!) s += t.weight * src[y * w + t.index]!;
      rows[y * nw + x] = s;
    }
  const out = new Float32Array(nw * nh);
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) {
      let s = 0;
      for (const t of ys[y]!) s += t.weight * rows[t.index * nw + x]!;
      out[y * nw + x] = s;
    }
  return out;
}

const fromBytes = (bytes: Uint8Array, empty: boolean, untouched: boolean): Preprocessed => ({
  bytes,
  pixels: Float32Array.from(bytes, (v) => v / 255),
  empty,
  untouched,
});

/** Decoded RGBA (straight alpha, any size up to the pixel cap) to a drawing model's bytes (MNIST's 28x28 by default). */
export function preprocess(decoded: RgbaImage, field: { height: number; width: number } = MNIST_FIELD): Preprocessed {
  const given = field.height === SIZE && field.width === SIZE ? mnistForm(decoded) : undefined;
  return given ? fromBytes(given, false, true) : reframe(decoded, field);
}

/** preprocess without the pass-through: always finds the ink and frames it anew. */
export function reframe(decoded: RgbaImage, field: { height: number; width: number } = MNIST_FIELD): Preprocessed {
  const framed = frame(workingImage(decoded), field);
  const bytes = Uint8Array.from(framed ?? new Float32Array(field.height * field.width), (v) => Math.round(v * 255));
  return fromBytes(bytes, !framed, false);
}

/** The photo preprocessing: centre-crop to the target's aspect, resample to H x W, greyscale or RGB over white. */
export function photoInput(decoded: RgbaImage, target: Omit<InputTarget, 'mode'>): Preprocessed {
  const image = workingImage(decoded);
  const { width, height, data } = image;
  const aspect = target.width / target.height;
  // The largest centred window of the target's aspect ratio.
  const cw = Math.max(1, Math.min(width, Math.round(height * aspect))),
    ch = Math.max(1, Math.min(height, Math.round(width / aspect)));
  const x0 = Math.floor((width - cw) / 2),
    y0 = Math.floor((height - ch) / 2);
  const planes = target.channels === 3 ? [0, 1, 2] : [-1];
  const bytes = new Uint8Array(target.height * target.width * target.channels);
  planes.forEach((channel, c) => {
    const plane = new Float32Array(cw * ch);
    for (let y = 0; y < ch; y++)
      for (let x = 0; x < cw; x++) {
        const i = 4 * ((y0 + y) * width + x0 + x);
        // Premultiplied colour plus white where it is transparent.
        const value = channel < 0 ? 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]! : data[i + channel]!;
        plane[y * cw + x] = (value + 255 - data[i + 3]!) / 255;
      }
    const small = resample(plane, cw, ch, target.width, target.height);
    for (let p = 0; p < small.length; p++) bytes[p * target.channels + c] = Math.round(255 * Math.min(1, Math.max(0, small[p]!)));
  });
  return fromBytes(bytes, false, false);
}

/** A picture as a model's input, by the target's mode; drawings in RGB models repeat the grey in each channel. */
export function toModelInput(decoded: RgbaImage, target: InputTarget): Preprocessed {
  if (target.mode === 'photo') return photoInput(decoded, target);
  const grey = preprocess(decoded, target);
  if (target.channels === 1) return grey;
  const bytes = new Uint8Array(grey.bytes.length * 3);
  grey.bytes.forEach((v, i) => bytes.fill(v, 3 * i, 3 * i + 3));
  return fromBytes(bytes, grey.empty, grey.untouched);
}

/** The digit's ink framed MNIST-style in a field, values in [0, 1]; undefined when there is no ink. */
function frame(image: RgbaImage, field: { height: number; width: number }): Float32Array | undefined {
  const { width, height } = image;
  const FH = field.height,
    FW = field.width;
  const BOX = Math.round(BOX_FRACTION * Math.min(FH, FW));
  const ink = inkMap(image);
  const peak = ink.reduce((m, v) => (v > m ? v : m), 0);
  const pixels = new Float32Array(FH * FW);
  if (peak < 0.1) return undefined;
  // The bounding box of clear ink (a quarter of the peak), ignoring faint specks.
  let x0 = width,
    y0 = height,
    x1 = -1,
    y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (ink[y * width + x]! > peak * 0.25) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  const cw = x1 - x0 + 1,
    ch = y1 - y0 + 1;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) crop.set(ink.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + cw), y * cw);
  const scale = BOX / Math.max(cw, ch);
  const nw = Math.max(1, Math.round(cw * scale)),
    nh = Math.max(1, Math.round(ch * scale));
  const small = resample(crop, cw, ch, nw, nh);
  // Centre of mass of the scaled digit, then the shift that puts it at the field's centre.
  let mass = 0,
    mx = 0,
    my = 0;
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++) {
      const v = small[y * nw + x]!;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 0), hi);
  const ox = clamp(Math.round((FW - 1) / 2 - mx / mass), FW - nw);
  const oy = clamp(Math.round((FH - 1) / 2 - my / mass), FH - nh);
  const top = small.reduce((m, v) => (v > m ? v : m), 0);
  for (let y = 0; y < nh; y++) for (let x = 0; x < nw; x++) pixels[(oy + y) * FW + ox + x] = Math.min(1, small[y * nw + x]! / top);
  return pixels;
}
