// How numbers read, the same in the app and the CLI.

/** Every percentage the app or the CLI shows: two decimals, as the Flax Quick Start notebook prints accuracy. */
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

/**
 * C0 and C1 controls (\p{Cc}); the bidirectional embeddings, overrides, isolates and marks (ALM, LRM, RLM)
 * that reorder what a terminal or a page shows; and the invisible zero-width space, word joiner and BOM that
 * make one name read as another ("ca\u200bt" as "cat"). A regex character class's body, for the `u` flag.
 * (ZWNJ and ZWJ stay: Persian words and emoji sequences need them.)
 */
export const UNPRINTABLE_CLASS = '\\p{Cc}\\u061c\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060\\u2066-\\u2069\\ufeff';
const UNPRINTABLE = new RegExp(`[${UNPRINTABLE_CLASS}]`, 'gu');
/** What no name a person gives (a model's, a class's) may hold. */
export const NOT_IN_NAMES = new RegExp(`[${UNPRINTABLE_CLASS}]`, 'u');

/** Text from files and folders as one printable line: control characters written as \u escapes. */
export const printable = (text: string): string => text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** A count with its noun, singular for one: `1 image`, `2 images`, `1 class`, `3 classes`. */
export const counted = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
