// The dataset in hand: opening one (a folder by path, one uploaded from a browser, or the bundled MNIST),
// cancelling an import, and reading its images. The dataset and its import's progress live in the app's
// state, so a page that reloads mid-import sees both from getState.
import { toStudioError } from '@shared/errors';
import { join } from 'node:path';
import type { DataRequest, DataSummary } from '@shared/dataset';
import type { TrainerClient } from '../trainer/client';
import { readCheckpointMeta, unfinishedRuns } from '../store/checkpoint';
import { Uploads, UploadError } from './uploads';
import { base64, fail, fullPath, type Handlers, type StudioContext } from './context';

export function datasetHandlers(ctx: StudioContext) {
  // The dataset in hand and unfinished runs' datasets may be uploads: those are kept.
  const uploads = new Uploads(join(ctx.home, 'uploads'), () => [
    ...(ctx.data.dir ? [ctx.data.dir] : []),
    ...unfinishedRuns(ctx.runsDir).flatMap((run) => {
      try {
        const meta = readCheckpointMeta(run.dir);
        return meta.data?.dir ?? meta.dataDir ?? [];
      } catch {
        return [];
      }
    }),
  ]);

  return {
    dataset: () => ctx.trainer.request('openDataset', {}),
    openDataset: async (request) => {
      if (!request.dir && !ctx.options.pickDirectory) return fail('bad-request', "this window has no file dialog: type the dataset folder's path or drop it");
      const dir = request.dir !== undefined ? fullPath(request.dir) : await ctx.options.pickDirectory!('dataset');
      if (!dir) return { cancelled: true as const };
      return openDataset(ctx, { ...request, dir });
    },
    useBundledDataset: () => openDataset(ctx, {}),
    uploadDatasetFiles: async ({ upload, files }) => {
      try {
        return uploads.add(
          upload,
          files.map((f) => ({ path: f.path, data: Buffer.from(f.data, 'base64') })),
        );
      } catch (error) {
        if (error instanceof UploadError) return fail('bad-request', `upload: ${error.message}`);
        throw error;
      }
    },
    cancelImport: async () => {
      ctx.trainer.cancelImport();
      return {};
    },
    samples: async ({ split, start, count, indices }) => {
      const rows = indices ?? Array.from({ length: count! }, (_, i) => start! + i);
      const s = await ctx.trainer.request('samples', { split, indices: rows });
      return { images: base64(s.images), labels: s.labels };
    },
    augmentedExamples: async ({ augment, augmentFlip, count, seed = 0 }) => {
      const rows = Array.from({ length: count }, (_, i) => i);
      const s = await ctx.trainer.request('samples', { split: 'train', indices: rows, augment: { strength: augment, flip: augmentFlip, seed } });
      return { images: base64(s.images), labels: s.labels, originals: base64(s.originals!) };
    },
  } satisfies Partial<Handlers>;
}

/** Opens a dataset in the worker and makes it the one in hand; the latest choice wins over an import under way. */
export async function openDataset(ctx: StudioContext, data: DataRequest): Promise<DataSummary> {
  if (ctx.operation?.kind === 'run') fail('busy', 'a run is training: stop it before changing the dataset');
  // An import still under way is cancelled, not left to finish over the choice.
  if (ctx.importing) {
    ctx.trainer.cancelImport();
    await ctx.importing.catch(() => undefined);
  }
  const opening = ctx.trainer.request('openDataset', { data });
  ctx.importing = opening;
  try {
    const summary = await opening;
    ctx.data = data;
    ctx.publish({ type: 'dataset-opened', dataset: summary });
    return summary;
  } catch (error) {
    ctx.publish({ type: 'import-failed', error: toStudioError(error) });
    throw error;
  } finally {
    if (ctx.importing === opening) ctx.importing = undefined;
  }
}

/**
 * A fresh worker (first start, or after a crash) opens the dataset in hand, with the folder cache. One it
 * cannot open leaves the worker on the bundled MNIST, which the state must then say.
 */
export function openFirstDataset(ctx: StudioContext, trainer: TrainerClient): void {
  const opening = trainer.request('openDataset', { data: ctx.data, cacheDir: join(ctx.home, 'datasets') });
  inState(ctx, opening);
  void opening.catch(() => trainer.failed || inState(ctx, trainer.request('openDataset', {})));
}

/** Tells the pages which dataset the worker has in hand (after a resume opened its run's own). */
export function announceDataset(ctx: StudioContext): void {
  inState(ctx, ctx.trainer.request('openDataset', {}));
}

/** Puts a dataset the worker opened on its own in the state; a failure only ends the import's progress. */
function inState(ctx: StudioContext, opening: Promise<DataSummary>): void {
  void opening.then(
    (dataset) => ctx.publish({ type: 'dataset-opened', dataset }),
    (error: unknown) => ctx.state.importing && ctx.publish({ type: 'import-failed', error: toStudioError(error) }),
  );
}
