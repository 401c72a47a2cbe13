// What SIGKILL does to saves: repeated kills of a process mid-save always leave exactly the old or the
// new model in the folder, never a mixture or a broken one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openModel, saveModel } from '@core/store/modelStore';
import { initialParams } from '@core/model/init';
import { tempDir } from '../support/helpers';

test('a save killed at any moment leaves the old model or the new one, whole', async () => {
  const dir = join(tempDir(), 'model');
  const [a, b] = [initialParams(1), initialParams(2)];
  await saveModel(dir, a);
  const seen = new Set<string>();
  for (let round = 0; round < 12; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/saveLoop.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    // Wait for one to three finished saves (so the last finished one is a, then b, then a...), then kill it
    // a few milliseconds into the next: timed from saves, not from a clock, so a slow machine still sees both.
    const saves = 1 + (round % 3);
    await new Promise<void>((resolve) => {
      let text = '';
      child.stdout!.on('data', (chunk) => {
        text += chunk;
        if ((text.match(/^saved /gm) ?? []).length >= saves) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, (round * 7) % 20));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const { params } = await openModel(dir);
    const which = params.every((v, i) => v === a[i]) ? 'a' : params.every((v, i) => v === b[i]) ? 'b' : 'neither';
    assert.notEqual(which, 'neither', `round ${round}: the folder holds neither model`);
    seen.add(which);
  }
  // Both outcomes happened, so kills really landed between and during saves.
  assert.equal(seen.size, 2);
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout!.on('data', (c) => (stdout += c));
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

test('a run killed with SIGKILL resumes from its checkpoint and ends with the same numbers', async () => {
  const root = tempDir();
  const recipe = ['--epochs', '3', '--train-limit', '1600', '--test-limit', '300', '--backend', 'wasm', '--threads', '2', '--json'];
  const whole = await cli(['train', ...recipe, '--out', join(root, 'whole')]);
  assert.equal(whole.code, 0);

  // The same run, killed as soon as its first epoch (and so its first checkpoint) is done.
  const checkpoint = join(root, 'checkpoint');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'train', ...recipe, '--checkpoint', checkpoint], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let seen = '';
  await new Promise<void>((resolve) => {
    child.stdout!.on('data', (chunk) => {
      seen += chunk;
      if (seen.split('\n').some((l) => l.startsWith('{"type":"epoch","epoch":1,'))) resolve();
    });
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.ok(!seen.includes('"epoch":3,'), 'the run was killed before it finished');

  const resumed = await cli(['train', '--resume', checkpoint, '--backend', 'wasm', '--threads', '2', '--json', '--out', join(root, 'resumed')]);
  assert.equal(resumed.code, 0);
  assert.match(resumed.stdout, /"resumedAt":1/);
  const a = await openModel(join(root, 'whole')),
    b = await openModel(join(root, 'resumed'));
  const metrics = (h: typeof a.history) => h!.epochs.map((e) => [e.epoch, e.train, e.test]);
  assert.equal(b.history!.epochs.length, 3);
  assert.deepEqual(metrics(b.history), metrics(a.history));
  assert.deepEqual(b.params, a.params);
});
