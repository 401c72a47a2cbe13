// The browser host's HTTP surface as any web page or local program can reach it, with no token: raw
// request lines and headers over TCP to a real host process (test/support/hostProcess.ts, the same
// entry as `cli serve`). Requests that once killed the host are answered 400, and a seeded fuzzer of
// request lines and headers finds no input that ends the process or leaves a request hanging.
// MNIST_STUDIO_FUZZ_HTTP=N sets how many fuzzed requests are sent (default 3,000), within at most
// MNIST_STUDIO_FUZZ_HTTP_SECONDS (default 90).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Rng } from '@core/model/rng';
import { tempDir } from '../support/helpers';

const rendererDir = tempDir();
mkdirSync(join(rendererDir, 'assets'));
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>MNIST Studio</title>');
writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(join(rendererDir, 'assets', 'big.js'), `//${'x'.repeat(1024 * 1024)}`);

async function startHost(): Promise<{ child: ChildProcess; port: number; token: string; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/hostProcess.ts', rendererDir], {
    env: { ...process.env, MNIST_STUDIO_HOME: tempDir() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const m = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/);
      if (m) resolve(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`host exited (${code}): ${stderr}`)));
  });
  const parsed = new URL(url);
  return { child, port: Number(parsed.port), token: parsed.searchParams.get('token')!, stderr: () => stderr };
}

const host = await startHost();
after(() => void host.child.kill('SIGKILL'));
const alive = (): boolean => host.child.exitCode === null && host.child.signalCode === null;

interface Outcome {
  status?: number;
  /** Neither an answer nor a closed connection within the deadline. */
  hung: boolean;
}

/**
 * Sends raw bytes on a fresh TCP connection; resolves with the status line's code, if any came. A request
 * left incomplete by fuzzing is waited on by any server, so after a while the client ends its side: from
 * then on the server must close within the deadline, or the request counts as hung.
 */
function raw(bytes: Buffer | string, { reset = false, quietMs = 1500, deadlineMs = 5000 } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(host.port, '127.0.0.1');
    let data = '';
    let settled = false;
    const settle = (hung: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      resolve({ status: status ? Number(status) : undefined, hung });
    };
    let timer = setTimeout(() => {
      socket.end();
      timer = setTimeout(() => settle(true), deadlineMs);
    }, quietMs);
    socket.on('error', () => settle(false));
    socket.on('close', () => settle(false));
    socket.on('data', (c) => {
      data += c.toString('latin1');
      // A whole response head is an answer; the server may keep the connection open afterwards.
      if (data.includes('\r\n\r\n')) settle(false);
    });
    socket.on('connect', () => {
      socket.write(bytes);
      if (reset) socket.resetAndDestroy();
    });
  });
}

const hostHeader = (): string => `Host: 127.0.0.1:${host.port}`;
const upgradeHeaders = (): string =>
  [
    hostHeader(),
    `Origin: http://127.0.0.1:${host.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  ].join('\r\n');

test('requests that used to end the host (GET /%, GET //, an upgrade to //) are answered and the host lives on', async () => {
  assert.equal((await raw(`GET /% HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 400);
  assert.equal((await raw(`GET /%zz/x HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 400);
  assert.equal((await raw(`GET //x/%E0%A4%A HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 400);
  assert.equal((await raw(`GET // HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 404);
  assert.equal((await raw(`GET //evil.example/ HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 404);
  assert.equal((await raw(`GET // HTTP/1.1\r\n${upgradeHeaders()}\r\n\r\n`)).status, 403);
  assert.equal((await raw(`GET /%/api?token=${host.token} HTTP/1.1\r\n${upgradeHeaders()}\r\n\r\n`)).status, 400);
  assert.equal((await raw(`GET /api?token=% HTTP/1.1\r\n${upgradeHeaders()}\r\n\r\n`)).status, 403);
  // A client that resets the connection in the middle of a handshake.
  for (let i = 0; i < 20; i++) await raw(`GET /api?token=${host.token} HTTP/1.1\r\n${upgradeHeaders()}\r\n\r\n`, { reset: true });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(alive(), `the host died: ${host.stderr()}`);
  assert.equal((await raw(`GET / HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 200);
  assert.doesNotMatch(host.stderr(), /error: (uncaught|unhandled)/, 'nothing reached the process guard');
});

/** The host process's resident memory in bytes (Linux). */
const hostRss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${host.child.pid}/status`, 'utf8'))![1]) * 1024;

test(
  'a client that pipelines many requests and never reads is dropped before its answers fill our memory',
  { skip: process.platform !== 'linux' },
  async () => {
    // Settled first: a host just started is still growing while it loads.
    assert.equal((await raw(`GET /assets/big.js HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 200);
    let before = hostRss();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 250));
      const now = hostRss();
      if (Math.abs(now - before) < 2 ** 20) break;
      before = now;
    }
    const socket = connect(host.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.pause();
    let closed = false;
    socket.on('close', () => (closed = true));
    // 300 answers of 1 MB each, none of them read: unbounded, they would all wait in the host's memory.
    socket.write(`GET /assets/big.js HTTP/1.1\r\n${hostHeader()}\r\n\r\n`.repeat(300));
    await new Promise((r) => setTimeout(r, 3000));
    const grown = (hostRss() - before) / 2 ** 20;
    assert.ok(grown < 100, `the host grew by ${grown.toFixed(0)} MiB for one connection that does not read`);
    // Reading now, the client finds its connection closed after a few answers, not 300 of them.
    let answers = 0;
    socket.on('data', (c: Buffer) => (answers += c.toString('latin1').split('HTTP/1.1 200').length - 1));
    socket.resume();
    for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 100));
    socket.destroy();
    assert.ok(closed, 'the host kept the connection open');
    assert.ok(answers < 300, `${answers} answers`);
    assert.ok(alive(), `the host died: ${host.stderr()}`);
    assert.equal((await raw(`GET / HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 200);
  },
);

// --- the fuzzer -------------------------------------------------------------------------------------

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS', 'DELETE', 'CONNECT', 'TRACE', 'PATCH', 'PRI', 'get', 'G ET', '', 'GET\0', 'M-SEARCH'];
const TARGETS = [
  '/',
  '//',
  '/%',
  '/%%',
  '/%zz',
  '/%0',
  '/%00',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2fetc/passwd',
  '/%c0%ae%c0%ae/',
  '/..\\..\\windows',
  '/index.html',
  '/assets/app.js',
  '/assets/',
  '/api',
  '/api?token=',
  '/api?token=%',
  '/api?token=%ff%fe',
  '/?token=x&token=y',
  '*',
  'http://127.0.0.1/',
  'http://evil.example/api',
  '//evil.example/',
  '/\u00e9',
  '/\ud800',
  '/a?%',
  `/${'a'.repeat(9000)}`,
  `/?${'%'.repeat(3000)}`,
  '/api#frag',
  '/./././',
  '/index.html/',
  '/index.html%00.js',
  '/%5c..%5c..',
  ' /',
  '/ /',
  '\t/',
  '/\r',
  '/api?',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.1 extra', 'HTTP/1', 'HTTPS/1.1', '', 'HTTP/1.1\n'];

function headerPool(rng: Rng): string[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
  return [
    hostHeader(),
    hostHeader(),
    `Host: localhost:${host.port}`,
    'Host: evil.example',
    'Host:',
    `Host: 127.0.0.1:${host.port}\r\nHost: evil.example`,
    `Origin: http://127.0.0.1:${host.port}`,
    'Origin: null',
    'Origin: https://evil.example',
    'Origin: %',
    'Upgrade: websocket',
    'Upgrade: h2c',
    'Connection: Upgrade',
    'Connection: close',
    'Connection: keep-alive, Upgrade',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Version: 99',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Key: %%%',
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=0',
    'Sec-WebSocket-Protocol: ,,,',
    'Content-Length: 5',
    'Content-Length: -1',
    'Content-Length: 99999999999999999999',
    'Content-Length: 1\r\nContent-Length: 2',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: chunked, identity',
    'Expect: 100-continue',
    'Range: bytes=0-1',
    'Range: bytes=-99999999999',
    'If-None-Match: *',
    'Accept-Encoding: gzip, br',
    'Cookie: a=%',
    `X-Long: ${'x'.repeat(pick([100, 8000, 20000]))}`,
    'no colon here',
    ': empty name',
    'Bad Name: x',
    'X-Ctl: \u0001\u0002',
    'X-Latin: \u00ff\u00fe',
    ' folded: continuation',
    'Referer: http://evil.example/%',
  ];
}

function fuzzedRequest(rng: Rng): Buffer {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rng.next() * xs.length)]!;
  let target = pick(TARGETS);
  if (rng.next() < 0.3) target += pick(TARGETS).slice(1);
  if (rng.next() < 0.2) target = `/api?token=${rng.next() < 0.5 ? host.token : 'x'}${rng.next() < 0.5 ? '%' : ''}`;
  const headers = headerPool(rng);
  const chosen = Array.from({ length: Math.floor(rng.next() * 8) }, () => pick(headers));
  if (rng.next() < 0.3) chosen.push(...upgradeHeaders().split('\r\n'));
  const body = rng.next() < 0.2 ? pick(['hello', '0\r\n\r\n', 'zz\r\n', '\0'.repeat(100), '{"id":1}']) : '';
  let bytes = Buffer.from(`${pick(METHODS)} ${target} ${pick(VERSIONS)}\r\n${chosen.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  // Byte-level mutations of the whole request: flips, insertions of control bytes, cuts.
  const mutations = rng.next() < 0.4 ? 1 + Math.floor(rng.next() * 4) : 0;
  for (let m = 0; m < mutations && bytes.length > 1; m++) {
    const at = Math.floor(rng.next() * bytes.length);
    const kind = rng.next();
    if (kind < 0.4) bytes[at] = Math.floor(rng.next() * 256);
    else if (kind < 0.7) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([pick([0, 10, 13, 32, 37, 47, 58, 63, 127, 255])]), bytes.subarray(at)]);
    else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(rng.next() * 8))]);
  }
  return bytes;
}

test('fuzzing the request line and headers: no input ends the host or leaves a request hanging', async (t) => {
  const count = Number(process.env.MNIST_STUDIO_FUZZ_HTTP ?? 3000);
  const budgetMs = Number(process.env.MNIST_STUDIO_FUZZ_HTTP_SECONDS ?? 90) * 1000;
  const rng = new Rng(20261127);
  const started = Date.now();
  let tried = 0,
    hangs = 0,
    answered = 0;
  const hung: string[] = [];
  const concurrency = 8;
  while (tried < count && Date.now() - started < budgetMs && alive()) {
    const batch = Array.from({ length: Math.min(concurrency, count - tried) }, () => fuzzedRequest(rng));
    const outcomes = await Promise.all(batch.map((bytes, i) => raw(bytes, { reset: (tried + i) % 17 === 0 })));
    outcomes.forEach((o, i) => {
      if (o.hung) {
        hangs++;
        if (hung.length < 5) hung.push(JSON.stringify(batch[i]!.toString('latin1').slice(0, 200)));
      }
      if (o.status !== undefined) answered++;
    });
    tried += batch.length;
  }
  await new Promise((r) => setTimeout(r, 200));
  const crashes = alive() ? 0 : 1;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.diagnostic(`http fuzz: ${tried} inputs, ${answered} answered with a status, ${crashes} crashes, ${hangs} hangs, ${seconds} s`);
  assert.equal(crashes, 0, `the host died: ${host.stderr()}`);
  assert.equal(hangs, 0, `hanging requests, e.g. ${hung.join(', ')}`);
  assert.ok(tried >= Math.min(count, 500), `only ${tried} inputs in the time allowed`);
  assert.doesNotMatch(host.stderr(), /error: (uncaught|unhandled)/, 'nothing reached the process guard');
  // Still serving: a page, and a real API call with the token.
  assert.equal((await raw(`GET / HTTP/1.1\r\n${hostHeader()}\r\n\r\n`)).status, 200);
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`, { headers: { Origin: `http://127.0.0.1:${host.port}` } });
  const reply = await new Promise<{ reply: { ok: boolean } }>((resolve, reject) => {
    ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'ping', input: {} })));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.id === 1) resolve(m);
    });
    ws.once('error', reject);
  });
  ws.close();
  assert.equal(reply.reply.ok, true);
});

test('the process guard turns an error that escapes every handler into one line, and the process lives on', () => {
  const script = `import { keepHostAlive } from './src/host/browserHost.ts';
keepHostAlive();
setImmediate(() => { throw new Error('escaped a handler'); });
void Promise.reject(new Error('nobody awaited this'));
setTimeout(() => console.log('still alive'), 300);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'still alive\n');
  assert.match(r.stderr, /^error: uncaught: escaped a handler$/m);
  assert.match(r.stderr, /^error: unhandled rejection: nobody awaited this$/m);
});
