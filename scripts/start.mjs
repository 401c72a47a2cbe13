// `npm start`: builds the app and opens it in Electron. Where Electron's binary cannot be obtained (it is
// downloaded on first run, and some machines cannot download it) or there is no display, it says so in
// one line and runs the same app in the browser host instead: it prints the URL and, where there is a
// display, opens it in the default browser (BROWSER=none stops that).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = (args, options = {}) => spawn(process.execPath, args, { cwd: root, stdio: 'inherit', ...options });

function electronBinary() {
  // require('electron') downloads the binary on first use and throws when it cannot; ask in a child so
  // its download noise and stack trace stay out of the user's terminal.
  const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { cwd: root, encoding: 'utf8' });
  if (probe.status === 0 && probe.stdout) return { path: probe.stdout };
  const lines = `${probe.stderr}`.split('\n').filter((l) => /Error|error/.test(l));
  return { problem: (lines.find((l) => /RequestError|ENOTFOUND|EAI_AGAIN|ECONN|fetch failed|HTTPError/.test(l)) ?? lines.at(-1) ?? 'unknown error').trim() };
}

/** Newest modification time under a path. */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

// Build only when a source is newer than the last build, so an unchanged app starts at once.
const outputs = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((f) => join(root, f));
const builtAt = outputs.every(existsSync) ? Math.min(...outputs.map((f) => statSync(f).mtimeMs)) : 0;
const sourcesAt = Math.max(...['src', 'resources', 'electron.vite.config.ts', 'package.json'].map((p) => newest(join(root, p))));
if (sourcesAt > builtAt) {
  const build = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build', '--logLevel', 'warn'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const electron = electronBinary();
const headless = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
if (electron.path && !headless) {
  const child = spawn(electron.path, ['.'], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const why = electron.path ? 'there is no display' : `Electron's binary could not be obtained (${electron.problem})`;
  console.log(`MNIST Studio: ${why}; running the app in your browser instead.`);
  const host = run(['--import', 'tsx', 'src/cli/index.ts', 'serve'], { stdio: ['inherit', 'pipe', 'inherit'] });
  let opened = false;
  host.stdout.on('data', (chunk) => {
    process.stdout.write(chunk); // the URL is always printed
    const url = `${chunk}`.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/)?.[0];
    if (url && !opened && !headless && process.env.BROWSER !== 'none') openInBrowser(url);
    opened ||= Boolean(url);
  });
  host.on('exit', (code) => process.exit(code ?? 0));
  // A signal for npm start (not only Ctrl-C, which reaches both) ends the host too.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => host.kill(signal));
}

/** Opens the URL in the default browser; a missing opener (no xdg-open, say) is not an error: the URL is printed. */
function openInBrowser(url) {
  const [command, args] = {
    darwin: ['open', [url]],
    win32: ['cmd', ['/c', 'start', '""', url]],
  }[process.platform] ?? ['xdg-open', [url]];
  const opener = spawn(command, args, { stdio: 'ignore', detached: true });
  opener.on('error', () => {});
  opener.unref();
}
