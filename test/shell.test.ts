// The Electron shell's own code, run under Node against a stand-in for electron: the window's
// webPreferences, navigation and new-window blocking on every web contents, the dev server only when
// unpackaged, and the IPC sender check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { windows, ipcMain, app, appEvents, fakeContents } from './fixtures/fakeElectron';
import { API_METHODS, channelOf } from '../src/shared/api';
import { StudioService } from '../src/main/core/service/studioService';
import { tempDir } from './helpers';
import { bundleShell } from './fixtures/shellBundle';

const built = await bundleShell({ window: 'src/main/window.ts', ipc: 'src/main/ipc.ts', index: 'src/main/index.ts' });
const shell = {
  window: await import(built.window),
  ipc: await import(built.ipc),
};
// The shell's entry registers its app-wide handlers on import (its start-up waits for a ready that never comes).
await import(built.index);

/** Fires every event the shell blocks on some contents and says which ones it prevented. */
function prevented(events: Record<string, (...args: unknown[]) => unknown>): string[] {
  return ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview'].filter((name) => {
    let stopped = false;
    events[name]?.({ preventDefault: () => (stopped = true) });
    return stopped;
  });
}
const ALL_BLOCKED = ['will-navigate', 'will-frame-navigate', 'will-redirect', 'will-attach-webview'];

test('the window is sandboxed and isolated, with no Node in its content, and cannot navigate or open windows', () => {
  shell.window.createMainWindow();
  const { options, events, openHandler, url } = windows.at(-1)!;
  assert.deepEqual(
    { ...options.webPreferences, preload: undefined },
    {
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
    },
  );
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
