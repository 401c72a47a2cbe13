// The app's one window, locked down per Electron's security checklist (see SECURITY.md).
import { app, BrowserWindow, type WebContents } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resourcePath } from '@core/resources';
import { m } from '@shared/i18n/locale';

/** The app's content is served from this origin by a custom protocol, never from file://. */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://studio`;

/**
 * electron-vite's dev server, in development only. A packaged app never loads one, whatever its
 * environment says (Electron's own app.isPackaged decides, not a variable anyone can set); and only an
 * http(s) URL counts, since a file: URL's origin is "null", which every opaque origin would match.
 */
export function devServerUrl(): URL | undefined {
  const raw = process.env.ELECTRON_RENDERER_URL;
  if (app.isPackaged || !raw) return undefined;
  try {
    const url = new URL(raw);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin !== 'null' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** No navigation, redirect, webview or new window, whatever the page tries: for every web contents. */
export function lockDown(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-frame-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

export function createMainWindow(): BrowserWindow {
  const preload = join(fileURLToPath(new URL('.', import.meta.url)), '../preload/index.cjs');
  const win = new BrowserWindow({
    width: 1280,
    height: 900,
    minWidth: 800,
    minHeight: 600,
    show: false,
    title: m.app_title(),
    icon: resourcePath('icon'),
    // Spelled out here, not spread from a constant, so static checkers (electronegativity) can see them.
    // test/integration/shell.test.ts runs this function against a stand-in for electron and asserts each one.
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
  lockDown(win.webContents);
  void win.loadURL(devServerUrl()?.href ?? `${APP_ORIGIN}/index.html`);
  return win;
}

/** Whether a URL belongs to the app's own content (checked on every IPC call). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    // Not parsed.origin: for a scheme URL does not know (app:), origin is the string "null".
    if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === 'studio') return true;
    const devServer = devServerUrl();
    return devServer !== undefined && parsed.origin === devServer.origin;
  } catch {
    return false;
  }
}
