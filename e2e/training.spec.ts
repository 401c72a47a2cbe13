// The training view end to end: the real app, the real core, real MNIST.
import { appGuards, expect, test } from './fixtures';
import { field, phase, setRecipe, startRun, stepNumber } from './studio';

appGuards();
test.describe.configure({ mode: 'serial' });
const startButton = (page: import('@playwright/test').Page) => page.getByRole('button', { name: 'Start', exact: true });

test('the window shows the bundled dataset, the backend and the model summary', async ({ app: { page } }) => {
  await expect(page.getByRole('heading', { name: 'MNIST Studio' })).toBeVisible();
  await expect(page.getByLabel('Backend in use')).toContainText(/wasm|native/);
  await expect(page.getByRole('region', { name: 'Dataset' })).toContainText('60,000');
  await expect(page.getByRole('region', { name: 'Dataset' })).toContainText('10,000');
  await expect(page.getByRole('table', { name: 'Model' })).toContainText('824,458');
});

test('bad hyperparameters get plain messages and keep Start disabled', async ({ app: { page } }) => {
  // The form shows the recipe of the model in hand, which an earlier spec may have left with another batch size.
  await field(page, 'Batch size').fill('32');
  await field(page, 'Epochs').fill('0');
  await expect(page.locator('#epochs-problem')).toHaveText('at least 1');
  await expect(startButton(page)).toBeDisabled();
  await field(page, 'Epochs').fill('1.5');
  await expect(page.locator('#epochs-problem')).toHaveText('a whole number');
  await field(page, 'Epochs').fill('');
  await expect(page.locator('#epochs-problem')).toHaveText('required');
  // What a number field cannot read is "not a number", not "required"; and an optional field is not
  // quietly dropped (a train limit typed as "5e" used to train on everything).
  await field(page, 'Epochs').pressSequentially('1e');
  await expect(page.locator('#epochs-problem')).toHaveText('not a number');
  await field(page, 'Epochs').fill('3');
  await expect(page.locator('#epochs-problem')).toHaveText('');
  await field(page, 'Test limit').fill('');
  await field(page, 'Test limit').pressSequentially('5e');
  await expect(page.locator('#testLimit-problem')).toHaveText('not a number');
  await expect(startButton(page)).toBeDisabled();
  await field(page, 'Test limit').fill('');
  await expect(page.locator('#testLimit-problem')).toHaveText('');
  await field(page, 'Momentum').fill('1.5');
  await expect(page.locator('#momentum-problem')).toHaveText('less than 1');
  // Every problem shows at once, this one even while others remain.
  // The case that used to wedge the app: fewer training images than one batch.
  await field(page, 'Train limit').fill('10');
  await expect(page.locator('#trainLimit-problem')).toHaveText('at least the batch size, 32');
  await field(page, 'Batch size').fill('2000');
  await expect(page.locator('#batchSize-problem')).toHaveText('at most 1,024');
  await field(page, 'Batch size').fill('32');
  await field(page, 'Train limit').fill('');
  await field(page, 'Epochs').fill('10');
  await field(page, 'Momentum').fill('0.9');
  await expect(startButton(page)).toBeEnabled();
});

test('a run can be paused, resumed and stopped', async ({ app: { page } }) => {
  await setRecipe(page, '10', '', '');
  await startRun(page);
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
  await expect(startButton(page)).toBeEnabled();
  // The stopped run's weights are the model in hand, not saved: a new run asks first.
  await expect(page.getByLabel('Model in hand')).toContainText('Model: untitled (not saved)');
  await startButton(page).click();
  await expect(page.getByRole('alertdialog')).toContainText('is not saved');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(phase(page)).toHaveText('Stopped');
});

test('a stopped run is listed as unfinished and resumes from its checkpoint', async ({ app: { page } }) => {
  await setRecipe(page, '3', '3200', '500');
  await startRun(page);
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
  await startRun(page);
  await expect(phase(page)).toHaveText('Finished', { timeout: 90_000 });
  const rows = page.getByRole('table', { name: 'Per-epoch metrics' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);
  const accuracy = parseFloat((await rows.nth(2).locator('td').nth(4).textContent())!);
  expect(accuracy).toBeGreaterThan(85);
  // The charts got data: the per-step chart holds every step's loss (3 epochs of 100 steps), the epoch charts three points.
  // Read from the uPlot instance each chart keeps on its host (as the layout check does), not a counter.
  const points = (name: string): Promise<number[]> =>
    page
      .getByRole('figure', { name })
      .evaluate((f) => (f.firstElementChild as HTMLElement & { uplot: { data: unknown[][] } }).uplot.data.map((s) => s.filter((v) => v != null).length));
  await expect.poll(() => points('Training loss per step')).toEqual([300, 300, 300]);
  for (const name of ['Loss per epoch', 'Accuracy per epoch']) await expect.poll(() => points(name)).toEqual([3, 3, 3]);
  await expect(page.getByRole('progressbar', { name: 'Training progress' })).toHaveAttribute('aria-valuenow', '100');
});

test('the model is saved by name, survives a reload, and opens again with its history and recipe', async ({ app: { page, home } }, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'Electron saves through its native dialog, which a test cannot drive');
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: 'Save model…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Save model' });
  await dialog.getByRole('textbox', { name: 'Model name' }).fill('three epochs');
  await expect(dialog).toContainText(`Saves to ${home}/models/three epochs`);
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toContainText(`Saved to ${home}/models/three epochs`);
  // The path stays in view after later messages, ready to copy.
  await expect(page.getByRole('textbox', { name: 'Saved model folder' })).toHaveValue(`${home}/models/three epochs`);
  // Newest first, listed once (earlier specs in this app may have saved models of their own).
  const recent = page.getByRole('list', { name: 'Recent models' }).getByRole('listitem');
  await expect(recent.first()).toContainText('three epochs');
  await expect(recent.first()).toContainText('3 epochs');
  await expect(recent.filter({ hasText: 'three epochs' })).toHaveCount(1);
  await expect(page.getByLabel('Model in hand')).toContainText(`Model: three epochs (${home}/models/three epochs), test accuracy`);
  // The accuracy and what it was measured on read as words apart ("97.00% on 100 test images").
  await expect(page.getByLabel('Model in hand')).toContainText(/test accuracy \d+\.\d\d%\s+on [\d,]+ test images after epoch 3/);

  await page.reload();
  const rows = page.getByRole('table', { name: 'Per-epoch metrics' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('steps-shown')).toHaveText('300 steps');

  // Train something else, then open the saved model: its charts, table and recipe come back.
  await setRecipe(page, '1', '640', '200');
  await startRun(page);
  await expect(phase(page)).toHaveText('Finished', { timeout: 60_000 });
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId('steps-shown')).toHaveText('20 steps');
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: 'Open model…' }).click();
  const open = page.getByRole('dialog', { name: 'Open model' });
  await expect(open.getByRole('listitem').first()).toContainText(/3 epochs, test \d+\.\d\d%/);
  await open.getByRole('button', { name: 'three epochs' }).click();
  // The 1-epoch model in hand was never saved: opening another asks first.
  const ask = page.getByRole('alertdialog', { name: 'Replace the unsaved model?' });
  await expect(ask).toContainText('is not saved. Opening another model replaces it.');
  await ask.getByRole('button', { name: 'Replace it' }).click();
  await expect(page.getByRole('status')).toContainText('Opened');
  await page.getByRole('tab', { name: 'Train' }).click();
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('steps-shown')).toHaveText('300 steps');
  await expect(field(page, 'Epochs')).toHaveValue('3');
  await expect(field(page, 'Train limit')).toHaveValue('3200');
  await expect(field(page, 'Test limit')).toHaveValue('1000');
  await expect(page.getByLabel('Model in hand')).toContainText('Model: three epochs (');
});

test('opening a folder that holds no model says so plainly, with ~ understood', async ({ app: { page, home } }, testInfo) => {
  await page.getByRole('tab', { name: 'Models' }).click();
  if (testInfo.project.name === 'browser-host') {
    // No native dialog in a browser: the page has its own, listing the models under the app's home.
    await page.getByRole('button', { name: 'Open model…' }).click();
    await expect(page.getByRole('dialog', { name: 'Open model' })).toBeVisible();
    await page.getByRole('dialog', { name: 'Open model' }).getByRole('button', { name: 'Cancel' }).click();
  }
  await page.getByRole('textbox', { name: 'Model folder', exact: true }).fill(home);
  await page.getByRole('button', { name: 'Open folder' }).click();
  await expect(page.getByRole('alert')).toContainText(`${home}: this folder is not a saved model (no model.json)`);
  await page.getByRole('textbox', { name: 'Model folder', exact: true }).fill('~/surely-no-such-folder-here');
  await page.getByRole('button', { name: 'Open folder' }).click();
  await expect(page.getByRole('alert')).toContainText(/\/surely-no-such-folder-here: no such folder/);
  await expect(page.getByRole('alert')).not.toContainText('~');
});
