// Image folders as datasets, on real files: a generated 3-class folder with a damaged file, nested junk,
// a FIFO and links; the seeded stratified hold-out; the input mode chosen from the images; the cache;
// the train/test layout; and IDX folders with 26 labels named by classes.txt.
import { test } from 'node:test';
import { buildSync } from 'esbuild';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { importFolder, ImportCancelled, type ImportProgress } from '@core/dataset/folderImport';
import { listFolder } from '@core/dataset/folderListing';
import { readIdxDataset, labelCounts } from '@core/dataset/dataset';
import { openDataset } from '@core/dataset/openDataset';
import { DataError } from '@core/dataset/idx';
import { tempDir, writeLabelled } from '../support/helpers';
import { drawingsFolder, png } from '../support/imageFolders';

test('a folder of 3 classes imports, listing every refused file with its reason, and holds out 20% per class', async () => {
  const root = await drawingsFolder();
  const d = await importFolder(root);
  assert.deepEqual(d.spec, { height: 28, width: 28, channels: 1, mode: 'drawing', classes: ['bar', 'circle', 'square'] });
  assert.deepEqual(d.refused!.map((r) => `${r.file}: ${r.reason}`).sort(), [
    'README.md: not inside a class folder',
    'bar/nested/notes.txt: not an image (PNG, JPEG, WebP, GIF or BMP)',
    'circle/leak.png: a link to outside the folder (not followed)',
    'square/broken.png: not an image (PNG, JPEG, WebP, GIF or BMP)',
    'square/pipe.png: not a regular file (a FIFO, device or socket)',
  ]);
  // bar: 11 images (one nested), circle: 11 (10 and a link inside the folder), square: 10.
  assert.deepEqual(labelCounts(d.test, 3), [2, 2, 2]);
  assert.deepEqual(labelCounts(d.train, 3), [9, 9, 8]);
  assert.ok(d.notes!.some((n) => /no test folder: 20% of each class is held out/.test(n)));
  assert.ok(d.notes!.some((n) => /input mode drawing, chosen because \d+ of \d+ sampled images look like ink/.test(n)));
  // Drawings come out as MNIST does: white ink on black, so the border is dark and there is bright ink.
  const first = d.train.images.subarray(0, 784);
  assert.equal(first[0], 0);
  assert.ok(Math.max(...first) > 200);
});

test('the stratified split is deterministic, and the second open comes from the cache', async () => {
  const root = await drawingsFolder(6);
  const a = await importFolder(root),
    b = await importFolder(root);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.deepEqual(a.test.images, b.test.images);
  assert.deepEqual(a.train.images, b.train.images);
  const cacheDir = tempDir();
  const phases = (seen: ImportProgress[]) => [...new Set(seen.map((p) => p.phase))];
  const first: ImportProgress[] = [],
    second: ImportProgress[] = [],
    third: ImportProgress[] = [];
  await importFolder(root, { cacheDir, onProgress: (p) => first.push(p) });
  const cached = await importFolder(root, { cacheDir, onProgress: (p) => second.push(p) });
  assert.deepEqual(phases(first), ['listing', 'sampling', 'decoding']);
  assert.deepEqual(phases(second), ['listing', 'cached']);
  assert.deepEqual(cached.train.images, a.train.images);
  assert.deepEqual(cached.test.labels, a.test.labels);
  assert.deepEqual(cached.refused, a.refused);
  // Touching one file changes the listing, so the folder is decoded again.
  utimesSync(join(root, 'bar', 'bar-0.png'), new Date(), new Date(2001, 1, 1));
  await importFolder(root, { cacheDir, onProgress: (p) => third.push(p) });
  assert.deepEqual(phases(third), ['listing', 'sampling', 'decoding']);
  assert.equal(readdirSync(cacheDir).filter((n) => n.endsWith('.dataset')).length, 2);
});

test('colour photos get the photo mode, RGB 32x32, and train/ with test/ is used as it is', async () => {
  const root = join(tempDir(), 'photos');
  for (const split of ['train', 'test'])
    for (const kind of ['red', 'blue'])
      for (let i = 0; i < (split === 'train' ? 4 : 2); i++) {
        mkdirSync(join(root, split, kind), { recursive: true });
        writeFileSync(join(root, split, kind, `${i}.png`), await png('photo', i + (kind === 'red' ? 0 : 50)));
      }
  mkdirSync(join(root, 'test', 'green'));
  const d = await importFolder(root);
  assert.deepEqual(d.spec, { height: 32, width: 32, channels: 3, mode: 'photo', classes: ['blue', 'red'] });
  assert.equal(d.train.count, 8);
  assert.equal(d.test.count, 4);
  assert.deepEqual(d.refused, [{ file: 'test/green', reason: 'a test class with no training folder' }]);
  assert.ok(!d.notes!.some((n) => /held out/.test(n)));
  assert.equal(d.train.images.length, 8 * 32 * 32 * 3);
  // Asked for, the drawing mode and another shape are used instead.
  const asked = await openDataset({ dir: root, mode: 'drawing', input: { height: 16, width: 16, channels: 1 } });
  assert.deepEqual([asked.spec.mode, asked.spec.height, asked.spec.channels], ['drawing', 16, 1]);
});

test('a class folder with no images, or too few to hold one out, is named in the notes', async () => {
  const root = await drawingsFolder(5, false);
  mkdirSync(join(root, 'ghost'));
  mkdirSync(join(root, 'lonely'));
  writeFileSync(join(root, 'lonely', 'one.png'), await png('circle', 7));
  const d = await importFolder(root);
  assert.deepEqual(d.spec.classes, ['bar', 'circle', 'ghost', 'lonely', 'square']);
  assert.deepEqual(labelCounts(d.train, 5), [5, 4, 0, 1, 4]);
  assert.deepEqual(labelCounts(d.test, 5), [1, 1, 0, 0, 1]);
  assert.ok(d.notes!.includes('no training images for "ghost": the model cannot learn that class'), d.notes!.join('\n'));
  assert.ok(d.notes!.includes('no test images for "ghost", "lonely": the test accuracy does not cover those classes'), d.notes!.join('\n'));
  // A folder where every class has both says nothing of the kind.
  const full = await importFolder(await drawingsFolder(5, false));
  assert.ok(!full.notes!.some((n) => /^no (training|test) images/.test(n)), full.notes!.join('\n'));
});

test('choosing the input mode reports its progress and hears a cancel; a mode and shape given skip it', async () => {
  const root = await drawingsFolder(20, false);
  const controller = new AbortController();
  const phases: string[] = [];
  const onProgress = (p: ImportProgress): void => {
    phases.push(`${p.phase} ${p.done}/${p.total}`);
    if (p.phase === 'sampling' && p.done === 2) controller.abort();
  };
  await assert.rejects(importFolder(root, { signal: controller.signal, onProgress }), ImportCancelled);
  assert.deepEqual(phases, ['listing 0/0', 'sampling 0/48', 'sampling 1/48', 'sampling 2/48']);
  const given: string[] = [];
  const d = await importFolder(root, { mode: 'drawing', input: { height: 28, width: 28, channels: 1 }, onProgress: (p) => given.push(p.phase) });
  assert.ok(!given.includes('sampling'), given.join());
  assert.ok(
    d.notes!.some((n) => n.startsWith('input mode drawing, as asked: 28x28x1')),
    d.notes!.join('\n'),
  );
});

test("a cache folder that cannot be made (under /proc, where Node's recursive mkdir spins forever) costs the cache, not the import", async () => {
  const root = await drawingsFolder(4, false);
  const d = await importFolder(root, { cacheDir: '/proc/mnist-studio-no-such-home/datasets' });
  assert.equal(d.train.count + d.test.count, 13);
  assert.ok(
    d.notes!.some((n) => /^the decoded images could not be cached: \/proc\/mnist-studio-no-such-home: cannot be created/.test(n)),
    d.notes!.join('\n'),
  );
});

test('folders that cannot be datasets get one clear error', async () => {
  const one = join(tempDir(), 'one');
  mkdirSync(join(one, 'only'), { recursive: true });
  await assert.rejects(importFolder(one), (e: unknown) => e instanceof DataError && /holds 1 class folder; expected at least 2/.test(e.message));
  await assert.rejects(importFolder(join(one, 'missing')), (e: unknown) => e instanceof DataError && /is not a folder/.test(e.message));
  const long = join(tempDir(), 'long');
  mkdirSync(join(long, 'a'), { recursive: true });
  mkdirSync(join(long, 'x'.repeat(80)));
  await assert.rejects(importFolder(long), (e: unknown) => e instanceof DataError && /cannot be a class name/.test(e.message));
  const blank = join(tempDir(), 'blank');
  for (const c of ['a', '   ']) mkdirSync(join(blank, c), { recursive: true });
  await assert.rejects(importFolder(blank), (e: unknown) => e instanceof DataError && /cannot be a class name: class names cannot be blank/.test(e.message));
  const many = join(tempDir(), 'many');
  for (const c of ['a', 'b']) mkdirSync(join(many, c), { recursive: true });
  for (let i = 0; i < 5; i++) writeFileSync(join(many, 'a', `${i}.png`), 'x');
  assert.throws(
    () => listFolder(many, 4),
    (e: unknown) => e instanceof DataError && /holds more than 4 files; the limit is 4 images/.test(e.message),
  );
});

test('an IDX folder with 26 labels takes its class names from classes.txt, or numbers without it', () => {
  const letters = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 26);
  const dir = writeLabelled(labels(52), labels(26));
  const numbered = readIdxDataset(dir);
  assert.deepEqual(
    numbered.spec.classes,
    Array.from({ length: 26 }, (_, i) => String(i)),
  );
  writeFileSync(join(dir, 'classes.txt'), `${letters.join('\n')}\n`);
  const named = readIdxDataset(dir);
  assert.deepEqual(named.spec, { height: 28, width: 28, channels: 1, mode: 'drawing', classes: letters });
  assert.deepEqual(labelCounts(named.train, 26), new Array(26).fill(2));
  writeFileSync(join(dir, 'classes.txt'), letters.slice(0, 20).join('\n'));
  assert.throws(
    () => readIdxDataset(dir),
    (e: unknown) => e instanceof DataError && /names 20 classes but the labels go up to 25/.test(e.message),
  );
  writeFileSync(join(dir, 'classes.txt'), ['A', 'A', ...letters.slice(2)].join('\n'));
  assert.throws(
    () => readIdxDataset(dir),
    (e: unknown) => e instanceof DataError && /names a class twice/.test(e.message),
  );
});

// Root reads every folder whatever its mode, so as root the listing runs in a child as "nobody". The child
// runs a bundle of the listing written into the test's own folder, not the checkout's sources: a checkout
// inside a private folder (a fresh clone in `mktemp -d`, mode 0700) is out of nobody's reach.
const asNobody = process.getuid?.() === 0;
function listAs(uid: number, dir: string): { status: number | null; stdout: string; stderr: string } {
  const bundle = join(dirname(dir), 'listFolder.mjs');
  buildSync({
    stdin: {
      contents: `import { listFolder } from '@core/dataset/folderListing'; process.stdout.write(JSON.stringify(listFolder(process.argv[2])));`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    tsconfig: 'tsconfig.json',
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: bundle,
    logLevel: 'silent',
  });
  return spawnSync(process.execPath, [bundle, dir], { uid, gid: uid, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/tmp' } });
}
test(
  'a subfolder that cannot be read is listed as refused, and the rest is listed',
  { skip: process.platform === 'win32' && 'needs POSIX file permissions' },
  (t) => {
    const dir = join(tempDir(), 'locked');
    for (const c of ['a', 'b']) {
      mkdirSync(join(dir, c, 'inner'), { recursive: true });
      writeFileSync(join(dir, c, '1.png'), 'x');
    }
    chmodSync(join(dir, 'a', 'inner'), 0);
    t.after(() => chmodSync(join(dir, 'a', 'inner'), 0o755));
    let listing: ReturnType<typeof listFolder>;
    if (asNobody) {
      chmodSync(dirname(dir), 0o755);
      // Node itself, or the system's temporary folder, may be out of nobody's reach too: then say so and skip.
      const probe = spawnSync(process.execPath, ['-e', `require('node:fs').readdirSync(${JSON.stringify(dirname(dir))})`], {
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
      });
      if (probe.status !== 0) {
        const why = `nobody (uid 65534) cannot run ${process.execPath} on ${dirname(dir)}: ${(probe.stderr || probe.error?.message || '').trim().split('\n')[0]}`;
        console.log(`skipped: ${why}`);
        return t.skip(why);
      }
      const child = listAs(65534, dir);
      assert.equal(child.status, 0, child.stderr);
      listing = JSON.parse(child.stdout);
    } else listing = listFolder(dir);
    assert.deepEqual(listing.refused, [{ file: 'a/inner', reason: 'a folder that cannot be read (permission denied)' }]);
    assert.deepEqual(
      listing.files.map((f) => f.rel),
      ['a/1.png', 'b/1.png'],
    );
  },
);
