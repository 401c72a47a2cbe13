// The hidden compute window where the webgpu engine runs in Electron: dawn.node cannot load in Electron's
// main process or its workers (the V8 sandbox refuses its external buffers), so the engine runs on
// Chromium's own WebGPU in this page instead. Never shown, sandboxed, no Node, no network (the app's CSP
// with connect-src 'none'), not navigable; it talks only through the MessagePort handed to it here (see
// shared/computeProtocol), which the trainer reaches through the core's bridge (core/backend/webgpu/computeBridge).
import { BrowserWindow, MessageChannelMain } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_SCHEME, lockDown } from './window';
import { COMPUTE_PORT_CHANNEL } from '@shared/computeProtocol';
import type { ComputePage } from '@core/backend/webgpu/computeBridge';

/** Its own origin, so the app's IPC check (isAppUrl, host "studio") never takes it for the app window. */
export const COMPUTE_ORIGIN = `${APP_SCHEME}://compute`;

/** Opens a compute window; resolves once its page has loaded and holds its end of the port, rejects if it never does. */
export function openComputePage(): Promise<ComputePage> {
  const preload = join(fileURLToPath(new URL('.', import.meta.url)), '../preload/compute.cjs');
  const win = new BrowserWindow({
    show: false,
    width: 320,
    height: 240,
    skipTaskbar: true,
    title: 'MNIST Studio compute',
    // Spelled out as in window.ts (not spread from a shared constant) so static checkers such as
    // electronegativity see each one; test/integration/shell.test.ts asserts them for this window too.
    webPreferences: {
      preload,
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
      // A hidden window is throttled by default; training in it must not be.
      backgroundThrottling: false,
    },
  });
  const contents = win.webContents;
  lockDown(contents);
  let goneReason: string | undefined;
  const goners: ((reason: string) => void)[] = [];
  const close = (): void => {
    if (!win.isDestroyed()) win.destroy();
  };
  return new Promise((resolve, reject) => {
    const gone = (reason: string): void => {
      if (goneReason !== undefined) return;
      goneReason = reason;
      reject(new Error(reason));
      for (const listener of goners.splice(0)) listener(reason);
      close();
    };
    contents.on('render-process-gone', (_event, details) => gone(`the compute window's page is gone (${details.reason})`));
    contents.on('did-fail-load', (_event, code, description) => gone(`the compute window could not load (${code} ${description})`));
    win.on('closed', () => gone('the compute window was closed'));
    contents.once('did-finish-load', () => {
      const { port1, port2 } = new MessageChannelMain();
      contents.postMessage(COMPUTE_PORT_CHANNEL, null, [port2]);
      port1.on('close', () => gone('the compute window closed its port'));
      port1.start();
      resolve({
        post: (message) => port1.postMessage(message),
        onMessage: (listener) => void port1.on('message', (event) => listener(event.data)),
        onGone: (listener) => (goneReason === undefined ? void goners.push(listener) : listener(goneReason)),
        close: () => {
          goneReason ??= 'closed by the trainer';
          port1.close();
          close();
        },
      });
    });
    void win.loadURL(`${COMPUTE_ORIGIN}/compute.html`);
  });
}
