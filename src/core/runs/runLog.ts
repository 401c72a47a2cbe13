// The run log: one JSON file per run under HOME/runlog, each written durably (a new file renamed over the
// old) and by one writer only, the process training the run, so two writers at once (the app and the CLI on
// one home) never touch the same file and never lose a record. Ids are unique (time + random).
// A rename goes to a file of its own (ID.name), never into the record its writer may be rewriting.
// Listing 10,000 runs reads one index (each file's size, time and summary), rebuilt for the files that
// changed since: the index is a cache anyone may rebuild, never the truth, and a damaged one is ignored.
// A changed record is listed from its summary (a line in its writer's journal, see summaryJournal.ts), never
// opened itself, unless the summary does not describe it.
import { StudioFailure, type ErrorCode } from '@shared/errors';
import { existsSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isDamaged, RunIdSchema, RunNameSchema, RunRecordSchema, type RunDetail, type RunListing, type RunRecord } from '@shared/runs';
import { makeFolders, notRegular, readRegularFile, writeDurably } from '../store/files';
import { parseJsonSafely } from '../store/modelValidation';
import { writerAlive } from './writer';
import { keyOf, sameKey, summaryFile, summaryOf, SUMMARY_SUFFIX, type FileKey } from './summaryFile';
import { appendSummary, SummaryJournals } from './summaryJournal';
import { readIndex, writeIndex, type Entry } from './runIndex';

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
/** A folder time this recent may not yet show a write in the same clock tick (timestamps are coarse): not trusted. */
const SETTLED_MS = 2000;
/** Entries read from files (not the index) past which an unsettled list writes the index all the same. */
const REWRITE_AFTER = 100;
const recordFile = (id: string): string => `${id}.json`;
const nameFile = (id: string): string => `${id}.name`;
const isRecordFile = (file: string): boolean => file.endsWith('.json') && !file.endsWith(SUMMARY_SUFFIX) && !file.startsWith('.');

/** Why a path that is there is not a regular file, or undefined where it is one or is not there. */
function notAFile(path: string): string | undefined {
  const stats = lstatSync(path, { throwIfNoEntry: false });
  return stats && notRegular(stats);
}

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
  private pendingIndex: { entries: Entry[]; folderTime: string | undefined } | undefined;
  /** This log's last list: the index as this process would write it, with no file to read or check. */
  private last: { entries: Map<string, Entry>; folderTime?: string } | undefined;

  constructor(home: string, options: RunLogOptions = {}) {
    this.dir = join(home, 'runlog');
    this.write = options.write ?? writeDurably;
  }

  /**
   * Writes a run's record over its previous one, then its summary line; only the run's own recorder calls this.
   * A summary that cannot be written costs only speed: the list reads the record it does not describe.
   */
  save(record: RunRecord): void {
    makeFolders(this.dir);
    const file = join(this.dir, recordFile(record.id));
    this.write(file, JSON.stringify(record));
    try {
      appendSummary(this.dir, record, file);
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
    if (!folder.isDirectory()) throw new RunLogError('damaged', `${this.dir}: exists and is not a folder`);
    // A process that listed before (the app) starts from what it listed, not from the index file.
    const index = this.last ?? readIndex(this.dir, recordFile);
    const settled = Date.now() - Number(folder.mtimeMs) > SETTLED_MS;
    let entries: Entry[];
    if (index.folderTime === String(folder.mtimeNs)) entries = [...index.entries.values()];
    else {
      let read;
      const journals = new SummaryJournals(this.dir);
      ({ entries, read } = this.refresh(index.entries, journals));
      journals.foldIfMany(new Set(entries.map((e) => e.run.id)));
      // A settled folder time is worth writing down (the next list then reads no file), and so is much read
      // from the files; a few summaries read again are cheaper than writing the whole index after each write.
      const folderTime = settled ? String(folder.mtimeNs) : undefined;
      if (settled || read > REWRITE_AFTER) this.writeIndexSoon(entries, folderTime);
      this.last = { entries: new Map(entries.map((e) => [recordFile(e.run.id), e])), folderTime };
    }
    const runs: RunListing[] = [];
    for (const entry of entries) {
      if (isDamaged(entry.run)) {
        runs.push(entry.run);
        continue;
      }
      let run = entry.run;
      if (run.outcome === 'running' && entry.writer && !writerAlive(entry.writer)) run = { ...run, outcome: 'interrupted' };
      // Another machine's process cannot be asked whether it still runs: the list says whose it is.
      else if (run.outcome === 'running' && entry.writer && entry.writer.host !== hostname()) run = { ...run, host: entry.writer.host };
      if (entry.name !== undefined) run = { ...run, name: entry.name };
      runs.push(run);
    }
    return runs;
  }

  /**
   * Writes the index once the list is returned (a 10,000-run index is a 5 MB stringify, hash and write, a
   * third of a cold list): the caller has its runs first, and the write follows in the same turn of the
   * event loop. Lists in between replace the pending entries; only the newest is written.
   */
  private writeIndexSoon(entries: Entry[], folderTime: string | undefined): void {
    const waiting = this.pendingIndex !== undefined;
    this.pendingIndex = { entries, folderTime };
    if (waiting) return;
    setImmediate(() => {
      const { entries, folderTime } = this.pendingIndex!;
      this.pendingIndex = undefined;
      writeIndex(this.dir, entries, folderTime);
    });
  }

  /**
   * Each record file's entry as the files are now, newest run first: the index's where the record is the file it
   * was, else from the run's summary where that describes the record, else from the record itself.
   */
  private refresh(known: Map<string, Entry>, journals: SummaryJournals): { entries: Entry[]; read: number } {
    const files = readdirSync(this.dir);
    const names = new Set(files.filter((f) => f.endsWith('.name')));
    const entries: Entry[] = [];
    let read = 0;
    for (const file of files) {
      if (!isRecordFile(file)) continue;
      let stats;
      try {
        stats = statSync(join(this.dir, file), { throwIfNoEntry: false });
      } catch {
        // ELOOP: a loop of links (and what else stat refuses): lstat below says what it is
      }
      if (!stats) {
        const link = lstatSync(join(this.dir, file), { throwIfNoEntry: false });
        if (!link) continue; // removed while we listed
        const damaged = link.isSymbolicLink() ? 'a symbolic link to nothing, or a loop of them' : (notRegular(link) ?? 'cannot be read');
        entries.push({ ...keyOf(link), run: { id: file.slice(0, -'.json'.length), damaged } });
        read++;
        continue;
      }
      const key = keyOf(stats);
      const cached = known.get(file);
      const current = cached && sameKey(cached, key);
      const { name: _, ...entry } = current ? cached : this.entryFor(file, key, journals);
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
    const file = join(this.dir, nameFile(id));
    const wrong = notAFile(file);
    if (wrong) throw new RunLogError('refused', `run ${id} cannot be named: ${file} is ${wrong}`);
    this.write(file, parsed.data);
    return parsed.data;
  }

  /**
   * Removes a run's record (a damaged one too) and its summary and name, or nothing where any of them is not a
   * regular file. A run still training is refused: its writer would write it back. `force` removes one whose
   * writer cannot be told alive or gone (another machine's, or a pid with no start time to tell reuse by).
   */
  remove(id: string, options: { force?: boolean } = {}): void {
    const valid = RunIdSchema.safeParse(id).success;
    const file = join(this.dir, recordFile(valid ? id : this.listedName(id)));
    if (!existsSync(file) && !lstatSync(file, { throwIfNoEntry: false })) throw new RunLogError('missing', `no run ${id}`);
    // A file name that is not an id is no run of ours: only the listed file goes, never files beside it.
    const files = valid ? [file, join(this.dir, summaryFile(id)), join(this.dir, nameFile(id))] : [file];
    for (const path of files) {
      const wrong = notAFile(path);
      if (wrong) throw new RunLogError('refused', `run ${id} cannot be removed: ${path} is ${wrong}`);
    }
    let record: RunRecord | undefined;
    try {
      record = valid ? this.read(id) : undefined;
    } catch {
      // damaged: removable all the same
    }
    if (record?.outcome === 'running' && writerAlive(record.writer)) {
      const { pid, host, started } = record.writer;
      const here = host === hostname();
      const holder = `held by pid ${pid} on ${here ? 'this machine' : host}`;
      if (here && started !== undefined) throw new RunLogError('refused', `run ${id} is still training (${holder}): stop it first`);
      if (!options.force)
        throw new RunLogError('refused', `run ${id} may still be training (${holder}): stop it first, or if it is not, remove it with --force`);
    }
    for (const path of files) rmSync(path, { force: true });
  }

  /** A damaged entry listed by a file name that is not a run id: removable by that name where it is a plain record file in the log. */
  private listedName(name: string): string {
    const file = recordFile(name);
    if (/[/\\\0]/.test(name) || !isRecordFile(file) || !lstatSync(join(this.dir, file), { throwIfNoEntry: false })?.isFile())
      throw new RunLogError('missing', `no run ${name}`);
    return name;
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

  private entryFor(file: string, key: FileKey, journals: SummaryJournals): Entry {
    const id = file.slice(0, -'.json'.length);
    if (!RunIdSchema.safeParse(id).success) return { ...key, run: { id, damaged: `its file name is not a run id: remove ${join(this.dir, file)}` } };
    // No summary (an older record, or a crash between the two writes), or one we cannot read: the record says.
    const summary = journals.find(id, key);
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
}
