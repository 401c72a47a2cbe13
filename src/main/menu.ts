// The application menu: File (Open model…, Save model…, Open images…, Quit), Edit, View, Window, Help (About).
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { StudioService } from '@core/service/studioService';

export function buildMenu(service: StudioService, report: (message: string) => void): Menu {
  const run = (action: () => Promise<unknown>) => () =>
    void action().then((reply) => {
      const r = reply as { ok: boolean; error?: { message: string } };
      if (!r.ok && r.error) report(r.error.message);
    });
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open model…', accelerator: 'CmdOrCtrl+O', click: run(() => service.dispatch('openModel', {})) },
        { label: 'Save model…', accelerator: 'CmdOrCtrl+S', click: run(() => service.dispatch('saveModel', {})) },
        { label: 'Open images…', accelerator: 'CmdOrCtrl+I', click: run(() => service.dispatch('openImages', {})) },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    // macOS has About in the app menu.
    ...(process.platform === 'darwin' ? [] : [{ role: 'help' as const, submenu: [{ role: 'about' as const, label: 'About MNIST Studio' }] }]),
  ];
  return Menu.buildFromTemplate(template);
}
