// Lists a folder of images named by class, in the convention of Keras's image_dataset_from_directory,
// Create ML and Lobe: ROOT/<class>/... or ROOT/train/<class>/... with ROOT/test/<class>/....
// Nothing here reads a file's contents. Links are resolved and must stay inside the folder (links to
// folders are not followed at all, so there are no cycles); FIFOs, devices and sockets are refused by type.
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { DataError } from './idx';
import { ClassNameSchema, MAX_CLASSES, MIN_CLASSES } from '@shared/modelSpec';
import type { RefusedFile } from '@shared/dataset';

export const MAX_FOLDER_IMAGES = 500_000;
/** How deep files may sit below their class folder. */
const MAX_DEPTH = 8;

export interface ListedFile {
  /** Path relative to the root, with '/' separators: what people see and the cache key uses. */
  rel: string;
  /** The path to open (a link's target, inside the root). */
  path: string;
  size: number;
  mtimeMs: number;
  label: number;
  /** Where the folder layout put it; undefined when the test split is to be held out. */
  split?: 'train' | 'test';
}

export interface Listing {
  root: string;
  layout: 'classes' | 'train-test';
  classes: string[];
  files: ListedFile[];
  refused: RefusedFile[];
}

const hidden = (name: string): boolean => name.startsWith('.') || name === 'Thumbs.db' || name === 'desktop.ini';
const natural = new Intl.Collator('en', { numeric: true }).compare;

function inside(root: string, real: string): boolean {
  const rel = relative(root, real);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/** Subfolders of a folder (not links to folders), in natural order. */
function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !hidden(d.name))
    .map((d) => d.name)
    .sort(natural);
}

/** Lists the folder; `maxFiles` is the image limit (a parameter so tests need not write half a million files). */
export function listFolder(dir: string, maxFiles = MAX_FOLDER_IMAGES): Listing {
  let root: string;
  try {
    root = realpathSync(dir);
    if (!statSync(root).isDirectory()) throw new Error();
  } catch {
    throw new DataError(dir, 'is not a folder');
  }
  const top = subfolders(root);
  const split = top.includes('train') && subfolders(join(root, 'train')).length > 0;
  const classes = split ? subfolders(join(root, 'train')) : top;
  if (classes.length < MIN_CLASSES) {
    throw new DataError(
      dir,
      `holds ${classes.length} class folder${classes.length === 1 ? '' : 's'}; expected at least ${MIN_CLASSES}, as DIR/<class>/images or DIR/train/<class>/images`,
    );
  }
  if (classes.length > MAX_CLASSES) throw new DataError(dir, `holds ${classes.length} class folders; a model has at most ${MAX_CLASSES} classes`);
  for (const name of classes) {
    const parsed = ClassNameSchema.safeParse(name);
    if (!parsed.success) throw new DataError(join(dir, name), `cannot be a class name: ${parsed.error.issues[0]!.message}`);
  }
  const listing: Listing = { root, layout: split ? 'train-test' : 'classes', classes, files: [], refused: [] };
  const refuse = (rel: string, reason: string): void => void listing.refused.push({ file: rel, reason });

  const walk = (abs: string, rel: string, label: number, where: ListedFile['split'], depth: number): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (error) {
      // One folder we may not read is listed as refused; the rest of the import goes on.
      const code = (error as { code?: string }).code;
      refuse(
        rel,
        code === 'EACCES' || code === 'EPERM' ? 'a folder that cannot be read (permission denied)' : `a folder that cannot be read (${code ?? 'error'})`,
      );
      return;
    }
    for (const entry of entries.sort((a, b) => natural(a.name, b.name))) {
      if (hidden(entry.name)) continue;
      const path = join(abs, entry.name),
        relPath = `${rel}/${entry.name}`;
      let stat: Stats = lstatSync(path);
      let target = path;
      if (stat.isSymbolicLink()) {
        try {
          target = realpathSync(path);
          stat = statSync(target);
        } catch {
          refuse(relPath, 'a broken link');
          continue;
        }
        if (!inside(root, target)) {
          refuse(relPath, 'a link to outside the folder (not followed)');
          continue;
        }
        if (stat.isDirectory()) {
          refuse(relPath, 'a link to a folder (not followed)');
          continue;
        }
      }
      if (stat.isDirectory()) {
        if (depth >= MAX_DEPTH) refuse(relPath, `nested more than ${MAX_DEPTH} folders deep`);
        else walk(path, relPath, label, where, depth + 1);
      } else if (!stat.isFile()) {
        refuse(relPath, 'not a regular file (a FIFO, device or socket)');
      } else {
        if (listing.files.length >= maxFiles) {
          throw new DataError(dir, `holds more than ${maxFiles.toLocaleString('en-US')} files; the limit is ${maxFiles.toLocaleString('en-US')} images`);
        }
        listing.files.push({ rel: relPath, path: target, size: stat.size, mtimeMs: stat.mtimeMs, label, split: where });
      }
    }
  };

  const base = split ? 'train' : '';
  classes.forEach((name, label) => {
    const rel = base ? `${base}/${name}` : name;
    walk(join(root, rel), rel, label, split ? 'train' : undefined, 0);
  });
  if (split && top.includes('test')) {
    for (const name of subfolders(join(root, 'test'))) {
      const label = classes.indexOf(name);
      if (label < 0) refuse(`test/${name}`, 'a test class with no training folder');
      else walk(join(root, 'test', name), `test/${name}`, label, 'test', 0);
    }
  }
  // Files beside the class folders belong to no class.
  const loose = split ? [] : readdirSync(root, { withFileTypes: true }).filter((d) => !d.isDirectory() && !hidden(d.name) && d.name !== 'classes.txt');
  for (const d of loose) refuse(d.name, 'not inside a class folder');
  return listing;
}
