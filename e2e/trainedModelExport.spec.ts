// Export… in a browser: the model in hand leaves as an ONNX download that ONNX Runtime opens and runs, with the
// input and output the docs name (test/integration/onnx.test.ts compares its logits with the app's).
import { appGuards, expect, test } from './fixtures';
import { readIdxDataset } from '@core/dataset/dataset';
import { setRecipe, startRun } from './studio';

appGuards();

test('Export… downloads the model in hand as ONNX, which ONNX Runtime opens and runs', async ({ app: { page } }, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'Electron asks where with its native save dialog, which a spec cannot answer');
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (error) {
    console.log(`skipped: onnxruntime-node cannot be loaded here (${(error as Error).message.split('\n')[0]})`);
    return test.skip(true, 'onnxruntime-node is not installed');
  }
  await setRecipe(page, '1', '320', '100', '32');
  await startRun(page);
  await expect(page.locator('.phase')).toHaveText('Finished', { timeout: 90_000 });

  await page.getByRole('tab', { name: 'Models' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export…', exact: true }).click()]);
  expect(download.suggestedFilename()).toMatch(/\.onnx$/);
  await expect(page.getByRole('status')).toContainText('Exported as ONNX');
  const file = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(file);

  const session = await ort.InferenceSession.create(file);
  expect(session.inputNames).toEqual(['image']);
  expect(session.outputNames).toEqual(['logits']);
  // Two test digits in the model's input form (NHWC float32 in [0, 1]): one row of ten logits each.
  const digits = readIdxDataset().test.images.subarray(0, 2 * 784);
  const out = await session.run({
    image: new ort.Tensor(
      'float32',
      Float32Array.from(digits, (v) => v / 255),
      [2, 28, 28, 1],
    ),
  });
  const logits = out.logits!.data as Float32Array;
  expect(out.logits!.dims).toEqual([2, 10]);
  expect(logits.every(Number.isFinite)).toBe(true);
  await session.release();
});
