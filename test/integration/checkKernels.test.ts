// check-kernels rebuilds every committed kernel binary and fails on one that no longer matches its source:
// here a copy of resources/ with one byte of the native addon changed, and the same copy intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/helpers';

const compilers = spawnSync('sh', ['-c', 'command -v clang-16 && command -v wasm-ld-16 && command -v ld.lld-16']).status === 0;

test('check-kernels passes the committed binaries and names a stale native addon', { skip: !compilers && 'clang-16 and lld-16 are not installed' }, () => {
  const dir = tempDir();
  for (const part of ['kernels', 'native']) cpSync(join('resources', part), join(dir, part), { recursive: true });
  const check = () => spawnSync('bash', ['scripts/check-kernels.sh'], { encoding: 'utf8', env: { ...process.env, KERNELS_DIR: dir } });
  const fresh = check();
  assert.equal(fresh.status, 0, fresh.stderr);
  assert.match(fresh.stdout, /native\/linux-x64\/cnn\.node matches its source/);
  const addon = join(dir, 'native', 'linux-x64', 'cnn.node');
  const bytes = readFileSync(addon);
  bytes[bytes.length >> 1]! ^= 1;
  writeFileSync(addon, bytes);
  const stale = check();
  assert.equal(stale.status, 1);
  assert.match(stale.stderr, /native\/linux-x64\/cnn\.node is stale: run npm run build:kernels and commit it/);
  assert.match(stale.stdout, /kernels\/cnn\.wasm matches its source/);
});
