// The training view end to end: the real app, the real core, real MNIST.
import { appGuards, expect, test } from './fixtures';
import type { Page } from '@playwright/test';

appGuards();
test.describe.configure({ mode: 'serial' });

const field = (page: Page, name: string) => page.getByRole('spinbutton', { name });
const phase = (page: Page) => page.locator('.phase');
const stepNumber = async (page: Page): Promise<number> => Number((await page.getByTestId('step').textContent())!.split('/')[0]!.replace(/,/g, ''));

async function setRecipe(page: Page, epochs: string, trainLimit: string, testLimit: string): Promise<void> {
  await field(page, 'Epochs').fill(epochs);
  await field(page, 'Train limit').fill(trainLimit);
  await field(page, 'Test limit').fill(testLimit);
}

test('the window shows the bundled dataset, the backend and the model summary', async ({ app: { page } }) => {
  await expect(page.getByRole('heading', { name: 'MNIST Studio' })).toBeVisible();
  await expect(page.getByLabel('Backend')).toContainText(/wasm|native/);
  await expect(page.getByRole('region', { name: 'Dataset' })).toContainText('60,000');
  await expect(page.getByRole('region', { name: 'Dataset' })).toContainText('10,000');
  await expect(page.getByRole('table', { name: 'Model' })).toContainText('824,458');
});

test('bad hyperparameters show a message and keep Start disabled', async ({ app: { page } }) => {
  await field(page, 'Epochs').fill('0');
  await expect(page.locator('#epochs-problem')).not.toBeEmpty();
  await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
  await field(page, 'Momentum').fill('1.5');
  await expect(page.locator('#momentum-problem')).not.toBeEmpty();
  await field(page, 'Epochs').fill('10');
  await field(page, 'Momentum').fill('0.9');
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();
});

test('a run can be paused, resumed and stopped', async ({ app: { page } }) => {
  await setRecipe(page, '10', '', '');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(phase(page)).toHaveText('Training');
  await expect.poll(() => stepNumber(page)).toBeGreaterThan(20);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(phase(page)).toHaveText('Paused');
  const held = await stepNumber(page);
  await page.waitForTimeout(1000);
  expect(await stepNumber(page)).toBe(held);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(phase(page)).toHaveText('Training');
  await expect.poll(() => stepNumber(page)).toBeGreaterThan(held);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(phase(page)).toHaveText('Stopped');
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();
});

test('a stopped run is listed as unfinished and resumes from its checkpoint', async ({ app: { page } }) => {
  await setRecipe(page, '3', '3200', '500');
  await page.getByRole('button', { name: 'Start' }).click();
  const rows = page.getByRole('table', { name: 'Per-epoch metrics' }).locator('tbody tr');
  await expect(rows.first()).toContainText('1', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(phase(page)).toHaveText('Stopped');
  await page.getByRole('tab', { name: 'Models' }).click();
  const runs = page.getByRole('list', { name: 'Unfinished runs' }).getByRole('listitem');
  await expect(runs.first()).toContainText(/[12] of 3 epochs/);
  await runs.first().getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('tab', { name: 'Train' }).click();
  await expect(phase(page)).toHaveText('Finished', { timeout: 60_000 });
  await expect(rows).toHaveCount(3);
  await page.getByRole('tab', { name: 'Models' }).click();
  await expect(page.getByRole('list', { name: 'Unfinished runs' })).toContainText('None');
  await page.getByRole('tab', { name: 'Train' }).click();
});

test('a short run fills the charts and the epoch rows', async ({ app: { page } }) => {
  await setRecipe(page, '3', '3200', '1000');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(phase(page)).toHaveText('Finished', { timeout: 90_000 });
  const rows = page.getByRole('table', { name: 'Per-epoch metrics' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);
  const accuracy = parseFloat((await rows.nth(2).locator('td').nth(4).textContent())!);
  expect(accuracy).toBeGreaterThan(85);
  // The charts got data: the per-step chart holds every step's loss (3 epochs of 100 steps), the epoch charts three points.
  // Read from the uPlot instance each chart keeps on its host (as the layout check does), not a counter.
  const points = (name: string): Promise<number[]> =>
    page.getByRole('figure', { name }).evaluate((f) => (f.firstElementChild as HTMLElement & { uplot: { data: unknown[][] } }).uplot.data.map((s) => s.filter((v) => v != null).length));
  await expect.poll(() => points('Training loss per step')).toEqual([300, 300, 300]);
  for (const name of ['Loss per epoch', 'Accuracy per epoch']) await expect.poll(() => points(name)).toEqual([3, 3, 3]);
  await expect(page.getByRole('progressbar', { name: 'Training progress' })).toHaveAttribute('aria-valuenow', '100');
});

test('the model is saved, survives a reload, and opens again with its history', async ({ app: { page, home } }) => {
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: 'Save model' }).click();
  await expect(page.getByRole('status')).toContainText(`Saved to ${home}`);
  const recent = page.getByRole('list', { name: 'Recent models' }).getByRole('listitem');
  await expect(recent).toHaveCount(1);
  await expect(recent.first()).toContainText('3 epochs');

  await page.reload();
  const rows = page.getByRole('table', { name: 'Per-epoch metrics' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);

  // Train something else, then open the saved model: its three epochs come back.
  await setRecipe(page, '1', '640', '200');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(phase(page)).toHaveText('Finished', { timeout: 60_000 });
  await expect(rows).toHaveCount(1);
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('list', { name: 'Recent models' }).getByRole('button').first().click();
  await expect(page.getByRole('status')).toContainText('Opened');
  await page.getByRole('tab', { name: 'Train' }).click();
  await expect(rows).toHaveCount(3);
});

test('opening a folder that holds no model shows a clear error', async ({ app: { page, home } }, testInfo) => {
  await page.getByRole('tab', { name: 'Models' }).click();
  if (testInfo.project.name === 'browser-host') {
    // No native dialog in a browser: the app says to type the path instead.
    await page.getByRole('button', { name: 'Open model…' }).click();
    await expect(page.getByRole('alert')).toContainText("type the model folder's path");
  }
  await page.getByRole('textbox', { name: 'Model folder' }).fill(home);
  await page.getByRole('button', { name: 'Open folder' }).click();
  await expect(page.getByRole('alert')).toContainText('model.json: not found');
});
