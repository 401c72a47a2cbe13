// Predictions end to end: draw with the mouse, drop real files (one of them bad), browse the test set.
import { appGuards, expect, test } from './fixtures';
import { readIdxDataset } from '@core/dataset/dataset';
import { styledBmp, styledImage, styledPng, STYLES } from '../test/support/digitStyles';
import { startRun } from './studio';

appGuards();
test.describe.configure({ mode: 'serial' });

// The first spec on its worker's app (build.spec uses none): there is no model yet.
test('without a model the Draw view offers Train and Open model, and the 28x28 preview follows strokes', async ({ app: { page } }) => {
  await page.getByRole('tab', { name: 'Draw' }).click();
  const empty = page.getByRole('group', { name: 'No model yet' });
  await expect(empty).toBeVisible();
  const box = (await page.getByLabel('Drawing canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.2 + i * 0.06));
  await page.mouse.up();
  const inked = () =>
    page.getByLabel('What the model sees (28x28)').evaluate(
      (c: HTMLCanvasElement) =>
        c
          .getContext('2d')!
          .getImageData(0, 0, 28, 28)
          .data.filter((v, i) => i % 4 === 0 && v > 128).length,
    );
  await expect.poll(inked).toBeGreaterThan(20);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/draw-without-model.png', fullPage: true });
  await empty.getByRole('button', { name: 'Open model' }).click();
  await expect(page.getByRole('tab', { name: 'Models' })).toHaveAttribute('aria-selected', 'true');
  await page.getByRole('tab', { name: 'Draw' }).click();
  await empty.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByRole('tab', { name: 'Train' })).toHaveAttribute('aria-selected', 'true');
});

test('a short run gives a model to predict with', async ({ app: { page } }) => {
  await page.getByRole('spinbutton', { name: 'Epochs' }).fill('1');
  await page.getByRole('spinbutton', { name: 'Train limit' }).fill('9600');
  await page.getByRole('spinbutton', { name: 'Test limit' }).fill('');
  await startRun(page);
  await expect(page.locator('.phase')).toHaveText('Finished', { timeout: 90_000 });
});

test('drawing a digit with the mouse shows a live prediction and what the model sees', async ({ app: { page } }) => {
  await page.getByRole('tab', { name: 'Draw' }).click();
  const pad = page.getByRole('img', { name: 'Drawing canvas' }).or(page.getByLabel('Drawing canvas'));
  const box = (await pad.boundingBox())!;
  // A "1": one vertical stroke, drawn as many small mouse moves.
  await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(box.x + box.width * (0.52 - i * 0.002), box.y + box.height * (0.15 + i * 0.035));
  await page.mouse.up();
  await expect(page.getByTestId('predicted-label')).toHaveText('1');
  await expect(page.getByTestId('latency')).toHaveAttribute('data-ms', /\d/);
  await expect(page.getByRole('list', { name: 'Probabilities' }).getByRole('listitem')).toHaveCount(10);
  await page.getByRole('button', { name: 'Clear' }).click();
  await expect(page.getByTestId('predicted-label')).toHaveText('–');
});

test('dropped files are classified, and a bad one is listed with its reason', async ({ app: { page } }) => {
  const test = readIdxDataset().test;
  const files: { name: string; data: number[] }[] = [];
  for (let i = 0; i < 6; i++) {
    const png = await styledPng(test.images.subarray(i * 784, (i + 1) * 784), STYLES[i % STYLES.length]!, i);
    files.push({ name: `digit-${i}-label-${test.labels[i]}.png`, data: [...png] });
  }
  files.push({ name: `digit-6-label-${test.labels[6]}.bmp`, data: [...styledBmp(test.images.subarray(6 * 784, 7 * 784), 'page', 6)] });
  const formats = [
    ['jpg', 'jpeg'],
    ['webp', 'webp'],
    ['gif', 'gif'],
  ] as const;
  for (const [k, [extension, format]] of formats.entries()) {
    const i = 7 + k;
    files.push({
      name: `digit-${i}-label-${test.labels[i]}.${extension}`,
      data: [...(await styledImage(test.images.subarray(i * 784, (i + 1) * 784), 'page', format, i))],
    });
  }
  files.push({ name: 'notes.png', data: [...Buffer.from('these are not pixels')] });
  // A decompression bomb: a tiny PNG whose header declares 100,000 x 100,000 pixels.
  const bomb = Buffer.from(files[0]!.data);
  bomb.writeUInt32BE(100000, 16);
  bomb.writeUInt32BE(100000, 20);
  files.push({ name: 'bomb.png', data: [...bomb] });
  // Misnamed images are read by their contents, with a note.
  files.push({ name: 'photo.jpg', data: files[0]!.data });
  files.push({ name: 'scan.png', data: files[7]!.data });
  await page.evaluate((list) => {
    const transfer = new DataTransfer();
    for (const f of list) transfer.items.add(new File([new Uint8Array(f.data)], f.name, { type: 'image/png' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, files);
  await expect(page.getByRole('tab', { name: 'Files' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('drop-progress')).toHaveText('14 of 14 processed · 12 classified · 2 refused');
  const results = page.getByRole('list', { name: 'Results' }).getByRole('listitem');
  await expect(results).toHaveCount(14);
  await expect(results.filter({ hasText: 'bomb.png' })).toContainText('declares 100000x100000 pixels');
  await expect(results.filter({ hasText: 'photo.jpg' }).getByRole('note')).toHaveText('a PNG named .jpg');
  await expect(results.filter({ hasText: 'photo.jpg' }).getByLabel(/^predicted \d$/)).toHaveText(String(test.labels[0]));
  await expect(results.filter({ hasText: 'scan.png' }).getByRole('note')).toHaveText('a JPEG named .png');
  await expect(results.filter({ hasText: 'digit-0-' }).getByRole('note')).toHaveCount(0);
  await expect(results.filter({ hasText: 'notes.png' })).toContainText('not an image');
  let right = 0;
  for (let i = 0; i < 10; i++) {
    const label = await results
      .filter({ hasText: `digit-${i}-` })
      .getByLabel(/^predicted \d$/)
      .textContent();
    if (Number(label) === test.labels[i]) right++;
  }
  expect(right).toBeGreaterThanOrEqual(9);
  await page.screenshot({ path: 'test-results/files-view.png', fullPage: true });
});

test('the test gallery pages through predictions, filters mistakes, and opens confusion cells', async ({ app: { page } }) => {
  await page.getByRole('tab', { name: 'Test images' }).click();
  await expect(page.getByTestId('gallery-accuracy')).toContainText('of 10,000 right');
  const grid = page.getByRole('list', { name: 'Test image grid' }).getByRole('listitem');
  await expect(grid).toHaveCount(25);
  await page.getByRole('button', { name: /^Wrong only/ }).click();
  await expect(grid.first()).toContainText('(true ');
  expect(await grid.evaluateAll((items) => items.every((li) => li.classList.contains('wrong')))).toBe(true);
  const matrix = page.getByRole('table', { name: /Confusion matrix/ });
  await expect(matrix.getByRole('row')).toHaveCount(11);
  await expect(matrix.getByTestId('class-accuracy')).toHaveCount(10);
  // The busiest off-diagonal cell: clicking it shows exactly its images.
  const cells = await matrix
    .getByRole('button')
    .evaluateAll((buttons) => buttons.map((b) => ({ name: b.getAttribute('aria-label')!, count: Number(b.textContent) })));
  const worst = cells.filter((c) => !/true (\d), predicted \1:/.test(c.name)).sort((a, b) => b.count - a.count)[0]!;
  const [, actual, guess] = worst.name.match(/true (\d), predicted (\d)/)!;
  await matrix.getByRole('button', { name: worst.name }).click();
  await expect(page.getByText(`Showing true ${actual}, predicted ${guess}: ${worst.count}`)).toBeVisible();
  await expect(grid).toHaveCount(Math.min(25, worst.count));
  await expect(grid.first()).toContainText(`${guess} (true ${actual})`);
  await expect(matrix.getByRole('button', { name: worst.name })).toHaveAttribute('aria-pressed', 'true');
  await expect(matrix.locator('td.picked')).toHaveCount(1);
  // Captions such as "6 (true 5)" stay on one line under their thumbnails, down to a 1024 px window.
  await page.getByLabel('Per page').selectOption('100');
  await page.getByRole('button', { name: /^Wrong only/ }).click();
  for (const width of [1280, 1024]) {
    await page.setViewportSize({ width, height: 768 });
    // An inline caption's box spans all its lines: one line is about 1.2 font sizes tall, two 2.4. Read once
    // the grid has settled (a caption being replaced has no size): NaN until then, so the poll waits.
    const tallest = async (): Promise<number> => {
      const heights = await grid
        .locator('span')
        .evaluateAll((spans) => spans.map((span) => span.getBoundingClientRect().height / parseFloat(getComputedStyle(span).fontSize)));
      return heights.length > 1 && heights.every(Number.isFinite) ? Math.max(...heights) : NaN;
    };
    await expect.poll(tallest, { message: `captions on one line at ${width}px` }).toBeLessThan(1.8);
  }
  await page.setViewportSize({ width: 1280, height: 1000 });
  await page.getByLabel('Per page').selectOption('25');
  await matrix.getByRole('button', { name: worst.name }).click();
  await expect(matrix.locator('td.picked')).toHaveCount(1);
  await page.screenshot({ path: 'test-results/gallery-view.png', fullPage: true });
  await page.getByRole('button', { name: 'Show all test images' }).click();
  await expect(page.getByText('Showing all test images: 10,000')).toBeVisible();
  await expect(matrix.locator('td.picked')).toHaveCount(0);
  // A second click on the highlighted cell goes back too.
  await matrix.getByRole('button', { name: worst.name }).click();
  await expect(matrix.locator('td.picked')).toHaveCount(1);
  await matrix.getByRole('button', { name: worst.name }).click();
  await expect(page.getByText('Showing all test images: 10,000')).toBeVisible();
  await expect(matrix.locator('td.picked')).toHaveCount(0);
});
