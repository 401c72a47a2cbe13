// The trainer worker's dataset in hand: the one opened last, the request it answers, where decoded
// folders are cached, and the import in progress (one at a time, which can be cancelled).
import type { DataRequest, Dataset } from '@shared/dataset';
import { StudioCallError } from '@shared/api';
import { openDataset } from '../dataset/openDataset';
import type { ImportProgress } from '../dataset/folderImport';

const sameRequest = (a: DataRequest, b: DataRequest): boolean => JSON.stringify([a.dir, a.mode, a.input]) === JSON.stringify([b.dir, b.mode, b.input]);

export class DatasetInHand {
  private dataset: Dataset | undefined;
  /** The request the dataset in hand answers (the bundled MNIST until another is opened). */
  private answered: DataRequest = {};
  private cacheDir: string | undefined;
  private importing: AbortController | undefined;

  constructor(private readonly onProgress: (progress: ImportProgress) => void) {}

  /** The dataset in hand, if one was opened. */
  get current(): Dataset | undefined {
    return this.dataset;
  }

  /** The request the dataset in hand answers: what a checkpoint records to open the same data again. */
  get request(): DataRequest {
    return this.answered;
  }

  /** Whether the dataset in hand is the one this request asks for. */
  answers(request: DataRequest): boolean {
    return this.dataset !== undefined && sameRequest(request, this.answered);
  }

  /** Where decoded folders are cached from now on; undefined keeps the folder given before. */
  cacheIn(dir: string | undefined): void {
    this.cacheDir = dir ?? this.cacheDir;
  }

  /** The dataset for a request: the one in hand if it answers it, else opened (imports report progress). */
  async openDataset(request: DataRequest = this.answered): Promise<Dataset> {
    if (this.dataset && this.answers(request)) return this.dataset;
    if (this.importing) throw StudioCallError.of('busy', 'a dataset is being imported: wait for it or cancel it');
    this.importing = new AbortController();
    try {
      this.dataset = await openDataset(request, { cacheDir: this.cacheDir, signal: this.importing.signal, onProgress: this.onProgress });
      this.answered = request;
      return this.dataset;
    } finally {
      this.importing = undefined;
    }
  }

  /** Cancels the import in progress, whose openDataset then fails with 'cancelled'. */
  cancelImport(): void {
    this.importing?.abort();
  }
}
