// The browser host as a hostile page or program would meet it: loopback only, token required, Host and
// Origin checked, files confined to the renderer folder, and every payload validated.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces } from 'node:os';
import WebSocket from 'ws';
import { randomBytes } from 'node:crypto';
import { StudioService } from '@core/service/studioService';
import { startBrowserHost } from '../../src/host/browserHost';
import { PREDICT_MAX_BASE64, predictBatchSize } from '@shared/apiSchemas';
import { tempDir } from '../support/helpers';

const rendererDir = tempDir();
mkdirSync(join(rendererDir, 'assets'));
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>MNIST Studio</title>');
writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
const service = new StudioService({ home: tempDir() });
const host = await startBrowserHost({ service, rendererDir });
after(async () => {
  await host.close();
  await service.close();
});
const origin = `http://127.0.0.1:${host.port}`;

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connect(query: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(
  ws: WebSocket,
  message: unknown,
): Promise<{ id: number | null; reply: { ok: boolean; value?: unknown; error?: { code: string; message: string } } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const parsed = JSON.parse(String(data));
      if ('reply' in parsed) {
        ws.off('message', onMessage);
        resolve(parsed);
      }
    };
    ws.on('message', onMessage);
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

/** Whether a TCP connection to address:port is accepted. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: address, port }, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

test('it listens on 127.0.0.1 only and serves the renderer with a strict CSP', async () => {
  assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
  // The socket itself: 127.0.0.1, and nothing else answers on that port, not even other loopback
  // addresses (Linux routes all of 127/8 to lo) nor this machine's own network addresses.
  assert.equal(await accepts('127.0.0.1', host.port), true);
  const others = Object.values(networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4' && i.address !== '127.0.0.1')
    .map((i) => i!.address);
  for (const address of [...(process.platform === 'linux' ? ['127.0.0.2'] : []), ...others]) {
    assert.equal(await accepts(address, host.port), false, `the host answers on ${address}`);
  }
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'.*script-src 'self'/);
  assert.match(page.body, /MNIST Studio/);
  assert.equal((await get('/assets/app.js')).status, 200);
});

test('requests naming another Host (DNS rebinding) and paths out of the folder are refused', async () => {
  assert.equal((await get('/', { Host: 'evil.example' })).status, 421);
  assert.equal((await get('/', { Host: `evil.example:${host.port}` })).status, 421);
  assert.equal((await get('/../package.json')).status, 404);
  assert.equal((await get('/%2e%2e/%2e%2e/etc/passwd')).status, 404);
});

test('the API refuses connections without the token or from another origin', async () => {
  await assert.rejects(connect('', { Origin: origin }), /HTTP 403/);
  await assert.rejects(connect('?token=wrong', { Origin: origin }), /HTTP 403/);
  await assert.rejects(connect(`?token=${host.token}`, { Origin: 'https://evil.example' }), /HTTP 403/);
  await assert.rejects(connect(`?token=${host.token}`, {}), /HTTP 403/);
  await assert.rejects(connect(`?token=${host.token}`, { Origin: origin, Host: 'evil.example' }), /HTTP 403/);
});

test('with the token, calls work and bad payloads get typed errors on a connection that stays open', async () => {
  const ws = await connect(`?token=${host.token}`, { Origin: origin });
  try {
    const ping = await call(ws, { id: 1, method: 'ping', input: {} });
    assert.equal(ping.id, 1);
    assert.equal(ping.reply.ok, true);
    const bad: [unknown, RegExp][] = [
      ['not json', /not JSON/],
      [{ id: 2, method: 'launchMissiles', input: {} }, /unknown method/],
      [{ id: 3, method: 'startTraining', input: { epochs: -1 } }, /startTraining: /],
      [{ id: 4, method: 'predict', input: { images: 'AAAA' } }, /images must be whole 28x28x1 images/],
      [{ id: 5, method: 'samples', input: { split: 'train', start: 0, count: 1e9 } }, /samples: count/],
      [{ id: 6, method: 'openModel', input: { dir: 'x'.repeat(10000) } }, /openModel: dir/],
      [{ id: 7, method: 'ping', input: { extra: true } }, /ping: /],
    ];
    for (const [message, pattern] of bad) {
      const r = await call(ws, message);
      assert.equal(r.reply.ok, false);
      assert.equal(r.reply.error!.code, 'bad-request');
      assert.match(r.reply.error!.message, pattern);
    }
    const data = await call(ws, { id: 8, method: 'dataset', input: {} });
    assert.equal((data.reply.value as { train: { count: number } }).train.count, 60000);
  } finally {
    ws.close();
  }
});

/** A client's text frame (RFC 6455 5.2: masked, as every client frame must be), for payloads under 64 KiB. */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const length = payload.length < 126 ? [0x80 | payload.length] : [0x80 | 126, payload.length >> 8, payload.length & 0xff];
  return Buffer.concat([Buffer.from([0x81, ...length]), mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

test('a connection gets busy past 64 calls at once, and one that stops reading its answers is closed', async () => {
  const ws = await connect(`?token=${host.token}`, { Origin: origin });
  const replies: { id: number; reply: { ok: boolean; error?: { code: string } } }[] = [];
  let closed = false;
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if ('reply' in m) replies.push(m);
  });
  ws.on('close', () => (closed = true));
  // 100 calls in one go, each answered with a thousand images (about 1 MB), and none of it read yet.
  const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  socket.pause();
  // In one write, so the host reads every call before it can answer any: sent one frame at a time, the host
  // could answer each before the next came in, and no call would ever be the 65th in flight (CI saw that).
  const frames = Array.from({ length: 100 }, (_, i) =>
    clientFrame(JSON.stringify({ id: i + 1, method: 'samples', input: { split: 'train', start: 0, count: 1000 } })),
  );
  socket.write(Buffer.concat(frames));
  await new Promise((r) => setTimeout(r, 3000));
  socket.resume();
  for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 100));
  ws.terminate();
  const busy = replies.filter((r) => r.reply.error?.code === 'busy');
  assert.ok(busy.length > 0 && busy.every((r) => r.id > 64), `${busy.length} busy answers`);
  assert.ok(closed, 'the connection stayed open');
  assert.ok(replies.filter((r) => r.reply.ok).length < 64, 'every answer was held for a client that did not read');
  // Others are served as before.
  const other = await connect(`?token=${host.token}`, { Origin: origin });
  assert.equal((await call(other, { id: 1, method: 'ping', input: {} })).reply.ok, true);
  other.close();
});

test('predict calls are capped below the message limit with a typed error, and a full batch of the largest images fits', async () => {
  const ws = await connect(`?token=${host.token}`, { Origin: origin });
  try {
    assert.equal(predictBatchSize(28 * 28), 256);
    const largest = 64 * 64 * 3;
    // A full batch of the largest images, as the renderer sends it, travels whole: answered, not closed.
    const full = Buffer.alloc(predictBatchSize(largest) * largest).toString('base64');
    assert.ok(JSON.stringify({ id: 1, method: 'predict', input: { images: full } }).length < 1024 * 1024);
    assert.ok((await call(ws, { id: 1, method: 'predict', input: { images: full } })).reply.error);
    // More than the cap, still under the frame limit, gets a typed error on a connection that stays open.
    const refused = await call(ws, { id: 2, method: 'predict', input: { images: 'A'.repeat(PREDICT_MAX_BASE64 + 4) } });
    assert.equal(refused.reply.error!.code, 'bad-request');
    assert.match(refused.reply.error!.message, /split the images over several calls/);
    assert.equal((await call(ws, { id: 3, method: 'ping', input: {} })).reply.ok, true);
  } finally {
    ws.close();
  }
});
