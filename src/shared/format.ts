// How numbers read, the same in the app and the CLI.

/** Every percentage the app or the CLI shows: two decimals, as the Flax Quick Start notebook prints accuracy. */
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;
