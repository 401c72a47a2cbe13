import { defineConfig } from '@playwright/test';

// The same specs run twice: in Chromium (e2e/chromium.ts picks one) against the browser host, and in Electron wherever
// its binary exists (elsewhere they are skipped, with the reason printed).
export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/globalSetup.ts',
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  projects: [{ name: 'browser-host' }, { name: 'electron' }],
});
