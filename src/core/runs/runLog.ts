// The run log: one JSON file per run under HOME/runlog, each written durably (a new file renamed over the
// old) and by one writer only, the process training the run, so two writers at once (the app and the CLI on
// one home) never touch the same file and never lose a record. Ids are unique (time + random).
// A rename goes to a file of its own (ID.name), never into the record its writer may be rewriting.
// Listing 10,000 runs reads one index (each file's size, time and summary), rebuilt for the files that
// changed since: the index is a cache anyone may rebuild, never the truth, and a damaged one is ignored.
// A changed record is listed from its summary (ID.summary.json, see summaryFile.ts), never opened itself,
// unless the summary does not describe it.
import { StudioFailure, type ErrorCode } from '@shared/errors';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDamaged, RunIdSchema, RunNameSchema, RunRecordSchema, type RunDetail, type RunListing, type RunRecord, type RunSummary } from '@shared/runs';
import { makeFolders, readRegularFile, writeDurably } from '../store/files';
import { parseJsonSafely } from '../store/modelValidation';
import { writerAlive, type Writer } from './writer';
import { keyOf, parseSummary, sameKey, summaryFile, summaryOf, summaryText, readSummaryText, SUMMARY_SUFFIX, type FileKey } from './summaryFile';

/** A run that is not there, cannot be read, or a request the log refuses: one line a person can act on. */
export class RunLogError extends StudioFailure {
  /** A run that is not there, or a name or removal refused, is the caller's to fix; a damaged record is the data's. */
  readonly code: ErrorCode;
  constructor(
    readonly kind: 'missing' | 'damaged' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'RunLogError';
    this.code = kind === 'damaged' ? 'bad-data' : 'bad-request';
  }
}

/** How a record reaches the disk; tests stand in one that fails as a full disk does. */
export type WriteFile = (file: string, data: string) => void;

export interface RunLogOptions {
  write?: WriteFile;
}

/** 10,000 epochs and 4,096 step points are well under this; anything larger is not a record of ours. */
const RECORD_MAX = 8 * 1024 * 1024;
/** In a folder of its own: writing it must not change the log folder's time, which says whether anything changed. */
const INDEX = join('.index', 'index.json');
/** A folder time this recent may not yet show a write in the same clock tick (timestamps are coarse): not trusted. */
const SETTLED_MS = 2000;
/** Entries read from files (not the index) past which an unsettled list writes the index all the same. */
const REWRITE_AFTER = 100;
const INDEX_MAX = 512 * 1024 * 1024;
const INDEX_VERSION = 3;
const recordFile = (id: string): string => `${id}.json`;
const nameFile = (id: string): string => `${id}.name`;
const isRecordFile = (file: string): boolean => file.endsWith('.json') && !file.endsWith(SUMMARY_SUFFIX) && !file.startsWith('.');

/**
 * A record file's modification time, size and inode (each write renames a new file in), what it holds, and
 * its run's name: in an index current for the folder's time no name can have changed (a rename renames a file in).
 */
type Entry = FileKey & { run: RunSummary | { id: string; damaged: string }; writer?: Writer; name?: string };

/** The record in a file's text, or why it is not one. */
function parseRecord(file: string, text: string, id: string): RunRecord | string {
  let json: unknown;
  try {
    json = parseJsonSafely(text, file);
  } catch (error) {
    return (error as Error).message.replace(`${file}: `, '');
  }
  const parsed = RunRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return `not a run record (${issue.path.join('.') || 'top'}: ${issue.message})`;
  }
  if (parsed.data.id !== id) return `holds run ${parsed.data.id}, not ${id}`;
  return parsed.data;
}

export class RunLog {
  readonly dir: string;
  private readonly write: WriteFile;

  constructor(home: string, options: RunLogOptions = {}) {
    this.dir = join(home, 'runlog');
    this.write = options.write ?? writeDurably;
  }

  /**
   * Writes a run's record over its previous one, then its summary; only the run's own recorder calls this.
   * A summary that cannot be written costs only speed: the list reads the record it does not describe.
   */
  save(record: RunRecord): void {
    makeFolders(this.dir);
    const file = join(this.dir, recordFile(record.id));
    this.write(file, JSON.stringify(record));
    try {
      this.write(join(this.dir, summaryFile(record.id)), summaryText(record, file));
    } catch {
      // the record is written, which is what matters; the disk's trouble shows at the next record
    }
  }

  /** Every run, newest first, damaged files among them with their reasons. */
  list(): RunListing[] {
    if (!existsSync(this.dir)) return [];
    // Every write renames a file into the folder, which moves the folder's time: where it has not moved since
    // the index was written, no record, summary or name changed, and neither the folder nor a file is read.
    // (A file rewritten in place by some other tool does not move it: such a change shows once anything is
    // next written to the log.)
    const folder = statSync(this.dir, { bigint: true });
    const index = this.readIndex();
    const settled = Date.now() - Number(folder.mtimeMs) > SETTLED_MS;
    let entries: Entry[];
    if (index.folderTime === String(folder.mtimeNs)) entries = [...index.entries.values()];
    else {
      let read;
      ({ entries, read } = this.refresh(index.entries));
      // A settled folder time is worth writing down (the next list then reads no file), and so is much read
      // from the files; a few summaries read again are cheaper than writing the whole index after each write.
      if (settled || read > REWRITE_AFTER) this.writeIndex(entries, settled ? String(folder.mtimeNs) : undefined);
    }
    const runs: RunListing[] = [];
    for (const entry of entries) {
      if (isDamaged(entry.run)) {
        runs.push(entry.run);
        continue;
      }
      let run = entry.run;
      if (run.outcome === 'running' && entry.writer && !writerAlive(entry.writer)) run = { ...run, outcome: 'interrupted' };
      if (entry.name !== undefined) run = { ...run, name: entry.name };
      runs.push(run);
    }
    return runs;
  }

  /**
   * Each record file's entry as the files are now, newest run first: the index's where the record is the file it
   * was, else from the run's summary where that describes the record, else from the record itself.
   */
  private refresh(known: Map<string, Entry>): { entries: Entry[]; read: number } {
    const files = readdirSync(this.dir);
    const names = new Set(files.filter((f) => f.endsWith('.name')));
    const entries: Entry[] = [];
    let read = 0;
    for (const file of files) {
      if (!isRecordFile(file)) continue;
      const stats = statSync(join(this.dir, file), { throwIfNoEntry: false });
      if (!stats) continue; // removed while we listed
      const key = keyOf(stats);
      const cached = known.get(file);
      const current = cached && sameKey(cached, key);
      const { name: _, ...entry } = current ? cached : this.entryFor(file, key);
      const id = entry.run.id;
      const name = !isDamaged(entry.run) && names.has(nameFile(id)) ? this.nameOf(id) : undefined;
      if (!current) read++;
      entries.push(name === undefined ? entry : { ...entry, name });
    }
    // Plain comparisons: ISO times and ids sort as strings, and localeCompare costs a tenth of the list at 10,000.
    const keys = new Map(entries.map((e) => [e, `${isDamaged(e.run) ? '' : e.run.startedAt} ${e.run.id}`]));
    entries.sort((a, b) => (keys.get(a)! < keys.get(b)! ? 1 : keys.get(a)! > keys.get(b)! ? -1 : 0));
    return { entries, read };
  }

  /** A run's whole record, with its outcome as listed (interrupted told apart) and its name. */
  get(id: string): RunDetail {
    const record = this.read(id);
    const outcome = record.outcome === 'running' && !writerAlive(record.writer) ? 'interrupted' : record.outcome;
    const name = this.nameOf(id);
    return { ...record, outcome, ...(name !== undefined ? { name } : {}) };
  }

  /** Names a run, with the rule model names follow; the name is what `runs` and the Runs view show. */
  rename(id: string, name: string): string {
    this.read(id);
    const parsed = RunNameSchema.safeParse(name);
    if (!parsed.success) throw new RunLogError('refused', `name: ${parsed.error.issues[0]!.message}`);
    this.write(join(this.dir, nameFile(id)), parsed.data);
    return parsed.data;
  }

  /** Removes a run's record (a damaged one too); a run still training is refused: its writer would write it back. */
  remove(id: string): void {
    const file = join(this.dir, recordFile(this.checkId(id)));
    if (!existsSync(file)) throw new RunLogError('missing', `no run ${id}`);
    let record: RunRecord | undefined;
    try {
      record = this.read(id);
    } catch {
      // damaged: removable all the same
    }
    if (record?.outcome === 'running' && writerAlive(record.writer)) throw new RunLogError('refused', `run ${id} is still training: stop it first`);
    rmSync(file, { force: true });
    rmSync(join(this.dir, summaryFile(id)), { force: true });
    rmSync(join(this.dir, nameFile(id)), { force: true });
  }

  private checkId(id: string): string {
    if (!RunIdSchema.safeParse(id).success) throw new RunLogError('missing', `no run ${id}`);
    return id;
  }

  private read(id: string): RunRecord {
    const file = join(this.dir, recordFile(this.checkId(id)));
    if (!existsSync(file)) throw new RunLogError('missing', `no run ${id}`);
    let text: string;
    try {
      text = readRegularFile(file, RECORD_MAX).toString('utf8');
    } catch (error) {
      throw new RunLogError('damaged', `run ${id} cannot be read: ${(error as Error).message}`);
    }
    const record = parseRecord(file, text, id);
    if (typeof record === 'string') throw new RunLogError('damaged', `run ${id} is damaged: ${record}`);
    return record;
  }

  private nameOf(id: string): string | undefined {
    try {
      const parsed = RunNameSchema.safeParse(readRegularFile(join(this.dir, nameFile(id)), 1024).toString('utf8'));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined; // no name given, or one we cannot read: the run shows by its id
    }
  }

  private entryFor(file: string, key: FileKey): Entry {
    const id = file.slice(0, -'.json'.length);
    // No summary (an older record, or a crash between the two writes), or one we cannot read: the record says.
    const text = readSummaryText(join(this.dir, summaryFile(id)));
    const summary = text === undefined ? undefined : parseSummary(text, id, key);
    if (summary) return { ...key, run: summary.run, ...(summary.writer ? { writer: summary.writer } : {}) };
    let recordText: string;
    try {
      recordText = readRegularFile(join(this.dir, file), RECORD_MAX).toString('utf8');
    } catch (error) {
      return { ...key, run: { id, damaged: (error as Error).message.replace(`${join(this.dir, file)}: `, '') } };
    }
    const record = parseRecord(file, recordText, id);
    if (typeof record === 'string') return { ...key, run: { id, damaged: record } };
    // Only a record that says running needs its writer, to tell an interrupted run.
    return { ...key, run: summaryOf(record), ...(record.outcome === 'running' ? { writer: record.writer } : {}) };
  }

  /**
   * The index as last written, or an empty one. Its body is checked against the sha256 in its first line,
   * which it was written with: summaries in an intact index came from records that passed the schema, or
   * from summaries that passed their checks and describe the record file as it was.
   */
  private readIndex(): { entries: Map<string, Entry>; folderTime?: string } {
    try {
      const text = readRegularFile(join(this.dir, INDEX), INDEX_MAX).toString('utf8');
      const newline = text.indexOf('\n');
      const header = JSON.parse(text.slice(0, newline)) as { version?: number; sha256?: string; folderTime?: string };
      const body = text.slice(newline + 1);
      if (header.version !== INDEX_VERSION || header.sha256 !== createHash('sha256').update(body).digest('hex')) return { entries: new Map() };
      const entries = JSON.parse(body) as Entry[];
      return { entries: new Map(entries.map((e) => [recordFile(e.run.id), e])), folderTime: header.folderTime };
    } catch {
      return { entries: new Map() };
    }
  }

  /**
   * folderTime: the log folder's time the index is current for, where it is settled enough to trust.
   * Written without fsync: it is a cache, and one a crash cut short fails its sha256 and is rebuilt.
   */
  private writeIndex(entries: Entry[], folderTime: string | undefined): void {
    const body = JSON.stringify(entries);
    const header = JSON.stringify({ version: INDEX_VERSION, sha256: createHash('sha256').update(body).digest('hex'), folderTime });
    const file = join(this.dir, INDEX);
    const staging = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      makeFolders(join(this.dir, '.index'));
      writeFileSync(staging, `${header}\n${body}`, { flag: 'wx' });
      renameSync(staging, file);
    } catch {
      // A full disk or a read-only home: the list is still right, only the next one is slower.
      rmSync(staging, { force: true });
    }
  }
}
