// Folders dropped into a browser window: the page cannot give us their path, so it sends their files,
// a batch at a time, and they are written under the app's home (uploads/), where they are opened as a
// dataset like any folder. Every path is checked to stay inside its upload folder, and files are
// written with 'wx' (never over another); only uploads begun by this service can be added to.
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { makeFolders } from '../store/files';
import { MAX_FOLDER_IMAGES } from '../dataset/folderListing';
import { StudioFailure } from '@shared/errors';

/** Bytes one upload may hold in all. */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
/** Upload folders kept besides those in use; older ones are removed when a new one starts. */
const KEEP = 3;
/** An upload begun this recently may still be arriving (another window's): it is not removed. */
const ARRIVING_MS = 10 * 60 * 1000;
const MAX_DEPTH = 10;

export class UploadError extends StudioFailure {
  readonly code = 'bad-request';
}

/** Why a relative path may not be written, or undefined when it may. */
export function badUploadPath(path: string): string | undefined {
  const parts = path.split('/');
  if (parts.length > MAX_DEPTH) return `${path.slice(0, 80)}: nested more than ${MAX_DEPTH} folders deep`;
  // eslint-disable-next-line no-control-regex
  const bad = parts.find((p) => p === '' || p === '.' || p === '..' || p.length > 255 || /[\\\u0000-\u001f\u007f]/.test(p));
  return bad === undefined ? undefined : `${JSON.stringify(path.slice(0, 80))}: not a plain relative path`;
}

export class Uploads {
  private readonly folders = new Map<number, { dir: string; files: number; bytes: number; begun: number }>();
  private next = 1;

  /** `inUse` names the folders a dataset in hand or an unfinished run still reads: never removed. */
  constructor(
    private readonly root: string,
    private readonly inUse: () => string[] = () => [],
    private readonly arrivingMs = ARRIVING_MS,
  ) {}

  /** Writes a batch of files, into a new upload (no id) or one this service began; returns its id and folder. */
  add(upload: number | undefined, files: { path: string; data: Uint8Array }[]): { upload: number; dir: string } {
    for (const f of files) {
      const bad = badUploadPath(f.path);
      if (bad) throw new UploadError(bad);
    }
    let id = upload;
    if (id === undefined) {
      id = this.next++;
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 23);
      this.prune();
      this.folders.set(id, { dir: join(this.root, `upload_${stamp}_${id}`), files: 0, bytes: 0, begun: Date.now() });
    }
    const folder = this.folders.get(id);
    if (!folder) throw new UploadError(`no upload ${id}`);
    for (const f of files) {
      if (folder.files + 1 > MAX_FOLDER_IMAGES) throw new UploadError(`more than ${MAX_FOLDER_IMAGES.toLocaleString('en-US')} files`);
      if (folder.bytes + f.data.length > MAX_UPLOAD_BYTES) throw new UploadError(`more than ${MAX_UPLOAD_BYTES / 1024 ** 3} GB`);
      const target = resolve(folder.dir, ...f.path.split('/'));
      if (!target.startsWith(resolve(folder.dir) + sep)) throw new UploadError(`${f.path.slice(0, 80)}: leaves the upload folder`);
      makeFolders(dirname(target));
      try {
        writeFileSync(target, f.data, { flag: 'wx' });
      } catch (error) {
        throw new UploadError(`${f.path.slice(0, 80)}: ${(error as { code?: string }).code === 'EEXIST' ? 'sent twice' : 'cannot be written'}`);
      }
      folder.files++;
      folder.bytes += f.data.length;
    }
    return { upload: id, dir: folder.dir };
  }

  private prune(): void {
    let names: string[];
    try {
      names = readdirSync(this.root)
        .filter((n) => /^upload_[\d_-]+$/.test(n))
        .sort();
    } catch {
      return;
    }
    const used = new Set(this.inUse().map((dir) => resolve(dir)));
    const arriving = new Set([...this.folders.values()].filter((f) => Date.now() - f.begun < this.arrivingMs).map((f) => resolve(f.dir)));
    const removable = names.filter((name) => !used.has(resolve(this.root, name)) && !arriving.has(resolve(this.root, name)));
    for (const name of removable.slice(0, Math.max(0, removable.length - (KEEP - 1)))) {
      rmSync(join(this.root, name), { recursive: true, force: true });
      // A removed upload can no longer be added to (its id would write into a recreated, partial folder).
      for (const [id, folder] of this.folders) if (resolve(folder.dir) === resolve(this.root, name)) this.folders.delete(id);
    }
  }
}
