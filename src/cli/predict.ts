// `predict`: classifies image files, or the images in folders, with a saved model, through the same
// preprocessing as training and the app (the model's own input mode and shape).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TrainerClient } from '@core/trainer/client';
import { imageFileInput } from '@core/dataset/decode';
import type { BackendChoice, Prediction } from '@shared/training';
import { MNIST_SPEC, type ModelSpec } from '@shared/modelSpec';
import { onnxClassifier } from './onnxPredict';
import { printable } from '@shared/format';

const natural = new Intl.Collator('en', { numeric: true }).compare;

/** A file as an MNIST model sees it (the bytes `predict` sends for the bundled model; the e2e compares them with the app's). */
export const decodeFile = (file: string, onNote?: (note: string) => void): Promise<Uint8Array> => imageFileInput(file, MNIST_SPEC, onNote);

/** The files to classify: files as given; a folder's files (not hidden, links not followed), recursively, in natural order. */
function expand(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    for (const name of readdirSync(dir).sort(natural)) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      const stat = lstatSync(path);
      if (stat.isDirectory() && depth < 8) walk(path, depth + 1);
      else if (stat.isFile()) out.push(path);
    }
  };
  for (const path of paths) {
    let isFolder = false;
    try {
      isFolder = lstatSync(path).isDirectory();
    } catch {
      // reported as the file's own error below
    }
    if (isFolder) walk(path, 0);
    else out.push(path);
  }
  return out;
}

/** What classifies one image's bytes: the trainer worker with a saved model folder, or ONNX Runtime with a .onnx file. */
interface Classifier {
  spec: ModelSpec;
  classify(pixels: Uint8Array): Promise<Prediction>;
  close(): Promise<void>;
}

async function folderClassifier(dir: string, backend: BackendChoice): Promise<Classifier> {
  const client = new TrainerClient();
  try {
    const { spec } = await client.request('openModel', { dir, backend });
    return { spec, classify: async (pixels) => (await client.request('predict', { images: pixels }))[0]!, close: () => client.close() };
  } catch (error) {
    await client.close();
    throw error;
  }
}

export async function predictCommand(paths: string[], flags: { model: string; json?: boolean; backend: BackendChoice }): Promise<boolean> {
  const classifier = /\.onnx$/i.test(flags.model) ? await onnxClassifier(flags.model) : await folderClassifier(flags.model, flags.backend);
  const { spec } = classifier;
  let allGood = true;
  try {
    for (const file of expand(paths)) {
      let pixels: Uint8Array;
      let note: string | undefined;
      try {
        pixels = await imageFileInput(file, spec, (n) => (note = n));
      } catch (error) {
        process.stderr.write(`error: ${printable(`${file}: ${(error as Error).message}`)}\n`);
        allGood = false;
        continue;
      }
      const { label, class: name, probabilities } = await classifier.classify(pixels);
      // The note goes to stderr in text mode, so stdout keeps one `FILE: CLASS (P)` line per file.
      if (note && !flags.json) process.stderr.write(`note: ${printable(`${file}: ${note}`)}\n`);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ file, label, class: name, probabilities, ...(note ? { note } : {}) })}\n`
          : `${file}: ${name} (${probabilities[label]!.toFixed(2)})\n`,
      );
    }
  } finally {
    await classifier.close();
  }
  return allGood;
}
