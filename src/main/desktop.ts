// Desktop manners: one instance (a second launch focuses the open window instead of starting a second
// trainer) and the About panel with the versions of everything that runs.
import { app, type BrowserWindow } from 'electron';
import type { BackendInfo } from '@shared/training';

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

/** Sets the About panel's text; called again once the trainer knows its backend. */
export function setAbout(backend?: BackendInfo): void {
  const { electron, chrome, node } = process.versions;
  app.setAboutPanelOptions({
    applicationName: 'MNIST Studio',
    applicationVersion: app.getVersion(),
    copyright: [
      `Electron ${electron} · Chromium ${chrome} · Node ${node}`,
      `Backend: ${backend ? `${backend.backend} (${backend.detail})` : 'starting…'}`,
    ].join('\n'),
  });
}
