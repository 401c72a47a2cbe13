// Image files the user picked in the shell's dialog (Electron): the page gets their names, then reads
// each through openedImage, which reads only files of a batch picked here.
import { basename } from 'node:path';
import { MAX_IMAGE_BYTES } from '@shared/imageCheck';
import { readRegularFileAsync } from '../store/files';
import { fail, type Handlers, type StudioContext } from './context';

export function imageHandlers(ctx: StudioContext) {
  /** Files the user picked through openImages, by batch: the only paths openedImage will read. */
  const picked = new Map<number, string[]>();
  let nextBatch = 1;
  return {
    openImages: async () => {
      const files = ctx.options.pickImages ? await ctx.options.pickImages() : undefined;
      if (!files || files.length === 0) return { cancelled: true as const };
      const batch = nextBatch++;
      picked.set(batch, files);
      const names = files.map((f) => basename(f));
      ctx.publish({ type: 'images-opened', batch, names });
      return { batch, names };
    },
    openedImage: async ({ batch, index }) => {
      const file = picked.get(batch)?.[index];
      if (!file) return fail('bad-request', `no picked image ${batch}/${index}`);
      const bytes = await readRegularFileAsync(file, MAX_IMAGE_BYTES, (_file, problem) => fail('bad-request', `${basename(file)}: ${problem}`));
      return { name: basename(file), data: bytes.toString('base64') };
    },
  } satisfies Partial<Handlers>;
}
