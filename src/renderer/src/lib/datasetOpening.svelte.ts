// Opening a dataset from this page: a folder by its path (or the shell's dialog), a dropped folder, or
// the bundled MNIST. The dataset in hand and an import's progress are the app's state (app.svelte.ts);
// only what is this page's own lives here: its call in flight, its error, and the upload of a dropped
// folder's files (a browser cannot know a dropped folder's path, so they are sent to the app in batches).
import { m } from '@shared/i18n/locale';
import { integer } from './format';
import { errorText } from './texts';
import type { DataRequest, DataSummary } from '@shared/dataset';
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

class DatasetOpening {
  error = $state<string | undefined>();
  /** This page is opening a dataset (the buttons wait). */
  busy = $state(false);
  /** How sending a dropped folder's files is getting on, before the app imports them. */
  uploading = $state<{ phase: 'uploading'; done: number; total: number } | undefined>();
  /** What this page knows of a dataset it uploaded and the app does not: the files it could not send. */
  unsent = $state<{ source: string; note: string } | undefined>();

  async openDataset(request: DataRequest): Promise<void> {
    await this.calling(() => studio.openDataset(request));
  }

  async openBundledDataset(): Promise<void> {
    await this.calling(() => studio.useBundledDataset({}));
  }

  cancel(): void {
    void studio.cancelImport({});
  }

  /** Sends a dropped folder's files to the app, then opens them as a dataset. */
  async openUploadedDataset(files: DroppedFile[], request: Omit<DataRequest, 'dir'>): Promise<void> {
    await this.calling(async () => {
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
      try {
        for (const { path, file } of files) {
          this.uploading = { phase: 'uploading', done: sent++, total: files.length };
          if (file.size > UPLOAD_FILE_MAX) continue; // counted and said in the notes below
          const data = toBase64(new Uint8Array(await file.arrayBuffer()));
          if (size + data.length > UPLOAD_BATCH) await send();
          batch.push({ path, data });
          size += data.length;
        }
        await send();
      } finally {
        this.uploading = undefined;
      }
      if (!dir) throw new Error(m.upload_nothing_small());
      const skipped = files.filter((f) => f.file.size > UPLOAD_FILE_MAX).length;
      const summary = await studio.openDataset({ ...request, dir });
      if (skipped && !('cancelled' in summary))
        this.unsent = {
          source: summary.source,
          note: m.upload_skipped({ count: skipped, n: integer(skipped), kb: integer(UPLOAD_FILE_MAX / 1024) }),
        };
      return summary;
    });
  }

  private async calling(action: () => Promise<DataSummary | { cancelled: true }>): Promise<void> {
    this.busy = true;
    this.error = undefined;
    try {
      await action();
    } catch (e) {
      this.error = errorText(e);
    } finally {
      this.busy = false;
    }
  }
}

export const datasetOpening = new DatasetOpening();

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
