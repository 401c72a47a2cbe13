// One app per Playwright worker: the real CLI's browser host in Chromium (see chromium.ts), or the real Electron
// app where its binary exists. Console errors and page errors are collected and fail the test.
import { test as base, chromium, _electron, expect, type Page } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface App {
  page: Page;
  /** The app's home folder (models and the recent list), fresh for this worker. */
  home: string;
  /** Console and page errors seen so far. */
  errors: string[];
}

// Chosen by globalSetup (e2e/chromium.ts), which runs first.
const CHROMIUM = process.env.CHROMIUM_PATH;
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why Electron cannot run here, or undefined when it can. */
function electronProblem(): string | undefined {
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { encoding: 'utf8' });
  if (probe.status !== 0)
    return `Electron's binary could not be obtained: ${(probe.stderr.match(/(TypeError|Error|RequestError)[^\n]*/) ?? ['download failed'])[0]}`;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display for Electron';
  return undefined;
}

function startHost(home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'serve'], {
    // A webgpu engine in this host loses its device after 7 steps (backends.ts), for the spec of a GPU run
    // that fails and resumes on wasm; no other spec trains on webgpu (auto passes over a software adapter).
    env: { ...process.env, MNIST_STUDIO_HOME: home, MNIST_STUDIO_FAULTS: '1', MNIST_STUDIO_GPU_FAULT: 'lost:7' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const url = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/)?.[0];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
  });
}

export const test = base.extend<object, { electronProblem: string | undefined; app: App }>({
  electronProblem: [
    async ({}, use, workerInfo) => {
      const problem = workerInfo.project.name === 'electron' ? electronProblem() : undefined;
      if (problem) console.log(`[electron] e2e specs skipped: ${problem}`);
      await use(problem);
    },
    { scope: 'worker' },
  ],
  app: [
    async ({ electronProblem: problem }, use, workerInfo) => {
      const home = mkdtempSync(join(tmpdir(), 'mnist-studio-e2e-'));
      const errors: string[] = [];
      const watch = (page: Page): void => {
        page.on('console', (m) => m.type() === 'error' && errors.push(`console: ${m.text()}`));
        page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
      };
      if (workerInfo.project.name === 'electron') {
        if (problem) return void (await use(undefined as unknown as App));
        const electron = await _electron.launch({ args: ['.'], env: { ...process.env, MNIST_STUDIO_HOME: home } });
        const page = await electron.firstWindow();
        watch(page);
        await use({ page, home, errors });
        await electron.close();
        return void rmSync(home, { recursive: true, force: true });
      }
      const { child, url } = await startHost(home);
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
      watch(page);
      await page.goto(url);
      await use({ page, home, errors });
      await browser.close();
      child.kill('SIGTERM');
      // The host may still be writing (a checkpoint) as it stops: remove its home once it has gone.
      if (child.exitCode === null && child.signalCode === null) await new Promise((done) => child.once('exit', done));
      rmSync(home, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

/** Every spec file calls this at its top: skip where Electron is missing, fail on console errors. */
export function appGuards(): void {
  test.skip(({ electronProblem: problem }) => problem !== undefined, "Electron's binary is not available on this machine (reason printed above)");
  // Spec files share the worker's app: each starts from a freshly loaded page.
  test.beforeAll(async ({ app }) => {
    if (app) await app.page.reload();
  });
  test.afterEach(async ({ app }) => {
    if (app) expect(app.errors, 'console errors').toEqual([]);
  });
}

export { expect };
