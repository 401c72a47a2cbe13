// The Electron shell's own code, run under Node against a stand-in for electron: the window's
// webPreferences, navigation and new-window blocking, and the IPC sender check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { windows, ipcMain } from './fixtures/fakeElectron';
import { API_METHODS, channelOf } from '../src/shared/api';
import { StudioService } from '../src/main/core/service/studioService';
import { tempDir } from './helpers';

const fake = resolve('test/fixtures/fakeElectron.ts');
const out = tempDir();
await build({
  entryPoints: { window: 'src/main/window.ts', ipc: 'src/main/ipc.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outdir: out,
  logLevel: 'silent',
  packages: 'external',
  plugins: [{ name: 'fake-electron', setup: (b) => b.onResolve({ filter: /^electron$/ }, () => ({ path: fake, external: true })) }],
});
const shell = {
  window: await import(pathToFileURL(join(out, 'window.js')).href),
  ipc: await import(pathToFileURL(join(out, 'ipc.js')).href),
};

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
  for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
    let prevented = false;
    events[name]!({ preventDefault: () => (prevented = true) });
    assert.ok(prevented, `${name} is prevented`);
  }
  assert.deepEqual(openHandler!({ url: 'https://evil.example' }), { action: 'deny' });
});

test('only the app frame may call: other origins, subframes and lookalike URLs are refused', async () => {
  const service = new StudioService({ home: tempDir() });
  const unregister = shell.ipc.registerIpc(service);
  try {
    assert.deepEqual([...ipcMain.handlers.keys()].sort(), API_METHODS.map(channelOf).sort());
    const call = (url: string, parent: unknown = null) => ipcMain.handlers.get(channelOf('ping'))!({ senderFrame: { url, parent } }, {}) as Promise<{ ok: boolean; error?: { message: string } }>;
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
