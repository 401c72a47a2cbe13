// The person's settings (the language), kept as a small JSON file in the app's home folder, so a restart,
// a reload or a second window shows the same. A missing or damaged file means the defaults, never an error.
import { join } from 'node:path';
import { LOCALE_CHOICES } from '@shared/i18n/locale';
import { DEFAULT_SETTINGS, type Settings } from '@shared/studioState';
import { makeFolders, readRegularFile, writeDurably } from './files';

/** A settings file is a few dozen bytes; anything much larger is not ours. */
const MAX_BYTES = 64 * 1024;

export const settingsFile = (home: string): string => join(home, 'settings.json');

export function readSettings(home: string): Settings {
  try {
    const saved = JSON.parse(readRegularFile(settingsFile(home), MAX_BYTES).toString('utf8')) as Partial<Settings>;
    const locale = LOCALE_CHOICES.find((choice) => choice === saved?.locale);
    return { ...DEFAULT_SETTINGS, ...(locale ? { locale } : {}) };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export function writeSettings(home: string, settings: Settings): void {
  makeFolders(home);
  writeDurably(settingsFile(home), JSON.stringify(settings, null, 2));
}
