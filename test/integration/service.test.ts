// The service owns the app's state: one snapshot plus numbered events that fold into exactly it; one
// run at a time, reserved atomically; a run's error frees the service; recipes are checked up front
// against the dataset; the model in hand survives a run that never finished a step; saved models keep
// every step's loss; foreign folders are not written into. All on the real worker and real MNIST.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StudioService } from '@core/service/studioService';
import { SEED_RECIPE, type TrainConfig } from '@shared/training';
import { applyEvent, modelHistory, type StudioEvent, type StudioState } from '@shared/studioState';
import { addLosses, emptySteps, stepCount, MAX_STEP_POINTS } from '@shared/stepLosses';
import { mnist, tempDir, writeLabelled, writeSlice } from '../support/helpers';
import { drawingsFolder } from '../support/imageFolders';
import { RunLog } from '@core/runs/runLog';

const quick: TrainConfig = { ...SEED_RECIPE, backend: 'wasm', epochs: 1, trainLimit: 320, testLimit: 200 };

function harness(options: ConstructorParameters<typeof StudioService>[0] = {}) {
  const service = new StudioService({ home: tempDir(), ...options });
  const events: StudioEvent[] = [];
  service.onEvent((e) => events.push(e));
  const next = (match: (e: StudioEvent) => boolean): Promise<StudioEvent> =>
    new Promise((resolve) => {
      const off = service.onEvent((e) => match(e) && (off(), resolve(e)));
    });
  const call = async (method: string, input: unknown = {}) => service.dispatch(method, input);
  return { service, events, next, call };
}

const digits = (): string => Buffer.from(mnist().test.images.subarray(0, 784 * 4)).toString('base64');

test('step losses keep every step, exactly averaged, in at most MAX_STEP_POINTS points', () => {
  const steps = emptySteps();
  const losses = Array.from({ length: 18_750 }, (_, i) => 1 + (i % 7));
  addLosses(steps, losses);
  assert.equal(stepCount(steps), 18_750);
  assert.ok(steps.means.length <= MAX_STEP_POINTS && steps.means.length > MAX_STEP_POINTS / 4);
  assert.equal(steps.every, 8);
  const total = steps.means.reduce((a, m) => a + m * steps.every, 0) + steps.pendingSum;
  assert.ok(Math.abs(total - losses.reduce((a, b) => a + b, 0)) < 1e-6);
});

test('two startTraining calls at once: exactly one starts, the other is told busy; run ids are unique', async () => {
  const { service, call, next } = harness();
  try {
    const [a, b] = await Promise.all([call('startTraining', quick), call('startTraining', quick)]);
    const oks = [a, b].filter((r) => r.ok);
    assert.equal(oks.length, 1, JSON.stringify([a, b]));
    const refused = [a, b].find((r) => !r.ok)!;
    assert.equal(!refused.ok && refused.error.code, 'busy');
    const first = (oks[0] as { value: { runId: string } }).value.runId;
    await next((e) => e.type === 'done');
    assert.equal(readdirSync(join(service.home, 'runs')).length, 1, 'one checkpoint folder');
    const again = await call('startTraining', quick);
    assert.ok(again.ok);
    assert.notEqual((again as { value: { runId: string } }).value.runId, first);
    await next((e) => e.type === 'done');
  } finally {
    await service.close();
  }
});

test('a page that loads the snapshot and folds in the numbered events holds exactly the service state', async () => {
  const { service, call, next } = harness();
  try {
    const page: StudioState = service.getState();
    let last = page.seq;
    service.onEvent((e) => {
      assert.equal(e.seq, last + 1, 'events are numbered without gaps');
      last = e.seq;
      applyEvent(page, e);
    });
    const phases = new Set<string>();
    const evaluating: number[] = [];
    /** The ETA when the last epoch's evaluation begins: no training is left then, only testing. */
    let etaBeforeLastTest = 0;
    service.onEvent((e) => {
      if (e.type !== 'progress') return;
      phases.add(e.phase);
      if (e.phase === 'evaluating') evaluating.push(e.tested);
      if (e.phase === 'evaluating' && e.epoch === 2 && e.tested === 0) etaBeforeLastTest = e.etaSeconds;
    });
    assert.ok((await call('startTraining', { ...quick, epochs: 2, testLimit: 10_000 })).ok);
    const mid = next((e) => e.type === 'epoch');
    assert.equal(service.getState().status, 'starting');
    await mid;
    const snapshot = service.getState();
    assert.equal(snapshot.status, 'training');
    assert.deepEqual(snapshot.run?.config, { ...quick, epochs: 2, testLimit: 10_000 });
    await next((e) => e.type === 'done');
    const end = service.getState();
    assert.deepEqual(page, end);
    assert.deepEqual([...phases].sort(), ['evaluating', 'saving', 'training']);
    assert.equal(evaluating.at(-1), 10_000, 'evaluation reports its own progress up to the whole test set');
    assert.ok(etaBeforeLastTest > 0 && Number.isFinite(etaBeforeLastTest), `the ETA counts the evaluation still to come (${etaBeforeLastTest})`);
    assert.equal(stepCount(end.run!.steps), 20, 'every step of the run is kept');
    assert.equal(end.model?.saved, false);
    assert.equal(end.model?.runId, end.run?.id);
    assert.equal(modelHistory(end)?.epochs.length, 2);
  } finally {
    await service.close();
  }
});

test('recipes that cannot train are refused up front, with plain messages, and nothing starts', async () => {
  const { service, call, events } = harness({ data: { dir: writeSlice(100, 50) } });
  try {
    const low = await call('startTraining', { ...quick, trainLimit: 10 });
    assert.equal(!low.ok && low.error.message, 'startTraining: trainLimit: at least the batch size, 32');
    const big = await call('startTraining', { ...quick, trainLimit: undefined, batchSize: 128 });
    assert.equal(!big.ok && big.error.message, 'startTraining: batchSize: at most the 100 training images');
    const fraction = await call('startTraining', { ...quick, epochs: 1.5 });
    assert.match(!fraction.ok ? fraction.error.message : '', /epochs: a whole number/);
    assert.deepEqual(
      events.filter((e) => e.type !== 'backend' && e.type !== 'dataset-opened'),
      [],
      'no run was announced',
    );
    assert.equal(service.getState().status, 'idle');
    assert.ok((await call('startTraining', { ...quick, trainLimit: 64 })).ok, 'the service is still free');
  } finally {
    await service.close();
  }
});

test('an error mid-run ends the run: the service is idle with the error, and can train again', async () => {
  const { service, call, next } = harness();
  try {
    const started = await call('startTraining', { ...quick, epochs: 2 });
    assert.ok(started.ok);
    // The run's checkpoint folder is taken away: its first checkpoint cannot be written.
    const dir = join(service.home, 'runs', (started as { value: { runId: string } }).value.runId);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'in the way');
    const failed = await next((e) => e.type === 'error');
    assert.match(failed.type === 'error' ? failed.error.message : '', new RegExp(`${(started as { value: { runId: string } }).value.runId}`));
    const state = service.getState();
    assert.equal(state.status, 'idle');
    assert.equal(state.run?.outcome, 'failed');
    assert.deepEqual(state.error, failed.type === 'error' ? failed.error : undefined);
    assert.equal(state.model?.runId, state.run?.id, 'the steps it did train are the model in hand');
    assert.ok((await call('predict', { images: digits() })).ok);
    assert.ok((await call('startTraining', quick)).ok, 'and a new run starts');
    await next((e) => e.type === 'done');
  } finally {
    await service.close();
  }
});

test('a run that fails before its first step leaves the model in hand as it was', async () => {
  const { service, call, next } = harness();
  try {
    assert.ok((await call('startTraining', quick)).ok);
    await next((e) => e.type === 'done');
    const saved = await call('saveModel', { name: 'first' });
    assert.ok(saved.ok, JSON.stringify(saved));
    const before = await call('predict', { images: digits() });
    // A checkpoint whose weights are damaged: the run is announced, then fails while loading.
    const broken = join(service.home, 'runs', 'run_broken');
    mkdirSync(broken, { recursive: true });
    const good = readdirSync(join(service.home, 'runs')).find((n) => n !== 'run_broken')!;
    for (const name of readdirSync(join(service.home, 'runs', good))) writeFileSync(join(broken, name), readFileSync(join(service.home, 'runs', good, name)));
    const meta = JSON.parse(readFileSync(join(broken, 'checkpoint.json'), 'utf8'));
    meta.history.config.epochs = 3;
    writeFileSync(join(broken, 'checkpoint.json'), JSON.stringify(meta));
    writeFileSync(join(broken, meta.files.params), 'short');
    assert.ok((await call('resumeRun', { dir: broken })).ok);
    const failed = await next((e) => e.type === 'error');
    assert.match(failed.type === 'error' ? failed.error.message : '', /holds 5 bytes/);
    const state = service.getState();
    assert.equal(state.status, 'idle');
    assert.equal(state.model?.name, 'first');
    assert.equal(state.model?.saved, true);
    assert.deepEqual(await call('predict', { images: digits() }), before, 'the worker kept the same weights');
    // Stopped before its first step, on a new engine (another batch size): the same again.
    assert.ok((await call('startTraining', { ...quick, batchSize: 64 })).ok);
    assert.ok((await call('stopTraining')).ok);
    const done = await next((e) => e.type === 'done');
    assert.equal(done.type === 'done' && done.stopped, true);
    assert.equal(service.getState().model?.name, 'first');
    assert.deepEqual(await call('predict', { images: digits() }), before, 'the worker put the weights back');
  } finally {
    await service.close();
  }
});

test('saved models keep every step; opening one restores them; a foreign folder is not written into', async () => {
  const { service, call, next } = harness();
  try {
    assert.ok((await call('startTraining', quick)).ok);
    await next((e) => e.type === 'done');
    const foreign = join(service.home, 'models', 'holiday photos');
    mkdirSync(foreign, { recursive: true });
    writeFileSync(join(foreign, 'history.json'), 'not ours');
    const refused = await call('saveModel', { name: 'holiday photos' });
    assert.equal(!refused.ok && refused.error.code, 'foreign-folder');
    assert.match(!refused.ok ? refused.error.message : '', /not a saved model/);
    assert.equal(readFileSync(join(foreign, 'history.json'), 'utf8'), 'not ours');
    assert.equal(existsSync(join(foreign, 'model.json')), false);
    assert.ok((await call('saveModel', { name: 'holiday photos', overwrite: true })).ok);

    const home = process.env.HOME;
    process.env.HOME = service.home;
    try {
      const opened = await call('openModel', { dir: '~/models/holiday photos' });
      assert.ok(opened.ok, JSON.stringify(opened));
    } finally {
      process.env.HOME = home;
    }
    const state = service.getState();
    assert.equal(state.model?.name, 'holiday photos');
    assert.equal(state.model?.dir, foreign);
    assert.equal(state.model?.history?.steps && stepCount(state.model.history.steps), 10);
    assert.deepEqual(state.model?.history?.config, quick);
    const listed = await call('savedModels');
    assert.ok(listed.ok && (listed.value as { name: string; testAccuracy?: number }[]).some((m) => m.name === 'holiday photos' && m.testAccuracy! > 0));
    const notModel = await call('openModel', { dir: service.home });
    assert.match(!notModel.ok ? notModel.error.message : '', /this folder is not a saved model \(no model\.json\)/);
  } finally {
    await service.close();
  }
});

test('resuming a run made on another dataset opens that dataset for every page', { timeout: 180_000 }, async () => {
  const { call, next, service } = harness();
  try {
    const slice = writeSlice(640, 120);
    assert.ok((await call('openDataset', { dir: slice })).ok);
    // A two-epoch run on the slice, stopped after its first checkpoint.
    const firstEpoch = next((e) => e.type === 'epoch');
    assert.ok((await call('startTraining', { ...quick, epochs: 2, trainLimit: undefined, testLimit: undefined })).ok);
    await firstEpoch;
    const ended = next((e) => e.type === 'done' || e.type === 'error');
    await call('stopTraining');
    await ended;
    const state = await call('getState');
    const run = state.ok && (state.value as StudioState).unfinished[0];
    assert.ok(run, 'the stopped run is unfinished');
    assert.equal((await call('useBundledDataset')).ok, true);

    const opened = next((e) => e.type === 'dataset-opened');
    const done = next((e) => e.type === 'done');
    assert.ok((await call('resumeRun', { dir: run.dir })).ok);
    const event = await opened;
    assert.equal(event.type === 'dataset-opened' && event.dataset.train.count, 640);
    await done;
    const now = await call('dataset');
    assert.equal(now.ok && (now.value as { train: { count: number } }).train.count, 640);
    // Both are in the run log: the stopped run, and its resumption with the epochs of both, on the slice.
    const [resumed, stopped] = new RunLog(service.home).list().map((r) => new RunLog(service.home).get(r.id));
    assert.equal(stopped?.outcome, 'stopped');
    assert.equal(stopped?.epochs.length, 1);
    assert.equal(resumed?.outcome, 'finished');
    assert.deepEqual(resumed?.resumed, { checkpointDir: run.dir, afterEpoch: 1 });
    assert.deepEqual(
      resumed?.epochs.map((e) => e.epoch),
      [1, 2],
    );
    assert.equal(resumed?.dataset.source, slice);
    assert.equal(resumed?.dataset.trainCount, 640);
  } finally {
    await service.close();
  }
});

test('paths typed into a page: ~ is expanded, a relative one is refused in plain words', async () => {
  const { call, service } = harness();
  const home = process.env.HOME;
  try {
    const slice = writeSlice(64, 32);
    process.env.HOME = dirname(slice);
    const viaHome = await call('openDataset', { dir: `~/${basename(slice)}` });
    assert.equal(viaHome.ok && (viaHome.value as { train: { count: number } }).train.count, 64);
    for (const [method, input] of [
      ['openDataset', { dir: basename(slice) }],
      ['openModel', { dir: 'models/x' }],
      ['resumeRun', { dir: './runs/x' }],
    ] as const) {
      const reply = await call(method, input);
      assert.equal(!reply.ok && reply.error.code, 'bad-request', `${method}: ${JSON.stringify(reply)}`);
      assert.match(!reply.ok ? reply.error.message : '', /give the full path \(starting with \/ or ~\)/);
    }
  } finally {
    process.env.HOME = home;
    await service.close();
  }
});

test('while a dataset is being opened a run cannot start on the old one, and the latest choice of dataset wins', async () => {
  const { call, service } = harness();
  try {
    const folder = await drawingsFolder(200, false);
    const importing = call('openDataset', { dir: folder });
    await new Promise((r) => setTimeout(r, 100));
    const start = await call('startTraining', quick);
    assert.equal(!start.ok && start.error.code, 'busy', JSON.stringify(start));
    // Back to MNIST mid-import: the import is cancelled, not left to finish over the choice.
    const bundled = await call('useBundledDataset');
    assert.ok(bundled.ok, JSON.stringify(bundled));
    const first = await importing;
    assert.equal(!first.ok && first.error.code, 'cancelled', JSON.stringify(first).slice(0, 300));
    const now = await call('dataset');
    assert.equal(now.ok && (now.value as { train: { count: number } }).train.count, 60000);
  } finally {
    await service.close();
  }
});

test('saving under the name of another model asks first; the model in hand re-saves under its own name', async () => {
  const { call, next, service } = harness();
  const train = async () => {
    const done = next((e) => e.type === 'done');
    assert.ok((await call('startTraining', quick)).ok);
    await done;
  };
  try {
    await train();
    assert.ok((await call('saveModel', { name: 'keep' })).ok);
    assert.ok((await call('saveModel', { name: 'keep' })).ok, 'the model in hand is the one saved as keep');
    await train();
    const again = await call('saveModel', { name: 'keep' });
    assert.equal(!again.ok && again.error.code, 'model-exists', JSON.stringify(again));
    assert.match(!again.ok ? again.error.message : '', /a model named keep already exists \(1 epoch, saved \d{4}-\d\d-\d\d\)/);
    assert.ok((await call('saveModel', { name: 'keep', overwrite: true })).ok);
    const relative = await call('saveModel', { dir: 'keep2' });
    assert.match(!relative.ok ? relative.error.message : '', /^keep2: give the full path/);
  } finally {
    await service.close();
  }
});

test('a run stopped inside an epoch says how far past its last test it went, in its state and in the saved model', { timeout: 180_000 }, async () => {
  const { call, next, service } = harness();
  try {
    const intoSecond = next((e) => e.type === 'progress' && e.epoch === 2 && e.phase === 'training' && e.step > 0);
    assert.ok((await call('startTraining', { ...quick, epochs: 3, trainLimit: 3200 })).ok);
    await intoSecond;
    const done = next((e) => e.type === 'done');
    await call('stopTraining');
    const event = await done;
    const at = event.type === 'done' ? event.stoppedAt : undefined;
    assert.ok(at && at.epoch === 2 && at.of === 100 && at.step >= 1 && at.step < 100, JSON.stringify(event));
    const state = (await call('getState')) as { ok: true; value: StudioState };
    assert.deepEqual(modelHistory(state.value)?.stoppedAt, at);
    assert.equal(modelHistory(state.value)?.epochs.length, 1);
    const dir = join(tempDir(), 'stopped');
    assert.ok((await call('saveModel', { dir })).ok);
    const saved = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8'));
    assert.deepEqual(saved.stoppedAt, at);
  } finally {
    await service.close();
  }
});

test('a run on a dataset with a class it has no images of keeps that note in its state, for every page', async () => {
  const { call, next, service, events } = harness();
  try {
    // Labels 1 and 2 only: class 0 is in neither split.
    const labels = Array.from({ length: 16 }, (_, i) => 1 + (i % 2));
    assert.ok((await call('openDataset', { dir: writeLabelled(labels, labels.slice(0, 4)) })).ok);
    const page = structuredClone(service.getState());
    const from = events.length;
    assert.ok((await call('startTraining', { ...SEED_RECIPE, backend: 'cpu', epochs: 1, batchSize: 4 })).ok);
    await next((e) => e.type === 'done');
    const notes = ['no training images for "0": the model cannot learn that class', 'no test images for "0": the test accuracy does not cover that class'];
    assert.deepEqual(modelHistory(service.getState())?.notes, notes);
    for (const e of events.slice(from)) applyEvent(page, e);
    assert.deepEqual(modelHistory(page)?.notes, notes);
  } finally {
    await service.close();
  }
});

test('with no model in hand, the model table and spec are those a run would train on the dataset in hand', async () => {
  const { call, service } = harness();
  try {
    const labels = Array.from({ length: 16 }, (_, i) => i % 3);
    assert.ok((await call('openDataset', { dir: writeLabelled(labels, labels.slice(0, 6)) })).ok);
    const summary = await call('summary');
    assert.ok(summary.ok);
    assert.equal((summary.value as { spec: { classes: string[] } }).spec.classes.length, 3, "three classes, not MNIST's ten");
  } finally {
    await service.close();
  }
});

test('a finished run is not resumed, and a run stopped before its first checkpoint leaves no folder behind', async () => {
  const { service, call, next, events } = harness();
  try {
    assert.ok((await call('startTraining', quick)).ok);
    await next((e) => e.type === 'done');
    const runs = join(service.home, 'runs');
    const [finished] = readdirSync(runs);
    const starts = events.filter((e) => e.type === 'run-starting').length;
    const refused = await call('resumeRun', { dir: join(runs, finished!) });
    assert.deepEqual(refused.ok ? undefined : refused.error.code, 'bad-request');
    assert.match(refused.ok ? '' : refused.error.message, /already finished its 1 epoch:/);
    assert.equal(events.filter((e) => e.type === 'run-starting').length, starts, 'nothing was announced');
    assert.equal(service.getState().status, 'idle');
    // Stopped at once: no checkpoint was written, and its empty folder does not stay to pile up.
    assert.ok((await call('startTraining', { ...quick, batchSize: 64 })).ok);
    assert.ok((await call('stopTraining')).ok);
    await next((e) => e.type === 'done');
    assert.deepEqual(readdirSync(runs), [finished]);
  } finally {
    await service.close();
  }
});

test('getState carries the dataset in hand and, while one is being opened, how its import is getting on', { timeout: 120_000 }, async () => {
  const { service, call, next } = harness();
  try {
    // The bundled MNIST the worker starts on is in the state once opened, for a page that loads only the state.
    if (!service.getState().dataset) await next((e) => e.type === 'dataset-opened');
    assert.equal(service.getState().dataset?.source, 'bundled MNIST');
    assert.equal(service.getState().importing, undefined);

    const folder = await drawingsFolder(100, false);
    const progress = next((e) => e.type === 'import-progress');
    const opening = call('openDataset', { dir: folder });
    const first = await progress;
    // A page reloaded mid-import sees the progress in the snapshot, not only in the events it missed.
    const { type: _type, seq: _seq, ...expected } = first as Extract<StudioEvent, { type: 'import-progress' }>;
    assert.deepEqual(service.getState().importing, expected);
    const opened = await opening;
    assert.ok(opened.ok, JSON.stringify(opened).slice(0, 300));
    const state = service.getState();
    assert.deepEqual(state.dataset, opened.value);
    assert.equal(state.dataset?.source, folder);
    assert.equal(state.importing, undefined, 'the import is over');

    // An import that fails leaves the dataset in hand as it was, and no progress behind.
    const broken = join(tempDir(), 'no classes');
    mkdirSync(join(broken, 'only'), { recursive: true });
    const failed = await call('openDataset', { dir: broken });
    assert.equal(failed.ok, false);
    assert.equal(service.getState().importing, undefined);
    assert.equal(service.getState().dataset?.source, folder);
  } finally {
    await service.close();
  }
});

test('a dataset to start with that cannot be opened leaves the bundled MNIST in the state, as the worker has it', { timeout: 30_000 }, async () => {
  const broken = join(tempDir(), 'no classes');
  mkdirSync(join(broken, 'only'), { recursive: true });
  const { service, next } = harness({ data: { dir: broken } });
  try {
    if (!service.getState().dataset) await next((e) => e.type === 'dataset-opened');
    assert.equal(service.getState().dataset?.source, 'bundled MNIST');
    assert.equal(service.getState().importing, undefined);
  } finally {
    await service.close();
  }
});
