// How numbers read, the same in the app and the CLI.

/** Every percentage the app or the CLI shows: two decimals, as the Flax Quick Start notebook prints accuracy. */
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;

// C0 and C1 controls, and the bidirectional overrides and isolates that reorder what a terminal shows.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text from files and folders as one printable line: control characters written as \u escapes. */
export const printable = (text: string): string => text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
