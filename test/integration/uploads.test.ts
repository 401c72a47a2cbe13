// Folders dropped into a browser arrive as files: written under the app's home, confined there, and
// opened as a dataset like any folder.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StudioService } from '@core/service/studioService';
import { Uploads } from '@core/service/uploads';
import type { DataSummary } from '@shared/dataset';
import { tempDir } from '../support/helpers';
import { drawingsFolder } from '../support/imageFolders';

const home = tempDir();
const service = new StudioService({ home });
after(() => service.close());

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(root, join(dir, d.name)) : [relative(root, join(dir, d.name))],
  );
}

test('an uploaded folder opens as a dataset; paths that leave it, and files sent twice, are refused', async () => {
  const root = await drawingsFolder(5, false);
  const files = filesUnder(root).map((path) => ({ path, data: readFileSync(join(root, path)).toString('base64') }));
  const first = await service.dispatch('uploadDatasetFiles', { files: files.slice(0, 10) });
  assert.ok(first.ok);
  const { upload, dir } = first.value as { upload: number; dir: string };
  assert.ok(dir.startsWith(join(home, 'uploads')));
  const rest = await service.dispatch('uploadDatasetFiles', { upload, files: files.slice(10) });
  assert.ok(rest.ok);
  const again = await service.dispatch('uploadDatasetFiles', { upload, files: files.slice(0, 1) });
  assert.ok(!again.ok && again.error.code === 'bad-request' && /sent twice/.test(again.error.message));
  const escape = await service.dispatch('uploadDatasetFiles', {
    upload,
    files: [
      { path: 'bar/ok.png', data: '' },
      { path: '../../escape.png', data: 'AAAA' },
    ],
  });
  assert.ok(!escape.ok && /not a plain relative path/.test(escape.error.message));
  assert.equal(existsSync(join(dir, 'bar', 'ok.png')), false, 'nothing of a refused batch is written');
  assert.equal(existsSync(join(home, 'escape.png')) || existsSync(join(home, 'uploads', 'escape.png')), false);
  const opened = await service.dispatch('openDataset', { dir });
  assert.ok(opened.ok, JSON.stringify(opened));
  const summary = opened.value as DataSummary;
  assert.deepEqual(summary.classes, ['bar', 'circle', 'square']);
  assert.equal(summary.examples.length, 3);
  assert.ok(summary.refused.some((r) => r.file === 'square/broken.png'));
  const back = await service.dispatch('useBundledDataset', {});
  assert.ok(back.ok && (back.value as DataSummary).source === 'bundled MNIST');
});

test('making room for a new upload removes only old ones: not the dataset in hand, not one still arriving', () => {
  const root = tempDir();
  const png = { path: 'a/1.png', data: new Uint8Array([1]) };
  let inUse: string[] = [];
  // No upload counts as arriving here, so the rule for the rest shows.
  const uploads = new Uploads(root, () => inUse, 0);
  const first = uploads.add(undefined, [png]);
  inUse = [first.dir]; // opened as the dataset in hand
  const others = [1, 2, 3, 4].map(() => uploads.add(undefined, [png]));
  const left = readdirSync(root).map((n) => join(root, n));
  assert.ok(left.includes(first.dir), 'the dataset in hand stays');
  // Three unused uploads are kept (the new one included); the oldest unused one went.
  assert.ok(!existsSync(others[0]!.dir), 'the oldest unused one goes');
  assert.deepEqual(left.sort(), [first.dir, ...others.slice(1).map((o) => o.dir)].sort());
  // A removed upload cannot be added to: its files would land in a recreated, partial folder.
  assert.throws(() => uploads.add(others[0]!.upload, [{ path: 'a/2.png', data: new Uint8Array([2]) }]), /no upload/);
  // With the usual grace, uploads still arriving (another window's) are never removed.
  const patient = new Uploads(tempDir());
  const early = patient.add(undefined, [png]);
  for (let i = 0; i < 4; i++) patient.add(undefined, [png]);
  assert.ok(existsSync(early.dir));
  assert.ok(patient.add(early.upload, [{ path: 'a/2.png', data: new Uint8Array([2]) }]));
});
