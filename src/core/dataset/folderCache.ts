// The cache of decoded image folders, under the app's home: one file per folder listing, keyed by a hash
// of the listing (every file's path, size and modification time), the input asked for and this format's
// version, so any change to the folder makes a new key. A file holds a JSON header and the raw splits;
// it is written like models are (to a temporary name, then renamed), and a damaged one is just ignored.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { inputSize, ModelSpecSchema } from '@shared/modelSpec';
import { makeFolders, readRegularFile, writeDurably } from '../store/files';
import type { Listing } from './folderListing';
import type { Dataset } from '@shared/dataset';

const VERSION = 1;
/** Cached folders kept; the least recently used go first. */
const KEEP = 8;
/** A cache file holds at most 1 GB of decoded images (the import's limit), their labels and a header. */
const MAX_CACHE_FILE = 1024 ** 3 + 256 * 1024 * 1024;

const Header = z.object({
  version: z.literal(VERSION),
  spec: ModelSpecSchema,
  train: z.number().int().min(0),
  test: z.number().int().min(0),
  notes: z.array(z.string().max(1000)).max(100),
  refused: z.array(z.object({ file: z.string().max(4096), reason: z.string().max(1000) })).max(1_000_000),
});

export function cacheKey(listing: Listing, options: { mode?: string; input?: object }): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([VERSION, listing.root, options.mode ?? null, options.input ?? null, listing.classes, listing.refused]));
  for (const f of listing.files) hash.update(`\n${f.rel}\0${f.size}\0${f.mtimeMs}`);
  return hash.digest('hex').slice(0, 32);
}

const fileOf = (dir: string, key: string): string => join(dir, `${key}.dataset`);

export function readCache(dir: string, key: string): Omit<Dataset, 'source'> | undefined {
  const file = fileOf(dir, key);
  if (!existsSync(file)) return undefined;
  try {
    // Not a plain read: a FIFO or device put here would hang the worker or fill its memory.
    const raw = readRegularFile(file, MAX_CACHE_FILE);
    const headerLength = raw.readUInt32LE(0);
    const header = Header.parse(JSON.parse(raw.subarray(4, 4 + headerLength).toString('utf8')));
    const size = inputSize(header.spec);
    let at = 4 + headerLength;
    const take = (n: number): Uint8Array => {
      const part = new Uint8Array(raw.buffer, raw.byteOffset + at, n);
      at += n;
      return part;
    };
    if (raw.length !== at + (header.train + header.test) * (size + 1)) return undefined;
    const train = { count: header.train, images: take(header.train * size), labels: take(header.train) };
    const test = { count: header.test, images: take(header.test * size), labels: take(header.test) };
    const k = header.spec.classes.length;
    if (train.labels.some((l) => l >= k) || test.labels.some((l) => l >= k)) return undefined;
    const now = new Date();
    utimesSync(file, now, now);
    return { spec: header.spec, train, test, notes: [...header.notes, 'opened from the cache of decoded images'], refused: header.refused };
  } catch {
    return undefined;
  }
}

export function writeCache(dir: string, key: string, d: Dataset): void {
  makeFolders(dir); // not Node's recursive mkdir, which spins forever under /proc
  const header = Buffer.from(
    JSON.stringify({ version: VERSION, spec: d.spec, train: d.train.count, test: d.test.count, notes: d.notes ?? [], refused: d.refused ?? [] }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  writeDurably(fileOf(dir, key), Buffer.concat([length, header, d.train.images, d.train.labels, d.test.images, d.test.labels]));
  const cached = readdirSync(dir)
    .filter((n) => n.endsWith('.dataset'))
    .map((n) => ({ n, at: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const { n } of cached.slice(KEEP)) rmSync(join(dir, n), { force: true });
}
