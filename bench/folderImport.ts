// Importing a folder of images: MNIST's 70,000 digits written as PNG files (train/<digit>/*.png and
// test/<digit>/*.png, once, into --dir), then imported twice with an empty cache: the first time decodes
// every file, the second comes from the cache. Target: at most 60 s and 1 s on 2 cores.
//   npx tsx bench/folderImport.ts [--dir /tmp/mnist-png] [--count 70000]
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { readIdxDataset } from '@core/dataset/dataset';
import { importFolder } from '@core/dataset/folderImport';

const { values } = parseArgs({ options: { dir: { type: 'string', default: join(tmpdir(), 'mnist-png') }, count: { type: 'string', default: '70000' } } });
const count = Number(values.count),
  root = values.dir!;
const mnist = readIdxDataset();
const trainCount = Math.min(mnist.train.count, Math.round((count * 6) / 7)),
  testCount = Math.min(mnist.test.count, count - trainCount);

async function writePngs(): Promise<void> {
  const marker = join(root, `.complete-${trainCount}-${testCount}`);
  if (existsSync(marker)) return;
  const t0 = performance.now();
  for (const [split, data, n] of [
    ['train', mnist.train, trainCount],
    ['test', mnist.test, testCount],
  ] as const) {
    for (let d = 0; d < 10; d++) mkdirSync(join(root, split, String(d)), { recursive: true });
    for (let i = 0; i < n; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, n - i) }, async (_, k) => {
          const row = i + k;
          const png = await sharp(Buffer.from(data.images.subarray(row * 784, row * 784 + 784)), { raw: { width: 28, height: 28, channels: 1 } })
            .png()
            .toBuffer();
          writeFileSync(join(root, split, String(data.labels[row]), `${row}.png`), png);
        }),
      );
    }
  }
  writeFileSync(marker, '');
  console.log(`wrote ${trainCount + testCount} PNG files to ${root} in ${((performance.now() - t0) / 1000).toFixed(1)} s (once)`);
}

await writePngs();
const files = ['train', 'test'].reduce(
  (n, s) => n + Array.from({ length: 10 }, (_, d) => readdirSync(join(root, s, String(d))).length).reduce((a, b) => a + b, 0),
  0,
);
const cacheDir = mkdtempSync(join(tmpdir(), 'mnist-studio-cache-'));
const times: number[] = [];
for (const pass of ['first (decoding)', 'second (cache)']) {
  const t0 = performance.now();
  const d = await importFolder(root, { cacheDir });
  const seconds = (performance.now() - t0) / 1000;
  times.push(seconds);
  console.log(
    `${pass}: ${d.train.count + d.test.count} of ${files} images, ${d.spec.height}x${d.spec.width}x${d.spec.channels} ${d.spec.mode}, ${d.refused?.length ?? 0} refused, ${seconds.toFixed(2)} s`,
  );
}
console.log(JSON.stringify({ type: 'result', images: files, firstSeconds: Number(times[0]!.toFixed(2)), cachedSeconds: Number(times[1]!.toFixed(3)) }));
