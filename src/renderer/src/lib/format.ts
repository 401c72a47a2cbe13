// How numbers, dates and durations read in the page: through Intl, in the language the page shows (the
// locale Paraglide holds, set by App.svelte from the app's settings). The CLI keeps @shared/format's English.
import { getLocale } from '@shared/i18n/locale';

/** Intl.DurationFormat (Chromium 129 and later) is not in TypeScript's ES2023 lib yet. */
type DurationFormatter = { format(duration: { hours: number; minutes: number; seconds: number }): string };
type Formatter = Intl.NumberFormat | Intl.DateTimeFormat | DurationFormatter;

const formats = new Map<string, Formatter>();
/** Intl formatters are slow to make and the page formats hundreds of numbers a second while training. */
function cached<T extends Formatter>(key: string, make: (locale: string) => T): T {
  const full = `${getLocale()}|${key}`;
  let format = formats.get(full);
  if (!format) formats.set(full, (format = make(getLocale())));
  return format as T;
}

/** Every percentage the page shows: two decimals, as the Flax Quick Start notebook prints accuracy. */
export const percent = (fraction: number): string =>
  cached('percent', (l) => new Intl.NumberFormat(l, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2 })).format(fraction);

export const integer = (n: number): string => cached('integer', (l) => new Intl.NumberFormat(l, { maximumFractionDigits: 0 })).format(Math.round(n));

/** A number with exactly `digits` decimals (losses, megabytes, milliseconds). */
export const decimal = (n: number, digits: number): string =>
  cached(`decimal${digits}`, (l) => new Intl.NumberFormat(l, { minimumFractionDigits: digits, maximumFractionDigits: digits })).format(n);

/** A date and time as the language writes them (when a run started, a model was saved). */
export const dateTime = (at: string | number | Date): string =>
  cached('dateTime', (l) => new Intl.DateTimeFormat(l, { dateStyle: 'medium', timeStyle: 'short' })).format(new Date(at));

const DurationFormat = (Intl as unknown as { DurationFormat?: new (locale: string, options: object) => DurationFormatter }).DurationFormat;

/** A duration as a clock reads it (1:05, 1:02:05), in the language's digits where Intl knows the style. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600),
    minutes = Math.floor((s % 3600) / 60),
    rest = s % 60;
  if (DurationFormat && hours > 0) return cached('duration', (l) => new DurationFormat(l, { style: 'digital' })).format({ hours, minutes, seconds: rest });
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${String(rest).padStart(2, '0')}` : `${minutes}:${String(rest).padStart(2, '0')}`;
}

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
