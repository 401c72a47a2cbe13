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
