// The app's languages and how a system locale maps onto one. Paraglide's generated runtime holds the current
// locale for message functions; this module is the one place that decides which locale that is.
import { baseLocale, getLocale, isLocale, locales, setLocale, type Locale } from './paraglide/runtime.js';

export { getLocale, locales, type Locale };
export { m } from './paraglide/messages.js';

/** The app's language for a BCP 47 tag such as Electron's `app.getLocale()` or `navigator.language`
 * ("ko-KR" → ko); English where the app has no such language. */
export function localeFor(tag: string | undefined): Locale {
  const language = (tag ?? '').toLowerCase().split(/[-_]/)[0] ?? '';
  return isLocale(language) ? language : baseLocale;
}

/** Makes `locale` the one message functions and `Intl` formatting use in this realm. */
export function useLocale(locale: Locale): void {
  setLocale(locale, { reload: false });
}

/** What the person chose in the language picker: a language, or whatever the system's is. */
export type LocaleChoice = Locale | 'system';
export const LOCALE_CHOICES = ['system', ...locales] as [LocaleChoice, ...LocaleChoice[]];

/** The language a choice means here, given the system's tag (app.getLocale(), navigator.language). */
export const chosenLocale = (choice: LocaleChoice, systemTag: string | undefined): Locale => (choice === 'system' ? localeFor(systemTag) : choice);
