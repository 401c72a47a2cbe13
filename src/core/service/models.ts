// The model in hand and saved models: its summary and predictions, saving it (never over another
// model or into a folder that is not ours unasked), opening a saved one, and the list of those known.
import { join, resolve } from 'node:path';
import type { SavedModel } from '@shared/api';
import { PREDICT_MAX_IMAGES } from '@shared/apiSchemas';
import { inputLabel, inputSize } from '@shared/modelSpec';
import { folderName, modelHistory, modelSpec } from '@shared/studioState';
import { modelSummary } from '../model/summary';
import { describeModel, foreignFolder, modelsUnder } from '../store/modelFolders';
import { Recents } from '../store/recents';
import { base64, fail, fullPath, type Handlers, type StudioContext } from './context';
import { exportModel } from './exports';

export function modelHandlers(ctx: StudioContext) {
  const recents = new Recents(ctx.home);
  const remember = (dir: string): void => {
    const history = modelHistory(ctx.state);
    recents.add({ dir, at: new Date().toISOString(), epochs: history?.epochs.length ?? 0, testAccuracy: history?.epochs.at(-1)?.test.accuracy });
  };

  return {
    summary: async () => modelSummary(modelSpec(ctx.state)),
    saveModel: ({ dir, name, overwrite }) =>
      ctx.withClaim('save', async () => {
        const { state, options } = ctx;
        if (!state.model) fail('no-model', 'no model: train or open one first');
        const picked = dir === undefined && name === undefined;
        if (picked && !options.pickDirectory) fail('bad-request', 'give the model a name');
        const target = dir !== undefined ? fullPath(dir) : name !== undefined ? join(state.modelsDir, name) : await options.pickDirectory!('save');
        if (!target) return { cancelled: true as const };
        // A name is how people tell their models apart: another model under the same name is not replaced unasked.
        const other = name !== undefined && !overwrite && resolve(target) !== resolve(state.model?.dir ?? '') ? describeModel(target) : undefined;
        if (other)
          fail('model-exists', `a model named ${name} already exists (${other.epochs} epoch${other.epochs === 1 ? '' : 's'}, saved ${other.at.slice(0, 10)})`);
        const foreign = overwrite ? undefined : foreignFolder(target);
        if (foreign) {
          // A folder picked in the native dialog is confirmed natively; pages confirm and call again with overwrite.
          if (!picked || !options.confirm) fail('foreign-folder', foreign);
          if (!(await options.confirm!(`${foreign}. Save there anyway?`))) return { cancelled: true as const };
        }
        const saved = await ctx.trainer.request('saveModel', { dir: target });
        remember(saved.dir);
        // The model a run trained, saved: its record says where, so the Runs view can open it again.
        const recorder = ctx.lastRecorder;
        if (recorder && state.model?.runId === recorder.id) {
          recorder.keptModel(saved.dir);
          ctx.publish({ type: 'run-log-changed' });
        }
        ctx.publish({ type: 'model-saved', dir: saved.dir });
        return saved;
      }),
    openModel: ({ dir }) =>
      ctx.withClaim('open', async () => {
        if (dir === undefined && !ctx.options.pickDirectory) fail('bad-request', "give the model folder's path");
        const target = dir !== undefined ? fullPath(dir) : await ctx.options.pickDirectory!('open');
        if (!target) return { cancelled: true as const };
        const opened = await ctx.trainer.request('openModel', { dir: target, backend: 'auto' });
        const { history, spec, ...backend } = opened;
        ctx.publish({ type: 'backend', backend });
        ctx.publish({
          type: 'model-opened',
          model: { name: folderName(target), dir: target, saved: true, accuracy: history?.epochs.at(-1)?.test.accuracy, history, spec },
        });
        remember(target);
        return { dir: target };
      }),
    savedModels: async () => {
      const all = [...modelsUnder(ctx.state.modelsDir), ...recents.list().map((r): SavedModel => ({ ...r, name: folderName(r.dir) }))];
      return all.filter((m, i) => all.findIndex((n) => n.dir === m.dir) === i).sort((a, b) => b.at.localeCompare(a.at));
    },
    predict: async ({ images }) => {
      const bytes = new Uint8Array(Buffer.from(images, 'base64'));
      // The schema caps the payload at 256 of the largest inputs; this caps it at 256 of the model's own.
      const spec = modelSpec(ctx.state);
      if (bytes.length > PREDICT_MAX_IMAGES * inputSize(spec))
        return fail('bad-request', `predict: at most ${PREDICT_MAX_IMAGES} images of ${inputLabel(spec)} at once`);
      return ctx.trainer.request('predict', { images: bytes });
    },
    exportModel: (input) =>
      exportModel(input, {
        trainer: ctx.trainer,
        model: ctx.state.model,
        training: ctx.operation?.kind === 'run',
        pickFile: ctx.options.pickExportFile,
        fullPath,
        home: ctx.home,
      }),
    testPredictions: async () => {
      const { predicted, labels } = await ctx.trainer.request('testPredictions', {});
      return { predicted: base64(predicted), labels: base64(labels), count: predicted.length };
    },
  } satisfies Partial<Handlers>;
}
