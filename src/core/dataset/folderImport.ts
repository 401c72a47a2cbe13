// Imports a folder of images named by class into a Dataset: lists it (folderListing), holds out a seeded,
// stratified 20% for testing where there is no test folder, chooses the input mode from what the images
// look like (unless told), and decodes every image through the one preprocessing, many side by side.
// Files that cannot be used are listed with their reason and do not stop the import. The decoded result
// is cached under the app's home, keyed by the folder's listing, so opening the same folder again is instant.
import { basename } from 'node:path';
import { MAX_IMAGE_BYTES } from '@shared/imageCheck';
import { toModelInput, type InputTarget, type RgbaImage } from '@shared/preprocess';
import { inputLabel, inputSize, type InputMode, type InputShape, type ModelSpec } from '@shared/modelSpec';
import type { RefusedFile } from '@shared/dataset';
import { Rng } from '../model/rng';
import { DataError } from './idx';
import { decodeImage, ImageRefused } from './decode';
import { readRegularFile } from '../store/files';
import { FileRefused, refuse } from './fileRefused';
import { listFolder, type ListedFile, type Listing } from './folderListing';
import { readCache, writeCache, cacheKey } from './folderCache';
import type { Dataset, Split } from '@shared/dataset';
import { StudioFailure } from '@shared/errors';
import { labelCounts } from './dataset';
import { emptyClassNotes } from './classNotes';

export const HOLDOUT_FRACTION = 0.2;
const SPLIT_SEED = 0;
/** Images decoded at once: sharp runs them on libuv's threads while this thread preprocesses. */
const PARALLEL = 8;
/** Decoded bytes above this are refused: the wasm engine's memory holds at most 4 GB in all, and the import briefly holds two copies. */
const MAX_DECODED_BYTES = 1024 ** 3;
const PROGRESS_MS = 100;
/** Images looked at to choose the input mode. */
const SAMPLE = 48;

export interface ImportProgress {
  /** sampling: a few images are looked at to choose the input mode (slow on very large images). */
  phase: 'listing' | 'sampling' | 'decoding' | 'cached';
  done: number;
  total: number;
}

export interface ImportOptions {
  mode?: InputMode;
  input?: InputShape;
  /** Where decoded datasets are cached; no caching without it. */
  cacheDir?: string;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

export class ImportCancelled extends StudioFailure {
  readonly code = 'cancelled';
  constructor() {
    super('the import was cancelled');
  }
}

/** Assigns every file without a split: per class, a seeded 20% (rounded, at least one of two or more) to test. */
export function holdOut(files: ListedFile[], classes: number): void {
  const rng = new Rng(SPLIT_SEED);
  for (let label = 0; label < classes; label++) {
    const members = files.filter((f) => f.label === label && f.split === undefined);
    const order = rng.permutation(members.length);
    const testCount = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * HOLDOUT_FRACTION));
    order.forEach((m, rank) => (members[m]!.split = rank < testCount ? 'test' : 'train'));
  }
}

/** How a picture looks: greyscale or colour, and whether it is ink on a plain background. */
function looks(image: RgbaImage): { colour: boolean; drawing: boolean } {
  const { width: w, height: h, data } = image;
  const n = w * h;
  const lum = new Float32Array(n);
  let chroma = 0;
  for (let i = 0; i < n; i++) {
    const [r, g, b, a] = [data[4 * i]!, data[4 * i + 1]!, data[4 * i + 2]!, data[4 * i + 3]!];
    lum[i] = a < 128 ? -1 : (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    chroma += Math.max(r, g, b) - Math.min(r, g, b);
  }
  const colour = chroma / n > 12;
  if (lum.some((v) => v < 0)) return { colour, drawing: !colour };
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(lum[x]!, lum[(h - 1) * w + x]!);
  for (let y = 0; y < h; y++) border.push(lum[y * w]!, lum[y * w + w - 1]!);
  const mean = border.reduce((a, b) => a + b, 0) / border.length;
  const spread = Math.sqrt(border.reduce((a, b) => a + (b - mean) ** 2, 0) / border.length);
  const plain = spread < 0.08 && (mean < 0.2 || mean > 0.8);
  let ink = 0;
  for (let i = 0; i < n; i++) if (Math.abs(lum[i]! - mean) > 0.3) ink++;
  return { colour, drawing: !colour && plain && ink / n < 0.5 };
}

/** The input mode and shape from a sample of the images, and a sentence saying why. */
async function chooseInput(listing: Listing, options: ImportOptions): Promise<{ target: InputTarget; note: string }> {
  const stride = Math.max(1, Math.floor(listing.files.length / SAMPLE));
  const seen: { colour: boolean; drawing: boolean }[] = [];
  // Only a photo without a given shape needs the sample (colour or not); a guess needs it whole.
  const needed = !options.mode || (options.mode === 'photo' && !options.input);
  const total = needed ? Math.min(SAMPLE, Math.ceil(listing.files.length / stride)) : 0;
  for (let i = 0, looked = 0; needed && i < listing.files.length && seen.length < SAMPLE; i += stride, looked++) {
    // Each sampled image is decoded whole: a folder of huge ones takes a while, and can be cancelled meanwhile.
    if (options.signal?.aborted) throw new ImportCancelled();
    options.onProgress?.({ phase: 'sampling', done: Math.min(looked, total), total });
    const f = listing.files[i]!;
    try {
      seen.push(looks(await decodeImage(basename(f.rel), readRegularFile(f.path, MAX_IMAGE_BYTES, refuse, { noFollow: true }))));
    } catch {
      // bad files are reported by the import itself
    }
  }
  const drawings = seen.filter((s) => s.drawing).length,
    colours = seen.filter((s) => s.colour).length;
  const guessed: InputMode = seen.length > 0 && drawings >= 0.75 * seen.length ? 'drawing' : 'photo';
  const mode = options.mode ?? guessed;
  const shape: InputShape =
    options.input ?? (mode === 'drawing' ? { height: 28, width: 28, channels: 1 } : { height: 32, width: 32, channels: colours > 0 ? 3 : 1 });
  const why = options.mode
    ? `input mode ${mode}, as asked`
    : `input mode ${mode}, chosen because ${drawings} of ${seen.length} sampled images look like ink on a plain background${colours ? ` and ${colours} are in colour` : ''}`;
  const how =
    mode === 'drawing'
      ? 'greyscale, ink centred as in MNIST'
      : `centre-cropped to the input's aspect ratio and resized, ${shape.channels === 3 ? 'RGB' : 'greyscale'}`;
  return { target: { ...shape, mode }, note: `${why}: ${inputLabel(shape)}, ${how}` };
}

/** Decodes every listed file, side by side, into one buffer in listing order; returns which worked and the refused. */
async function decodeAll(
  listing: Listing,
  target: InputTarget,
  options: ImportOptions,
): Promise<{ images: Uint8Array; ok: Uint8Array; refused: RefusedFile[] }> {
  const size = inputSize(target);
  const files = listing.files;
  const images = new Uint8Array(files.length * size);
  const ok = new Uint8Array(files.length);
  const refused: RefusedFile[] = [];
  let next = 0,
    done = 0,
    last = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      if (options.signal?.aborted) throw new ImportCancelled();
      const index = next++;
      const file = files[index]!;
      try {
        const bytes = readRegularFile(file.path, MAX_IMAGE_BYTES, refuse, { noFollow: true });
        const input = toModelInput(await decodeImage(basename(file.rel), bytes), target);
        if (input.empty) throw new ImageRefused('no ink found: the image is blank');
        images.set(input.bytes, index * size);
        ok[index] = 1;
      } catch (error) {
        if (!(error instanceof ImageRefused || error instanceof FileRefused)) throw error;
        refused.push({ file: file.rel, reason: error.message });
      }
      done++;
      const now = performance.now();
      if (now - last > PROGRESS_MS) {
        last = now;
        options.onProgress?.({ phase: 'decoding', done, total: files.length });
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  options.onProgress?.({ phase: 'decoding', done, total: files.length });
  return { images, ok, refused: refused.sort((a, b) => a.file.localeCompare(b.file)) };
}

/** The decoded rows (in listing order) that belong to a split, copied out in that order. */
function gather(files: ListedFile[], { images, ok }: { images: Uint8Array; ok: Uint8Array }, size: number, which: 'train' | 'test'): Split {
  const rows = files.flatMap((f, i) => (ok[i] && f.split === which ? [i] : []));
  const split: Split = { count: rows.length, images: new Uint8Array(rows.length * size), labels: new Uint8Array(rows.length) };
  rows.forEach((row, k) => {
    split.images.set(images.subarray(row * size, (row + 1) * size), k * size);
    split.labels[k] = files[row]!.label;
  });
  return split;
}

export async function importFolder(dir: string, options: ImportOptions = {}): Promise<Dataset> {
  options.onProgress?.({ phase: 'listing', done: 0, total: 0 });
  const listing = listFolder(dir);
  if (listing.files.length === 0) throw new DataError(dir, 'holds no image files in its class folders');
  const key = cacheKey(listing, options);
  const cached = options.cacheDir ? readCache(options.cacheDir, key) : undefined;
  if (cached) {
    options.onProgress?.({ phase: 'cached', done: listing.files.length, total: listing.files.length });
    return { ...cached, source: dir };
  }
  const notes: string[] = [];
  const { target, note } = await chooseInput(listing, options);
  const size = inputSize(target);
  if (listing.files.length * size > MAX_DECODED_BYTES) {
    throw new DataError(dir, `${listing.files.length} images of ${inputLabel(target)} need more memory than training can have; choose a smaller --input`);
  }
  const decoded = await decodeAll(listing, target, options);
  const refused = [...listing.refused, ...decoded.refused];
  // The split is made over the images that decoded, so refused files cannot unbalance it.
  const usable = listing.files.filter((_, i) => decoded.ok[i]);
  if (listing.layout === 'classes' || !usable.some((f) => f.split === 'test')) {
    for (const f of usable) f.split = undefined;
    holdOut(usable, listing.classes.length);
    notes.push(`there is no test folder: ${HOLDOUT_FRACTION * 100}% of each class is held out for testing (seeded, so the same every time)`);
  }
  notes.push(note);
  const train = gather(listing.files, decoded, size, 'train'),
    test = gather(listing.files, decoded, size, 'test');
  if (train.count === 0) throw new DataError(dir, 'no training image could be read');
  if (test.count === 0) throw new DataError(dir, 'no test image could be read (a class needs two images for one to be held out)');
  const k = listing.classes.length;
  notes.push(...emptyClassNotes({ classes: listing.classes, train: labelCounts(train, k), test: labelCounts(test, k) }));
  const spec: ModelSpec = { ...target, classes: listing.classes };
  const dataset: Dataset = { source: dir, spec, train, test, notes, refused };
  try {
    if (options.cacheDir) writeCache(options.cacheDir, key, dataset);
  } catch (error) {
    // The cache only saves the next open some time: a folder it cannot go in costs that, not the import.
    notes.push(`the decoded images could not be cached: ${(error as Error).message}`);
  }
  return dataset;
}
