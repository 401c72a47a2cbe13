// One entry point for every kind of dataset: the bundled MNIST, an IDX folder (with an optional
// classes.txt), or a folder of images named by class.
import type { DataRequest } from '@shared/dataset';
import type { Dataset } from '@shared/dataset';
import { isIdxFolder, readIdxDataset } from './dataset';
import { importFolder, type ImportOptions } from './folderImport';
import { DataError } from './idx';

export async function openDataset(request: DataRequest, options: Omit<ImportOptions, 'mode' | 'input'> = {}): Promise<Dataset> {
  if (!request.dir) {
    if (request.mode || request.input) throw new DataError('bundled MNIST', '--mode and --input apply to image folders only');
    return readIdxDataset();
  }
  if (isIdxFolder(request.dir)) {
    if (request.mode || request.input) throw new DataError(request.dir, 'is an IDX set: --mode and --input apply to image folders only');
    return readIdxDataset(request.dir);
  }
  return importFolder(request.dir, { ...options, mode: request.mode, input: request.input });
}
