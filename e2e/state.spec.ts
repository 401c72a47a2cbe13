// The app holds the state and the page only shows it: a reload or a second tab shows the same run
// (recipe, progress, per-step chart) and can stop it; two starts at once give one run; a run that
// fails says so and leaves the app usable; evaluation shows as its own phase; Save never writes into
// a folder that is not ours without asking.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { appGuards, expect, test } from './fixtures';
import { field, phase, setRecipe, startRun, stepNumber } from './studio';
import { writeSlice } from '../test/support/helpers';
import { drawingsFolder } from '../test/support/imageFolders';

appGuards();
test.describe.configure({ mode: 'serial' });

const stop = (page: Page) => page.getByRole('button', { name: 'Stop' });

test('a reload mid-run shows the run with its recipe and chart, and it can still be stopped', async ({ app: { page } }) => {
  await setRecipe(page, '4', '9600', '500');
  await startRun(page);
  await expect(phase(page)).toHaveText('Training');
  await expect.poll(() => stepNumber(page)).toBeGreaterThan(10);
  await page.reload();
  await expect(phase(page)).toHaveText(/Training|Evaluating|Saving checkpoint/);
  await expect(field(page, 'Epochs')).toHaveValue('4');
  await expect(field(page, 'Train limit')).toHaveValue('9600');
  await expect(field(page, 'Test limit')).toHaveValue('500');
  await expect(field(page, 'Epochs')).toBeDisabled();
  await expect(page.getByTestId('epoch')).toContainText('/ 4');
  await expect(page.getByTestId('steps-shown')).toHaveText(/^\d[\d,]* steps$/);
  expect(Number((await page.getByTestId('steps-shown').textContent())!.replace(/\D/g, ''))).toBeGreaterThan(10);
  await stop(page).click();
  await expect(phase(page)).toHaveText('Stopped');
});

test('two tabs show the same run, and either can stop it', async ({ app: { page, errors } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'Electron has one window');
  const other = await page.context().browser()!.newPage();
  other.on('pageerror', (e) => errors.push(`second tab: ${e.message}`));
  try {
    await other.goto(page.url());
    await setRecipe(page, '3', '6400', '300');
    await startRun(page);
    await expect(phase(other)).toHaveText(/Training|Evaluating/);
    await expect(field(other, 'Train limit')).toHaveValue('6400');
    await expect.poll(() => stepNumber(other)).toBeGreaterThan(5);
    // Starting again from the second tab is refused while the first tab's run trains.
    await expect(other.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
    await stop(other).click();
    await expect(phase(page)).toHaveText('Stopped');
    await expect(phase(other)).toHaveText('Stopped');
  } finally {
    await other.close();
  }
});

test('two startTraining calls at once over the API: exactly one starts, the other is told busy', async ({ app: { page } }, testInfo) => {
  test.skip(
    testInfo.project.name !== 'browser-host',
    'in Electron the API is IPC, which the page cannot call twice at once from outside; test/integration/service.test.ts covers it',
  );
  const recipe = { epochs: 2, batchSize: 32, learningRate: 0.01, momentum: 0.9, seed: 0, trainLimit: 9600, testLimit: 300, backend: 'auto' };
  // A second client of the same host, from inside the page (it holds the token), sends both at once.
  const replies = await page.evaluate(async (config) => {
    const token = new URLSearchParams(location.search).get('token') ?? '';
    const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}`);
    await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
    const got: { id: number; reply: { ok: boolean; error?: { code: string } } }[] = [];
    const both = new Promise<void>((resolve) =>
      ws.addEventListener('message', (m) => {
        const data = JSON.parse(String(m.data));
        if ('reply' in data) got.push(data);
        if (got.length === 2) resolve();
      }),
    );
    ws.send(JSON.stringify({ id: 1, method: 'startTraining', input: config }));
    ws.send(JSON.stringify({ id: 2, method: 'startTraining', input: config }));
    await both;
    ws.close();
    return got.map((g) => (g.reply.ok ? 'ok' : g.reply.error!.code)).sort();
  }, recipe);
  expect(replies).toEqual(['busy', 'ok']);
  // The page follows the one run that started, and stops it.
  await expect(phase(page)).toHaveText(/Training|Evaluating/);
  await expect(field(page, 'Train limit')).toHaveValue('9600');
  await stop(page).click();
  await expect(phase(page)).toHaveText('Stopped');
});

test('evaluation is its own phase, with its own progress', async ({ app: { page } }, testInfo) => {
  // The page asks the app only for what changed: the many events of a run do not each re-list the models.
  const calls: string[] = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => calls.push(String(f.payload))));
  await page.reload();
  await setRecipe(page, '1', '320', '');
  await startRun(page);
  await expect(phase(page)).toHaveText('Evaluating', { timeout: 60_000 });
  await expect(page.getByTestId('step')).toHaveText(/^testing [\d,]+ \/ 10,000$/);
  await expect(phase(page)).toHaveText('Finished', { timeout: 60_000 });
  if (testInfo.project.name === 'browser-host') expect(calls.filter((c) => c.includes('"savedModels"')).length).toBeLessThanOrEqual(6);
});

test('a run that fails mid-way shows an alert, and the app is usable again', async ({ app: { page, home } }) => {
  const runs = join(home, 'runs');
  const before = new Set(existsSync(runs) ? readdirSync(runs) : []);
  await setRecipe(page, '3', '3200', '200');
  await startRun(page);
  await expect(phase(page)).toHaveText(/Starting…|Training/);
  // The run's checkpoint folder is taken away, so its first checkpoint cannot be written.
  await expect.poll(() => readdirSync(runs).filter((n) => !before.has(n)).length).toBe(1);
  const dir = join(
    runs,
    readdirSync(runs).find((n) => !before.has(n))!,
  );
  rmSync(dir, { recursive: true });
  writeFileSync(dir, 'in the way');
  await expect(page.getByRole('alert')).toContainText('The run failed:', { timeout: 60_000 });
  await expect(phase(page)).toHaveText('Failed');
  expect(statSync(dir).isFile()).toBe(true);
  // Usable again: the form keeps the failed recipe, and a new run trains to the end.
  await expect(field(page, 'Train limit')).toHaveValue('3200');
  await setRecipe(page, '1', '320', '100');
  await startRun(page);
  await expect(phase(page)).toHaveText('Finished', { timeout: 60_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('saving into a folder that is not a saved model is refused unless confirmed', async ({ app: { page, home } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'Electron confirms in its native dialog, which a test cannot drive');
  const foreign = join(home, 'models', 'taxes');
  mkdirSync(foreign, { recursive: true });
  writeFileSync(join(foreign, 'history.json'), 'my own notes');
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: 'Save model…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Save model' });
  await dialog.getByRole('textbox', { name: 'Model name' }).fill('taxes');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('is not a saved model');
  expect(readFileSync(join(foreign, 'history.json'), 'utf8')).toBe('my own notes');
  expect(existsSync(join(foreign, 'model.json'))).toBe(false);
  await dialog.getByRole('textbox', { name: 'Model name' }).fill('taxes-model');
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toContainText(`Saved to ${join(home, 'models', 'taxes-model')}`);
  await expect(page.getByRole('textbox', { name: 'Saved model folder' })).toHaveValue(join(home, 'models', 'taxes-model'));
  await page.getByRole('tab', { name: 'Train' }).click();
});

/** One call over a fresh connection of this page's host (the page holds the token), as a second client would make it. */
const callApi = (page: Page, method: string, input: unknown) =>
  page.evaluate(
    async ([method, input]) => {
      const token = new URLSearchParams(location.search).get('token') ?? '';
      const ws = new WebSocket(`ws://${location.host}/api?token=${encodeURIComponent(token)}`);
      await new Promise((resolve) => ws.addEventListener('open', resolve, { once: true }));
      const reply = new Promise<{ ok: boolean }>((resolve) =>
        ws.addEventListener('message', (m) => {
          const data = JSON.parse(String(m.data));
          if ('reply' in data) resolve(data.reply);
        }),
      );
      ws.send(JSON.stringify({ id: 1, method, input }));
      const got = await reply;
      ws.close();
      return got;
    },
    [method, input] as const,
  );

test('a page whose connection drops catches up when it is back: the run stopped and the dataset opened meanwhile', async ({ app: { page } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'Electron has no connection to lose (IPC)');
  // The page's API socket goes through this route, so the test can cut it and keep it cut.
  let cut = false;
  const sockets: { close(): Promise<void> }[] = [];
  await page.routeWebSocket(/\/api\?/, (ws) => {
    if (cut) return void ws.close({ code: 1011, reason: 'cut by the test' });
    ws.connectToServer();
    sockets.push(ws);
  });
  await page.reload();
  const other = await page.context().browser()!.newPage();
  const slice = writeSlice(640, 120);
  try {
    await other.goto(page.url());
    await setRecipe(page, '3', '6400', '300');
    await startRun(page);
    await expect.poll(() => stepNumber(page)).toBeGreaterThan(5);
    cut = true;
    await Promise.all(sockets.map((ws) => ws.close()));
    // While this page hears nothing, the run is stopped from the other tab and another dataset opened.
    await stop(other).click();
    await expect(phase(other)).toHaveText('Stopped');
    expect((await callApi(other, 'openDataset', { dir: slice })).ok).toBe(true);
    await expect(other.getByTestId('dataset-source')).toContainText('120');
    await expect(phase(page)).not.toHaveText('Stopped');
    cut = false;
    // Back (the page retries within seconds): one snapshot brings it up to date.
    await expect(phase(page)).toHaveText('Stopped', { timeout: 20_000 });
    await expect(page.getByTestId('dataset-source')).toContainText('640');
    await expect(page.getByTestId('dataset-source')).toContainText('120');
  } finally {
    await callApi(other, 'useBundledDataset', {});
    await other.close();
    await page.unrouteAll();
    await page.reload();
  }
});

test('a page reloaded mid-import shows the import from the app, and can cancel it', async ({ app: { page } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'the test holds back events on the WebSocket, which Electron does not use (IPC)');
  // Big enough that the import outlasts a reload: 4,500 drawings, decoded a few thousand a second.
  const folder = await drawingsFolder(1500, false);
  const card = page.getByTestId('dataset-card');
  const progress = card.getByTestId('import-progress');
  await card.getByLabel('Dataset folder path').fill(folder);
  await card.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(progress).toBeVisible();
  // The reloaded page hears no events until told: the progress it shows can only come from getState.
  let holdEvents = true;
  await page.routeWebSocket(/\/api\?/, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (!holdEvents || !('event' in JSON.parse(String(message)))) ws.send(message);
    });
  });
  try {
    await page.reload();
    await expect(progress).toContainText(/(listing|sampling|decoding)/);
    await expect(card.getByTestId('dataset-source')).toContainText('bundled MNIST');
    holdEvents = false;
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await expect(progress).toHaveCount(0);
    await expect(card.getByTestId('dataset-source')).toContainText('bundled MNIST');
  } finally {
    await page.unrouteAll();
    await page.reload();
  }
});

test('the backend picker lists every backend with its status, and a GPU run that fails resumes on wasm from its checkpoint', async ({
  app: { page },
}, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'the GPU fault is armed in the browser host only (fixtures.ts)');
  const picker = page.getByRole('combobox', { name: 'Backend' });
  await expect(picker.locator('option')).toHaveText(['auto', 'webgpu', 'native', 'wasm', 'tfjs-node', 'cpu'].map((b) => new RegExp(`^${b}`)));
  // Each unavailable backend is disabled in the picker and says why in one line.
  const unavailable = await picker.locator('option[disabled]').allTextContents();
  for (const option of unavailable) {
    const name = option.split(' ')[0]!;
    await expect(
      page
        .getByRole('list', { name: 'Unavailable backends' })
        .getByRole('listitem')
        .filter({ hasText: new RegExp(`^${name}: .+`) }),
    ).toHaveCount(1);
  }
  await expect(picker.locator('option', { hasText: /^wasm$/ })).toBeEnabled();
  await picker.selectOption('wasm');
  await expect(page.locator('#backend-detail')).toHaveText(/^WebAssembly (relaxed )?SIMD kernels on \d threads?$/);
  test.skip(
    unavailable.some((o) => o.startsWith('webgpu')),
    'no WebGPU adapter here: the failing GPU run cannot be shown',
  );

  await picker.selectOption('webgpu');
  await setRecipe(page, '3', '40', '40');
  await field(page, 'Batch size').fill('8');
  await startRun(page);
  await expect(page.getByRole('alert')).toContainText('GPU device was lost', { timeout: 120_000 });
  await expect(phase(page)).toHaveText('Failed');
  await page.getByRole('button', { name: 'Resume on wasm' }).click();
  await expect(phase(page)).toHaveText('Finished', { timeout: 120_000 });
  await expect(page.locator('p.backend strong')).toHaveText('wasm');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByTestId('epoch')).toContainText('3 / 3');
  // The form shows the run's recipe with the backend it finished on, so Start does not go back to the GPU.
  await expect(picker).toHaveValue('wasm');
});

test('a page with a stale address (the token of an earlier start) says so instead of connecting forever', async ({ app: { page } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'Electron has no address or token');
  const stale = await page.context().browser()!.newPage();
  try {
    const url = new URL(page.url());
    url.searchParams.set('token', 'from-an-earlier-start');
    // The refused WebSocket is logged by Chromium itself; this page is not watched for console errors.
    await stale.goto(url.toString());
    await expect(stale.getByRole('alert')).toHaveText(/does not answer at this address.*open the new address it printed/, { timeout: 15_000 });
  } finally {
    await stale.close();
  }
});
