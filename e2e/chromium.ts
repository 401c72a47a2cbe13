// Which Chromium the browser-host specs drive, so that `npm install && npm test` runs them on a machine
// with no browser installed beforehand. In order: CHROMIUM_PATH; Playwright's own Chromium where it has
// been downloaded (`npx playwright install chromium`); a system Chromium or Chrome; and last the one that
// @sparticuz/chromium (a devDependency) carries inside its npm package, unpacked on first use.
import { chromium } from '@playwright/test';
import { accessSync, constants, statSync } from 'node:fs';

const SYSTEM = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'],
  darwin: ['/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium'],
  win32: [
    `${process.env.PROGRAMFILES}\\Google\\Chrome\\Application\\chrome.exe`,
    `${process.env['PROGRAMFILES(X86)']}\\Google\\Chrome\\Application\\chrome.exe`,
  ],
} as Record<string, string[]>;

/** An executable file (not, say, /dev/null bound over a browser to hide it). */
function runnable(path: string | undefined): path is string {
  try {
    accessSync(path!, constants.X_OK);
    return statSync(path!).isFile();
  } catch {
    return false;
  }
}

export interface Found {
  path: string;
  source: string;
}

export async function findChromium(): Promise<Found> {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!runnable(given)) throw new Error(`CHROMIUM_PATH is ${given}, which is not an executable file`);
    return { path: given, source: 'CHROMIUM_PATH' };
  }
  const playwright = chromium.executablePath();
  if (runnable(playwright)) return { path: playwright, source: "Playwright's Chromium" };
  const system = (SYSTEM[process.platform] ?? []).find(runnable);
  if (system) return { path: system, source: 'the system Chromium' };
  if (process.platform === 'linux' && process.arch === 'x64') {
    const { default: packaged } = await import('@sparticuz/chromium');
    return { path: await packaged.executablePath(), source: 'the Chromium inside the @sparticuz/chromium package' };
  }
  throw new Error('no Chromium found: install Chrome or Chromium, run `npx playwright install chromium`, or set CHROMIUM_PATH');
}
