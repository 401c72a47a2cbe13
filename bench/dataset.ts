// Times loading the bundled MNIST (all 70,000 images) from disk, parsing and validation included.
import { readIdxDataset } from '@core/dataset/dataset';

const runs: number[] = [];
for (let i = 0; i < 5; i++) {
  const start = performance.now();
  const d = readIdxDataset();
  runs.push(performance.now() - start);
  if (d.train.count + d.test.count !== 70000) throw new Error('unexpected dataset size');
}
console.log(`load 70,000 images: first ${runs[0]!.toFixed(1)} ms, best ${Math.min(...runs).toFixed(1)} ms (${runs.map((r) => r.toFixed(1)).join(', ')})`);
