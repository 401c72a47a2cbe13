// The Runs view in Korean speaks the notebook's words for the recipe: the reproducibility card and the
// recipes-side-by-side table name 에포크, 배치 크기, 학습률 and 모멘텀, not the record's keys (batchSize,
// config.learningRate), which a Korean learner of the notebook would not recognise. Sets English back at its end.
import { readFileSync } from 'node:fs';
import { appGuards, expect, test } from './fixtures';
import { field, phase } from './studio';

appGuards();

const ko = JSON.parse(readFileSync('messages/ko.json', 'utf8')) as Record<string, string>;

test('ko: the run card and the recipe comparison name the recipe in Korean', async ({ app: { page } }) => {
  await page.getByTestId('language').selectOption('ko');
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await page.getByRole('tab', { name: ko.tab_train }).click();
  for (const rate of ['0.01', '0.05']) {
    await field(page, ko.recipe_epochs!).fill('1');
    await field(page, ko.recipe_learning_rate!).fill(rate);
    await field(page, ko.recipe_train_limit!).fill('320');
    await field(page, ko.recipe_test_limit!).fill('100');
    await page.getByRole('button', { name: ko.start, exact: true }).click();
    const anyway = page.getByRole('button', { name: ko.start_anyway });
    if (await anyway.isVisible()) await anyway.click();
    await expect(phase(page)).toHaveText(ko.phase_done!, { timeout: 90_000 });
  }
  await page.getByRole('tab', { name: ko.tab_runs }).click();
  const rows = page.locator('tr[data-run]');
  for (const i of [0, 1]) await rows.nth(i).getByRole('checkbox').check();
  const side = page.getByRole('table', { name: ko.recipes_side_by_side });
  await expect(side.locator('tr[data-field="config.learningRate"] th')).toContainText(ko.recipe_learning_rate!);
  await expect(side.locator('tr[data-field="config.batchSize"] th')).toHaveText(ko.recipe_batch_size!);
  await expect(side.locator('tr[data-field="config.momentum"] th')).toHaveText(ko.recipe_momentum!);

  await rows.nth(0).getByRole('button', { name: /^run_/ }).click();
  const card = page.getByRole('region', { name: ko.reproducibility_card });
  await expect(card).toContainText(`${ko.recipe_epochs} 1, ${ko.recipe_batch_size} 32, ${ko.recipe_learning_rate} 0.05, ${ko.recipe_momentum} 0.9`);
  await expect(card).not.toContainText('batchSize');

  await page.getByTestId('language').selectOption('en');
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
});
