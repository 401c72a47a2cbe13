// Helpers the specs share: the form's fields, the run's phase, and starting a run (confirming the
// replacement of an unsaved model where the app asks).
import { expect, type Page } from '@playwright/test';

/** A form field by the start of its label (the label also holds the field's problem, which may quote other names). */
export const field = (page: Page, name: string) => page.getByRole('spinbutton', { name: new RegExp(`^${name}`) });
export const phase = (page: Page) => page.locator('.phase');
export const stepNumber = async (page: Page): Promise<number> => Number((await page.getByTestId('step').textContent())!.split('/')[0]!.replace(/[^\d]/g, ''));

export async function setRecipe(page: Page, epochs: string, trainLimit: string, testLimit: string, batchSize?: string): Promise<void> {
  await field(page, 'Epochs').fill(epochs);
  if (batchSize !== undefined) await field(page, 'Batch size').fill(batchSize);
  await field(page, 'Train limit').fill(trainLimit);
  await field(page, 'Test limit').fill(testLimit);
}

/**
 * Clicks Start (where an unsaved model is in hand the app asks first, and this says yes) and returns
 * once the page shows the new run: the phase shown until then is still the last run's.
 */
export async function startRun(page: Page): Promise<void> {
  const before = await phase(page).getAttribute('data-run');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const anyway = page.getByRole('button', { name: 'Start anyway' });
  if (await anyway.isVisible()) await anyway.click();
  await expect(phase(page)).not.toHaveAttribute('data-run', before ?? '');
}

/** Saves the model in hand under `name` through the browser host's own Save dialog. */
export async function saveAs(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('button', { name: 'Save model…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Save model' });
  await dialog.getByRole('textbox', { name: 'Model name' }).fill(name);
  await dialog.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toContainText('Saved to');
}
