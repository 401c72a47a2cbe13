// The shared preprocessing on real digits drawn in the ways people hand them over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preprocess, reframe, workingImage, type RgbaImage } from '@shared/preprocess';
import { checkImage } from '@shared/imageCheck';
import { STYLES, styledDigit, styledImage, styledPng } from '../support/digitStyles';
import { mnist } from '../support/helpers';

function correlation(a: Float32Array, b: Float32Array): number {
  const mean = (v: Float32Array): number => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(a),
    mb = mean(b);
  let num = 0,
    da = 0,
    db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

const digit = (i: number): Uint8Array => mnist().test.images.subarray(i * 784, (i + 1) * 784);

test('every style of the same real digit preprocesses to nearly the same 28x28 input', () => {
  for (const style of STYLES) {
    const r: number[] = [];
    for (let i = 0; i < 60; i++) {
      const got = reframe(styledDigit(digit(i), style, i));
      assert.equal(got.empty, false);
      // Against the plain digit framed the same way (as it is, it would pass through untouched).
      r.push(correlation(got.pixels, reframe(styledDigit(digit(i), 'plain')).pixels));
    }
    r.sort((a, b) => a - b);
    // Upscaling softens edges, so a digit's box can land a pixel off; most still match closely.
    assert.ok(r[30]! > 0.95, `${style}: median r=${r[30]}`);
    assert.ok(r[6]! > 0.75, `${style}: 10th percentile r=${r[6]}`);
  }
});

test('the output looks like MNIST: ink fits 20x20, centre of mass at the centre, values in [0, 1] reaching 1', () => {
  for (const style of STYLES) {
    const { pixels } = preprocess(styledDigit(digit(7), style, 2));
    let mass = 0,
      mx = 0,
      my = 0,
      x0 = 28,
      x1 = -1,
      y0 = 28,
      y1 = -1;
    pixels.forEach((v, i) => {
      const x = i % 28,
        y = Math.floor(i / 28);
      mass += v;
      mx += v * x;
      my += v * y;
      if (v > 0.05) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    });
    assert.ok(Math.abs(mx / mass - 13.5) <= 1 && Math.abs(my / mass - 13.5) <= 1, `${style}: centre (${mx / mass}, ${my / mass})`);
    assert.ok(x1 - x0 + 1 <= 21 && y1 - y0 + 1 <= 21, `${style}: box ${x1 - x0 + 1}x${y1 - y0 + 1}`);
    assert.equal(Math.max(...pixels), 1);
    assert.ok(pixels.every((v) => v >= 0 && v <= 1));
  }
});

test('colour, blank, tiny and transparent-white images are handled', () => {
  // Blue ink on yellow paper.
  const base = styledDigit(digit(1), 'page', 0);
  const coloured: RgbaImage = { ...base, data: base.data.map((v, i) => (i % 4 === 0 ? v : i % 4 === 1 ? v : i % 4 === 2 ? 255 - (255 - v) / 3 : 255)) };
  assert.ok(correlation(preprocess(coloured).pixels, reframe(styledDigit(digit(1), 'plain')).pixels) > 0.85);
  // White strokes on a transparent canvas.
  const canvas = styledDigit(digit(2), 'canvas');
  const white: RgbaImage = { ...canvas, data: canvas.data.map((v, i) => (i % 4 === 3 ? v : 255)) };
  assert.ok(correlation(preprocess(white).pixels, preprocess(canvas).pixels) > 0.99);
  assert.equal(preprocess({ width: 300, height: 200, data: new Uint8Array(300 * 200 * 4).fill(255) }).empty, true);
  assert.equal(preprocess({ width: 1, height: 1, data: new Uint8Array([0, 0, 0, 255]) }).empty, true);
  const dot = preprocess({ width: 3, height: 3, data: Uint8Array.from({ length: 36 }, (_, i) => (Math.floor(i / 4) === 4 ? 255 : i % 4 === 3 ? 255 : 0)) });
  assert.equal(dot.empty, false);
});

test('files are checked from their bytes before decoding: format and declared size, whatever the name', async () => {
  const png = await styledPng(digit(0), 'plain');
  assert.deepEqual(checkImage('seven.png', png), { ok: true, width: 28, height: 28, format: 'png' });
  // Decoders go by content: a misnamed image is accepted, with a note.
  assert.deepEqual(checkImage('seven.jpg', png), { ok: true, width: 28, height: 28, format: 'png', note: 'a PNG named .jpg' });
  const jpeg = await styledImage(digit(1), 'plain', 'jpeg');
  assert.equal((checkImage('photo.PNG', jpeg) as { note?: string }).note, 'a JPEG named .png');
  assert.equal((checkImage('photo.JPEG', jpeg) as { note?: string }).note, undefined);
  assert.equal((checkImage('scan', png) as { note?: string }).note, 'a PNG with no extension');
  assert.equal((checkImage(`x.${'a'.repeat(5000)}`, png) as { note?: string }).note, 'a PNG with an unusual extension');
  assert.match((checkImage('notes.png', Buffer.from('hello')) as { reason: string }).reason, /not an image/);
  assert.match((checkImage('notes.txt', Buffer.from('hello')) as { reason: string }).reason, /not an image/);
  assert.match((checkImage('empty.png', new Uint8Array(0)) as { reason: string }).reason, /empty/);
  // A 40-byte PNG header that declares 100,000 x 100,000 pixels: refused without decoding.
  const bomb = Buffer.from(png);
  bomb.writeUInt32BE(100000, 16);
  bomb.writeUInt32BE(100000, 20);
  assert.match((checkImage('bomb.png', bomb) as { reason: string }).reason, /declares 100000x100000 pixels/);
  assert.match((checkImage('big.png', new Uint8Array(21 * 1024 * 1024)) as { reason: string }).reason, /larger than 20 MB/);
});

test('an image already in MNIST form passes through untouched; anything else is framed anew', () => {
  let untouched = 0;
  for (let i = 0; i < 10000; i++) {
    const got = preprocess(styledDigit(digit(i), 'plain'));
    if (got.untouched && Buffer.compare(Buffer.from(got.bytes), Buffer.from(digit(i))) === 0) untouched++;
  }
  assert.equal(untouched, 10000, 'every MNIST test digit, as a 28x28 grey image, comes back byte for byte');
  const plain = styledDigit(digit(3), 'plain');
  const inverted = { ...plain, data: plain.data.map((v, i) => (i % 4 === 3 ? v : 255 - v)) };
  const shifted = { ...plain, data: new Uint8Array(plain.data.length) };
  shifted.data.set(plain.data.subarray(0, plain.data.length - 6 * 28 * 4), 6 * 28 * 4); // six rows down
  const tinted = { ...plain, data: plain.data.map((v, i) => (i % 4 === 2 ? Math.min(255, v + 1) : v)) };
  for (const [what, image] of [
    ['dark ink on light', inverted],
    ['off centre', shifted],
    ['not grey', tinted],
  ] as const) {
    const got = preprocess(image);
    assert.equal(got.untouched, false, what);
    assert.equal(got.empty, false, what);
  }
});

test('the working image: premultiplied by alpha, and shrunk by whole blocks with partial edge blocks averaged by their size', () => {
  const image: RgbaImage = { width: 5, height: 3, data: Uint8Array.from({ length: 60 }, (_, i) => (i % 4 === 3 ? 255 : Math.floor(i / 4) * 10)) };
  const small = workingImage(image, 2);
  assert.deepEqual([small.width, small.height], [2, 1]);
  // Blocks of 3x3 and 2x3: pixel values 0,10,20 / 50,60,70 / 100,110,120 average 60; 30,40 / 80,90 / 130,140 average 85.
  assert.deepEqual([...small.data], [60, 60, 60, 255, 85, 85, 85, 255]);
  assert.deepEqual(workingImage(image, 5), { ...image, data: Uint8Array.from(image.data) });
  // Premultiplied as Skia does (c·a/255 rounded); a transparent pixel's colour is gone.
  assert.deepEqual(
    [...workingImage({ width: 2, height: 1, data: Uint8Array.from([200, 100, 255, 128, 255, 255, 255, 0]) }).data],
    [100, 50, 128, 128, 0, 0, 0, 0],
  );
});
