// The run log through the app's API, as the Runs view uses it: a short run on the real worker is listed,
// renamed (a bad name refused in words), compared field by field, run again on its recipe, dataset, backend
// and threads with the card saying identical, and deleted; a missing id or a damaged record is a clear
// answer, never a crash, and every change is published so open pages read the log again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioService } from '@core/service/studioService';
import { SEED_RECIPE, type TrainConfig } from '@shared/training';
import { isDamaged, type ReproCheck, type RunDetail, type RunListing, type RunSummary } from '@shared/runs';
import type { StudioEvent } from '@shared/studioState';
import { tempDir } from '../support/helpers';

const quick: TrainConfig = { ...SEED_RECIPE, backend: 'wasm', epochs: 1, trainLimit: 320, testLimit: 200 };

function harness() {
  const service = new StudioService({ home: tempDir() });
  const events: StudioEvent[] = [];
  service.onEvent((e) => events.push(e));
  const ended = (): Promise<StudioEvent> =>
    new Promise((resolve) => {
      const off = service.onEvent((e) => (e.type === 'done' || e.type === 'error') && (off(), resolve(e)));
    });
  /** The value of a call that must succeed. */
  const value = async <T>(method: string, input: unknown = {}): Promise<T> => {
    const reply = await service.dispatch(method, input);
    assert.ok(reply.ok, `${method}: ${JSON.stringify(reply)}`);
    return reply.value as T;
  };
  return { service, events, ended, value, call: (method: string, input: unknown = {}) => service.dispatch(method, input) };
}

test('a run is listed, renamed with the model-name rule, run again bit for bit, and deleted', { timeout: 180_000 }, async () => {
  const { service, events, ended, value, call } = harness();
  try {
    const end = ended();
    const { runId } = await value<{ runId: string }>('startTraining', quick);
    assert.equal((await end).type, 'done');
    const [listed] = await value<RunListing[]>('runs');
    assert.ok(listed && !isDamaged(listed));
    assert.equal(listed.id, runId);
    assert.equal((listed as RunSummary).outcome, 'finished');
    assert.ok(
      events.some((e) => e.type === 'run-log-changed'),
      'the run reaches open pages as a run-log change',
    );

    const bad = await call('renameRun', { id: runId, name: 'a/b' });
    assert.equal(!bad.ok && bad.error.code, 'bad-request');
    assert.match(!bad.ok ? bad.error.message : '', /^renameRun: name: a name, without \//);
    const seen = service.getState().runLog;
    assert.deepEqual(await value('renameRun', { id: runId, name: '  baseline  ' }), { name: 'baseline' });
    assert.equal(service.getState().runLog, seen + 1);
    assert.equal((await value<{ run: RunDetail }>('run', { id: runId })).run.name, 'baseline');
    // Saving the run's model notes the folder in its record: the card's Open model.
    const { dir } = await value<{ dir: string }>('saveModel', { name: 'kept' });
    assert.equal((await value<{ run: RunDetail }>('run', { id: runId })).run.modelDir, dir);

    const again = ended();
    const rerun = await value<{ runId: string }>('runAgain', { id: runId });
    assert.notEqual(rerun.runId, runId);
    assert.equal((await again).type, 'done');
    const { run, check } = await value<{ run: RunDetail; check?: ReproCheck }>('run', { id: rerun.runId });
    assert.equal(run.reproduces, runId);
    assert.equal(run.backend?.name, 'wasm');
    assert.deepEqual(check, { of: runId, result: 'identical', epochs: 1 });
    const original = (await value<{ run: RunDetail; check?: ReproCheck }>('run', { id: runId })).run;
    assert.deepEqual(
      run.epochs.map((e) => e.test),
      original.epochs.map((e) => e.test),
    );

    assert.deepEqual(await value('deleteRun', { id: rerun.runId }), {});
    assert.deepEqual(
      (await value<RunListing[]>('runs')).map((r) => r.id),
      [runId],
    );
  } finally {
    await service.close();
  }
});

test('a missing id, a malformed id and a damaged record each get one clear answer', async () => {
  const { service, value, call } = harness();
  try {
    const missing = await call('deleteRun', { id: 'run_20240101_nothere' });
    assert.deepEqual(missing, { ok: false, error: { code: 'bad-request', message: 'no run run_20240101_nothere' } });
    const again = await call('runAgain', { id: 'run_20240101_nothere' });
    assert.equal(!again.ok && again.error.message, 'no run run_20240101_nothere');
    const malformed = await call('run', { id: '../../etc/passwd' });
    assert.equal(!malformed.ok && malformed.error.message, 'run: id: not a run id');

    await value('runs'); // the log folder exists once listed
    writeFileSync(join(service.home, 'runlog', 'run_damaged_1.json'), '{"version":1,"id":"run_damaged_1"');
    writeFileSync(join(service.home, 'runlog', 'run_foreign_2.json'), JSON.stringify({ hello: 'world' }));
    const listed = await value<RunListing[]>('runs');
    // Damaged records sort by id, newest first like the rest, each with its reason.
    assert.deepEqual(
      listed.map((r) => r.id),
      ['run_foreign_2', 'run_damaged_1'],
    );
    assert.ok(listed.every((r) => isDamaged(r) && r.damaged.length > 0));
    assert.match(isDamaged(listed[0]!) ? listed[0].damaged : '', /^not a run record/);
    const shown = await call('run', { id: 'run_damaged_1' });
    assert.equal(!shown.ok && shown.error.code, 'bad-data');
    assert.match(!shown.ok ? shown.error.message : '', /^run run_damaged_1 is damaged: /);
    assert.deepEqual(await value('deleteRun', { id: 'run_damaged_1' }), {});
  } finally {
    await service.close();
  }
});
