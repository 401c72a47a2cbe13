// The app's languages and how a system locale maps onto one. Paraglide's generated runtime holds the current
// locale for message functions; this module is the one place that decides which locale that is.
import { baseLocale, isLocale, locales, setLocale, type Locale } from './paraglide/runtime.js';

export { locales, type Locale };
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
