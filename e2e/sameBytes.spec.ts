// One preprocessing, bit for bit: the app's image worker (the built one, in real Chromium, on the page
// the browser host serves) and `cli predict`'s decodeFile (sharp, bmp-ts) turn the same file into the
// same 28x28 bytes, for a corpus in every format: PNG, JPEG, WebP (lossy and lossless), GIF and BMP;
// opaque and transparent; small, page-sized and larger than the working size; EXIF-rotated.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { appGuards, expect, test } from './fixtures';
import { readIdxDataset } from '@core/dataset/dataset';
import { decodeFile } from '../src/cli/predict';
import { styledBmp, styledDigit, styledImage, styledPng, STYLES } from '../test/support/digitStyles';

appGuards();

async function corpus(dir: string): Promise<string[]> {
  const { images } = readIdxDataset().test;
  const digit = (i: number): Uint8Array => images.subarray(i * 784, (i + 1) * 784);
  const files: [string, Buffer][] = [];
  for (let i = 0; i < 4; i++) {
    for (const style of STYLES) {
      files.push([`${style}-${i}.png`, await styledPng(digit(i), style, i)]);
      files.push([`${style}-${i}.jpg`, await styledImage(digit(i), style, 'jpeg', i)]);
      files.push([`${style}-${i}.webp`, await styledImage(digit(i), style, 'webp', i)]);
      files.push([`${style}-${i}.gif`, await styledImage(digit(i), style, 'gif', i)]);
      if (style !== 'canvas') files.push([`${style}-${i}.bmp`, styledBmp(digit(i), style, i)]);
    }
    const canvas = styledDigit(digit(i), 'canvas');
    // Coloured, half-transparent strokes: where a browser's premultiplied canvas loses precision.
    const tinted = Buffer.from(canvas.data.map((v, k) => (k % 4 === 0 ? 200 : k % 4 === 1 ? 90 : k % 4 === 2 ? 30 : Math.round(v * 0.7))));
    const raw = { raw: { width: canvas.width, height: canvas.height, channels: 4 as const } };
    files.push([`tinted-${i}.png`, await sharp(tinted, raw).png().toBuffer()]);
    files.push([`tinted-${i}.webp`, await sharp(tinted, raw).webp({ lossless: true }).toBuffer()]);
    files.push([`tinted-lossy-${i}.webp`, await sharp(tinted, raw).webp({ quality: 70 }).toBuffer()]);
  }
  // Larger than the working size (shrunk by the shared code), and a JPEG that EXIF says to turn.
  const page = styledDigit(digit(5), 'page', 1);
  const big = sharp(Buffer.from(page.data), { raw: { width: page.width, height: page.height, channels: 4 } }).resize(3000, 2250, { kernel: 'nearest' });
  files.push(['big.png', await big.clone().png().toBuffer()]);
  files.push(['big.jpg', await big.clone().jpeg({ quality: 90 }).toBuffer()]);
  files.push([
    'turned.jpg',
    await sharp(await styledImage(digit(6), 'page', 'jpeg', 2))
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  ]);
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return files.map(([name]) => name);
}

test('the app and cli predict make the same 28x28 bytes from the same file, in every format', async ({ app: { page } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'the renderer path is checked once, in Chromium');
  test.setTimeout(180_000);
  const dir = testInfo.outputPath('corpus');
  const { mkdirSync, readFileSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const names = await corpus(dir);
  const workerFile = readdirSync('out/renderer/assets').find((f) => /^imageWorker-.*\.js$/.test(f));
  expect(workerFile, 'the built image worker').toBeDefined();
  const jobs = names
    .slice(0, Number(process.env.SAME_BYTES_LIMIT ?? names.length))
    .map((name) => ({ name, data: readFileSync(join(dir, name)).toString('base64') }));
  // The built worker, started the way the app starts it, on the app's own origin.
  const fromApp = await page.evaluate(
    async ({ url, jobs }) => {
      const worker = new Worker(url, { type: 'module' });
      const failed = new Promise<never>((_, reject) => (worker.onerror = (e) => reject(new Error(`the image worker failed: ${e.message}`))));
      const out: Record<string, number[] | string> = {};
      for (const [id, job] of jobs.entries()) {
        const bytes = Uint8Array.from(atob(job.data), (c) => c.charCodeAt(0)).buffer;
        const result = await Promise.race([
          failed,
          new Promise<{ ok: boolean; pixels?: Uint8Array; reason?: string }>((resolve) => {
            worker.onmessage = (e) => resolve(e.data);
            worker.postMessage({ id, name: job.name, bytes }, [bytes]);
          }),
        ]);
        out[job.name] = result.ok ? [...result.pixels!] : `refused: ${result.reason}`;
      }
      worker.terminate();
      return out;
    },
    { url: `/assets/${workerFile}`, jobs },
  );
  const differing: string[] = [];
  for (const name of Object.keys(fromApp)) {
    const cli = await decodeFile(join(dir, name)).then(
      (b) => [...b],
      (e: Error) => `refused: ${e.message}`,
    );
    const app = fromApp[name]!;
    if (typeof app === 'string' || typeof cli === 'string') {
      if (app !== cli) differing.push(`${name}: app ${typeof app === 'string' ? app : 'bytes'}, cli ${typeof cli === 'string' ? cli : 'bytes'}`);
    } else if (app.some((v, i) => v !== cli[i])) differing.push(`${name}: ${app.filter((v, i) => v !== cli[i]).length} bytes differ`);
  }
  console.log(`[same bytes] ${jobs.length - differing.length} of ${jobs.length} files identical`);
  expect(differing).toEqual([]);
  expect(Object.keys(fromApp).length).toBeGreaterThanOrEqual(Math.min(70, jobs.length));
});
