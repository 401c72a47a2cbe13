// Shared test fixtures: small real slices of the bundled MNIST written as real IDX files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdxDataset, IDX_FILES } from '@core/dataset/dataset';
import type { Dataset } from '@shared/dataset';
import type { Engine } from '@shared/engine';

let bundled: Dataset | undefined;
export function mnist(): Dataset {
  bundled ??= readIdxDataset();
  return bundled;
}

// Every test file runs in its own process: the folders it made go when it exits (one full run used to leave
// ~70 of them, 250 MB with the packaging test's). MNIST_STUDIO_KEEP_TEMP=1 keeps them to look at after a failure.
const made: string[] = [];
process.once('exit', () => {
  if (process.env.MNIST_STUDIO_KEEP_TEMP) return void console.log(`kept ${made.length} temporary folders: ${made.join(' ')}`);
  for (const dir of made) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // a test left a folder we may not remove (a read-only one, when not root): leave it to the system
    }
  }
});

export function tempDir(prefix = 'mnist-studio-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

// Tests never write into the person's own home (~/.mnist-studio): a CLI, host or service a test starts without
// a home of its own gets this one, a temporary folder removed with the others.
process.env.MNIST_STUDIO_HOME ??= tempDir('mnist-studio-home-');

export function idxImages(images: Uint8Array, count: number, rows = 28, cols = 28, magic = 0x803): Uint8Array {
  const out = new Uint8Array(16 + images.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, count);
  view.setUint32(8, rows);
  view.setUint32(12, cols);
  out.set(images, 16);
  return out;
}

export function idxLabels(labels: Uint8Array, count = labels.length, magic = 0x801): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic);
  view.setUint32(4, count);
  out.set(labels, 8);
  return out;
}

/** A folder holding the first `train` and `test` real MNIST examples as the four IDX files. */
export function writeSlice(train: number, test: number, { gzip = false } = {}): string {
  const d = mnist();
  return writeLabelled(d.train.labels.subarray(0, train), d.test.labels.subarray(0, test), { gzip });
}

/** A folder of the four IDX files: the first real MNIST images of each split, with the labels given. */
export function writeLabelled(trainLabels: ArrayLike<number>, testLabels: ArrayLike<number>, { gzip = false } = {}): string {
  const dir = tempDir();
  const d = mnist();
  const [train, test] = [trainLabels.length, testLabels.length];
  const files: [string, Uint8Array][] = [
    [IDX_FILES.trainImages, idxImages(d.train.images.subarray(0, train * 784), train)],
    [IDX_FILES.trainLabels, idxLabels(Uint8Array.from(trainLabels))],
    [IDX_FILES.testImages, idxImages(d.test.images.subarray(0, test * 784), test)],
    [IDX_FILES.testLabels, idxLabels(Uint8Array.from(testLabels))],
  ];
  for (const [name, bytes] of files) writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  return dir;
}

/** The parameter change of one step with zero velocity, learning rate 1 and no momentum: the gradient. */
export async function stepGradient(engine: Engine, params: Float32Array, batch: Int32Array): Promise<Float32Array> {
  engine.setParams(params);
  engine.setVelocity(new Float32Array(params.length));
  await engine.trainStep(batch, 1, 0);
  const after = await engine.getParams();
  return params.map((p, i) => p - after[i]!);
}

/** ||x - y|| / ||y||. */
export const relativeError = (x: Float32Array, y: Float32Array): number => {
  let diff = 0,
    norm = 0;
  for (let i = 0; i < x.length; i++) [diff, norm] = [diff + (x[i]! - y[i]!) ** 2, norm + y[i]! ** 2];
  return Math.sqrt(diff / norm);
};
