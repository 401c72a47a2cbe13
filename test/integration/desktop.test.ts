// The real Electron main (src/main/index.ts) run under Node against the stand-in for electron: the
// single-instance lock, the menu's items, shortcuts and actions, and the About panel.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { windows, state, app, ipcMain, type MenuTemplateItem } from '../support/fakeElectron';
import { channelOf } from '@shared/api';
import { tempDir } from '../support/helpers';
import { bundleShell } from '../support/shellBundle';

const { main } = await bundleShell({ main: 'src/main/index.ts' });
process.env.MNIST_STUDIO_HOME = tempDir();
after(() => app.emit('will-quit')); // closes every service started, so the trainer workers end

async function until<T>(what: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  for (const start = Date.now(); Date.now() - start < timeoutMs; await new Promise((r) => setTimeout(r, 10))) {
    const value = what();
    if (value) return value;
  }
  throw new Error('timed out');
}
/** The app's own windows: the hidden compute windows that webgpu runs in (computeWindow.ts) are not the user's. */
const COMPUTE_TITLE = 'MNIST Studio compute';
const appWindows = () => windows.filter((w) => w.options.title !== COMPUTE_TITLE);
const item = (items: MenuTemplateItem[] | undefined, label: string): MenuTemplateItem => {
  const found = items?.find((i) => i.label === label);
  assert.ok(found, `menu item ${label}`);
  return found;
};

test('the first instance opens one window with the menu: Open model, Save model, Open images with shortcuts, Edit, View, Window, About', async () => {
  state.lock = true;
  state.ready = true;
  // The compute windows' pages cannot load in the stand-in: they fail at once, and auto picks a CPU backend.
  state.failPageLoads = true;
  await import(main);
  const menu = await until(() => state.menu);
  await until(() => appWindows().length === 1);
  const file = item(menu.template, 'File').submenu;
  assert.equal(item(file, 'Open model…').accelerator, 'CmdOrCtrl+O');
  assert.equal(item(file, 'Save model…').accelerator, 'CmdOrCtrl+S');
  assert.equal(item(file, 'Open images…').accelerator, 'CmdOrCtrl+I');
  const roles = menu.template.flatMap((m) => [m.role, ...(m.submenu ?? []).map((s) => s.role)]);
  for (const role of ['editMenu', 'viewMenu', 'windowMenu', 'about', 'quit']) assert.ok(roles.includes(role), role);

  // The items act through the service: Open model asks for a folder and reports what is wrong with it.
  state.dialogPaths = [tempDir()];
  item(file, 'Open model…').click!();
  const message = await until(() => state.messages.at(-1) as { message: string } | undefined);
  assert.match(message.message, /model\.json/);
  // Open images asks for files and hands the batch to the page.
  const image = join(tempDir(), 'seven.png');
  writeFileSync(image, Buffer.from('89504e470d0a1a0a', 'hex'));
  state.dialogPaths = [image];
  item(file, 'Open images…').click!();
  const opened = await until(() => appWindows()[0]!.sent.find(([, e]) => (e as { type: string }).type === 'images-opened'));
  assert.deepEqual((opened[1] as { names: string[] }).names, ['seven.png']);

  // About: the app's, Electron's, Chromium's and Node's versions, then the backend once the trainer knows it.
  const about = await until(() => (/Backend: (wasm|native|webgpu) /.test(String(state.about?.copyright)) ? state.about : undefined));
  assert.equal(about.applicationName, 'MNIST Studio');
  assert.equal(about.applicationVersion, '0.0.0-test');
  assert.match(String(about.copyright), new RegExp(`Node ${process.versions.node}`));
});

test('the menu and the About panel follow the language setting, and back to the system language', async () => {
  const call = (locale: string) =>
    ipcMain.handlers.get(channelOf('setLocale'))!({ senderFrame: { url: 'app://studio/index.html', parent: null } }, { locale }) as Promise<{ ok: boolean }>;
  const menuAfter = async (locale: string) => {
    const before = state.menu;
    assert.ok((await call(locale)).ok);
    return (await until(() => (state.menu !== before ? state.menu : undefined))).template;
  };
  const korean = await menuAfter('ko');
  const file = item(korean, '파일').submenu;
  assert.equal(item(file, '모델 열기…').accelerator, 'CmdOrCtrl+O');
  assert.ok(item(korean, '편집').submenu?.some((i) => i.role === 'paste' && i.label === '붙여넣기'));
  assert.equal(state.about?.applicationName, 'MNIST 스튜디오');
  assert.match(String(state.about?.copyright), /백엔드: /);
  // "system" is the system's language: English here, Korean where the system is.
  item(await menuAfter('system'), 'File');
  state.locale = 'ko-KR';
  item(await menuAfter('system'), '파일');
  state.locale = 'en-US';
  item(await menuAfter('en'), 'File');
});

test('a second launch focuses the open window (restoring it if minimised), and a second instance quits at once', async () => {
  const record = appWindows()[0]!;
  record.minimized = true;
  record.calls.length = 0;
  app.emit('second-instance', {}, [], '/');
  assert.deepEqual(record.calls, ['restore', 'show', 'focus']);

  state.lock = false;
  const quits = state.quit;
  await import(`${main}?second`);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(state.quit, quits + 1, 'the second instance quit');
  assert.equal(appWindows().length, 1, 'and opened no window of its own');
});
