// Malformed payloads on every API method, straight into the service (as Electron's IPC delivers them,
// NaN and all) and through the browser host's WebSocket (as JSON). Every one is refused with a typed
// error, and the app keeps working afterwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { API_METHODS, type ApiMethod } from '@shared/api';
import { StudioService } from '@core/service/studioService';
import { startBrowserHost } from '../../src/host/browserHost';
import { SEED_RECIPE } from '@shared/training';
import { tempDir } from '../support/helpers';
import { kernelsProblem } from '@core/backend/backends';

const huge = 'x'.repeat(2_000_000);
/** Wrong for every method: not an object, or an object no schema accepts. */
const common: unknown[] = [
  null,
  42,
  -1,
  NaN,
  Infinity,
  'ping',
  huge,
  true,
  [],
  [1, 2, 3],
  { extra: 1 },
  JSON.parse('{"__proto__":{"admin":true},"extra":1}'),
  new Array(100000).fill(0),
  { '': '' },
  { toString: 'x' },
  { constructor: { prototype: { admin: true } } },
  { nested: { deeper: { deepest: huge } } },
  { a: NaN, b: -Infinity },
  Object.fromEntries(Array.from({ length: 10000 }, (_, i) => [`k${i}`, i])),
  { dir: '/tmp', split: 'test', images: 'AAAA', epochs: 1, batch: 1, index: 0, extra: true },
];

const goodTrain = { ...SEED_RECIPE, epochs: 1, trainLimit: 64, testLimit: 32 };
const file = (path: unknown, data: unknown = 'AAAA') => ({ files: [{ path, data }] });
/** Run ids that are not ids (a path, another file of the log, nothing); a well-formed missing one is covered in runsApi. */
const runIds: unknown[] = [
  {},
  { id: '' },
  { id: '../runs' },
  { id: 'run_../../x' },
  { id: 'run_a.name' },
  { id: 42 },
  { id: `run_${'x'.repeat(100)}` },
  { id: 'run_1', x: 1 },
];
const specific: Partial<Record<ApiMethod, unknown[]>> = {
  openDataset: [
    { dir: '' },
    { dir: 'a\0b' },
    { dir: 42 },
    { mode: 'sketch' },
    { input: { height: 30, width: 30, channels: 1 } },
    { input: '32x32x3' },
    { dir: '/tmp', classes: ['a'] },
  ],
  uploadDatasetFiles: [
    file('../escape.png'),
    file('/etc/passwd'),
    file('a//b.png'),
    file('a\\..\\b.png'),
    file('a/./b.png'),
    file('cls/x\0.png'),
    file('cls/new\nline.png'),
    file(`${'d/'.repeat(12)}x.png`),
    file('cls/x.png', 'not base64!'),
    file('cls/x.png', 42),
    { files: [] },
    { files: Array.from({ length: 1001 }, (_, i) => ({ path: `c/${i}.png`, data: '' })) },
    { upload: 999, files: [{ path: 'c/x.png', data: '' }] },
    { upload: 0, files: [{ path: 'c/x.png', data: '' }] },
  ],
  samples: [
    { split: 'validation', start: 0, count: 1 },
    { split: 'test', start: -1, count: 1 },
    { split: 'test', start: 0, count: 0 },
    { split: 'test', start: 0, count: 1e6 },
    { split: 'test', start: 0.5, count: 2 },
    { split: 'test', indices: [] },
    { split: 'test', indices: [-1] },
    { split: 'test', indices: new Array(5000).fill(1) },
    { split: 'test', start: 0, count: 2, indices: [1] },
    { split: 'test' },
    { split: 'test', start: NaN, count: 1 },
  ],
  augmentedExamples: [
    { augment: 'none', count: 4 },
    { augment: 'heavy', count: 4 },
    { augment: 'light', count: 0 },
    { augment: 'light', count: 65 },
    { augment: 'light', count: 1.5 },
    { augment: 'light' },
    { count: 4 },
    { augment: 'light', count: 4, seed: -1 },
    { augment: 'light', count: 4, seed: 2 ** 40 },
    { augment: 'light', count: 4, augmentFlip: 1 },
  ],
  startTraining: [
    { ...goodTrain, epochs: -1 },
    { ...goodTrain, epochs: 0 },
    { ...goodTrain, epochs: 1e9 },
    { ...goodTrain, epochs: NaN },
    { ...goodTrain, epochs: '10' },
    { ...goodTrain, batchSize: 0 },
    { ...goodTrain, batchSize: 1e6 },
    { ...goodTrain, learningRate: 0 },
    { ...goodTrain, learningRate: -0.01 },
    { ...goodTrain, learningRate: Infinity },
    { ...goodTrain, momentum: 1 },
    { ...goodTrain, momentum: -0.5 },
    { ...goodTrain, seed: -1 },
    { ...goodTrain, seed: 2 ** 40 },
    { ...goodTrain, seed: 1.5 },
    { ...goodTrain, backend: 'gpu' },
    { ...goodTrain, augment: 'heavy' },
    { ...goodTrain, augment: true },
    { ...goodTrain, augmentFlip: 'yes' },
    { ...goodTrain, trainLimit: 0 },
    { ...goodTrain, threads: 1000 },
    { ...goodTrain, epochs: undefined },
    { ...goodTrain, script: 'rm -rf /' },
  ],
  saveModel: [{ dir: '' }, { dir: 'x'.repeat(5000) }, { dir: 'a\0b' }, { dir: 42 }, { dir: ['a'] }, { dir: null }, { folder: '/tmp' }],
  openModel: [{ dir: '' }, { dir: 'x'.repeat(5000) }, { dir: '/tmp\0/x' }, { dir: 42 }, { dir: {} }, { dir: null }, { path: '/tmp' }],
  predict: [
    { images: '' },
    { images: 'not base64!' },
    { images: 'AAAA' },
    { images: Buffer.alloc(785).toString('base64') },
    { images: Buffer.alloc(784 * 257).toString('base64') },
    { images: huge },
    { images: 42 },
    { images: [0, 1] },
    { pixels: new Array(784).fill(0) },
    {},
  ],
  openedImage: [
    { batch: 0, index: 0 },
    { batch: -1, index: 0 },
    { batch: 1, index: -1 },
    { batch: 1, index: 1e9 },
    { batch: '1', index: 0 },
    { batch: 1 },
    { batch: 1.5, index: 0 },
  ],
  resumeRun: [{}, { dir: '' }, { dir: 42 }, { dir: 'x'.repeat(5000) }, { dir: '/tmp', epochs: 5 }],
  run: runIds,
  deleteRun: runIds,
  runAgain: runIds,
  setLocale: [{}, { locale: 'fr' }, { locale: 'KO' }, { locale: 42 }, { locale: null }, { locale: 'ko', theme: 'dark' }],
  renameRun: [
    ...runIds,
    { id: 'run_1_a', name: '' },
    { id: 'run_1_a', name: 'a/b' },
    { id: 'run_1_a', name: '.hidden' },
    { id: 'run_1_a', name: 'line\nbreak' },
    { id: 'run_1_a', name: '\u202eevil' },
    { id: 'run_1_a', name: 'x'.repeat(101) },
    { id: 'run_1_a', name: 42 },
    { id: 'run_1_a' },
  ],
};

const payloads = (method: ApiMethod): unknown[] => [...common, ...(specific[method] ?? [])];

const service = new StudioService({ home: tempDir() });
const host = await startBrowserHost({ service, rendererDir: tempDir() });
after(async () => {
  await host.close();
  await service.close();
});

test('every method refuses about twenty malformed payloads with a typed bad-request', async (t) => {
  let count = 0;
  for (const method of API_METHODS) {
    for (const payload of payloads(method)) {
      const reply = await service.dispatch(method, payload);
      assert.equal(reply.ok, false, `${method} accepted ${JSON.stringify(payload)?.slice(0, 80)}`);
      assert.equal(!reply.ok && reply.error.code, 'bad-request', `${method}: ${JSON.stringify(reply).slice(0, 200)}`);
      assert.ok(!reply.ok && reply.error.message.length < 400, 'one short message');
      count++;
    }
  }
  for (const method of ['', 'constructor', '__proto__', 'toString', 'dispatch', 42, null]) {
    const reply = await service.dispatch(method, {});
    assert.equal(!reply.ok && reply.error.code, 'bad-request');
    count++;
  }
  assert.ok(count >= API_METHODS.length * 13, `${count} payloads`);
  t.diagnostic(`in-process fuzz: ${count} inputs, 0 crashes, 0 hangs`);
});

test('an own __proto__ key (as JSON.parse and IPC deliver it) is refused, never merged into an input', async () => {
  const polluted = JSON.parse('{"__proto__":{"admin":true}}');
  assert.ok(Object.hasOwn(polluted, '__proto__'), 'the payload really carries the key');
  for (const [method, input] of [
    ['ping', polluted],
    ['saveModel', { ...JSON.parse('{"__proto__":{"dir":"/tmp/elsewhere"}}') }],
    ['startTraining', { ...goodTrain, ...JSON.parse('{"__proto__":{"epochs":1000}}') }],
  ] as const) {
    assert.ok(Object.hasOwn(input, '__proto__'), `${method}: spread keeps the own key`);
    const reply = await service.dispatch(method, input);
    assert.equal(!reply.ok && reply.error.code, 'bad-request', `${method}: ${JSON.stringify(reply).slice(0, 200)}`);
    assert.match(!reply.ok ? reply.error.message : '', /__proto__/);
  }
});

test('the same payloads over the WebSocket are refused and the connection keeps serving', async (t) => {
  const origin = `http://127.0.0.1:${host.port}`;
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, { headers: { Origin: origin }, maxPayload: 64 * 1024 * 1024 });
  await new Promise((r) => ws.once('open', r));
  const replies = new Map<number, { ok: boolean; error?: { code: string } }>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    if (typeof m.id === 'number') replies.set(m.id, m.reply);
  });
  let id = 0;
  const sent: number[] = [];
  for (const method of API_METHODS) {
    for (const payload of payloads(method)) {
      const text = JSON.stringify({ id: ++id, method, input: payload });
      if (text.length > 1024 * 1024) continue; // over the host's message cap: covered below
      ws.send(text);
      sent.push(id);
    }
  }
  // Every message answered within a minute, or the missing ones count as hangs.
  const deadline = Date.now() + 60_000;
  await new Promise<void>((resolve) => {
    const check = (): void => (sent.every((i) => replies.has(i)) || Date.now() > deadline ? resolve() : void setTimeout(check, 20));
    check();
  });
  const hangs = sent.filter((i) => !replies.has(i)).length;
  t.diagnostic(`websocket fuzz: ${sent.length + 1} inputs (the last one oversized), 0 crashes, ${hangs} hangs`);
  assert.equal(hangs, 0);
  for (const i of sent) assert.equal(replies.get(i)!.error?.code, 'bad-request', `message ${i}`);
  ws.send(JSON.stringify({ id: ++id, method: 'ping', input: {} }));
  await new Promise<void>((resolve) => {
    const check = (): void => (replies.has(id) ? resolve() : void setTimeout(check, 20));
    check();
  });
  assert.equal(replies.get(id)!.ok, true);
  // A message over the cap closes that connection (code 1009) without harming the host.
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.send(JSON.stringify({ id: ++id, method: 'ping', input: { pad: huge } }));
  assert.equal(await closed, 1009);
});

test('after all that, the app still trains and answers, on wasm and on the native kernels', async () => {
  assert.equal((await service.dispatch('ping', {})).ok, true);
  for (const backend of kernelsProblem() ? (['wasm'] as const) : (['wasm', 'native'] as const)) {
    const done = new Promise<boolean>((resolve) => {
      const off = service.onEvent((e) => e.type === 'done' && (off(), resolve(true)));
    });
    const started = await service.dispatch('startTraining', { ...goodTrain, backend });
    assert.equal(started.ok, true, JSON.stringify(started));
    assert.equal(await done, true);
    const state = service.getState();
    assert.equal(state.status, 'idle');
    assert.equal(state.run?.epochs.length, 1);
    assert.equal(state.run?.backend, backend);
  }
});
