// What the CLI's commands share about datasets: the request from --data, --input and --mode, the cache
// under the app's home, and import progress on a terminal.
import { join } from 'node:path';
import type { DataRequest } from '@shared/dataset';
import type { InputMode, InputShape } from '@shared/modelSpec';
import type { ImportProgress } from '@core/dataset/folderImport';
import { defaultHome } from '@core/home';

export const dataRequest = (flags: { data?: string; input?: InputShape | string; mode?: InputMode | string }): DataRequest => ({
  dir: flags.data,
  input: flags.input as InputShape | undefined,
  mode: flags.mode as InputMode | undefined,
});

/** Decoded image folders are cached here, as the app does. */
export const cacheDir = (): string => join(defaultHome(), 'datasets');

/** A one-line progress counter on stderr when it is a terminal. */
export function importProgress(): ((p: ImportProgress) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (p) => {
    const text =
      p.phase === 'decoding'
        ? `decoding images: ${p.done} of ${p.total}`
        : p.phase === 'sampling'
          ? `looking at images to choose the input mode: ${p.done} of ${p.total}`
          : p.phase === 'cached'
            ? `${p.total} images from the cache`
            : 'listing the folder';
    const counting = (p.phase === 'decoding' || p.phase === 'sampling') && p.done < p.total;
    process.stderr.write(`\r\x1b[K${text}${counting ? '' : '\n'}`);
  };
}

/** Class counts shown on a `data` line before "and N more": the line stays short at 256 classes. */
const SHOWN_COUNTS = 32;

/** A split's per-class counts on one short line: the classes with images (the first few), and how many have none. */
export function perClassCounts(classes: string[], counts: number[]): string {
  const filled = counts.flatMap((c, l) => (c > 0 ? [`${classes[l]}:${c}`] : []));
  const empty = counts.length - filled.length;
  const more = filled.length - SHOWN_COUNTS;
  return [
    filled.slice(0, SHOWN_COUNTS).join(' ') + (more > 0 ? ` and ${more} more (--json lists every class)` : ''),
    ...(empty ? [`${empty} class${empty === 1 ? '' : 'es'} with none`] : []),
  ].join('; ');
}
