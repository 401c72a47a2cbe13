// Augmentation on real MNIST images: the same (seed, epoch, step) always gives the same bytes and another
// gives others, every draw stays inside its strength's ranges, and what the ranges promise of the images
// holds (a shift moves the ink's centre of mass by the shift, a dilation adds ink, a mirror mirrors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Augmenter, STRONG, drawAugment, imageSeed, type AugmentDraw } from '@core/trainer/augment';
import { Rng } from '@core/model/rng';
import { SEED_RECIPE, TrainConfigSchema, augments } from '@shared/training';
import { mnist } from '../support/helpers';

const PX = 784;
const drawing = { mode: 'drawing' as const };
const photo = { mode: 'photo' as const };
const batchOf = (n: number, from = 0) => Int32Array.from({ length: n }, (_, i) => from + i);
const NONE: AugmentDraw = { dx: 0, dy: 0, rotation: 0, scale: 1, shear: 0, thickness: 0, mirror: false, brightness: 1, contrast: 1 };

function centreOfMass(image: Uint8Array, w = 28): [number, number] {
  let [sum, sx, sy] = [0, 0, 0];
  for (let i = 0; i < image.length; i++) [sum, sx, sy] = [sum + image[i]!, sx + (i % w) * image[i]!, sy + Math.floor(i / w) * image[i]!];
  return [sx / sum, sy / sum];
}

const ink = (image: Uint8Array): number => image.reduce((a, v) => a + v, 0);

test('the same seed, epoch and step give the same batch, byte for byte; another seed, epoch or step another', () => {
  const d = mnist();
  const indices = batchOf(32, 100);
  const make = (key: { seed: number; epoch: number; step: number }) =>
    new Augmenter(d.spec, { strength: 'strong' }).batch(d.train.images, indices, key, new Uint8Array(32 * PX));
  const first = make({ seed: 7, epoch: 2, step: 5 });
  assert.deepEqual(make({ seed: 7, epoch: 2, step: 5 }), first);
  for (const other of [
    { seed: 8, epoch: 2, step: 5 },
    { seed: 7, epoch: 3, step: 5 },
    { seed: 7, epoch: 2, step: 6 },
  ])
    assert.notDeepEqual(make(other), first, JSON.stringify(other));
  // Each image has its own draw: the same image at two places in a batch comes out differently.
  const twice = new Augmenter(d.spec, { strength: 'strong' }).batch(
    d.train.images,
    Int32Array.of(3, 3),
    { seed: 7, epoch: 2, step: 5 },
    new Uint8Array(2 * PX),
  );
  assert.notDeepEqual(twice.subarray(0, PX), twice.subarray(PX));
  assert.notEqual(imageSeed(0, 1, 0, 1), imageSeed(0, 1, 1, 0));
});

test('the default recipe does not augment, and strength none passes every image through untouched', () => {
  assert.equal(SEED_RECIPE.augment, undefined);
  assert.equal(augments(SEED_RECIPE), false);
  assert.equal(augments({ augment: 'none' }), false);
  assert.equal(augments({ augment: 'light' }), true);
  assert.deepEqual(TrainConfigSchema.parse(SEED_RECIPE), SEED_RECIPE);
  assert.equal(TrainConfigSchema.safeParse({ ...SEED_RECIPE, augment: 'heavy' }).error?.issues[0]?.message, 'one of none, light, strong');
  const d = mnist();
  const indices = batchOf(16);
  const out = new Augmenter(d.spec, { strength: 'none' }).batch(d.train.images, indices, { seed: 0, epoch: 1, step: 0 }, new Uint8Array(16 * PX));
  assert.deepEqual(out, Uint8Array.from(d.train.images.subarray(0, 16 * PX)));
});

test("every draw stays inside its strength's ranges, light within half of strong's", () => {
  for (const [strength, f] of [
    ['strong', 1],
    ['light', 0.5],
  ] as const) {
    const seen = { dx: 0, rotation: 0, scale: 0, shear: 0, dilate: 0, erode: 0 };
    for (let i = 0; i < 4000; i++) {
      const r = drawAugment(new Rng(imageSeed(1, 1, i, 0)), drawing, { strength });
      assert.ok(Math.abs(r.dx) <= STRONG.shift * f && Math.abs(r.dy) <= STRONG.shift * f, `shift ${r.dx}, ${r.dy}`);
      assert.ok(Math.abs(r.rotation) <= (STRONG.rotation * f * Math.PI) / 180, `rotation ${r.rotation}`);
      assert.ok(Math.abs(r.scale - 1) <= STRONG.scale * f, `scale ${r.scale}`);
      assert.ok(Math.abs(r.shear) <= STRONG.shear * f, `shear ${r.shear}`);
      assert.equal(r.mirror, false);
      seen.dx = Math.max(seen.dx, Math.abs(r.dx));
      seen.rotation = Math.max(seen.rotation, Math.abs(r.rotation));
      seen.scale = Math.max(seen.scale, Math.abs(r.scale - 1));
      seen.shear = Math.max(seen.shear, Math.abs(r.shear));
      seen.dilate += r.thickness === 1 ? 1 : 0;
      seen.erode += r.thickness === -1 ? 1 : 0;
    }
    // The ranges are used, not just respected: the largest draws come near each bound.
    assert.ok(seen.dx > 0.95 * STRONG.shift * f && seen.scale > 0.95 * STRONG.scale * f && seen.shear > 0.95 * STRONG.shear * f, JSON.stringify(seen));
    assert.ok(Math.abs(seen.dilate / 4000 - STRONG.thickness * f) < 0.03 && Math.abs(seen.erode / 4000 - STRONG.thickness * f) < 0.03, JSON.stringify(seen));
  }
  let mirrored = 0;
  for (let i = 0; i < 4000; i++) {
    const r = drawAugment(new Rng(imageSeed(1, 1, i, 0)), photo, { strength: 'strong', flip: i % 2 === 0 });
    // The crop keeps at least 70% of the area: its side at least sqrt(0.7) of the image's.
    assert.ok(r.scale >= 1 && 1 / r.scale ** 2 >= 1 - STRONG.cropArea - 1e-12, `crop ${r.scale}`);
    assert.ok(Math.abs(r.brightness - 1) <= STRONG.tone && Math.abs(r.contrast - 1) <= STRONG.tone);
    assert.ok(i % 2 === 0 || !r.mirror, 'no mirror unless the dataset asks for it');
    mirrored += r.mirror ? 1 : 0;
    assert.equal(r.rotation, 0);
    assert.equal(r.thickness, 0);
  }
  assert.ok(Math.abs(mirrored / 2000 - 0.5) < 0.05, `${mirrored} of 2000 mirrored`);
});

test("a shift moves the ink's centre of mass by the shift; a full strong draw moves it at most 3 px each way", () => {
  const d = mnist();
  const a = new Augmenter(d.spec, { strength: 'strong' });
  const out = new Uint8Array(PX);
  for (let i = 0; i < 200; i++) {
    const image = d.train.images.subarray(i * PX, (i + 1) * PX);
    const [x0, y0] = centreOfMass(image);
    const draw = drawAugment(new Rng(imageSeed(5, 1, 0, i)), drawing, { strength: 'strong' });
    a.apply(image, { ...NONE, dx: draw.dx, dy: draw.dy }, out);
    const [x1, y1] = centreOfMass(out);
    // Within a fraction of a pixel of the shift where no ink was pushed past the field's edge; never past 3 px.
    const what = `image ${i}: moved ${x1 - x0}, ${y1 - y0} for ${draw.dx}, ${draw.dy}`;
    if (Math.abs(ink(out) / ink(image) - 1) < 0.01) assert.ok(Math.abs(x1 - x0 - draw.dx) < 0.25 && Math.abs(y1 - y0 - draw.dy) < 0.25, what);
    assert.ok(Math.abs(x1 - x0) <= STRONG.shift + 0.01 && Math.abs(y1 - y0) <= STRONG.shift + 0.01, what);
    // MNIST centres the ink's mass in the field, so the rotation, scale and shear about the centre barely move it.
    a.apply(image, { ...draw, thickness: 0 }, out);
    const [x2, y2] = centreOfMass(out);
    assert.ok(Math.abs(x2 - x0) <= STRONG.shift + 0.5 && Math.abs(y2 - y0) <= STRONG.shift + 0.5, `image ${i}: moved ${x2 - x0}, ${y2 - y0}`);
  }
});

test('a dilation adds ink and an erosion takes some away, by at most one pixel of stroke; the affine keeps the ink', () => {
  const d = mnist();
  const a = new Augmenter(d.spec, { strength: 'strong' });
  const [thick, thin, moved] = [new Uint8Array(PX), new Uint8Array(PX), new Uint8Array(PX)];
  for (let i = 0; i < 50; i++) {
    const image = d.train.images.subarray(i * PX, (i + 1) * PX);
    a.apply(image, { ...NONE, thickness: 1 }, thick);
    a.apply(image, { ...NONE, thickness: -1 }, thin);
    assert.ok(ink(thick) > ink(image) && ink(thin) < ink(image) && ink(thin) > 0, `image ${i}`);
    // Nothing lights up further than one pixel from the ink.
    for (let p = 0; p < PX; p++) {
      if (thick[p] === 0) continue;
      const [x, y] = [p % 28, Math.floor(p / 28)];
      const near = [p, x > 0 ? p - 1 : p, x < 27 ? p + 1 : p, y > 0 ? p - 28 : p, y < 27 ? p + 28 : p].some((q) => image[q]! > 0);
      assert.ok(near, `image ${i} pixel ${p}`);
    }
    // Rotation and shear about the centre keep the ink's total within a few percent (resampling blurs a little).
    a.apply(image, { ...NONE, rotation: 0.2, shear: 0.2 }, moved);
    assert.ok(Math.abs(ink(moved) / ink(image) - 1) < 0.05, `image ${i}: ink ${ink(moved)} of ${ink(image)}`);
  }
});

test('photo mode: a mirror reverses each row, brightness scales the pixels, a crop magnifies', () => {
  const spec = { height: 8, width: 12, channels: 3 as const, mode: 'photo' as const };
  const image = Uint8Array.from({ length: 8 * 12 * 3 }, (_, i) => (i * 37) % 200);
  const a = new Augmenter(spec, { strength: 'strong', flip: true });
  const out = new Uint8Array(image.length);
  a.apply(image, { ...NONE, mirror: true }, out);
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 12; x++) for (let c = 0; c < 3; c++) assert.equal(out[(y * 12 + x) * 3 + c], image[(y * 12 + 11 - x) * 3 + c], `${x}, ${y}, ${c}`);
  a.apply(image, { ...NONE, brightness: 1.2 }, out);
  for (let i = 0; i < image.length; i++) assert.ok(Math.abs(out[i]! - image[i]! * 1.2) <= 0.5 + 1e-9 || out[i] === 255);
  // A crop to the middle 70% of the area, scaled back up: the output's corner is the crop's corner.
  const side = Math.sqrt(0.7);
  a.apply(image, { ...NONE, scale: 1 / side }, out);
  const cornerX = (11 / 2) * (1 - side),
    cornerY = (7 / 2) * (1 - side);
  assert.ok(cornerX > 0.5 && cornerY > 0.4);
  assert.notDeepEqual(out, image);
});
