// The main flows in each language, switched with the picker: train a short run, save it, open it again,
// draw, drop a file. Each view is photographed at 1280x900 and 1024x768 (test-results/) and checked for text
// that does not fit: no button, heading, label, table cell or the tab list is wider inside than its box, and
// every button's text stays on one line. Named to run after predictions.spec (which needs no model in hand)
// and before yourImages.spec (which leaves its own dataset in hand); it sets the language back at its end.
import type { Page } from '@playwright/test';
import assert from 'node:assert/strict';
import { appGuards, expect, test } from './fixtures';
import { field, phase } from './studio';
import { styledPng } from '../test/support/digitStyles';
import { readIdxDataset } from '../src/core/dataset/dataset';
import { readFileSync } from 'node:fs';

appGuards();
test.describe.configure({ mode: 'serial' });

/** A language's simple messages by key, read from its catalogue (a missing key fails the test). */
function catalogue(locale: string): (key: string) => string {
  const words = JSON.parse(readFileSync(`messages/${locale}.json`, 'utf8')) as Record<string, unknown>;
  return (key) => {
    const word = words[key];
    return typeof word === 'string' ? word : assert.fail(`no simple message ${key} in messages/${locale}.json`);
  };
}
const en = catalogue('en');
const ko = catalogue('ko');
const CATALOGUES = { en, ko };
/** A simple message with its {placeholders} as a pattern that matches any value there. */
const pattern = (message: string): RegExp =>
  new RegExp(
    message
      .split(/\{\w+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('.+'),
  );

async function choose(page: Page, locale: 'en' | 'ko' | 'system'): Promise<void> {
  await page.getByTestId('language').selectOption(locale);
  await expect(page.locator('html')).toHaveAttribute('lang', locale === 'system' ? 'en' : locale);
}

/** Text that does not fit its box, as "tag.class: text" lines: overflow, and buttons whose text wraps. */
async function misfits(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const name = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}: ${el.textContent?.trim().slice(0, 60)}`;
    for (const el of document.querySelectorAll<HTMLElement>('button, h1, h2, h3, label, th, td, [role="tablist"]')) {
      if (!el.checkVisibility() || el.closest('[hidden]')) continue;
      if (el.scrollWidth > el.clientWidth + 1) out.push(`overflows ${name(el)}`);
      if (el.tagName === 'BUTTON' && el.textContent?.trim()) {
        const range = document.createRange();
        range.selectNodeContents(el);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) out.push(`wraps ${name(el)}`);
      }
    }
    return out;
  });
}

/** Photographs the page at both sizes and checks that its text fits at each. */
async function checkFit(page: Page, locale: string, view: string): Promise<void> {
  for (const [width, height] of [
    [1280, 900],
    [1024, 768],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: `test-results/languages/${locale}-${view}-${width}x${height}.png`, fullPage: true });
    expect(await misfits(page), `${locale} ${view} at ${width}x${height}`).toEqual([]);
  }
  await page.setViewportSize({ width: 1280, height: 1000 });
}

for (const locale of ['en', 'ko'] as const) {
  const t = CATALOGUES[locale];

  test(`${locale}: train, save, open, draw and drop, every view fitting its text`, async ({ app: { page } }) => {
    await choose(page, locale);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(t('app_title'));
    await expect(page.getByTestId('dataset-source')).toContainText('60,000');

    // Train a short run (the view in hand stays as the language changes: this one may start on another tab).
    await page.getByRole('tab', { name: t('tab_train') }).click();
    await field(page, t('recipe_epochs')).fill('1');
    await field(page, t('recipe_train_limit')).fill('640');
    await field(page, t('recipe_test_limit')).fill('200');
    await page.getByRole('button', { name: t('start'), exact: true }).click();
    const anyway = page.getByRole('button', { name: t('start_anyway') });
    if (await anyway.isVisible()) await anyway.click();
    await expect(phase(page)).toHaveText(t('phase_done'), { timeout: 90_000 });
    await expect(page.getByRole('table', { name: t('per_epoch_metrics') }).getByRole('columnheader', { name: t('col_test_accuracy') })).toBeVisible();
    await checkFit(page, locale, 'train');

    // Save it, then open it again from the list.
    const name = `languages-${locale}`;
    await page.getByRole('tab', { name: t('tab_models') }).click();
    await page.getByRole('button', { name: t('save_model_button') }).click();
    const dialog = page.getByRole('dialog', { name: t('save_model') });
    await dialog.getByRole('textbox', { name: t('model_name') }).fill(name);
    await dialog.getByRole('button', { name: t('save'), exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(pattern(t('saved_to')));
    await page
      .getByRole('list', { name: t('recent_models') })
      .getByRole('button', { name, exact: true })
      .click();
    await expect(page.getByRole('status')).toHaveText(pattern(t('opened_dir')));
    await checkFit(page, locale, 'models');

    // Draw a "1".
    await page.getByRole('tab', { name: t('tab_draw') }).click();
    const box = (await page.getByLabel(t('drawing_canvas')).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.2 + i * 0.06));
    await page.mouse.up();
    await expect(page.getByTestId('predicted-label')).toHaveText(/^\d$/);
    await expect(page.getByLabel(t('prediction'), { exact: true })).toContainText(pattern(t('sure')));
    await checkFit(page, locale, 'draw');

    // Drop an image file on the window (the list cleared of the other language's drop first).
    await page.getByRole('tab', { name: t('tab_files') }).click();
    const clear = page.getByRole('button', { name: t('clear_list') });
    if (await clear.isEnabled()) await clear.click();
    const digit = readIdxDataset().test.images.subarray(0, 784);
    const png = [...(await styledPng(digit, 'plain'))];
    await page.evaluate((data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, png);
    await expect(page.getByRole('tab', { name: t('tab_files') })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('drop-progress')).toHaveText(pattern(t('drop_progress')));
    await expect(
      page
        .getByRole('list', { name: t('results') })
        .getByRole('listitem')
        .filter({ hasText: 'dropped.png' }),
    ).toHaveCount(1);
    await checkFit(page, locale, 'files');

    for (const [tab, view] of [
      [t('tab_test_images'), 'test-images'],
      [t('tab_runs'), 'runs'],
    ] as const) {
      await page.getByRole('tab', { name: tab }).click();
      await expect(page.getByRole('tabpanel', { name: tab })).toBeVisible();
      await checkFit(page, locale, view);
    }
  });
}

test('the choice is the app’s: a reload and a second tab show it, and the system language (English here) comes back in both', async ({ app: { page } }) => {
  await choose(page, 'ko');
  await page.reload();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(ko('app_title'));
  await expect(page.getByTestId('language')).toHaveValue('ko');
  // A second tab of the browser host (Electron has one window): it opens in Korean, and switches with the first.
  const browser = page.context().browser();
  const second = browser && (await browser.newPage());
  try {
    await second?.goto(page.url());
    if (second) await expect(second.getByRole('heading', { level: 1 })).toHaveText(ko('app_title'));
    // The view in hand stays in view as the language changes.
    await page.getByRole('tab', { name: ko('tab_models') }).click();
    await choose(page, 'system');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(en('app_title'));
    await expect(page.getByRole('tab', { name: en('tab_models') })).toHaveAttribute('aria-selected', 'true');
    if (second) await expect(second.getByRole('heading', { level: 1 })).toHaveText(en('app_title'));
    await page.getByRole('tab', { name: en('tab_train') }).click();
  } finally {
    await second?.close();
  }
});
