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
console.log(`cold start: host ready ${hostReady.toFixed(0)} ms after launch; page usable (dataset shown) ${pageShown.toFixed(0)} ms after navigation; ${(hostReady + pageShown).toFixed(0)} ms in all`);

await page.getByRole('button', { name: 'Start' }).click();
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
await page.getByRole('button', { name: 'Stop' }).click();
await browser.close();
child.kill('SIGTERM');
