// Desktop manners: one instance (a second launch focuses the open window instead of starting a second
// trainer) and the About panel with the versions of everything that runs.
import { app, type BrowserWindow } from 'electron';
import type { BackendInfo } from '@shared/training';
import { m } from '@shared/i18n/locale';

/** Claims the single-instance lock; false (and quitting) when another instance holds it. */
export function claimSingleInstance(current: () => BrowserWindow | undefined): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => {
    const win = current();
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  return true;
}

/** Sets the About panel's text, in the app's language; called again once the trainer knows its backend. */
export function setAbout(backend?: BackendInfo): void {
  const { electron, chrome, node } = process.versions;
  app.setAboutPanelOptions({
    applicationName: m.app_title(),
    applicationVersion: app.getVersion(),
    copyright: [
      `Electron ${electron} · Chromium ${chrome} · Node ${node}`,
      backend ? m.about_backend({ backend: backend.backend, detail: backend.detail }) : m.about_backend_starting(),
    ].join('\n'),
  });
}
