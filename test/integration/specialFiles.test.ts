// Files that try to hang or exhaust the process. Not regular files where a regular file is expected: a
// FIFO (a read blocks until a writer comes, which may be never) and /dev/zero behind a symlink (a read
// never ends, and memory grows until the process aborts); folders under /proc/self, where a recursive
// mkdir spins forever; a small BMP that decodes huge. Each operation runs in a child process, watched
// from outside with a deadline and a memory ceiling, and must end at once with one clear error or answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { saveModel } from '@core/store/modelStore';
import { saveCheckpoint } from '@core/store/checkpoint';
import { initialParams } from '@core/model/init';
import { IDX_FILES } from '@core/dataset/dataset';
import { SEED_RECIPE } from '@shared/training';
import { StudioService } from '@core/service/studioService';
import { mnist, tempDir, writeSlice } from '../support/helpers';

const DEADLINE_MS = 30_000;
const MAX_RSS_MB = 1024;

/** Runs a command; kills it when it outlives the deadline or its resident memory passes the ceiling. */
function watched(args: string[], maxRssMb = MAX_RSS_MB): Promise<{ code: number | null; stdout: string; stderr: string; killed?: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '',
      killed: string | undefined;
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const kill = (why: string): void => {
      killed ??= why;
      child.kill('SIGKILL');
    };
    const deadline = setTimeout(() => kill(`still running after ${DEADLINE_MS / 1000} s`), DEADLINE_MS);
    const memory = setInterval(() => {
      try {
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
        if (rss > maxRssMb) kill(`resident memory passed ${maxRssMb} MB`);
      } catch {
        // gone already, or not Linux
      }
    }, 100);
    child.on('close', (code) => {
      clearTimeout(deadline);
      clearInterval(memory);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

async function probe(op: string, path: string): Promise<{ ok: boolean; error?: string; value?: unknown }> {
  const r = await watched(['test/support/readProbe.ts', op, path]);
  assert.equal(r.killed, undefined, `${op} ${path}: ${r.killed}`);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const fifo = (path: string): void => void execFileSync('mkfifo', [path]);
const toZero = (path: string): void => symlinkSync('/dev/zero', path);
const history = { config: SEED_RECIPE, backend: 'wasm' as const, epochs: [] };

async function savedModel(withHistory: boolean): Promise<string> {
  const dir = join(tempDir(), 'm');
  await saveModel(dir, initialParams(1), withHistory ? history : undefined);
  return dir;
}

const linux = process.platform === 'linux';

test('model.json or history.json as a FIFO or a link to /dev/zero: refused at once', { skip: !linux && 'needs FIFOs and /dev/zero' }, async () => {
  for (const [name, make, kind] of [
    ['model.json', fifo, 'a FIFO'],
    ['model.json', toZero, 'a character device'],
    ['history.json', fifo, 'a FIFO'],
    ['history.json', toZero, 'a character device'],
  ] as const) {
    const dir = await savedModel(false);
    rmSync(join(dir, name), { force: true });
    if (name === 'model.json') writeFileSync(join(dir, 'history.json'), '{}');
    make(join(dir, name));
    const r = await probe('openModel', dir);
    assert.equal(r.ok, false, `${name} as ${kind} was opened`);
    assert.match(r.error!, new RegExp(`${name.replace('.', '\\.')}: not a regular file \\(${kind}\\)`));
  }
});

test(
  'checkpoint.json or a weights file of a checkpoint as a FIFO or /dev/zero: refused, and not listed as resumable',
  { skip: !linux && 'needs FIFOs' },
  async () => {
    const root = tempDir();
    const params = initialParams(2);
    for (const [name, make] of [
      ['checkpoint.json', fifo],
      ['checkpoint.json', toZero],
      ['params', toZero],
      ['velocity', fifo],
    ] as const) {
      const dir = join(root, `run_${name}_${make.name}`);
      saveCheckpoint(dir, { epoch: 1, rng: [1, 2, 3, 4], history: { ...history, config: { ...SEED_RECIPE, epochs: 3 } }, params, velocity: params });
      const file = name === 'checkpoint.json' ? name : readdirSync(dir).find((f) => f.startsWith(`${name}-`))!;
      rmSync(join(dir, file));
      make(join(dir, file));
      const r = await probe('loadCheckpoint', dir);
      assert.equal(r.ok, false);
      assert.match(r.error!, /not a regular file/);
    }
    assert.deepEqual(await probe('unfinishedRuns', root), { ok: true, value: 2 }, 'the two runs whose checkpoint.json is readable are listed');
  },
);

test('an IDX file or the recent-models list as a FIFO or /dev/zero: refused, or an empty list', { skip: !linux && 'needs FIFOs' }, async () => {
  for (const make of [fifo, toZero]) {
    const dir = writeSlice(10, 10);
    rmSync(join(dir, IDX_FILES.trainLabels));
    make(join(dir, IDX_FILES.trainLabels));
    const r = await probe('readIdxDataset', dir);
    assert.equal(r.ok, false);
    assert.match(r.error!, /train-labels-idx1-ubyte: not a regular file/);
    const home = tempDir();
    make(join(home, 'recent-models.json'));
    assert.deepEqual(await probe('recents', home), { ok: true, value: 0 });
  }
});

test('the decoded-image cache or backend-probe.json as a FIFO or /dev/zero: ignored at once', { skip: !linux && 'needs FIFOs' }, async () => {
  for (const make of [fifo, toZero]) {
    const dir = tempDir();
    make(join(dir, 'k.dataset'));
    assert.deepEqual(await probe('folderCache', dir), { ok: true, value: 'no cache' });
    const probeFile = join(tempDir(), 'backend-probe.json');
    make(probeFile);
    assert.deepEqual(await probe('autoChoice', probeFile), { ok: true, value: 'wasm' }, 'probed afresh');
  }
});

test('a no-follow read refuses a symbolic link, to a file outside or to a device', { skip: !linux && 'needs symlinks and /dev/zero' }, async () => {
  const dir = tempDir();
  writeFileSync(join(tempDir(), 'secret'), 'secret');
  const outside = join(dir, 'outside.png');
  symlinkSync(join(dir, '..', 'secret'), outside);
  writeFileSync(join(dir, 'plain.png'), 'plain');
  assert.deepEqual(await probe('readNoFollow', join(dir, 'plain.png')), { ok: true, value: 5 });
  for (const link of [outside, join(dir, 'zero.png')]) {
    if (link.endsWith('zero.png')) toZero(link);
    const r = await probe('readNoFollow', link);
    assert.equal(r.ok, false);
    assert.match(r.error!, /a symbolic link \(not followed\)/);
  }
});

test('cli predict on a FIFO or a link to /dev/zero: one error line each, and the other files still answered', { skip: !linux && 'needs FIFOs' }, async () => {
  const model = await savedModel(true);
  const dir = tempDir();
  fifo(join(dir, 'fifo.png'));
  toZero(join(dir, 'zero.png'));
  const digit = join(dir, 'digit.png');
  await sharp(Buffer.from(mnist().test.images.subarray(0, 784)), { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(digit);
  const r = await watched(['src/cli/index.ts', 'predict', '--model', model, join(dir, 'fifo.png'), join(dir, 'zero.png'), digit]);
  assert.equal(r.killed, undefined, r.killed);
  assert.equal(r.code, 2, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `error: ${join(dir, 'fifo.png')}: not a regular file (a FIFO)`,
    `error: ${join(dir, 'zero.png')}: not a regular file (a character device)`,
  ]);
  assert.match(r.stdout, /digit\.png: \d \(/);
});

test('saving a model or a checkpoint under /proc/self (where mkdir -p spins forever) fails at once', { skip: !linux && 'needs /proc' }, async () => {
  for (const [op, path] of [
    ['saveModel', '/proc/self/x/model'],
    ['saveCheckpoint', '/proc/self/x'],
    ['addRecent', '/proc/self/x'],
  ] as const) {
    const r = await probe(op, path);
    assert.equal(r.ok, false, op);
    assert.match(r.error!, /\/proc\/self\/x: cannot be created \(ENOENT\)/, op);
  }
  const cli = await watched([
    'src/cli/index.ts',
    'train',
    '--epochs',
    '1',
    '--train-limit',
    '64',
    '--test-limit',
    '32',
    '--backend',
    'wasm',
    '--out',
    '/proc/self/x',
  ]);
  assert.equal(cli.killed, undefined, cli.killed);
  assert.equal(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /^error: .*\/proc\/self\/x: cannot be created \(ENOENT\)\n$/m);
});

/** A w x h 1-bit BMP (a ring of ink on white): tiny on disk, huge once decoded. */
function oneBitBmp(w: number, h: number): Buffer {
  const row = Math.ceil(w / 32) * 4,
    size = 62 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0);
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(62, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(1, 28);
  b.writeUInt32LE(row * h, 34);
  b.writeUInt32LE(2, 46);
  b.writeUInt32LE(0x00ffffff, 58); // palette: 0 black, 1 white
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const r = Math.hypot(x - w / 2, y - h / 2) / Math.min(w, h);
      if (r < 0.25 || r > 0.32) b[62 + y * row + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  return b;
}

test('a 6000x6000 1-bit BMP (4.5 MB) is shrunk like any other image: bounded memory and time', { skip: !linux && 'reads /proc' }, async () => {
  const model = await savedModel(true);
  const file = join(tempDir(), 'huge.bmp');
  writeFileSync(file, oneBitBmp(6000, 6000));
  // The CLI with its trainer worker and engine takes ~400 MB; the decoded image may add its RGBA once.
  const r = await watched(['src/cli/index.ts', 'predict', '--model', model, '--backend', 'wasm', file], 800);
  assert.equal(r.killed, undefined, r.killed);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /huge\.bmp: \d \(/);
});

test(
  'the app reading a picked image that is a FIFO or a link to /dev/zero: a typed error, at once',
  { skip: !linux && 'needs FIFOs', timeout: 30_000 },
  async () => {
    const dir = tempDir();
    fifo(join(dir, 'fifo.png'));
    toZero(join(dir, 'zero.png'));
    const service = new StudioService({ home: tempDir(), pickImages: async () => [join(dir, 'fifo.png'), join(dir, 'zero.png')] });
    try {
      const picked = await service.dispatch('openImages', {});
      assert.equal(picked.ok, true);
      const batch = picked.ok ? (picked.value as { batch: number }).batch : 0;
      for (const [index, kind] of [
        [0, 'a FIFO'],
        [1, 'a character device'],
      ] as const) {
        const reply = await service.dispatch('openedImage', { batch, index });
        assert.deepEqual(reply, { ok: false, error: { code: 'bad-request', message: `${index ? 'zero' : 'fifo'}.png: not a regular file (${kind})` } });
      }
    } finally {
      await service.close();
    }
  },
);
