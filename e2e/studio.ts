// Helpers the specs share: the form's fields, the run's phase, and starting a run (confirming the
// replacement of an unsaved model where the app asks).
import type { Page } from '@playwright/test';

export const field = (page: Page, name: string) => page.getByRole('spinbutton', { name });
export const phase = (page: Page) => page.locator('.phase');
export const stepNumber = async (page: Page): Promise<number> => Number((await page.getByTestId('step').textContent())!.split('/')[0]!.replace(/[^\d]/g, ''));

export async function setRecipe(page: Page, epochs: string, trainLimit: string, testLimit: string): Promise<void> {
  await field(page, 'Epochs').fill(epochs);
  await field(page, 'Train limit').fill(trainLimit);
  await field(page, 'Test limit').fill(testLimit);
}

/** Clicks Start; where an unsaved model is in hand the app asks first, and this says yes. */
export async function startRun(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const anyway = page.getByRole('button', { name: 'Start anyway' });
  if (await anyway.isVisible()) await anyway.click();
}
