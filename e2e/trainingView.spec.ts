// The training view's layout after real runs, at 1280x900 and 1024x768: the epoch charts draw a point for
// every epoch (one epoch is one point, which a line alone never shows), their x axis starts at 1 with
// whole-number ticks, and no progress figure wraps. In the 1-epoch run 1,875 steps per epoch, as in the
// full recipe, come from 7,500 images at batch 4, so the widest figure ("Step 1,875 / 1,875") is the real one.
import { appGuards, expect, test } from './fixtures';
import type { Page } from '@playwright/test';
import { field as formField, saveAs, startRun } from './studio';

appGuards();
test.describe.configure({ mode: 'serial' });

const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 1024, height: 768 },
];
const EPOCH_CHARTS = ['Loss per epoch', 'Accuracy per epoch'];
/** A drawn point (a 7px dot, about 38 pixels at device pixel ratio 1) puts more than this many pixels of
 * its colour in the 9x9 box around it; a 1.5px line crossing the box alone puts fewer. */
const DOT_PIXELS = 20;

async function train(page: Page, epochs: number, batchSize: number, trainLimit: number): Promise<void> {
  const field = (name: string) => formField(page, name);
  await page.getByRole('tab', { name: 'Train' }).click();
  await field('Epochs').fill(String(epochs));
  await field('Batch size').fill(String(batchSize));
  await field('Train limit').fill(String(trainLimit));
  await field('Test limit').fill('500');
  await startRun(page);
  await expect(page.locator('.phase')).toHaveText('Finished', { timeout: 150_000 });
  await field('Batch size').fill('32');
}

interface ChartReading {
  /** Points per series, from the chart's own data. */
  lengths: number[];
  xMin: number;
  xMax: number;
  /** The x axis's tick values. */
  ticks: number[];
  /** Per series and point: where it belongs on the canvas, and the pixels of the series' colour in a small
   * box around that place. */
  points: { x: number; y: number; inked: number }[][];
}

/** Reads an epoch chart back from its uPlot instance and its canvas pixels. */
function readChart(page: Page, title: string): Promise<ChartReading> {
  return page.getByRole('figure', { name: title }).evaluate((figure) => {
    type Chart = {
      data: (number | null)[][];
      series: { stroke: () => string }[];
      scales: { x: { min: number; max: number } };
      axes: { _splits?: number[] }[];
      ctx: CanvasRenderingContext2D;
      valToPos(v: number, scale: string, canvasPixels: boolean): number;
    };
    const u = (figure.firstElementChild as HTMLElement & { uplot: Chart }).uplot;
    const rgb = (css: string): number[] => {
      const probe = document.createElement('canvas').getContext('2d')!;
      probe.fillStyle = css;
      const hex = probe.fillStyle as string; // normalised to #rrggbb for opaque colours
      return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    };
    const R = Math.round(4 * devicePixelRatio);
    const points = u.data.slice(1).map((ys, k) => {
      const colour = rgb(u.series[k + 1]!.stroke());
      return ys.map((y, i) => {
        const cx = Math.round(u.valToPos(u.data[0]![i]!, 'x', true)),
          cy = Math.round(u.valToPos(y!, 'y', true));
        const box = u.ctx.getImageData(cx - R, cy - R, 2 * R + 1, 2 * R + 1).data;
        let n = 0;
        for (let p = 0; p < box.length; p += 4) {
          const d = Math.abs(box[p]! - colour[0]!) + Math.abs(box[p + 1]! - colour[1]!) + Math.abs(box[p + 2]! - colour[2]!);
          if (d < 60 && box[p + 3]! > 200) n++;
        }
        return { x: cx / devicePixelRatio, y: cy / devicePixelRatio, inked: n };
      });
    });
    return { lengths: u.data.slice(1).map((s) => s.length), xMin: u.scales.x.min, xMax: u.scales.x.max, ticks: u.axes[0]!._splits ?? [], points };
  });
}

/** Every point is drawn, or lies under another series' drawn point (train and test can coincide). */
function expectPoints(chart: ChartReading, where: string): void {
  const drawn = (p: { inked: number }): boolean => p.inked > DOT_PIXELS;
  chart.points.forEach((series, k) =>
    series.forEach((p, i) => {
      const under = chart.points.some((other, m) => m !== k && drawn(other[i]!) && Math.hypot(other[i]!.x - p.x, other[i]!.y - p.y) < 7);
      expect(drawn(p) || under, `${where}: series ${k + 1}, epoch ${i + 1} has a visible point (${p.inked} pixels of its colour)`).toBe(true);
    }),
  );
}

/** How many lines each progress figure takes: its text's line boxes, counted by their distinct tops. */
function progressLines(page: Page): Promise<Record<string, number>> {
  return page.locator('.stats > div').evaluateAll((items) =>
    Object.fromEntries(
      items.map((item) => {
        const range = document.createRange();
        range.selectNodeContents(item.querySelector('dd')!);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        return [`${item.querySelector('dt')!.textContent}: ${item.querySelector('dd')!.textContent}`, tops.size];
      }),
    ),
  );
}

async function checkView(page: Page, epochs: number, name: string): Promise<void> {
  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    for (const title of EPOCH_CHARTS) {
      await expect.poll(async () => (await readChart(page, title)).lengths, { message: `${title}: one point per epoch` }).toEqual([epochs, epochs]);
      const chart = await readChart(page, title);
      expectPoints(chart, `${title} at ${viewport.width}px`);
      expect(chart.xMin, `${title}: the epoch axis starts at 1`).toBeGreaterThanOrEqual(epochs === 1 ? 0.5 : 1);
      expect(chart.ticks.length, `${title}: ticks drawn`).toBeGreaterThan(0);
      for (const t of chart.ticks) expect(Number.isInteger(t) && t >= 1 && t <= epochs, `${title}: tick ${t} is an epoch`).toBe(true);
    }
    const lines = await progressLines(page);
    expect(Object.keys(lines)).toHaveLength(6);
    for (const [figure, count] of Object.entries(lines)) expect(count, `${figure} at ${viewport.width}px`).toBe(1);
    await page.screenshot({ path: `test-results/training-view-${name}-${viewport.width}x${viewport.height}.png`, fullPage: true });
    // The README's picture of the training view.
    if (epochs === 3 && viewport.width === 1280) await page.screenshot({ path: 'docs/training-view.png', fullPage: true });
  }
}

test('after a 1-epoch run the epoch charts show their one point and the figures stay on one line', async ({ app: { page } }) => {
  test.setTimeout(240_000);
  await train(page, 1, 4, 7500);
  await expect(page.getByTestId('step')).toHaveText('1,875 / 1,875');
  await checkView(page, 1, '1-epoch');
  await saveAs(page, 'one epoch');
});

test('after a 3-epoch run the epoch charts show three points each', async ({ app: { page } }) => {
  await train(page, 3, 32, 3200);
  await page.locator('#hyper-title').click(); // no focus ring on a field in the README's picture
  await checkView(page, 3, '3-epoch');
});

test('an opened model with one epoch of history shows its point', async ({ app: { page } }) => {
  await page.getByRole('tab', { name: 'Models' }).click();
  await page.getByRole('list', { name: 'Recent models' }).getByRole('button').first().click();
  // The 3-epoch model in hand was not saved: opening another asks first.
  await page.getByRole('alertdialog', { name: 'Replace the unsaved model?' }).getByRole('button', { name: 'Replace it' }).click();
  await expect(page.getByRole('status')).toContainText('Opened');
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.setViewportSize(VIEWPORTS[0]!);
  for (const title of EPOCH_CHARTS) {
    await expect.poll(async () => (await readChart(page, title)).lengths, { message: `${title}: the opened model's one epoch` }).toEqual([1, 1]);
    expectPoints(await readChart(page, title), title);
  }
});
