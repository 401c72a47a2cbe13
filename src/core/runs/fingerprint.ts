// A dataset's fingerprint: what tells whether a rerun trains on the same files. For a folder of images it
// is the decoded-image cache's key (every file's path, size and modification time, the input asked for);
// for an IDX folder, its files' names, sizes and times; for the bundled MNIST, its files' names and sizes.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataRequest } from '@shared/dataset';
import { isIdxFolder } from '../dataset/dataset';
import { cacheKey } from '../dataset/folderCache';
import { listFolder } from '../dataset/folderListing';
import { resourcePath } from '../resources';

function filesHash(dir: string, withTimes: boolean): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    const stats = statSync(join(dir, name));
    if (stats.isFile()) hash.update(`${name}\0${stats.size}${withTimes ? `\0${stats.mtimeMs}` : ''}\n`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** The fingerprint, or undefined where the folder cannot be listed now (the run itself says why, if it fails). */
export function datasetFingerprint(request: DataRequest): string | undefined {
  try {
    if (!request.dir) return filesHash(resourcePath('mnist'), false);
    if (isIdxFolder(request.dir)) return filesHash(request.dir, true);
    return cacheKey(listFolder(request.dir), request);
  } catch {
    return undefined;
  }
}
