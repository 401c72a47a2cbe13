// Times `npm start` (app already built) until its URL is printed, then a page until it is usable (host mode).
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
const t0 = performance.now();
const child = spawn('npm', ['start'], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'], detached: true });
const url = await new Promise((resolve) => {
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
    const m = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/);
    if (m) resolve(m[0]);
  });
});
const printed = performance.now() - t0;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await browser.newPage();
const t1 = performance.now();
await page.goto(url);
await page.getByRole('region', { name: 'Dataset' }).getByText('60,000').waitFor();
console.log(`npm start: URL printed after ${printed.toFixed(0)} ms; page usable ${(performance.now() - t1).toFixed(0)} ms after opening it`);
await browser.close();
process.kill(-child.pid, 'SIGTERM');
