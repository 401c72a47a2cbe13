// Figures for the app in host mode, in Debian's Chromium: cold start to a usable page, the API round
// trip (a no-op ping) while a run trains, and how often the charts update. Run: npx tsx bench/app.ts
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

const t0 = performance.now();
const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
  env: { ...process.env, MNIST_STUDIO_HOME: mkdtempSync(join(tmpdir(), 'mnist-bench-')) },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve) => {
  let out = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c;
    const m = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/);
    if (m) resolve(m[0]);
  });
});
const hostReady = performance.now() - t0;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
const t1 = performance.now();
await page.goto(url);
await page.getByRole('region', { name: 'Dataset' }).getByText('60,000').waitFor();
const pageShown = performance.now() - t1;
console.log(
  `cold start: host ready ${hostReady.toFixed(0)} ms after launch; page usable (dataset shown) ${pageShown.toFixed(0)} ms after navigation; ${(hostReady + pageShown).toFixed(0)} ms in all`,
);

await page.getByRole('button', { name: 'Start', exact: true }).click();
await page.locator('.phase', { hasText: 'Training' }).waitFor();
await page.waitForTimeout(1000);

// Chart updates: count the per-step chart's data-version changes over 5 s.
const updates = await page.evaluate(
  () =>
    new Promise<number>((resolve) => {
      const figure = document.querySelector('figure[aria-label="Training loss per step"]')!;
      let n = 0;
      const observer = new MutationObserver(() => n++);
      observer.observe(figure, { attributes: true, attributeFilter: ['data-version'] });
      setTimeout(() => (observer.disconnect(), resolve(n)), 5000);
    }),
);
console.log(`charts: ${(updates / 5).toFixed(1)} updates per second while training`);

// Round trips: a no-op request every 20 ms while training, over the same API the renderer uses.
const { port } = new URL(url);
const token = new URL(url).searchParams.get('token')!;
const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
await new Promise((r) => ws.once('open', r));
const times: number[] = [];
for (let i = 0; i < 200; i++) {
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      if (JSON.parse(String(data)).id === i) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id: i, method: 'ping', input: {} }));
  });
  times.push(performance.now() - start);
  await new Promise((r) => setTimeout(r, 20));
}
times.sort((a, b) => a - b);
const q = (p: number): string => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
console.log(`round trip while training (200 pings): median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`);
ws.close();

// Drawing latency: stroke to updated bars, while the run trains and after it stops.
async function drawLatencies(): Promise<string> {
  await page.getByRole('tab', { name: 'Draw' }).click();
  const box = (await page.getByLabel('Drawing canvas').boundingBox())!;
  const seen: number[] = [];
  for (let s = 0; s < 15; s++) {
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.mouse.move(box.x + 140, box.y + 40);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) {
      await page.mouse.move(box.x + 140 + (s % 3) * i, box.y + 40 + i * 16);
      await page.waitForTimeout(16);
      const ms = await page.getByTestId('latency').getAttribute('data-ms');
      if (ms) seen.push(Number(ms));
    }
    await page.mouse.up();
  }
  seen.sort((a, b) => a - b);
  return `median ${seen[Math.floor(seen.length / 2)]!.toFixed(1)} ms, p95 ${seen[Math.floor(seen.length * 0.95)]!.toFixed(1)} ms over ${seen.length} readings`;
}
console.log(`drawing, stroke to bars, while training: ${await drawLatencies()}`);
await page.getByRole('tab', { name: 'Train' }).click();
await page.getByRole('button', { name: 'Stop' }).click();
await page.locator('.phase', { hasText: 'Stopped' }).waitFor();
console.log(`drawing, stroke to bars, idle: ${await drawLatencies()}`);

// 1,000 dropped files: time to classify them all, and the longest stall of the page's main thread meanwhile.
const test = (await import('@core/dataset/dataset')).readIdxDataset().test;
const { styledPng, STYLES } = await import('../test/support/digitStyles');
const files: { name: string; data: string }[] = [];
for (let i = 0; i < 1000; i++) {
  files.push({ name: `d${i}.png`, data: (await styledPng(test.images.subarray(i * 784, (i + 1) * 784), STYLES[i % 4]!, i)).toString('base64') });
}
// Browser-side code as text: tsx would otherwise wrap its inner functions in a helper the page lacks.
const DROP_AND_WATCH = `async (list) => {
  const transfer = new DataTransfer();
  for (const f of list) transfer.items.add(new File([Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0))], f.name, { type: 'image/png' }));
  await new Promise((r) => requestAnimationFrame(r));
  let worstGap = 0, last = performance.now(), running = true;
  requestAnimationFrame(function watch() {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
    if (running) requestAnimationFrame(watch);
  });
  const start = performance.now();
  document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  await new Promise((resolve) => {
    (function check() {
      if (document.querySelector('[data-testid="drop-progress"]')?.textContent?.startsWith('1000 of 1000')) resolve();
      else setTimeout(check, 50);
    })();
  });
  running = false;
  return { seconds: (performance.now() - start) / 1000, worstGap };
}`;
const dropped = (await page.evaluate(`(${DROP_AND_WATCH})(${JSON.stringify(files)})`)) as { seconds: number; worstGap: number };
console.log(`1,000 dropped PNGs (4 styles): all classified in ${dropped.seconds.toFixed(1)} s; longest frame gap meanwhile ${dropped.worstGap.toFixed(0)} ms`);
await browser.close();
child.kill('SIGTERM');
