// The app:// handler Electron serves the renderer with, called with real Requests, and the browser
// host, over real HTTP: one static-file server, so the same requests get the same statuses and the
// same headers from both, and nothing outside the renderer folder is ever served.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { appProtocolHandler } from '../../src/main/appProtocol';
import { startBrowserHost } from '../../src/host/browserHost';
import { StudioService } from '@core/service/studioService';
import { tempDir } from '../support/helpers';

// The renderer folder sits next to a secret, so a step out of it has something to find.
const root = tempDir();
const rendererDir = join(root, 'renderer');
mkdirSync(join(rendererDir, 'assets'), { recursive: true });
writeFileSync(join(root, 'secret.txt'), 'SECRET');
writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>MNIST Studio</title>');
writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
symlinkSync(join(root, 'secret.txt'), join(rendererDir, 'assets', 'link.js'));
if (process.platform === 'linux') execFileSync('mkfifo', [join(rendererDir, 'assets', 'fifo.js')]);

const handler = appProtocolHandler(rendererDir);
const service = new StudioService({ home: tempDir() });
const host = await startBrowserHost({ service, rendererDir });
after(async () => {
  await host.close();
  await service.close();
});

/** [path as sent, status expected]. */
const CORPUS: [string, number][] = [
  ['/', 200],
  ['/index.html', 200],
  ['/assets/app.js', 200],
  ['/assets/missing.js', 404],
  ['/assets/', 404],
  ['//', 404],
  ['/%', 400],
  ['/%zz', 400],
  ['/%00', 400],
  ['/..%2fsecret.txt', 404],
  ['/assets/..%2f..%2fsecret.txt', 404],
  ['/%2e%2e%2fsecret.txt', 404],
  ['/..%2f..%2f..%2f..%2fetc%2fpasswd', 404],
  ['/..%5csecret.txt', 404],
  ['/assets/link.js', 404],
  ...(process.platform === 'linux' ? ([['/assets/fifo.js', 404]] as [string, number][]) : []),
];

async function viaApp(path: string, method = 'GET'): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await handler(new Request(`app://studio${path}`, { method }));
  return { status: response.status, headers: response.headers, body: await response.text() };
}

function viaHost(path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, method }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('app:// serves the renderer and refuses traversal, encoded or not, symlinks out, FIFOs and bad escapes', async () => {
  for (const [path, status] of CORPUS) {
    const r = await viaApp(path);
    assert.equal(r.status, status, `app://studio${path}`);
    assert.doesNotMatch(r.body, /SECRET/, path);
  }
  const page = await viaApp('/');
  assert.match(page.body, /MNIST Studio/);
  assert.match(page.headers.get('content-security-policy')!, /default-src 'self'.*connect-src 'none'/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal((await viaApp('/', 'POST')).status, 405);
});

test('the browser host answers the same requests with the same statuses and headers', async () => {
  for (const [path, status] of CORPUS) {
    const [app, web] = [await viaApp(path), await viaHost(path)];
    assert.equal(web.status, status, `http ${path}`);
    assert.doesNotMatch(web.body, /SECRET/, path);
    for (const name of ['content-type', 'x-content-type-options', 'referrer-policy', 'cache-control']) {
      assert.equal(web.headers[name], app.headers.get(name), `${name} of ${path}`);
    }
    // The one CSP, differing only in what the page may connect to (IPC in Electron, the WebSocket here).
    const strip = (csp: string): string => csp.replace(/connect-src [^;]*/, 'connect-src X');
    assert.equal(strip(String(web.headers['content-security-policy'])), strip(app.headers.get('content-security-policy')!), path);
  }
});

test("app://compute (the hidden compute window) gets its page and scripts only, under the app's one CSP", async () => {
  writeFileSync(join(rendererDir, 'compute.html'), '<!doctype html><title>compute</title>');
  const get = async (path: string) => handler(new Request(`app://compute${path}`));
  const page = await get('/compute.html');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy')!, /connect-src 'none'/);
  assert.equal((await get('/assets/app.js')).status, 200);
  for (const path of ['/', '/index.html', '/secret.txt', '/assets/../index.html', '/assets/sub/app.js', '/assets/app.css']) {
    const r = await get(path);
    assert.equal(r.status, 400, `app://compute${path}`);
  }
});
