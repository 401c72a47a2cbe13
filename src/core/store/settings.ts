// The person's settings (the language), kept as a small JSON file in the app's home folder, so a restart,
// a reload or a second window shows the same. A missing file means the defaults; a damaged one means the
// defaults and one line saying why, never a failed start.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { LOCALE_CHOICES } from '@shared/i18n/locale';
import { DEFAULT_SETTINGS, type Settings } from '@shared/studioState';
import { FileReadError, makeFolders, readRegularFile, writeDurably } from './files';

/** A settings file is a few dozen bytes; anything much larger is not ours. */
const MAX_BYTES = 64 * 1024;

export const settingsFile = (home: string): string => join(home, 'settings.json');

const note = (line: string): void => void process.stderr.write(`note: ${line}\n`);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The saved file's object, or why there is none (undefined where there is simply no file yet). */
function savedObject(file: string): { saved: Record<string, unknown> } | { problem: string | undefined } {
  let text: string;
  try {
    text = readRegularFile(file, MAX_BYTES).toString('utf8');
  } catch (error) {
    return { problem: error instanceof FileReadError && error.problem === 'not found' ? undefined : (error as Error).message };
  }
  try {
    const saved: unknown = JSON.parse(text);
    return isObject(saved) ? { saved } : { problem: `${file}: not a JSON object` };
  } catch {
    return { problem: `${file}: not JSON` };
  }
}

export function readSettings(home: string, warn: (line: string) => void = note): Settings {
  const file = settingsFile(home);
  const read = savedObject(file);
  if (!('saved' in read)) {
    if (typeof read.problem === 'string') warn(`${read.problem}; the default settings are used`);
    return { ...DEFAULT_SETTINGS };
  }
  const { saved } = read;
  const locale = LOCALE_CHOICES.find((choice) => choice === saved.locale);
  if (!locale && saved.locale !== undefined) warn(`${file}: a language this app does not have; the system's is used`);
  return { ...DEFAULT_SETTINGS, ...(locale ? { locale } : {}) };
}

/** Saves the settings, keeping any key this version does not know (a newer version's), so nothing saved is lost. */
export function writeSettings(home: string, settings: Settings): void {
  makeFolders(home);
  const file = settingsFile(home);
  let inPlace;
  try {
    inPlace = lstatSync(file);
  } catch {
    // no file yet
  }
  if (inPlace?.isDirectory()) throw new FileReadError(file, 'a folder is in its place, so the settings cannot be saved');
  const read = savedObject(file);
  const kept = 'saved' in read ? read.saved : {};
  writeDurably(file, JSON.stringify({ ...kept, ...settings }, null, 2));
}
