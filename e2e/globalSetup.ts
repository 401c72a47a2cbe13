// Builds the app once (main, preload, renderer) and picks the Chromium, before any spec runs.
import { execFileSync } from 'node:child_process';
import { findChromium } from './chromium';

export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  const { path, source } = await findChromium();
  // Workers start after this and inherit the environment.
  process.env.CHROMIUM_PATH = path;
  console.log(`[browser-host] Chromium: ${path} (${source})`);
}
