// What SIGKILL does to saves: repeated kills of a process mid-save always leave exactly the old or the
// new model in the folder, never a mixture or a broken one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openModel, saveModel } from '../src/main/core/store/modelStore';
import { initialParams } from '../src/main/core/model/init';
import { tempDir } from './helpers';

test('a save killed at any moment leaves the old model or the new one, whole', async () => {
  const dir = join(tempDir(), 'model');
  const [a, b] = [initialParams(1), initialParams(2)];
  await saveModel(dir, a);
  const seen = new Set<string>();
  for (let round = 0; round < 12; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/saveLoop.ts', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    // Let it save a few times, then kill it somewhere in the middle of one.
    await new Promise((r) => setTimeout(r, 40 + ((round * 53) % 160)));
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
