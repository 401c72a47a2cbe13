// Named to run last: the specs share one app, and the Draw view's no-model check (predictions.spec) must run
// before any spec leaves a model in hand.
// An IDX folder whose labels leave most classes empty, opened by its path and trained on. Your own images end
// to end: a folder of three classes (with a damaged file and nested junk) dropped on
// the Dataset card, a few training steps, and class names in the gallery and the confusion matrix.
import { appGuards, expect, test } from './fixtures';
import { setRecipe, startRun } from './studio';
import { drawingsFolder } from '../test/support/imageFolders';
import { mnist, writeLabelled } from '../test/support/helpers';

appGuards();
test.describe.configure({ mode: 'serial' });

test('an IDX folder labelled 3 and 200 lists its two classes, counts the 199 empty ones, and its model keeps the note', async ({ app: { page } }) => {
  const card = page.getByTestId('dataset-card');
  await card.getByLabel('Dataset folder path').fill(writeLabelled(new Array(32).fill(3), new Array(8).fill(200)));
  await card.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(card.getByTestId('dataset-source')).toContainText('201 classes', { timeout: 60_000 });
  const classes = card.getByRole('table', { name: 'Images per class' });
  await expect(classes.getByRole('rowheader')).toHaveText(['3', '200']);
  await expect(classes.getByTestId('unlisted-classes')).toHaveText('and 199 classes with no images');
  await expect(card.getByText(/name the classes in classes\.txt/)).toHaveCount(1);
  await setRecipe(page, '1', '', '', '4');
  await startRun(page);
  await expect(page.locator('.phase')).toHaveText('Finished', { timeout: 90_000 });
  await expect(page.getByLabel('Model in hand').getByRole('note')).toHaveText([
    'no training images for "0", "1", "2", "4", "5" and 195 more: the model cannot learn those classes',
    'no test images for "0", "1", "2", "3", "4" and 195 more: the test accuracy does not cover those classes',
  ]);
  await card.getByRole('button', { name: 'Use bundled MNIST' }).click();
  await expect(card.getByTestId('dataset-source')).toContainText('bundled MNIST');
});

test('a dropped folder trains, and the gallery and confusion matrix speak in its class names', async ({ app: { page } }) => {
  const root = await drawingsFolder(12, false);
  const card = page.getByTestId('dataset-card');
  await expect(card).toContainText('60,000');
  await expect(card.getByRole('table', { name: 'Images per class' })).toBeVisible();
  // A real drag of a real folder, as the OS would deliver it (Chromium's DevTools protocol), onto the
  // card's heading: a point that stays on the card while its thumbnails load.
  const box = (await card.getByRole('heading', { name: 'Dataset' }).boundingBox())!;
  const cdp = await page.context().newCDPSession(page);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
    await cdp.send('Input.dispatchDragEvent', { type, ...at, data: { items: [], files: [root], dragOperationsMask: 1 } });
  }
  await expect(card.getByTestId('dataset-source')).toContainText('3 classes', { timeout: 60_000 });
  const classes = card.getByRole('table', { name: 'Images per class' });
  for (const name of ['bar', 'circle', 'square']) await expect(classes.getByRole('rowheader', { name })).toBeVisible();
  await card.getByText(/files? refused/).click();
  await expect(card.getByRole('list', { name: 'Refused files' })).toContainText('square/broken.png: not an image');
  await expect(card.getByRole('list', { name: 'Refused files' })).toContainText('bar/nested/notes.txt');

  await setRecipe(page, '3', '', '', '4');
  await startRun(page);
  await expect(page.locator('.phase')).toHaveText('Finished', { timeout: 90_000 });
  await expect(page.getByTestId('model-classes')).toContainText('3 classes: bar, circle, square');

  await page.getByRole('tab', { name: 'Test images' }).click();
  const labels = page.getByTestId('gallery-label');
  await expect(labels.first()).toHaveText(/^(bar|circle|square)( \(true (bar|circle|square)\))?$/);
  const matrix = page.getByRole('table', { name: /Confusion matrix/ });
  for (const name of ['bar', 'circle', 'square']) await expect(matrix.getByRole('columnheader', { name })).toBeVisible();
  await expect(matrix.getByRole('button', { name: /^true circle, predicted / })).toHaveCount(3);

  // One click back to the bundled MNIST.
  await page.getByRole('tab', { name: 'Train' }).click();
  await card.getByRole('button', { name: 'Use bundled MNIST' }).click();
  await expect(card.getByTestId('dataset-source')).toContainText('bundled MNIST');
  await expect(card).toContainText('60,000');
  // The strips' canvases are reused across datasets: the first one of class 0 now shows MNIST's first 0.
  const d = mnist();
  const zero = d.train.labels.indexOf(0);
  const firstImage = () =>
    classes
      .locator('tbody tr')
      .first()
      .locator('canvas')
      .first()
      .evaluate((c: HTMLCanvasElement) =>
        Array.from(
          c
            .getContext('2d')!
            .getImageData(0, 0, c.width, c.height)
            .data.filter((_, i) => i % 4 === 0),
        ),
      );
  const firstZero = Array.from(d.train.images.subarray(zero * 784, (zero + 1) * 784));
  await expect.poll(() => firstImage()).toEqual(firstZero);
  // And the same folder opened again by its path: the first strip repaints with one of its own images.
  await card.getByLabel('Dataset folder path').fill(root);
  await card.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(card.getByTestId('dataset-source')).toContainText('3 classes');
  await expect.poll(() => firstImage()).not.toEqual(firstZero);
  await card.getByRole('button', { name: 'Use bundled MNIST' }).click();
  await expect(card.getByTestId('dataset-source')).toContainText('bundled MNIST');
  // The spec files share one app, whose model in hand outlives a page reload: leave an MNIST one, as the others expect.
  await setRecipe(page, '1', '320', '100', '32');
  await startRun(page);
  await expect(page.getByTestId('model-classes')).toContainText('10 classes', { timeout: 60_000 });
  await expect(page.locator('.phase')).toHaveText('Finished', { timeout: 60_000 });
  await expect(page.getByRole('table', { name: 'Model' })).toContainText('824,458');
  // The gallery never shows the folder model's predictions for the new model, not even while it scores.
  await page.getByRole('tab', { name: 'Test images' }).click();
  expect(await page.getByRole('tabpanel', { name: 'Test images' }).textContent()).not.toMatch(/of \d+ right/);
  await expect(page.getByTestId('gallery-accuracy')).toContainText('of 10,000 right');
});
