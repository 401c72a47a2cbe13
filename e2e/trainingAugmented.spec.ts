// Named to run after predictions.spec, whose first test needs an app with no model in hand (it trains one).
// Augmentation in the training form: the switch shows a strip of augmented training images above their
// originals, another draw changes them, and a run with it on keeps it in the recipe the form shows after a reload.
import { appGuards, expect, test } from './fixtures';
import { phase, setRecipe, startRun } from './studio';

appGuards();
test.describe.configure({ mode: 'serial' });

test('the switch shows augmented examples; a run keeps its strength in the recipe', async ({ app: { page } }) => {
  const toggle = page.getByRole('checkbox', { name: 'Vary the training images' });
  await expect(toggle).not.toBeChecked();
  const strip = page.getByRole('img', { name: 'Training images as augmented, above the originals' });
  await expect(strip).toHaveCount(0);
  await toggle.check();
  await expect(strip.locator('canvas')).toHaveCount(24);
  const pixels = () =>
    strip
      .locator('canvas')
      .first()
      .evaluate((c: HTMLCanvasElement) => c.toDataURL());
  const first = await pixels();
  await page.getByRole('button', { name: 'Another draw' }).click();
  await expect.poll(pixels).not.toBe(first);
  await page.getByRole('combobox', { name: 'Strength' }).selectOption('light');
  await setRecipe(page, '1', '320', '200');
  await startRun(page);
  await expect(phase(page)).toHaveText('Finished', { timeout: 90_000 });
  await page.reload();
  await expect(page.getByRole('checkbox', { name: 'Vary the training images' })).toBeChecked();
  await expect(page.getByRole('combobox', { name: 'Strength' })).toHaveValue('light');
  // The specs after this one share the page: untick the switch for them (a reload brings the last run's recipe,
  // augmentation and all, back into the form; they pass either way).
  await page.getByRole('checkbox', { name: 'Vary the training images' }).uncheck();
});
