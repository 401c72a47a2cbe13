// The Electron shell's own code, run under Node against a stand-in for electron: the window's
// webPreferences, navigation and new-window blocking on every web contents, the dev server only when
// unpackaged, and the IPC sender check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { windows, ipcMain, app, appEvents, fakeContents } from '../support/fakeElectron';
import { API_METHODS, channelOf } from '@shared/api';
import { StudioService } from '@core/service/studioService';
import { tempDir } from '../support/helpers';
import { bundleShell } from '../support/shellBundle';
import { COMPUTE_PORT_CHANNEL } from '@shared/computeProtocol';
import { bridgePage } from '@core/backend/webgpu/computeBridge';

const built = await bundleShell({ window: 'src/main/window.ts', ipc: 'src/main/ipc.ts', index: 'src/main/index.ts', compute: 'src/main/computeWindow.ts' });
const shell = {
  window: await import(built.window),
  ipc: await import(built.ipc),
  compute: await import(built.compute),
};
// The shell's entry registers its app-wide handlers on import (its start-up waits for a ready that never comes).
await import(built.index);

/** Fires every event the shell blocks on some contents and says which ones it prevented. */
const ALL_BLOCKED = ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview'];
function prevented(events: Record<string, (...args: unknown[]) => unknown>): string[] {
  return ALL_BLOCKED.filter((name) => {
    let stopped = false;
    events[name]?.({ preventDefault: () => (stopped = true) });
    return stopped;
  });
}
/** Every window's web preferences, as window.ts and computeWindow.ts spell them out (preload aside). */
const LOCKED_PREFERENCES = {
  preload: undefined,
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  disableBlinkFeatures: 'Auxclick',
  spellcheck: false,
};

test('the window is sandboxed and isolated, with no Node in its content, and cannot navigate or open windows', () => {
  shell.window.createMainWindow();
  const { options, events, openHandler, url } = windows.at(-1)!;
  assert.deepEqual({ ...options.webPreferences, preload: undefined }, LOCKED_PREFERENCES);
  assert.match(String(options.webPreferences.preload), /preload[\\/]index\.cjs$/);
  assert.equal(url, 'app://studio/index.html');
  assert.deepEqual(prevented(events), ALL_BLOCKED);
  assert.ok(existsSync(String(options.icon)), 'the window icon exists');
  assert.match(String(options.icon), /resources[\\/]icon\.png$/);
  assert.deepEqual(openHandler!({ url: 'https://evil.example' }), { action: 'deny' });
});

test('every web contents created (a subframe, a devtools page, anything) gets the same blocks', () => {
  const record: { events: Record<string, (...args: unknown[]) => unknown>; openHandler?: (...args: unknown[]) => unknown } = { events: {} };
  appEvents['web-contents-created']!({}, fakeContents(record));
  assert.deepEqual(prevented(record.events), ALL_BLOCKED);
  assert.deepEqual(record.openHandler!({ url: 'https://evil.example' }), { action: 'deny' });
});

test('a packaged app never loads a dev server nor trusts its origin, whatever the environment says', () => {
  const saved = process.env.ELECTRON_RENDERER_URL;
  try {
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173/';
    app.isPackaged = false;
    shell.window.createMainWindow();
    assert.equal(windows.at(-1)!.url, 'http://localhost:5173/', 'development: the dev server');
    assert.equal(shell.window.isAppUrl('http://localhost:5173/index.html'), true);
    app.isPackaged = true;
    shell.window.createMainWindow();
    assert.equal(windows.at(-1)!.url, 'app://studio/index.html', 'packaged: its own content only');
    assert.equal(shell.window.isAppUrl('http://localhost:5173/index.html'), false);
    // Unpackaged, a file: URL would make the origin "null", which every opaque origin matches.
    app.isPackaged = false;
    process.env.ELECTRON_RENDERER_URL = 'file:///tmp/evil.html';
    shell.window.createMainWindow();
    assert.equal(windows.at(-1)!.url, 'app://studio/index.html');
    for (const url of ['file:///tmp/evil.html', 'file:///etc/passwd', 'data:text/html,hi', 'about:blank']) assert.equal(shell.window.isAppUrl(url), false, url);
  } finally {
    app.isPackaged = false;
    if (saved === undefined) delete process.env.ELECTRON_RENDERER_URL;
    else process.env.ELECTRON_RENDERER_URL = saved;
  }
});

test('only the app frame may call: other origins, subframes and lookalike URLs are refused', async () => {
  const service = new StudioService({ home: tempDir() });
  const unregister = shell.ipc.registerIpc(service);
  try {
    assert.deepEqual([...ipcMain.handlers.keys()].sort(), API_METHODS.map(channelOf).sort());
    const call = (url: string, parent: unknown = null) =>
      ipcMain.handlers.get(channelOf('ping'))!({ senderFrame: { url, parent } }, {}) as Promise<{ ok: boolean; error?: { message: string } }>;
    assert.equal((await call('app://studio/index.html')).ok, true);
    for (const url of ['https://evil.example/', 'app://evil/index.html', 'file:///etc/passwd', 'app://studio.evil.example/', 'not a url', '']) {
      const reply = await call(url);
      assert.equal(reply.ok, false, url);
      assert.match(reply.error!.message, /app window only/);
    }
    assert.equal((await call('app://studio/index.html', { url: 'app://studio/' })).ok, false, 'a subframe');
    const nullFrame = await (ipcMain.handlers.get(channelOf('ping'))!({ senderFrame: null }, {}) as Promise<{ ok: boolean }>);
    assert.equal(nullFrame.ok, false);
  } finally {
    unregister();
    await service.close();
  }
});

test('the compute window is hidden, sandboxed, has no Node, cannot navigate or open windows, and gets its port only after loading', async () => {
  const opening = shell.compute.openComputePage() as Promise<import('@core/backend/webgpu/computeBridge').ComputePage>;
  const record = windows.at(-1)!;
  const { options, events, openHandler, url } = record;
  assert.equal(options.show, false);
  // A hidden window is throttled by default; training in it must not be.
  assert.deepEqual({ ...options.webPreferences, preload: undefined }, { ...LOCKED_PREFERENCES, backgroundThrottling: false });
  assert.match(String(options.webPreferences.preload), /preload[\\/]compute\.cjs$/);
  assert.equal(url, 'app://compute/compute.html');
  // Its own origin: the app's IPC check refuses it.
  assert.equal(shell.window.isAppUrl(url), false);
  assert.deepEqual(prevented(events), ALL_BLOCKED);
  assert.deepEqual(openHandler!({ url: 'https://evil.example' }), { action: 'deny' });
  assert.equal(record.posted.length, 0, 'no port before the page has loaded');
  events['did-finish-load']!();
  const page = await opening;
  assert.equal(record.posted.length, 1);
  assert.equal(record.posted[0]!.channel, COMPUTE_PORT_CHANNEL);
  // The test plays the page on the port it was handed, and the trainer's worker on the core's bridge.
  const pagePort = (record.posted[0]!.ports[0] as { port: import('node:worker_threads').MessagePort }).port;
  const worker = bridgePage(page);
  const toWorker: unknown[] = [];
  worker.on('message', (m) => toWorker.push(m));
  pagePort.on(
    'message',
    (m: { type: string }) => m.type === 'adapter' && pagePort.postMessage({ type: 'reply', id: 1, ok: true, value: { name: 'x', fallback: false } }),
  );
  worker.postMessage({ type: 'adapter', id: 1 });
  for (let i = 0; i < 100 && toWorker.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(toWorker, [{ page: { type: 'reply', id: 1, ok: true, value: { name: 'x', fallback: false } } }], 'both ways through the bridge');
  events['render-process-gone']!({}, { reason: 'crashed' });
  record.windowEvents.closed!();
  for (let i = 0; i < 100 && toWorker.length === 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(toWorker.slice(1), [{ gone: "the compute window's page is gone (crashed)" }], 'told once, by main, not the page');
  assert.equal(record.destroyed, true);
});

test('a compute window that fails to load is refused, and closed', async () => {
  const opening = shell.compute.openComputePage() as Promise<unknown>;
  const record = windows.at(-1)!;
  record.events['did-fail-load']!({}, -6, 'ERR_FILE_NOT_FOUND');
  await assert.rejects(opening, /could not load \(-6 ERR_FILE_NOT_FOUND\)/);
  assert.equal(record.destroyed, true);
});
