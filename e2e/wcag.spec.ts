// Accessibility end to end: axe (WCAG 2.0 and 2.1, A and AA) on every view and dialog, in the light and the dark
// theme, after real runs so that the charts, tables and predictions exist; the keyboard (the order of the main
// controls, a focus ring that passes contrast, the training shortcuts); the live region's epoch announcements;
// the prediction bars read out and the drawing canvas. Named wcag.spec, not accessibility.spec, to run after
// predictions.spec: the specs share their worker's app, predictions.spec's first test needs one with no model
// yet, the app cannot put a model down, and this spec trains. (yourImages.spec still runs last.)
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { appGuards, expect, test } from './fixtures';
import { phase, saveAs, setRecipe, stepNumber } from './studio';
import { readIdxDataset } from '@core/dataset/dataset';
import { styledPng } from '../test/support/digitStyles';

appGuards();
test.describe.configure({ mode: 'serial' });

const THEMES = ['light', 'dark'] as const;
const button = (page: Page, name: string) => page.getByRole('button', { name, exact: true });
const announcer = (page: Page) => page.getByTestId('epoch-announcer');

// The theme follows the system: leave the page as the next spec expects it.
test.afterAll(async ({ app }) => {
  if (app) await app.page.emulateMedia({ colorScheme: null });
});

/** The serious and critical WCAG A/AA violations on the page as it is, one line per element. Legacy mode runs
 * axe inside the page alone: the default opens a second page, which the fixture's page (browser.newPage(), or
 * Electron's window) cannot; the app has no frames that would need it. */
async function violations(page: Page, where: string): Promise<string[]> {
  const axe = new AxeBuilder({ page }).setLegacyMode(true).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  const { violations: found } = await axe.analyze();
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${where}: ${v.id} at ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`));
}

/** Starts a run by its shortcut, saying yes (from the keyboard, where focus has moved) to replacing an unsaved model. */
async function startByShortcut(page: Page): Promise<void> {
  const before = (await phase(page).getAttribute('data-run')) ?? '';
  await page.keyboard.press('Alt+Shift+KeyS');
  const anyway = page.getByRole('button', { name: 'Start anyway' });
  const started = page.locator(`.phase:not([data-run="${before}"])`);
  await expect(anyway.or(started)).toBeVisible();
  if (await anyway.isVisible()) {
    await expect(anyway).toBeFocused();
    await page.keyboard.press('Enter');
  }
  await expect(started).toBeVisible();
}

/** A "1" drawn with the mouse: one vertical stroke of small moves. */
async function drawOne(page: Page): Promise<void> {
  const box = (await page.getByRole('img', { name: 'Drawing canvas' }).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * (0.52 - i * 0.002), box.y + box.height * (0.15 + i * 0.035));
  await page.mouse.up();
  await expect(page.getByTestId('predicted-label')).not.toHaveText('–');
}

test('the training shortcuts start, pause, resume and stop a run, and the buttons name them', async ({ app: { page } }) => {
  for (const [name, keys] of [
    ['Start', 'Alt+Shift+S'],
    ['Pause', 'Alt+Shift+P'],
    ['Stop', 'Alt+Shift+X'],
  ] as const) {
    await expect(button(page, name)).toHaveAttribute('aria-keyshortcuts', keys);
    await expect(button(page, name)).toHaveAttribute('title', `Shortcut: ${keys}`);
  }
  // The views checked here are MNIST's (a drawing model): an earlier spec may have left other images in hand.
  const card = page.getByTestId('dataset-card');
  if (await card.getByRole('button', { name: 'Use bundled MNIST' }).isVisible()) await card.getByRole('button', { name: 'Use bundled MNIST' }).click();
  await expect(card.getByTestId('dataset-source')).toContainText('bundled MNIST');
  await page.getByRole('combobox', { name: /^Backend/ }).selectOption('wasm');
  await setRecipe(page, '3', '9600', '500', '32');
  await startByShortcut(page);
  await expect(phase(page)).toHaveText('Training');
  await expect.poll(() => stepNumber(page)).toBeGreaterThan(5);
  await page.keyboard.press('Alt+Shift+KeyP');
  await expect(phase(page)).toHaveText('Paused');
  await expect(button(page, 'Resume')).toHaveAttribute('aria-keyshortcuts', 'Alt+Shift+P');
  const held = await stepNumber(page);
  await page.keyboard.press('Alt+Shift+KeyP');
  await expect(phase(page)).toHaveText('Training');
  await expect.poll(() => stepNumber(page)).toBeGreaterThan(held);
  await page.keyboard.press('Alt+Shift+KeyX');
  await expect(phase(page)).toHaveText('Stopped');
  // From another view, Start brings the Train view forward with its question (the stopped run's model is
  // unsaved) in focus, and pressing it again goes back to the question rather than nowhere.
  await page.getByRole('tab', { name: 'Runs' }).click();
  await page.keyboard.press('Alt+Shift+KeyS');
  await expect(page.getByRole('tab', { name: 'Train' })).toHaveAttribute('aria-selected', 'true');
  const anyway = page.getByRole('button', { name: 'Start anyway' });
  await expect(anyway).toBeFocused();
  await page.getByRole('tab', { name: 'Train' }).focus();
  await page.keyboard.press('Alt+Shift+KeyS');
  await expect(anyway).toBeFocused();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(phase(page)).toHaveText('Stopped');
});

test('each epoch is announced in a polite live region as it arrives, and the charts point to their text', async ({ app: { page } }) => {
  await expect(announcer(page)).toHaveAttribute('aria-live', 'polite');
  // Every text the region holds, in order (an epoch of 10 steps may pass between two polls).
  await announcer(page).evaluate((region) => {
    const said: string[] = ((window as unknown as { said: string[] }).said = []);
    new MutationObserver(() => said.push(region.textContent!.trim())).observe(region, { childList: true, characterData: true, subtree: true });
  });
  await setRecipe(page, '2', '320', '200', '32');
  await startByShortcut(page);
  await expect(phase(page)).toHaveText('Finished', { timeout: 90_000 });
  const said = await page.evaluate(() => (window as unknown as { said: string[] }).said.filter(Boolean));
  expect(said).toHaveLength(2);
  expect(said[0]).toMatch(/^Epoch 1 of 2: accuracy \d+\.\d percent, loss \d+\.\d\d$/);
  expect(said[1]).toMatch(/^Epoch 2 of 2: accuracy \d+\.\d percent, loss \d+\.\d\d$/);
  // The same test accuracy as the table's last row (which shows two decimals).
  const rows = page.locator('#epoch-table tbody tr');
  await expect(rows).toHaveCount(2);
  const tableAccuracy = parseFloat((await rows.nth(1).locator('td').nth(4).textContent())!);
  expect(parseFloat(said[1]!.match(/accuracy ([\d.]+)/)![1]!)).toBeCloseTo(tableAccuracy, 1);

  for (const title of ['Loss per epoch', 'Accuracy per epoch'])
    await expect(page.getByRole('figure', { name: title })).toHaveAccessibleDescription(/Per-epoch metrics table/);
  await expect(page.getByRole('figure', { name: 'Training loss per step' })).toHaveAccessibleDescription(/^20 steps so far; the latest loss is \d+\.\d{4}\.$/);
});

test('the drawing canvas says what it is, clears from the keyboard, and the bars are read out', async ({ app: { page } }) => {
  await page.getByRole('tab', { name: 'Draw' }).click();
  const canvas = page.getByRole('img', { name: 'Drawing canvas' });
  await expect(canvas).toHaveAccessibleDescription(/Draw a digit.*Delete, Backspace or Escape/);
  await drawOne(page);
  const bars = page.getByRole('list', { name: 'Probabilities' }).getByRole('listitem');
  await expect(bars).toHaveCount(10);
  const names = await bars.evaluateAll((items) => items.map((li) => li.getAttribute('aria-label')));
  for (const [digit, name] of names.entries()) expect(name).toMatch(new RegExp(`^${digit}, \\d{1,3} percent$`));
  const top = (await page.getByTestId('predicted-label').textContent())!;
  const sure = parseFloat((await page.locator('.confidence').textContent())!);
  const said = Number(names[Number(top)]!.match(/, (\d+) percent/)![1]);
  expect(Math.abs(said - sure)).toBeLessThanOrEqual(0.51);

  await canvas.focus();
  await expect(canvas).toBeFocused();
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('predicted-label')).toHaveText('–');
  const inked = await canvas.evaluate((c: HTMLCanvasElement) => {
    const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    return data.filter((v, i) => i % 4 === 0 && v < 250).length;
  });
  expect(inked).toBe(0);
});

test('the main view tabs in order with a focus ring that passes contrast, in both themes', async ({ app: { page } }) => {
  await page.getByRole('tab', { name: 'Train' }).click();
  for (const colorScheme of THEMES) {
    await page.emulateMedia({ colorScheme });
    await page.locator('h1').click(); // focus starts from the top of the page
    const order: string[] = [];
    // Tab through the page once, to its end (where focus leaves the page) or back to the first control.
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement === document.body || document.activeElement === null)) break;
      const focused = page.locator(':focus');
      // The snapshot's first line, `- role "name"` (YAML: quoted where the name holds a colon).
      const name = (await focused.ariaSnapshot()).split('\n')[0]!.replace(/^- '?/, '');
      if (name === order[0]) break;
      order.push(name);
      // The ring: a solid outline of 2px or more whose colour has 3:1 against the background behind it.
      const ring = await focused.evaluate((el) => {
        const style = getComputedStyle(el);
        const rgb = (c: string) =>
          c
            .match(/[\d.]+/g)!
            .slice(0, 3)
            .map(Number);
        const lum = (c: number[]) =>
          c.map((v) => v / 255).reduce((sum, v, k) => sum + [0.2126, 0.7152, 0.0722][k]! * (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4), 0);
        let under: Element | null = el.parentElement;
        while (under && getComputedStyle(under).backgroundColor === 'rgba(0, 0, 0, 0)') under = under.parentElement;
        const [a, b] = [lum(rgb(style.outlineColor)), lum(rgb(getComputedStyle(under ?? document.documentElement).backgroundColor))];
        return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
      });
      expect(ring.style, `${name} (${colorScheme})`).toBe('solid');
      expect(ring.width, `${name} (${colorScheme})`).toBeGreaterThanOrEqual(2);
      expect(ring.contrast, `${name} (${colorScheme})`).toBeGreaterThanOrEqual(3);
    }
    // The tab list is one stop (arrows move within it), then the dataset, the recipe and its buttons.
    const at = (pattern: RegExp) => order.findIndex((name) => pattern.test(name));
    const main = [/^tab "Train"/, /^button "Open dataset…"/, /^spinbutton "Epochs/, /^spinbutton "Batch size/, /^combobox "Backend/, /^button "Start"/];
    const where = main.map(at);
    expect(where, order.join('\n')).not.toContain(-1);
    expect(where, order.join('\n')).toEqual([...where].sort((x, y) => x - y));
    expect(order.filter((name) => name.startsWith('tab '))).toHaveLength(1);
  }
  // A chart's legend entries hide and show their line from the keyboard too.
  const figure = page.getByRole('figure', { name: 'Loss per epoch' });
  const shown = () => figure.evaluate((f) => (f.firstElementChild as HTMLElement & { uplot: { series: { show: boolean }[] } }).uplot.series[2]!.show);
  const entry = figure.getByRole('button', { name: 'test' });
  await expect(entry).toHaveAttribute('aria-pressed', 'true');
  await entry.focus();
  await page.keyboard.press('Enter');
  await expect(entry).toHaveAttribute('aria-pressed', 'false');
  expect(await shown()).toBe(false);
  await page.keyboard.press('Space');
  await expect(entry).toHaveAttribute('aria-pressed', 'true');
  expect(await shown()).toBe(true);
  // Arrow keys move between the views' tabs and show each.
  await page.getByRole('tab', { name: 'Train' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Draw' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Draw' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: 'Runs' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Train' })).toHaveAttribute('aria-selected', 'true');
});

test('axe finds no serious or critical violation on any view or dialog, in the light and the dark theme', async ({ app: { page } }) => {
  test.setTimeout(240_000);
  // The Files view with a classified image, and one more run to compare in the Runs view.
  const digit = readIdxDataset().test.images.subarray(0, 784);
  const png = [...(await styledPng(digit, 'plain', 0))];
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], 'digit.png', { type: 'image/png' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, png);
  await expect(page.getByRole('list', { name: 'Results' }).getByRole('listitem')).toHaveCount(1);
  await saveAs(page, 'accessible');

  const found: string[] = [];
  for (const colorScheme of THEMES) {
    await page.emulateMedia({ colorScheme });
    const check = async (where: string) => found.push(...(await violations(page, `${where} (${colorScheme})`)));
    await page.getByRole('tab', { name: 'Train' }).click();
    await expect(page.locator('#epoch-table tbody tr').first()).not.toContainText('No epochs');
    await check('Train');
    // The charts follow the theme: each legend marker has its line's colour (as the canvas draws it, resolved now).
    for (const title of ['Loss per epoch', 'Training loss per step']) {
      const colours = await page.getByRole('figure', { name: title }).evaluate((figure) => {
        const u = (figure.firstElementChild as HTMLElement & { uplot: { series: { stroke: () => string }[] } }).uplot;
        const css = (c: string) => ((figure as HTMLElement).style.color = c) && getComputedStyle(figure).color;
        const markers = [...figure.querySelectorAll<HTMLElement>('.u-legend .u-marker')].map((m) => getComputedStyle(m).borderTopColor);
        const lines = u.series.slice(1).map((s) => css(s.stroke()));
        (figure as HTMLElement).style.color = '';
        return { markers, lines };
      });
      expect(colours.markers, `${title} (${colorScheme})`).toEqual(colours.lines);
    }
    await page.screenshot({ path: `test-results/train-${colorScheme}.png`, fullPage: true });
    // The question before a run replaces an unsaved model is a dialog of its own: none here (saved), so the
    // Models view's Save dialog and the Runs view's card stand for the dialogs.
    await page.getByRole('tab', { name: 'Draw' }).click();
    await drawOne(page);
    await check('Draw');
    await page.screenshot({ path: `test-results/draw-${colorScheme}.png`, fullPage: true });
    await page.getByRole('tab', { name: 'Files' }).click();
    await check('Files');
    await page.getByRole('tab', { name: 'Test images' }).click();
    await expect(page.getByTestId('gallery-accuracy')).toContainText('right');
    await check('Test images');
    await page.getByRole('tab', { name: 'Models' }).click();
    await check('Models');
    await page.getByRole('button', { name: 'Save model…' }).click();
    await expect(page.getByRole('dialog', { name: 'Save model' })).toBeVisible();
    await check('Save dialog');
    await page.getByRole('dialog', { name: 'Save model' }).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('tab', { name: 'Runs' }).click();
    const runs = page.getByRole('table', { name: 'Runs' });
    await expect(runs.locator('tbody tr').nth(1)).toBeVisible();
    for (const row of [0, 1]) await runs.locator('tbody tr').nth(row).getByRole('checkbox').check();
    await runs.locator('tbody tr').first().getByRole('button').first().click();
    await expect(page.getByRole('region', { name: 'Reproducibility card' })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Recipes side by side' })).toBeVisible();
    for (const title of ['Per-step training loss, by run', 'Per-epoch loss, by run', 'Per-epoch accuracy, by run'])
      await expect(page.getByRole('figure', { name: title })).toHaveAccessibleDescription(/in the Runs table above/);
    await check('Runs, two compared and a card');
    await page.getByRole('region', { name: 'Reproducibility card' }).getByRole('button', { name: 'Delete…' }).click();
    await expect(page.getByRole('alertdialog', { name: 'Delete this run?' })).toBeVisible();
    await check('Delete dialog');
    await page.getByRole('alertdialog', { name: 'Delete this run?' }).getByRole('button', { name: 'Cancel' }).click();
    for (const row of [0, 1]) await runs.locator('tbody tr').nth(row).getByRole('checkbox').uncheck();
  }
  expect(found).toEqual([]);
});
