// Accuracy of `predict` on real MNIST test digits saved as PNG files in four styles (plain 28x28, dark ink
// on a large white page, an RGBA canvas export, a small digit off-centre), through the CLI's own path:
// decode with sharp, the shared preprocessing, the trainer worker. Trains a 1-epoch model unless --model.
// Run: npx tsx bench/predictStyles.ts [--model DIR] [--count N]
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TrainerClient } from '@core/trainer/client';
import { decodeFile } from '../src/cli/predict';
import { readIdxDataset } from '@core/dataset/dataset';
import { SEED_RECIPE } from '@shared/training';
import { STYLES, styledPng } from '../test/support/digitStyles';

const { values } = parseArgs({
  options: { model: { type: 'string' }, count: { type: 'string', default: '500' }, offset: { type: 'string', default: '5000' } },
});
const count = Number(values.count),
  offset = Number(values.offset);
const test = readIdxDataset().test;
const client = new TrainerClient();
try {
  let model = values.model;
  if (!model) {
    process.stdout.write('training the seed recipe for 1 epoch on all 60,000 images…\n');
    const { history } = await client.request('startTraining', { config: { ...SEED_RECIPE, epochs: 1, backend: 'auto' } });
    process.stdout.write(`1-epoch model: test accuracy ${(history.epochs[0]!.test.accuracy * 100).toFixed(2)}%\n`);
    model = join(mkdtempSync(join(tmpdir(), 'mnist-styles-')), 'model');
    await client.request('saveModel', { dir: model });
  }
  await client.request('openModel', { dir: model, backend: 'auto' });
  const dir = mkdtempSync(join(tmpdir(), 'mnist-styles-png-'));
  for (const style of STYLES) {
    let right = 0;
    for (let k = 0; k < count; k++) {
      const i = offset + k;
      const file = join(dir, `${style}-${i}.png`);
      writeFileSync(file, await styledPng(test.images.subarray(i * 784, (i + 1) * 784), style, i));
      const [p] = await client.request('predict', { images: await decodeFile(file) });
      if (p!.label === test.labels[i]) right++;
    }
    process.stdout.write(`${style.padEnd(10)} ${right}/${count} right (${((right / count) * 100).toFixed(1)}%)\n`);
  }
} finally {
  await client.close();
}
