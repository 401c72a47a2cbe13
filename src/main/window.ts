// The app's one window, locked down per Electron's security checklist (see SECURITY.md).
import { BrowserWindow } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app's content is served from this origin by a custom protocol, never from file://. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://studio`;

export function createMainWindow(): BrowserWindow {
  const preload = join(fileURLToPath(new URL('.', import.meta.url)), '../preload/index.cjs');
  const win = new BrowserWindow({
    width: 1280,
    height: 900,
    minWidth: 800,
    minHeight: 600,
    show: false,
    title: 'MNIST Studio',
    // Spelled out here, not spread from a constant, so static checkers (electronegativity) can see them.
    // test/window.test.ts runs this function against a stand-in for electron and asserts each one.
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
    },
  });
  win.once('ready-to-show', () => win.show());
  // No navigation away from the app and no new windows, whatever the page tries.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.on('will-redirect', (event) => event.preventDefault());
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  const devServer = process.env.ELECTRON_RENDERER_URL;
  void win.loadURL(devServer && !process.env.MNIST_STUDIO_PACKAGED ? devServer : `${APP_ORIGIN}/index.html`);
  return win;
}

/** Whether a URL belongs to the app's own content (checked on every IPC call). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    // Not parsed.origin: for a scheme URL does not know (app:), origin is the string "null".
    if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'studio') return true;
    const devServer = process.env.ELECTRON_RENDERER_URL;
    return devServer !== undefined && !process.env.MNIST_STUDIO_PACKAGED && parsed.origin === new URL(devServer).origin;
  } catch {
    return false;
  }
}
