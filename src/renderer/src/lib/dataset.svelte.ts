// The dataset in hand as the UI sees it: its summary, an import's progress, and how to open another.
// A folder dropped on the page is opened by its path where the shell can tell it (Electron), else its
// files are sent to the app in batches (a browser cannot know a dropped folder's path) and opened there.
import type { DataRequest, DataSummary } from '@shared/dataset';
import type { StudioEvent } from '@shared/api';
import { studio } from './studio';
import { toBase64 } from './images';

export interface DroppedFile {
  /** Path relative to the dropped folder, '/'-separated. */
  path: string;
  file: File;
}

/** Base64 per upload call: the browser host takes messages of at most 1 MiB. */
const UPLOAD_BATCH = 600 * 1024;
/** A single file larger than this cannot travel through the browser host. */
const UPLOAD_FILE_MAX = 700 * 1024;

class DatasetState {
  summary = $state<DataSummary | undefined>();
  progress = $state<{ phase: string; done: number; total: number } | undefined>();
  error = $state<string | undefined>();
  busy = $state(false);
  /** Bumped when another dataset is in hand, for views that show its images. */
  version = $state(0);

  apply(event: StudioEvent): void {
    if (event.type === 'import-progress') this.progress = { phase: event.phase, done: event.done, total: event.total };
    if (event.type === 'dataset-opened') this.set(event.dataset);
  }

  private set(summary: DataSummary): void {
    this.summary = summary;
    this.progress = undefined;
    this.version++;
  }

  async load(): Promise<void> {
    await this.run(() => studio.dataset({}));
  }

  async open(request: DataRequest): Promise<void> {
    await this.run(() => studio.openDataset(request));
  }

  async useBundled(): Promise<void> {
    await this.run(() => studio.useBundledDataset({}));
  }

  cancel(): void {
    void studio.cancelImport({});
  }

  /** Sends a dropped folder's files to the app, then opens them as a dataset. */
  async upload(files: DroppedFile[], request: Omit<DataRequest, 'dir'>): Promise<void> {
    await this.run(async () => {
      let upload: number | undefined,
        dir: string | undefined,
        batch: { path: string; data: string }[] = [],
        size = 0;
      const send = async (): Promise<void> => {
        if (batch.length === 0) return;
        ({ upload, dir } = await studio.uploadDatasetFiles({ upload, files: batch }));
        batch = [];
        size = 0;
      };
      let sent = 0;
      for (const { path, file } of files) {
        this.progress = { phase: 'uploading', done: sent++, total: files.length };
        if (file.size > UPLOAD_FILE_MAX) continue; // counted and said in the notes below
        const data = toBase64(new Uint8Array(await file.arrayBuffer()));
        if (size + data.length > UPLOAD_BATCH) await send();
        batch.push({ path, data });
        size += data.length;
      }
      await send();
      if (!dir) throw new Error('the folder holds no files small enough to send through the browser; open it by its path instead');
      const skipped = files.filter((f) => f.file.size > UPLOAD_FILE_MAX).length;
      const summary = await studio.openDataset({ ...request, dir });
      if (skipped && !('cancelled' in summary))
        summary.notes.push(
          `${skipped} file${skipped === 1 ? ' was' : 's were'} larger than ${UPLOAD_FILE_MAX / 1024} KB and not sent through the browser: open the folder by its path to use them`,
        );
      return summary;
    });
  }

  private async run(action: () => Promise<DataSummary | { cancelled: true }>): Promise<void> {
    this.busy = true;
    this.error = undefined;
    try {
      const result = await action();
      if (!('cancelled' in result)) this.set(result);
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = false;
      this.progress = undefined;
    }
  }
}

export const dataset = new DatasetState();

/** The files of a dropped folder, read through the File and Directory Entries API (links are not followed by browsers). */
export async function filesOfDrop(items: DataTransferItemList): Promise<DroppedFile[] | undefined> {
  const entries = Array.from(items, (item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const folder = entries.length === 1 && entries[0]!.isDirectory ? (entries[0] as FileSystemDirectoryEntry) : undefined;
  if (!folder) return undefined;
  const out: DroppedFile[] = [];
  const walk = async (dir: FileSystemDirectoryEntry, prefix: string, depth: number): Promise<void> => {
    const reader = dir.createReader();
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const entry of batch) {
        if (entry.name.startsWith('.')) continue;
        const path = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory && depth < 9) await walk(entry as FileSystemDirectoryEntry, path, depth + 1);
        else if (entry.isFile) out.push({ path, file: await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)) });
      }
    }
  };
  await walk(folder, '', 0);
  return out;
}

/** The files of a folder picked with <input webkitdirectory>: their paths without the folder's own name. */
export const filesOfPicked = (files: Iterable<File>): DroppedFile[] =>
  Array.from(files, (file) => ({ path: file.webkitRelativePath.split('/').slice(1).join('/') || file.name, file }));
