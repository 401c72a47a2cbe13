// A run's summary beside its record (ID.summary.json): the few fields a list shows, written by the record's
// own writer right after each record, so listing 10,000 runs never opens (or validates) the big records.
// The record stays the truth: the summary names the record it was made from (its size, time and inode, which
// every write changes, since each write renames a new file in), and a summary that does not name the record
// now on disk (older, newer, a crash between the two writes, someone else's file) is passed over for the record.
// The checks are by hand: zod costs more per summary than the whole list may spend on one.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { BACKEND_CHOICES, BACKEND_NAMES, type EpochMetrics } from '@shared/training';
import { RECIPE_FIELDS } from '@shared/recipe';
import { RUN_OUTCOMES, type RunRecord, type RunSummary } from '@shared/runs';
import type { Writer } from './writer';

export const summaryFile = (id: string): string => `${id}.summary.json`;
export const SUMMARY_SUFFIX = '.summary.json';
/** A summary is a few hundred bytes; its dataset source may be a long folder path. */
export const SUMMARY_MAX = 64 * 1024;

// O_NONBLOCK: a FIFO put in a summary's place opens at once (and is then refused), never hangs the list.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
const buffer = Buffer.allocUnsafe(SUMMARY_MAX + 1);

/**
 * A summary file's text, or undefined where there is none, or it is not a small regular file. Leaner than
 * readRegularFile (no stat before the open, no error made for a missing file), as it runs once per run.
 */
export function readSummaryText(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.size > SUMMARY_MAX) return undefined;
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    return length > SUMMARY_MAX ? undefined : buffer.toString('utf8', 0, length);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Which file a record is: a new inode, size and time with every write. */
export type FileKey = { m: number; s: number; i: number };
export const keyOf = (stats: { mtimeMs: number; size: number; ino: number }): FileKey => ({ m: stats.mtimeMs, s: stats.size, i: stats.ino });
export const sameKey = (a: FileKey, b: FileKey): boolean => a.m === b.m && a.s === b.s && a.i === b.i;

/** What a summary file holds: the record it describes, what a list shows, and (for a running run) its writer. */
export interface SummaryFile {
  record: FileKey;
  run: RunSummary;
  writer?: Writer;
}

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

/** The summary file's text for a record just written to `recordPath`. */
export function summaryText(record: RunRecord, recordPath: string): string {
  const file: SummaryFile = { record: keyOf(statSync(recordPath)), run: summaryOf(record), ...(record.outcome === 'running' ? { writer: record.writer } : {}) };
  return JSON.stringify(file);
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isText = (v: unknown, most: number): v is string => typeof v === 'string' && v.length <= most;
export const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v);
const WRITTEN = new Set<unknown>(RUN_OUTCOMES.filter((o) => o !== 'interrupted'));
const BACKENDS = new Set<unknown>(BACKEND_NAMES);
const CHOICES = new Set<unknown>(BACKEND_CHOICES);

export const isKey = (v: unknown): v is FileKey => isObject(v) && isNumber(v.m) && isNumber(v.s) && isNumber(v.i);
const isConfig = (v: unknown): boolean =>
  isObject(v) &&
  CHOICES.has(v.backend) &&
  RECIPE_FIELDS.every((f) => (f.optional && v[f.key] === undefined) || (isNumber(v[f.key]) && (v[f.key] as number) >= f.min && (v[f.key] as number) <= f.max));
const isMetrics = (v: unknown): v is Record<string, unknown> => isObject(v) && isNumber(v.loss) && isNumber(v.accuracy);
const isEpoch = (v: unknown): v is EpochMetrics =>
  isObject(v) &&
  Number.isInteger(v.epoch) &&
  isMetrics(v.train) &&
  isMetrics(v.test) &&
  Number.isInteger(v.test.count) &&
  isNumber(v.examplesPerSecond) &&
  isNumber(v.seconds);
export const isWriter = (v: unknown): v is Writer => isObject(v) && Number.isInteger(v.pid) && isText(v.host, 256) && optional(v.started, (s) => isText(s, 64));

/** Whether `run` has every field a list shows, of the kind it shows: a summary of run `id`. */
export function isSummary(v: unknown, id: string): v is RunSummary {
  return (
    isObject(v) &&
    v.id === id &&
    isText(v.startedAt, 64) &&
    optional(v.endedAt, (t) => isText(t, 64)) &&
    WRITTEN.has(v.outcome) &&
    isConfig(v.config) &&
    optional(v.backend, (b) => BACKENDS.has(b)) &&
    isText(v.dataset, 4096) &&
    Number.isInteger(v.epochs) &&
    (v.epochs as number) >= 0 &&
    optional(v.final, isEpoch) &&
    isNumber(v.wallSeconds) &&
    v.wallSeconds >= 0
  );
}

/** The summary in a summary file's text where it describes the record `record` of run `id`; else undefined. */
export function parseSummary(text: string, id: string, record: FileKey): SummaryFile | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(json) || !isKey(json.record) || !sameKey(json.record, record) || !isSummary(json.run, id)) return undefined;
  if (json.run.outcome === 'running' && !isWriter(json.writer)) return undefined;
  return json as unknown as SummaryFile;
}
