// The list of recently saved and opened models, kept as a small JSON file in the app's home folder.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SavedModel } from '@shared/api';
import { makeFolders, readRegularFile } from './files';

export type RecentModel = Omit<SavedModel, 'name'>;

const KEEP = 12;
/** Twelve entries are a few kilobytes; anything much larger is not our list. */
const MAX_BYTES = 256 * 1024;

export class Recents {
  private readonly file: string;

  constructor(home: string) {
    this.file = join(home, 'recent-models.json');
  }

  list(): RecentModel[] {
    try {
      const items = JSON.parse(readRegularFile(this.file, MAX_BYTES).toString('utf8')) as RecentModel[];
      return Array.isArray(items) ? items.filter((r) => typeof r?.dir === 'string' && existsSync(join(r.dir, 'model.json'))) : [];
    } catch {
      return []; // a missing or damaged list is an empty one, never an error
    }
  }

  add(entry: RecentModel): void {
    const items = [entry, ...this.list().filter((r) => r.dir !== entry.dir)].slice(0, KEEP);
    makeFolders(dirname(this.file));
    const staging = `${this.file}.tmp`;
    writeFileSync(staging, JSON.stringify(items, null, 2));
    renameSync(staging, this.file);
  }
}
