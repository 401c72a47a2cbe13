// The Runs view end to end: two short runs that differ in their learning rate, compared in the Runs tab
// (two curves in the loss chart, the differing field marked), then one run again, and its card saying
// the rerun is identical, bit for bit. The real app, worker and MNIST, a few hundred images.
import type { Page } from '@playwright/test';
import { appGuards, expect, test } from './fixtures';
import { field, phase, setRecipe, startRun } from './studio';

appGuards();
test.describe.configure({ mode: 'serial' });

/** Trains one epoch on wasm (fixed threads: the same numbers every time) and returns the run's id. */
async function shortRun(page: Page, learningRate: string): Promise<string> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await setRecipe(page, '1', '320', '200', '32');
  await field(page, 'Learning rate').fill(learningRate);
  await page.getByRole('combobox', { name: /^Backend/ }).selectOption('wasm');
  await startRun(page);
  await expect(phase(page)).toHaveText('Finished', { timeout: 90_000 });
  return (await phase(page).getAttribute('data-run'))!;
}

/** How many series the chart draws, and how many points each has, from its uPlot instance. */
const seriesPoints = (page: Page, title: string): Promise<number[]> =>
  page.getByRole('figure', { name: title }).evaluate((figure) => {
    const u = (figure.firstElementChild as HTMLElement & { uplot: { data: (number | null)[][] } }).uplot;
    return u.data.slice(1).map((ys) => ys.filter((y) => y !== null).length);
  });

test('two runs compared: two curves, the differing learning rate marked; run again, and the card says identical', async ({ app: { page } }) => {
  const first = await shortRun(page, '0.01');
  const second = await shortRun(page, '0.05');
  await field(page, 'Learning rate').fill('0.01');

  await page.getByRole('tab', { name: 'Runs' }).click();
  const runs = page.getByRole('table', { name: 'Runs' });
  for (const id of [first, second]) await runs.locator(`tr[data-run="${id}"]`).getByRole('checkbox').check();

  await expect.poll(() => seriesPoints(page, 'Per-step training loss, by run')).toEqual([10, 10]);
  expect(await seriesPoints(page, 'Per-epoch loss, by run')).toEqual([1, 1, 1, 1]);
  const side = page.getByRole('table', { name: 'Recipes side by side' });
  const rate = side.locator('tr[data-field="config.learningRate"]');
  await expect(rate).toHaveClass(/differs/);
  await expect(rate).toContainText('differs');
  await expect(rate).toContainText('0.01');
  await expect(rate).toContainText('0.05');
  await expect(side.locator('tr[data-field="config.seed"]')).not.toHaveClass(/differs/);

  // The first run's card, and Run again on it (the model in hand is the second run's, not saved: say yes).
  await runs.locator(`tr[data-run="${first}"]`).getByRole('button', { name: first }).click();
  const card = page.getByRole('region', { name: 'Reproducibility card' });
  await expect(card).toHaveAttribute('data-run', first);
  await expect(card).toContainText('bit for bit');
  await expect(card).toContainText('fingerprint');
  // The spec files share their worker's app, whose run log holds the earlier specs' runs too: count from here.
  const listed = await runs.locator('tbody tr').count();
  await card.getByRole('button', { name: 'Run again' }).click();
  await card.getByRole('button', { name: 'Replace it' }).click();
  await expect(card).not.toHaveAttribute('data-run', first);
  await expect(card.getByRole('status', { name: 'Reproduction check' })).toContainText(`Identical to ${first}: 1 epoch, bit for bit`, {
    timeout: 90_000,
  });
  await expect(runs.locator('tbody tr')).toHaveCount(listed + 1);
});
