// Data augmentation, on the CPU where batches are made, so every engine trains on the same bytes: each
// training image of a step is redrawn from its stored bytes with randomness that is a function of
// (seed, epoch, step, place in the batch) alone, never of a running stream, so a resumed run and an
// uninterrupted one draw the same images. Drawing mode (white strokes on black) gets a random affine
// (shift, rotation, scale, shear) and a one-pixel stroke thickening or thinning; photo mode a random crop
// scaled back up, an optional mirror, and brightness and contrast. Both resample through one bilinear
// sampler with a precomputed inverse affine: tight typed-array loops, a few microseconds an image.
import type { AugmentStrength } from '@shared/training';
import type { ModelSpec } from '@shared/modelSpec';
import { Rng } from '../model/rng';

/** The "strong" ranges; "light" is half of each. */
export const STRONG = {
  /** Pixels, each axis. */
  shift: 3,
  /** Degrees. */
  rotation: 15,
  /** Scale factor 1 ± this. */
  scale: 0.15,
  /** Shear factor (x += shear · y). */
  shear: 0.3,
  /** Chance of a one-pixel dilation, and the same of an erosion. */
  thickness: 1 / 3,
  /** The least fraction of the area a photo's crop keeps. */
  cropArea: 0.3,
  /** Brightness and contrast factors 1 ± this. */
  tone: 0.2,
} as const;

const FACTOR: Record<AugmentStrength, number> = { none: 0, light: 0.5, strong: 1 };

export interface AugmentOptions {
  strength: AugmentStrength;
  /** Photo mode: mirror half the images left to right (wrong for text and digits, so off unless asked). */
  flip?: boolean;
}

/** One image's draw: the forward affine's parts and the pixel operations after it. */
export interface AugmentDraw {
  dx: number;
  dy: number;
  /** Radians. */
  rotation: number;
  scale: number;
  shear: number;
  /** -1 erode, 0 none, 1 dilate (drawing mode). */
  thickness: -1 | 0 | 1;
  mirror: boolean;
  brightness: number;
  contrast: number;
}

/** A 32-bit mix of the run's seed and the image's place in the run: its generator's seed. */
export function imageSeed(seed: number, epoch: number, step: number, index: number): number {
  let h = seed >>> 0;
  for (const word of [epoch, step, index]) {
    h = Math.imul(h ^ (word >>> 0), 0x9e3779b1) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/** Uniform in [-1, 1). */
const signed = (rng: Rng): number => 2 * rng.next() - 1;

/** Draws one image's augmentation; every value is inside the strength's ranges. */
export function drawAugment(rng: Rng, spec: Pick<ModelSpec, 'mode'>, options: AugmentOptions): AugmentDraw {
  const f = FACTOR[options.strength];
  const draw: AugmentDraw = { dx: 0, dy: 0, rotation: 0, scale: 1, shear: 0, thickness: 0, mirror: false, brightness: 1, contrast: 1 };
  if (f === 0) return draw;
  if (spec.mode === 'drawing') {
    draw.dx = signed(rng) * STRONG.shift * f;
    draw.dy = signed(rng) * STRONG.shift * f;
    draw.rotation = (signed(rng) * STRONG.rotation * f * Math.PI) / 180;
    draw.scale = 1 + signed(rng) * STRONG.scale * f;
    draw.shear = signed(rng) * STRONG.shear * f;
    const t = rng.next();
    draw.thickness = t < STRONG.thickness * f ? 1 : t < 2 * STRONG.thickness * f ? -1 : 0;
  } else {
    // A crop of area a (its sides sqrt(a) of the image's) somewhere inside the image, scaled back up.
    const side = Math.sqrt(1 - rng.next() * STRONG.cropArea * f);
    draw.scale = 1 / side;
    // The crop's centre stays within (1 - side) / 2 of the image's; the shift is that, magnified.
    const room = ((1 - side) / 2) * draw.scale;
    draw.dx = signed(rng) * room;
    draw.dy = signed(rng) * room;
    draw.mirror = options.flip === true && rng.next() < 0.5;
    draw.brightness = 1 + signed(rng) * STRONG.tone * f;
    draw.contrast = 1 + signed(rng) * STRONG.tone * f;
  }
  return draw;
}

/**
 * The inverse of the draw's affine about the image's centre, as [a, b, c, d, e, f]: the source pixel of
 * output (x, y) is (a·x + b·y + c, d·x + e·y + f). Drawing mode's shift is in pixels; photo mode's in
 * fractions of the image's sides.
 */
export function inverseAffine(draw: AugmentDraw, width: number, height: number, mode: ModelSpec['mode']): Float64Array {
  const cx = (width - 1) / 2,
    cy = (height - 1) / 2;
  const cos = Math.cos(draw.rotation),
    sin = Math.sin(draw.rotation);
  // Forward: out = centre + shift + R · H · S · (in - centre), H the shear [[1, k], [0, 1]].
  const s = draw.scale,
    k = draw.shear;
  // A mirror flips the input's x first: the first column negated.
  const flip = draw.mirror ? -1 : 1;
  const m00 = flip * cos * s,
    m01 = (cos * k - sin) * s,
    m10 = flip * sin * s,
    m11 = (sin * k + cos) * s;
  const det = m00 * m11 - m01 * m10;
  const [i00, i01, i10, i11] = [m11 / det, -m01 / det, -m10 / det, m00 / det];
  const tx = mode === 'drawing' ? draw.dx : draw.dx * width,
    ty = mode === 'drawing' ? draw.dy : draw.dy * height;
  const ox = cx + tx,
    oy = cy + ty;
  return Float64Array.of(i00, i01, cx - i00 * ox - i01 * oy, i10, i11, cy - i10 * ox - i11 * oy);
}

/**
 * Bilinear resampling of one H x W x C image through an inverse affine. Outside the source is black for
 * drawings (their background) and the nearest edge pixel for photos.
 */
function resample(src: Uint8Array, dst: Float32Array, w: number, h: number, ch: number, inv: Float64Array, edge: boolean): void {
  if (ch === 1 && !edge) return resampleInk(src, dst, w, h, inv);
  const [a, b, c, d, e, f] = [inv[0]!, inv[1]!, inv[2]!, inv[3]!, inv[4]!, inv[5]!];
  const row = w * ch;
  for (let y = 0; y < h; y++) {
    let sx = b * y + c,
      sy = e * y + f;
    for (let x = 0, o = y * row; x < w; x++, sx += a, sy += d, o += ch) {
      let fx = sx,
        fy = sy;
      if (edge) {
        fx = fx < 0 ? 0 : fx > w - 1 ? w - 1 : fx;
        fy = fy < 0 ? 0 : fy > h - 1 ? h - 1 : fy;
      }
      const x0 = Math.floor(fx),
        y0 = Math.floor(fy);
      const tx = fx - x0,
        ty = fy - y0;
      const w00 = (1 - tx) * (1 - ty),
        w01 = tx * (1 - ty),
        w10 = (1 - tx) * ty,
        w11 = tx * ty;
      if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
        // All four neighbours inside: the common case, without a bounds check per tap.
        const i = y0 * row + x0 * ch;
        for (let k = 0; k < ch; k++) dst[o + k] = src[i + k]! * w00 + src[i + ch + k]! * w01 + src[i + row + k]! * w10 + src[i + row + ch + k]! * w11;
      } else if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        for (let k = 0; k < ch; k++) dst[o + k] = 0;
      } else {
        const inX0 = x0 >= 0,
          inX1 = x0 + 1 < w,
          inY0 = y0 >= 0,
          inY1 = y0 + 1 < h;
        const i = y0 * row + x0 * ch;
        for (let k = 0; k < ch; k++)
          dst[o + k] =
            (inX0 && inY0 ? src[i + k]! * w00 : 0) +
            (inX1 && inY0 ? src[i + ch + k]! * w01 : 0) +
            (inX0 && inY1 ? src[i + row + k]! * w10 : 0) +
            (inX1 && inY1 ? src[i + row + ch + k]! * w11 : 0);
      }
    }
  }
}

/** resample for drawings (one channel, black outside): the trainer's common case, kept to the bare loop. */
function resampleInk(src: Uint8Array, dst: Float32Array, w: number, h: number, inv: Float64Array): void {
  const [a, b, c, d, e, f] = [inv[0]!, inv[1]!, inv[2]!, inv[3]!, inv[4]!, inv[5]!];
  const wm = w - 1,
    hm = h - 1;
  let o = 0;
  for (let y = 0; y < h; y++) {
    let sx = b * y + c,
      sy = e * y + f;
    for (let x = 0; x < w; x++, sx += a, sy += d, o++) {
      // Truncation is floor here: anything left of -1 is outside anyway.
      if (sx <= -1 || sy <= -1 || sx >= w || sy >= h) {
        dst[o] = 0;
        continue;
      }
      const x0 = sx < 0 ? -1 : sx | 0,
        y0 = sy < 0 ? -1 : sy | 0;
      const tx = sx - x0,
        ty = sy - y0;
      const i = y0 * w + x0;
      const v00 = x0 >= 0 && y0 >= 0 ? src[i]! : 0,
        v01 = x0 < wm && y0 >= 0 ? src[i + 1]! : 0,
        v10 = x0 >= 0 && y0 < hm ? src[i + w]! : 0,
        v11 = x0 < wm && y0 < hm ? src[i + w + 1]! : 0;
      const top = v00 + (v01 - v00) * tx,
        bottom = v10 + (v11 - v10) * tx;
      dst[o] = top + (bottom - top) * ty;
    }
  }
}

/**
 * A one-pixel dilation (max: thicker strokes) or erosion (min: thinner) of a one-channel image over the
 * pixel and its four neighbours, edges clamped. The cross rather than the full 3x3 square: a square's
 * erosion wipes out MNIST's two-to-three-pixel strokes, the cross thins them.
 */
function morph(src: Float32Array, dst: Float32Array, w: number, h: number, grow: boolean): void {
  const sign = grow ? 1 : -1;
  for (let y = 0; y < h; y++) {
    const r = y * w,
      up = y > 0 ? r - w : r,
      down = y < h - 1 ? r + w : r;
    for (let x = 0; x < w; x++) {
      // max(v) = -min(-v): one comparison chain for both.
      let m = sign * src[r + x]!;
      const left = sign * src[r + (x > 0 ? x - 1 : 0)]!,
        right = sign * src[r + (x < w - 1 ? x + 1 : x)]!,
        above = sign * src[up + x]!,
        below = sign * src[down + x]!;
      if (left > m) m = left;
      if (right > m) m = right;
      if (above > m) m = above;
      if (below > m) m = below;
      dst[r + x] = sign * m;
    }
  }
}

/** Images of one shape redrawn into caller-owned buffers (scratch kept between calls: no allocation per batch). */
export class Augmenter {
  private readonly px: number;
  private readonly a: Float32Array;
  private readonly b: Float32Array;

  constructor(
    private readonly spec: Pick<ModelSpec, 'height' | 'width' | 'channels' | 'mode'>,
    private readonly options: AugmentOptions,
  ) {
    this.px = spec.height * spec.width * spec.channels;
    this.a = new Float32Array(this.px);
    this.b = new Float32Array(this.px);
  }

  /** Redraws one image (px bytes) into `out` by the given draw. */
  apply(image: Uint8Array, draw: AugmentDraw, out: Uint8Array): void {
    const { width: w, height: h, channels: ch, mode } = this.spec;
    resample(image, this.a, w, h, ch, inverseAffine(draw, w, h, mode), mode !== 'drawing');
    let v = this.a;
    if (draw.thickness !== 0 && ch === 1) {
      morph(this.a, this.b, w, h, draw.thickness > 0);
      v = this.b;
    }
    if (draw.brightness !== 1 || draw.contrast !== 1) {
      let sum = 0;
      for (let i = 0; i < this.px; i++) sum += v[i]!;
      const mean = sum / this.px;
      for (let i = 0; i < this.px; i++) v[i] = ((v[i]! - mean) * draw.contrast + mean) * draw.brightness;
    }
    // Math.round, clamped: for 0 <= x < 255, x + 0.5 truncates (as a byte store does) to it.
    for (let i = 0; i < this.px; i++) {
      const x = v[i]!;
      out[i] = x <= 0 ? 0 : x >= 255 ? 255 : x + 0.5;
    }
  }

  /**
   * The step's batch, augmented: `images` holds the split's images, `indices` the batch's rows; `out`
   * receives indices.length images in batch order. The same arguments give the same bytes, always.
   */
  batch(images: Uint8Array, indices: Int32Array, key: { seed: number; epoch: number; step: number }, out: Uint8Array): Uint8Array {
    const px = this.px;
    for (let i = 0; i < indices.length; i++) {
      const rng = new Rng(imageSeed(key.seed, key.epoch, key.step, i));
      const row = indices[i]!;
      this.apply(images.subarray(row * px, (row + 1) * px), drawAugment(rng, this.spec, this.options), out.subarray(i * px, (i + 1) * px));
    }
    return out;
  }
}
