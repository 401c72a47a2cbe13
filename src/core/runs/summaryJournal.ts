// The run summaries, one journal per writer (runlog/.summaries/WRITER.jsonl): after each record it writes, a
// writer appends one line, the few fields a list shows and the record it was made from (its size, time and
// inode, which every write changes). A list with no index reads a few journals, not a file per run (10,000
// small files took 110 ms to open and read before any was parsed), and only a line that names the record now
// on disk is believed: a crash between the record and its line, a line from another copy, someone's edit, and
// the record says instead. Each journal has one writer, so appends never interleave; a writer compacts its own
// journal as it grows, and a list folds the journals of writers that are gone into one, so one-run CLI
// processes do not leave a file per run behind.
import { closeSync, constants, fstatSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '@shared/runs';
import { makeFolders, readRegularFile, writeDurably } from '../store/files';
import { parseSummary, summaryText, type FileKey, type SummaryFile } from './summaryFile';
import { thisWriter, writerAlive, type Writer } from './writer';

export const JOURNALS = '.summaries';
/** Far above 10,000 runs' lines (about 600 bytes each); a larger file is no journal of ours. */
const JOURNAL_MAX = 256 * 1024 * 1024;
/** Journals of writers that are gone, past which a list folds them into one. */
const FOLD_AFTER = 16;
// O_NONBLOCK: a FIFO put where the journal goes fails at once (ENXIO) instead of waiting for a reader.
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0);

const hostTag = (host: string): string => createHash('sha256').update(host).digest('hex').slice(0, 12);
/** pid, start time and host: a journal's name says whose it is, so a list can tell one whose writer is gone. */
const journalName = (w: Writer): string => `${w.pid}-${w.started ?? 'x'}-${hostTag(w.host)}.jsonl`;
const FOLDED = /^folded-[0-9a-f]{12}\.jsonl$/;

/** The writer a journal's name stands for, or undefined for a folded journal (or a file that is none of ours). */
function writerOf(name: string): Writer | 'folded' | undefined {
  if (FOLDED.test(name)) return 'folded';
  const match = /^(\d+)-(\d+|x)-([0-9a-f]{12})\.jsonl$/.exec(name);
  if (!match) return undefined;
  // Another machine's writer cannot be asked whether it still runs: it stays unknown, and so alive.
  const host = match[3] === hostTag(hostname()) ? hostname() : `another host (${match[3]})`;
  return { pid: Number(match[1]), host, ...(match[2] === 'x' ? {} : { started: match[2] }) };
}

/** Bytes this process has appended to its journal since it last compacted it, and the size it was then. */
let appended = 0;
let compactedSize = 0;

/** Appends the summary line of a record just written to `recordPath`. Throws where the disk refuses. */
export function appendSummary(dir: string, record: RunRecord, recordPath: string): void {
  const folder = join(dir, JOURNALS);
  makeFolders(folder);
  const file = join(folder, journalName(thisWriter()));
  const line = `${summaryText(record, recordPath)}\n`;
  const fd = openSync(file, APPEND_FLAGS, 0o644);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${file} is not a regular file`);
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
  appended += line.length;
  // A run saves its record every few seconds: keep only each run's last line once the journal has doubled.
  if (appended > Math.max(1024 * 1024, compactedSize)) {
    const lines = lastLines([file]);
    const text = [...lines.values()].flat().join('');
    writeDurably(file, text);
    compactedSize = text.length;
    appended = 0;
  }
}

/** A journal line's run id, read without parsing: the line starts with it (summaryText writes it first). */
function idOf(line: string): string | undefined {
  if (!line.startsWith('{"id":"')) return undefined;
  const end = line.indexOf('"', 7);
  return end > 7 ? line.slice(7, end) : undefined;
}

/** Each run's last line in each journal (a run resumed by another process has lines in two), newest last. */
function lastLines(files: string[]): Map<string, string[]> {
  const lines = new Map<string, string[]>();
  for (const file of files) {
    let text: string;
    try {
      text = readRegularFile(file, JOURNAL_MAX, undefined, { noFollow: true }).toString('utf8');
    } catch {
      continue; // a journal we cannot read costs only speed: those runs' records are read instead
    }
    const own = new Map<string, string>();
    // A line cut short by a crash has no newline yet: it is not read (and its record is read instead).
    for (let start = 0, end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
      const line = text.slice(start, end + 1);
      const id = idOf(line);
      if (id !== undefined) own.set(id, line);
    }
    for (const [id, line] of own) lines.set(id, [...(lines.get(id) ?? []).filter((l) => l !== line), line]);
  }
  return lines;
}

/** The journals of one log, read on first need: a list whose index is current reads none. */
export class SummaryJournals {
  private lines: Map<string, string[]> | undefined;
  private gone: string[] = [];

  constructor(private readonly dir: string) {}

  /** The summary of run `id` that describes the record `key` now on disk, if a journal has one. */
  find(id: string, key: FileKey): SummaryFile | undefined {
    this.lines ??= this.read();
    const candidates = this.lines.get(id) ?? [];
    for (let i = candidates.length - 1; i >= 0; i--) {
      const summary = parseSummary(candidates[i]!, id, key);
      if (summary) return summary;
    }
    return undefined;
  }

  private read(): Map<string, string[]> {
    const folder = join(this.dir, JOURNALS);
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return new Map();
    }
    const ours = names.filter((n) => writerOf(n) !== undefined);
    this.gone = ours.filter((n) => {
      const writer = writerOf(n)!;
      return writer === 'folded' || !writerAlive(writer);
    });
    return lastLines(ours.map((n) => join(folder, n)));
  }

  /**
   * Folds the journals of writers that are gone into one, keeping the lines of runs that still have a record:
   * written durably before any is removed, so a line is always in some journal; two lists folding at once
   * leave two folded journals holding the same lines, which costs nothing but a little room.
   */
  foldIfMany(liveIds: Set<string>): void {
    if (!this.lines || this.gone.length <= FOLD_AFTER) return;
    const folder = join(this.dir, JOURNALS);
    const kept = lastLines(this.gone.map((n) => join(folder, n)));
    const text = [...kept].flatMap(([id, lines]) => (liveIds.has(id) ? lines : [])).join('');
    try {
      writeDurably(join(folder, `folded-${randomBytes(6).toString('hex')}.jsonl`), text);
      for (const gone of this.gone) rmSync(join(folder, gone), { force: true });
    } catch {
      // a full disk: the journals stay as they were, and the next list tries again
    }
  }
}
