// The run log's index (runlog/.index/index.json): each record file's entry as last listed, so listing 10,000
// runs reads one file. A cache anyone may rebuild, never the truth: a damaged one is ignored, and so is one
// whose sha256 matches but whose entries are not of the shape a list shows (someone forged or hand-edited it),
// checked by hand as summaryFile.ts checks summaries, since zod costs more than the list may spend per run.
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '@shared/runs';
import { makeFolders, readRegularFile } from '../store/files';
import { isKey, isObject, isSummary, isText, isWriter, optional, type FileKey } from './summaryFile';
import type { Writer } from './writer';

/** In a folder of its own: writing it must not change the log folder's time, which says whether anything changed. */
const INDEX = join('.index', 'index.json');
const INDEX_MAX = 512 * 1024 * 1024;
const INDEX_VERSION = 3;

/**
 * A record file's modification time, size and inode (each write renames a new file in), what it holds, and
 * its run's name: in an index current for the folder's time no name can have changed (a rename renames a file in).
 */
export type Entry = FileKey & { run: RunSummary | { id: string; damaged: string }; writer?: Writer; name?: string };

const isEntry = (v: unknown): v is Entry =>
  isKey(v) &&
  isObject((v as Record<string, unknown>).run) &&
  ((run: Record<string, unknown>) => isText(run.id, 4096) && (run.damaged !== undefined ? isText(run.damaged, 8192) : isSummary(run, run.id as string)))(
    (v as Record<string, unknown>).run as Record<string, unknown>,
  ) &&
  optional((v as Record<string, unknown>).writer, isWriter) &&
  optional((v as Record<string, unknown>).name, (n) => isText(n, 1024));

/**
 * The index as last written, or an empty one. Its body is checked against the sha256 in its first line,
 * which it was written with, and each entry's shape is checked: one bad entry and the files are read instead.
 */
export function readIndex(dir: string, recordFile: (id: string) => string): { entries: Map<string, Entry>; folderTime?: string } {
  try {
    const text = readRegularFile(join(dir, INDEX), INDEX_MAX).toString('utf8');
    const newline = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, newline)) as { version?: number; sha256?: string; folderTime?: string };
    const body = text.slice(newline + 1);
    if (header.version !== INDEX_VERSION || header.sha256 !== createHash('sha256').update(body).digest('hex')) return { entries: new Map() };
    const entries = JSON.parse(body) as unknown;
    if (!Array.isArray(entries) || !entries.every(isEntry)) return { entries: new Map() };
    return {
      entries: new Map(entries.map((e) => [recordFile(e.run.id), e])),
      folderTime: typeof header.folderTime === 'string' ? header.folderTime : undefined,
    };
  } catch {
    return { entries: new Map() };
  }
}

/**
 * folderTime: the log folder's time the index is current for, where it is settled enough to trust.
 * Written without fsync: it is a cache, and one a crash cut short fails its sha256 and is rebuilt.
 */
export function writeIndex(dir: string, entries: Entry[], folderTime: string | undefined): void {
  const body = JSON.stringify(entries);
  const header = JSON.stringify({ version: INDEX_VERSION, sha256: createHash('sha256').update(body).digest('hex'), folderTime });
  const file = join(dir, INDEX);
  const staging = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    makeFolders(join(dir, '.index'));
    writeFileSync(staging, `${header}\n${body}`, { flag: 'wx' });
    renameSync(staging, file);
  } catch {
    // A full disk or a read-only home: the list is still right, only the next one is slower.
    rmSync(staging, { force: true });
  }
}
