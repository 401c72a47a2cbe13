// What a list shows of a run (its summary) and the record it was made from: written as one line of its
// writer's journal (summaryJournal.ts) after each record, so listing 10,000 runs never opens (or validates)
// the big records. The record stays the truth: a summary that does not name the record now on disk (older,
// newer, a crash between the two writes, someone else's line) is passed over for the record.
// The checks are by hand: zod costs more per summary than the whole list may spend on one.
import { statSync } from 'node:fs';
import { BACKEND_CHOICES, BACKEND_NAMES, type EpochMetrics } from '@shared/training';
import { RECIPE_FIELDS } from '@shared/recipe';
import { RUN_OUTCOMES, type RunRecord, type RunSummary } from '@shared/runs';
import type { Writer } from './writer';

/** Per-run summary files, kept beside the records by development builds before the journals: ignored, and removed with their run. */
export const summaryFile = (id: string): string => `${id}.summary.json`;
export const SUMMARY_SUFFIX = '.summary.json';
/** A summary is a few hundred bytes; its dataset source may be a long folder path. */
export const SUMMARY_MAX = 64 * 1024;

/** Which file a record is: a new inode, size and time with every write. */
export type FileKey = { m: number; s: number; i: number };
export const keyOf = (stats: { mtimeMs: number; size: number; ino: number }): FileKey => ({ m: stats.mtimeMs, s: stats.size, i: stats.ino });
export const sameKey = (a: FileKey, b: FileKey): boolean => a.m === b.m && a.s === b.s && a.i === b.i;

/** What a journal line holds: the run, the record it describes, what a list shows, and (for a running run) its writer. */
export interface SummaryFile {
  id: string;
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

/** The summary line's text for a record just written to `recordPath`; the id comes first, to be found unparsed. */
export function summaryText(record: RunRecord, recordPath: string): string {
  const file: SummaryFile = {
    id: record.id,
    record: keyOf(statSync(recordPath)),
    run: summaryOf(record),
    ...(record.outcome === 'running' ? { writer: record.writer } : {}),
  };
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

/** The summary in a journal line where it describes the record `record` of run `id`; else undefined. */
export function parseSummary(text: string, id: string, record: FileKey): SummaryFile | undefined {
  if (text.length > SUMMARY_MAX) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(json) || json.id !== id || !isKey(json.record) || !sameKey(json.record, record) || !isSummary(json.run, id)) return undefined;
  if (json.run.outcome === 'running' && !isWriter(json.writer)) return undefined;
  return json as unknown as SummaryFile;
}
