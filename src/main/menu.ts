// The application menu: File (Open model…, Save model…, Open images…, Quit), Edit, View, Window, Help (About),
// in the app's language: built again when the language setting changes. Each role's items are spelled out
// with their labels, since Electron names a role's default items in English only.
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { StudioService } from '@core/service/studioService';
import { m } from '@shared/i18n/locale';

export function buildMenu(service: StudioService, report: (message: string) => void): Menu {
  const run = (action: () => Promise<unknown>) => () =>
    void action().then((reply) => {
      const r = reply as { ok: boolean; error?: { message: string } };
      if (!r.ok && r.error) report(r.error.message);
    });
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: m.menu_file(),
      submenu: [
        { label: m.menu_open_model(), accelerator: 'CmdOrCtrl+O', click: run(() => service.dispatch('openModel', {})) },
        { label: m.menu_save_model(), accelerator: 'CmdOrCtrl+S', click: run(() => service.dispatch('saveModel', {})) },
        { label: m.menu_open_images(), accelerator: 'CmdOrCtrl+I', click: run(() => service.dispatch('openImages', {})) },
        { type: 'separator' },
        { role: 'quit', label: m.menu_quit() },
      ],
    },
    {
      role: 'editMenu',
      label: m.menu_edit(),
      submenu: [
        { role: 'undo', label: m.menu_undo() },
        { role: 'redo', label: m.menu_redo() },
        { type: 'separator' },
        { role: 'cut', label: m.menu_cut() },
        { role: 'copy', label: m.menu_copy() },
        { role: 'paste', label: m.menu_paste() },
        { role: 'selectAll', label: m.menu_select_all() },
      ],
    },
    {
      role: 'viewMenu',
      label: m.menu_view(),
      submenu: [
        { role: 'reload', label: m.menu_reload() },
        { role: 'forceReload', label: m.menu_force_reload() },
        { role: 'toggleDevTools', label: m.menu_toggle_dev_tools() },
        { type: 'separator' },
        { role: 'resetZoom', label: m.menu_actual_size() },
        { role: 'zoomIn', label: m.menu_zoom_in() },
        { role: 'zoomOut', label: m.menu_zoom_out() },
        { type: 'separator' },
        { role: 'togglefullscreen', label: m.menu_full_screen() },
      ],
    },
    {
      role: 'windowMenu',
      label: m.menu_window(),
      submenu: [
        { role: 'minimize', label: m.menu_minimize() },
        { role: 'zoom', label: m.menu_zoom() },
        { role: 'close', label: m.menu_close() },
      ],
    },
    // macOS has About in the app menu.
    ...(process.platform === 'darwin' ? [] : [{ role: 'help' as const, label: m.menu_help(), submenu: [{ role: 'about' as const, label: m.menu_about() }] }]),
  ];
  return Menu.buildFromTemplate(template);
}
