import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdxDataset, IDX_FILES, labelCounts } from '@core/dataset/dataset';
import { DataError, parseImages, parseLabels } from '@core/dataset/idx';
import { idxImages, idxLabels, mnist, writeLabelled, writeSlice } from '../support/helpers';

test('the bundled MNIST has 60,000 + 10,000 real images with the known label counts', () => {
  const d = mnist();
  assert.equal(d.train.count, 60000);
  assert.equal(d.test.count, 10000);
  assert.equal(d.train.images.length, 60000 * 784);
  assert.deepEqual(labelCounts(d.test, 10), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(d.train.labels[0], 5); // the famous first training digit
  assert.equal(d.test.labels[0], 7);
});

test('a folder of raw IDX files and one of .gz files load the same real slice', () => {
  const raw = readIdxDataset(writeSlice(300, 100));
  const gz = readIdxDataset(writeSlice(300, 100, { gzip: true }));
  assert.equal(raw.train.count, 300);
  assert.equal(raw.test.count, 100);
  assert.deepEqual(gz.train.images, raw.train.images);
  assert.deepEqual(gz.test.labels, raw.test.labels);
  assert.deepEqual(raw.train.images, mnist().train.images.subarray(0, 300 * 784));
});

const images = () => mnist().test.images.subarray(0, 3 * 784);
const labels = () => mnist().test.labels.subarray(0, 3);

const malformed: [string, () => unknown, RegExp][] = [
  ['an images file with a labels magic', () => parseImages(idxImages(images(), 3, 28, 28, 0x801), 'f'), /bad magic number 0x00000801, expected 0x00000803/],
  ['a labels file with an images magic', () => parseLabels(idxLabels(labels(), 3, 0x803), 'f'), /bad magic number/],
  ['a file shorter than its header', () => parseImages(new Uint8Array(10), 'f'), /too short for an IDX image header/],
  [
    'a header claiming more images than the file holds',
    () => parseImages(idxImages(images(), 4), 'f'),
    /header says 4x28x28 = 3136 bytes of data but the file has 2352/,
  ],
  ['a header claiming billions of images', () => parseImages(idxImages(images(), 0xffffffff), 'f'), /but the file has 2352/],
  ['trailing bytes', () => parseImages(new Uint8Array([...idxImages(images(), 3), 0]), 'f'), /but the file has 2353/],
  [
    'images whose sides the network cannot take',
    () => parseImages(idxImages(images(), 3, 56, 14), 'f'),
    /images are 56x14; the network takes sides that are multiples of 4, up to 64/,
  ],
  ['images larger than 64x64', () => parseImages(idxImages(new Uint8Array(68 * 4), 1, 68, 4), 'f'), /images are 68x4/],
  ['no images', () => parseImages(idxImages(new Uint8Array(0), 0), 'f'), /holds no images/],
  ['truncated labels', () => parseLabels(idxLabels(labels(), 5), 'f'), /header says 5 = 5 bytes of data but the file has 3/],
  ['a broken gzip stream', () => parseImages(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 'f'), /not a valid gzip file/],
];

for (const [what, parse, message] of malformed) {
  test(`IDX parsing refuses ${what}`, () => {
    assert.throws(parse, (error: unknown) => error instanceof DataError && error.file === 'f' && message.test(error.message));
  });
}

test('a gzip bomb is refused before it is inflated whole', () => {
  // 600 MB of zeros compress to about 600 KB; the cap stops inflation at 512 MB.
  const bomb = gzipSync(new Uint8Array(600 * 1024 * 1024));
  assert.throws(() => parseImages(bomb, 'bomb.gz'), /decompresses to more than/);
});

test('image and label counts must agree across the two files of a split', () => {
  const dir = writeSlice(50, 20);
  writeFileSync(join(dir, IDX_FILES.testLabels), idxLabels(mnist().test.labels.subarray(0, 19)));
  assert.throws(() => readIdxDataset(dir), /has 19 labels but .* has 20 images/);
});

test('a missing file or folder is named in the error', () => {
  assert.throws(() => readIdxDataset('/nonexistent/folder'), /\/nonexistent\/folder: is not a folder/);
  const dir = writeSlice(10, 10);
  writeFileSync(join(dir, IDX_FILES.trainImages), new Uint8Array(0));
  assert.throws(() => readIdxDataset(dir), /train-images-idx3-ubyte: too short/);
});

// Without a classes.txt an IDX folder's classes are its label numbers, 0 to the largest: labels that are
// not class numbers make classes no image has, which the notes name and the model could never learn.
const notesOf = (train: ArrayLike<number>, test: ArrayLike<number>) => readIdxDataset(writeLabelled(train, test)).notes!;

test('an IDX folder names its classes with no training or no test images, as image folders do', () => {
  const notes = notesOf([0, 1, 2, 0, 1, 2], [0, 1, 3, 0]);
  assert.deepEqual(notes, [
    'class names are the label numbers (no classes.txt)',
    'no training images for "3": the model cannot learn that class',
    'no test images for "2": the test accuracy does not cover that class',
    'test label 3 is on no training image: if the labels are not class numbers from 0, name the classes in classes.txt, one a line in label order',
  ]);
  // Every class in both splits: nothing of the kind.
  assert.deepEqual(notesOf([0, 1, 2, 1], [2, 1, 0]), ['class names are the label numbers (no classes.txt)']);
});

test('labels that skip a number, as EMNIST letters skip 0, get a plain note and load', () => {
  const letters = Array.from({ length: 52 }, (_, i) => 1 + (i % 26));
  const d = readIdxDataset(writeLabelled(letters, letters.slice(0, 26)));
  assert.equal(d.spec.classes.length, 27);
  assert.deepEqual(d.notes, [
    'class names are the label numbers (no classes.txt)',
    'the labels skip 0 (no image has that label): the model has a class for each that it cannot learn',
  ]);
});

test('labels all 3 in training and all 200 in test: 201 classes, mostly empty, and classes.txt is asked for in one line', () => {
  const notes = notesOf(new Array(30).fill(3), new Array(10).fill(200));
  assert.deepEqual(notes, [
    'class names are the label numbers (no classes.txt)',
    'the labels skip 0, 1, 2, 4, 5 and 194 more (no image has those labels): the model has a class for each that it cannot learn',
    'no training images for "200": the model cannot learn that class',
    'no test images for "3": the test accuracy does not cover that class',
    '200 of 201 classes have no training images and test label 200 is on no training image: if the labels are not class numbers from 0, name the classes in classes.txt, one a line in label order',
  ]);
  // With a classes.txt the classes are named as meant: the empty ones are still named, classes.txt is not asked for.
  const dir = writeLabelled(new Array(30).fill(3), new Array(10).fill(200));
  writeFileSync(join(dir, 'classes.txt'), Array.from({ length: 201 }, (_, i) => `c${i}`).join('\n'));
  const named = readIdxDataset(dir).notes!;
  assert.equal(named.length, 3, named.join('\n'));
  assert.ok(!named.some((n) => n.includes('classes.txt')), named.join('\n'));
});
