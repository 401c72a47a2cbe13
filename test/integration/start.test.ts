// `npm start` where Electron cannot run: one line saying why, the URL, no build noise, and the URL handed to
// the desktop's opener when there is a display (and no failure when there is no opener).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/helpers';

const electronRuns = spawnSync(process.execPath, ['-e', "process.stdout.write(require('electron'))"], { encoding: 'utf8' }).status === 0;

/** Runs npm start's script until it prints the URL; returns everything it printed by then. */
async function start(env: Record<string, string | undefined>): Promise<{ out: string; url: string }> {
  const child = spawn(process.execPath, ['scripts/start.mjs'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const url = out.match(/http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+/)?.[0];
        if (url) resolve(url);
      }, 50);
      child.once('exit', (code) => (clearInterval(timer), reject(new Error(`start exited with ${code}: ${out}`))));
    });
    return { out, url };
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  }
}

test(
  'in browser mode it prints the URL without build noise, and opens it where there is a display',
  { skip: electronRuns && 'Electron runs here' },
  async () => {
    const bin = tempDir();
    const opened = join(bin, 'opened');
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${opened}\n`);
    chmodSync(join(bin, 'xdg-open'), 0o755);
    const { out, url } = await start({ DISPLAY: ':99', PATH: `${bin}:${process.env.PATH}` });
    assert.doesNotMatch(out, /PLUGIN_TIMINGS|built in|modules transformed/);
    assert.match(out.split('\n')[0]!, /^MNIST Studio: .*running the app in your browser instead\.$/);
    for (let i = 0; i < 100 && !existsSync(opened); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(readFileSync(opened, 'utf8').trim(), url);
  },
);

test('with no display, or no opener, it only prints the URL', { skip: electronRuns && 'Electron runs here' }, async () => {
  // An empty PATH: no xdg-open to run (node itself is started by its full path). The URL is printed all the same.
  const { url } = await start({ DISPLAY: ':99', PATH: '/nonexistent' });
  assert.match(url, /token=/);
  const headless = await start({ DISPLAY: undefined, WAYLAND_DISPLAY: undefined });
  assert.match(headless.url, /token=/);
});
