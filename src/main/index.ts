// The Electron shell, kept thin: one locked-down window, the menu, native dialogs, and IPC handlers
// that hand every call to the core's StudioService. Training runs in the core's worker thread, so this
// process never blocks.
import { app, dialog, protocol, session, BrowserWindow, Menu } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StudioService } from '@core/service/studioService';
import { registerIpc } from './ipc';
import { buildMenu } from './menu';
import { APP_SCHEME, createMainWindow, lockDown } from './window';
import { EVENT_CHANNEL } from '@shared/api';
import { appProtocolHandler } from './appProtocol';
import { IMAGE_EXTENSIONS } from '@shared/imageCheck';
import { claimSingleInstance, setAbout } from './desktop';
import { openComputePage } from './computeWindow';
import { TrainerClient } from '@core/trainer/client';
import type { BackendInfo } from '@shared/training';
import { chosenLocale, m, useLocale } from '@shared/i18n/locale';

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const rendererDir = join(fileURLToPath(new URL('.', import.meta.url)), '../renderer');
let win: BrowserWindow | undefined;
const primary = claimSingleInstance(() => win);

async function pickDirectory(purpose: 'save' | 'open' | 'dataset'): Promise<string | undefined> {
  const options: Electron.OpenDialogOptions = {
    title: { save: m.dialog_save_model(), open: m.dialog_open_model(), dataset: m.dialog_open_dataset() }[purpose],
    properties: purpose === 'save' ? ['openDirectory', 'createDirectory', 'promptToCreate'] : ['openDirectory'],
  };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths[0];
}

async function confirm(message: string): Promise<boolean> {
  const options: Electron.MessageBoxOptions = { type: 'warning', message, buttons: [m.cancel(), m.dialog_save_anyway()], defaultId: 0, cancelId: 0 };
  const result = win ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
  return result.response === 1;
}

async function pickExportFile(suggested: string): Promise<string | undefined> {
  const options: Electron.SaveDialogOptions = {
    title: m.dialog_export_onnx(),
    defaultPath: suggested,
    filters: [{ name: m.dialog_onnx_model(), extensions: ['onnx'] }],
  };
  const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
  return result.canceled ? undefined : result.filePath;
}

async function pickImages(): Promise<string[] | undefined> {
  const options: Electron.OpenDialogOptions = {
    title: m.dialog_open_images(),
    properties: ['openFile', 'multiSelections'],
    filters: [{ name: m.dialog_images(), extensions: IMAGE_EXTENSIONS }],
  };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths;
}

app.whenReady().then(() => {
  if (!primary) return;
  // Deny every permission request (camera, notifications, ...): the app needs none.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  protocol.handle(APP_SCHEME, appProtocolHandler(rendererDir));
  // Dawn cannot run in Electron: the trainer's webgpu engines run in hidden compute windows instead.
  const createTrainer = (): TrainerClient => new TrainerClient({ gpu: { open: openComputePage } });
  const service = new StudioService({
    home: process.env.MNIST_STUDIO_HOME ?? join(app.getPath('userData')),
    pickDirectory,
    pickImages,
    pickExportFile,
    confirm,
    createTrainer,
  });
  registerIpc(service);
  const report = (message: string): void => void dialog.showMessageBox({ type: 'error', message });
  // The menus, dialogs and About panel speak the language setting (the system's for "system"), and are
  // made again when it changes; the page follows the same setting from the app's state.
  let backend: BackendInfo | undefined;
  const speak = (): void => {
    useLocale(chosenLocale(service.getState().settings.locale, app.getLocale()));
    Menu.setApplicationMenu(buildMenu(service, report));
    setAbout(backend);
  };
  service.onEvent((event) => {
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
    if (event.type === 'settings-changed') speak();
  });
  speak();
  void service.dispatch('backend', {}).then((reply) => reply.ok && setAbout((backend = reply.value as BackendInfo)));
  win = createMainWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createMainWindow();
  });
  app.on('will-quit', () => void service.close());
});

app.on('web-contents-created', (_event, contents) => lockDown(contents));

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
