// A long run through the trainer worker: thousands of steps with predictions in between, printing RSS and
// live tfjs tensors as it goes, to show neither grows. Run: npx tsx bench/soak.ts [--steps 6000] [--backend wasm]
import { parseArgs } from 'node:util';
import { TrainerClient } from '@core/trainer/client';
import { readIdxDataset } from '@core/dataset/dataset';
import { SEED_RECIPE, type BackendChoice } from '@shared/training';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '6000' }, backend: { type: 'string', default: 'auto' } } });
const steps = Number(values.steps);
const stepsPerEpoch = 500;
const client = new TrainerClient();
const digit = Uint8Array.from(readIdxDataset().test.images.subarray(0, 784));
const rows: string[] = [];
let predictions = 0;
client.onEvent((e) => {
  if (e.type === 'progress') void client.request('predict', { images: digit }).then(() => predictions++);
  if (e.type === 'epoch')
    void client.request('memory', {}).then((m) => {
      const line = `after ${String(e.epoch * stepsPerEpoch).padStart(6)} steps, ${String(predictions).padStart(4)} predictions: RSS ${(m.rss / 1e6).toFixed(1)} MB, tfjs tensors ${m.tensors}`;
      rows.push(line);
      console.log(line);
    });
});
const config = {
  ...SEED_RECIPE,
  backend: values.backend as BackendChoice,
  epochs: Math.ceil(steps / stepsPerEpoch),
  trainLimit: stepsPerEpoch * 32,
  testLimit: 1000,
};
await client.request('startTraining', { config });
await new Promise((r) => setTimeout(r, 200));
const rss = rows.map((r) => Number(r.match(/RSS ([\d.]+)/)![1]));
console.log(`RSS from the 2nd epoch on: min ${Math.min(...rss.slice(1)).toFixed(1)} MB, max ${Math.max(...rss.slice(1)).toFixed(1)} MB`);
await client.close();
