// The Electron shell, kept thin: one locked-down window, the menu, native dialogs, and IPC handlers
// that hand every call to the core's StudioService. Training runs in the core's worker thread, so this
// process never blocks.
import { app, dialog, net, protocol, session, BrowserWindow, Menu } from 'electron';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StudioService } from './core/service/studioService';
import { registerIpc } from './ipc';
import { buildMenu } from './menu';
import { APP_SCHEME, createMainWindow } from './window';
import { EVENT_CHANNEL } from '../shared/api';
import { contentSecurityPolicy } from './core/host/csp';
import { IMAGE_EXTENSIONS } from '../shared/imageCheck';

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

const rendererDir = join(fileURLToPath(new URL('.', import.meta.url)), '../renderer');
let win: BrowserWindow | undefined;

function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const path = normalize(decodeURIComponent(new URL(request.url).pathname)).replace(/^[/\\]+/, '');
    const file = join(rendererDir, path || 'index.html');
    if (!file.startsWith(rendererDir + sep)) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', contentSecurityPolicy("'none'"));
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  });
}

async function pickDirectory(purpose: 'save' | 'open'): Promise<string | undefined> {
  const options: Electron.OpenDialogOptions = {
    title: purpose === 'save' ? 'Save model to folder' : 'Open model folder',
    properties: purpose === 'save' ? ['openDirectory', 'createDirectory', 'promptToCreate'] : ['openDirectory'],
  };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths[0];
}

async function pickImages(): Promise<string[] | undefined> {
  const options: Electron.OpenDialogOptions = {
    title: 'Open images',
    properties: ['openFile', 'multiSelections'],
    filters: [{ name: 'Images', extensions: IMAGE_EXTENSIONS }],
  };
  const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  return result.canceled ? undefined : result.filePaths;
}

app.whenReady().then(() => {
  // Deny every permission request (camera, notifications, ...): the app needs none.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  serveRenderer();
  const service = new StudioService({ home: process.env.MNIST_STUDIO_HOME ?? join(app.getPath('userData')), pickDirectory, pickImages });
  registerIpc(service);
  service.onEvent((event) => {
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
  });
  const report = (message: string): void => void dialog.showMessageBox({ type: 'error', message });
  Menu.setApplicationMenu(buildMenu(service, report));
  win = createMainWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = createMainWindow();
  });
  app.on('will-quit', () => void service.close());
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
