// The run log: one JSON file per run under HOME/runlog, each written durably (a new file renamed over the
// old) and by one writer only, the process training the run, so two writers at once (the app and the CLI on
// one home) never touch the same file and never lose a record. Ids are unique (time + random).
// A rename goes to a file of its own (ID.name), never into the record its writer may be rewriting.
// Listing 10,000 runs reads one index (each file's size, time and summary), rebuilt for the files that
// changed since: the index is a cache anyone may rebuild, never the truth, and a damaged one is ignored.
import { StudioFailure, type ErrorCode } from '@shared/errors';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDamaged, RunIdSchema, RunNameSchema, RunRecordSchema, type RunDetail, type RunListing, type RunRecord, type RunSummary } from '@shared/runs';
import { makeFolders, readRegularFile, writeDurably } from '../store/files';
import { parseJsonSafely } from '../store/modelValidation';
import { writerAlive, type Writer } from './writer';

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
const INDEX_MAX = 512 * 1024 * 1024;
const INDEX_VERSION = 2;
const recordFile = (id: string): string => `${id}.json`;
const nameFile = (id: string): string => `${id}.name`;

/** A file's modification time, size and inode (each write renames a new file in), and what it holds. */
type Entry = { m: number; s: number; i: number; run: RunSummary | { id: string; damaged: string }; writer?: Writer };

export const summaryOf = (r: RunRecord): RunSummary => ({
  id: r.id,
  startedAt: r.startedAt,
  endedAt: r.endedAt,
  outcome: r.outcome,
  config: r.config,
  backend: r.backend?.name,
  dataset: r.dataset.source,
  epochs: r.epochs.length,
  final: r.epochs.at(-1),
  wallSeconds: r.wallSeconds,
});

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

  /** Writes a run's record over its previous one; only the run's own recorder calls this. */
  save(record: RunRecord): void {
    makeFolders(this.dir);
    this.write(join(this.dir, recordFile(record.id)), JSON.stringify(record));
  }

  /** Every run, newest first, damaged files among them with their reasons. */
  list(): RunListing[] {
    if (!existsSync(this.dir)) return [];
    // Every write renames a file into the folder, which moves the folder's time: where it has not moved since
    // the index was written, no record changed, and the 10,000 stats are skipped. (A file rewritten in place by
    // some other tool does not move it: such a change shows once anything is next written to the log.)
    const folder = statSync(this.dir, { bigint: true });
    const files = readdirSync(this.dir);
    const names = new Set(files.filter((f) => f.endsWith('.name')));
    const index = this.readIndex();
    const unchanged = index.folderTime === String(folder.mtimeNs);
    const settled = Date.now() - Number(folder.mtimeMs) > SETTLED_MS;
    const fresh = new Map<string, Entry>();
    // A settled folder time the index does not hold yet is worth writing down: the next list is then fast.
    let changed = settled && !unchanged;
    for (const file of files) {
      if (!file.endsWith('.json') || file.startsWith('.')) continue;
      const known = index.entries.get(file);
      if (unchanged && known) {
        fresh.set(file, known);
        continue;
      }
      let stats;
      try {
        stats = statSync(join(this.dir, file));
      } catch {
        continue; // removed while we listed
      }
      let entry = known;
      if (!entry || entry.m !== stats.mtimeMs || entry.s !== stats.size || entry.i !== stats.ino) {
        entry = this.entryFor(file, { m: stats.mtimeMs, s: stats.size, i: stats.ino });
        changed = true;
      }
      fresh.set(file, entry);
    }
    if (changed || fresh.size !== index.entries.size) this.writeIndex(fresh, settled ? String(folder.mtimeNs) : undefined);
    const runs: RunListing[] = [];
    for (const entry of fresh.values()) {
      if (isDamaged(entry.run)) {
        runs.push(entry.run);
        continue;
      }
      let run = entry.run;
      if (run.outcome === 'running' && entry.writer && !writerAlive(entry.writer)) run = { ...run, outcome: 'interrupted' };
      if (names.has(nameFile(run.id))) run = { ...run, name: this.nameOf(run.id) };
      runs.push(run);
    }
    // Plain comparisons: ISO times and ids sort as strings, and localeCompare costs a tenth of the list at 10,000.
    const key = (r: RunListing): string => `${isDamaged(r) ? '' : r.startedAt} ${r.id}`;
    const keys = new Map(runs.map((r) => [r, key(r)]));
    return runs.sort((a, b) => (keys.get(a)! < keys.get(b)! ? 1 : keys.get(a)! > keys.get(b)! ? -1 : 0));
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

  private entryFor(file: string, key: Pick<Entry, 'm' | 's' | 'i'>): Entry {
    const id = file.slice(0, -'.json'.length);
    let text: string;
    try {
      text = readRegularFile(join(this.dir, file), RECORD_MAX).toString('utf8');
    } catch (error) {
      return { ...key, run: { id, damaged: (error as Error).message.replace(`${join(this.dir, file)}: `, '') } };
    }
    const record = parseRecord(file, text, id);
    if (typeof record === 'string') return { ...key, run: { id, damaged: record } };
    // Only a record that says running needs its writer, to tell an interrupted run.
    return { ...key, run: summaryOf(record), ...(record.outcome === 'running' ? { writer: record.writer } : {}) };
  }

  /**
   * The index as last written, or an empty one. Its body is checked against the sha256 in its first line,
   * which it was written with: summaries in an intact index came from records that passed the schema.
   */
  private readIndex(): { entries: Map<string, Entry>; folderTime?: string } {
    try {
      const text = readRegularFile(join(this.dir, INDEX), INDEX_MAX).toString('utf8');
      const newline = text.indexOf('\n');
      const header = JSON.parse(text.slice(0, newline)) as { version?: number; sha256?: string; folderTime?: string };
      const body = text.slice(newline + 1);
      if (header.version !== INDEX_VERSION || header.sha256 !== createHash('sha256').update(body).digest('hex')) return { entries: new Map() };
      return { entries: new Map(Object.entries(JSON.parse(body) as Record<string, Entry>)), folderTime: header.folderTime };
    } catch {
      return { entries: new Map() };
    }
  }

  /** folderTime: the log folder's time the index is current for, where it is settled enough to trust. */
  private writeIndex(entries: Map<string, Entry>, folderTime: string | undefined): void {
    const body = JSON.stringify(Object.fromEntries(entries));
    const header = JSON.stringify({ version: INDEX_VERSION, sha256: createHash('sha256').update(body).digest('hex'), folderTime });
    try {
      makeFolders(join(this.dir, '.index'));
      this.write(join(this.dir, INDEX), `${header}\n${body}`);
    } catch {
      // A full disk or a read-only home: the list is still right, only the next one is slower.
    }
  }
}
