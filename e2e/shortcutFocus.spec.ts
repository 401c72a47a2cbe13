// The training shortcuts belong to the page, not to a field someone is typing in: on macOS Alt+Shift+S types
// a character, so a run must not start (nor a question pop up in a hidden tab) from the Open dialog's path field.
import { appGuards, expect, test } from './fixtures';
import { phase } from './studio';

appGuards();

test('Alt+Shift+S typed in a field outside the training form starts no run', async ({ app: { page } }) => {
  const shown = () => phase(page).evaluateAll((all) => all.map((e) => `${e.getAttribute('data-run')}:${e.textContent}`).join());
  const before = await shown();
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: 'Open model…' }).click();
  const path = page.getByRole('textbox', { name: 'Folder to open' });
  await path.click();
  await page.keyboard.type('/tmp/model');
  await page.keyboard.press('Alt+Shift+KeyS');
  // Give a start, had one been asked for, time to show: the run's phase or the "Start anyway" question.
  await page.waitForTimeout(1500);
  expect(await shown()).toBe(before);
  await expect(page.locator('button', { hasText: 'Start anyway' })).toHaveCount(0);
  await expect(path).toBeFocused();
  await expect(path).toHaveValue('/tmp/model');
  // The specs after this one share the app: leave it as found.
  await page.getByRole('dialog', { name: 'Open model' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(path).toHaveCount(0);
  await page.getByRole('tab', { name: 'Train' }).click();
});
