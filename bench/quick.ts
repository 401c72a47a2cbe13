import { loadDataset } from '@core/dataset/dataset';
import { WasmEngine } from '@core/backend/wasmEngine';
import { initialParams } from '@core/model/init';
import { Rng } from '@core/model/rng';
const t0 = performance.now();
const ds = loadDataset();
console.log('load', (performance.now() - t0).toFixed(1), 'ms');
const threads = Number(process.argv[2] ?? 2);
const e = new WasmEngine(ds, { maxBatch: 32, threads });
e.setParams(initialParams(0));
const rng = new Rng(0);
const perm = rng.permutation(60000);
let t = performance.now();
let loss = 0,
  correct = 0;
for (let s = 0; s < 400; s++) {
  const r = e.trainStep(perm.subarray(s * 32, s * 32 + 32), 0.01, 0.9);
  loss += r.lossSum;
  correct += r.correct;
  if (s === 19) t = performance.now();
  if ((s + 1) % 100 === 0) {
    console.log(s + 1, (loss / 3200).toFixed(4), (correct / 3200).toFixed(4));
    loss = 0;
    correct = 0;
  }
}
const dt = (performance.now() - t) / 1000;
console.log('ex/s', ((380 * 32) / dt).toFixed(0));
t = performance.now();
const lg = e.logits('test', 0, 10000);
let ok = 0;
for (let i = 0; i < 10000; i++) {
  let b = 0;
  for (let j = 1; j < 10; j++) if (lg[i * 10 + j]! > lg[i * 10 + b]!) b = j;
  if (b === ds.test.labels[i]) ok++;
}
console.log('test acc', ok / 10000, 'eval ms', (performance.now() - t).toFixed(0));
e.dispose();
