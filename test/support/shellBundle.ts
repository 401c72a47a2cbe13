// Bundles Electron shell code (src/main/*.ts) for a test: electron becomes the stand-in, and the core runs
// from its sources (through tsx), where its worker and resources are found. The bundle is written inside
// the project (a cache folder), so its package imports resolve; it is removed when the process exits.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const fake = resolve('test/support/fakeElectron.ts');

/** Bundles each entry (name → source file) and returns the file URL of each output. */
export async function bundleShell<K extends string>(entryPoints: Record<K, string>): Promise<Record<K, string>> {
  mkdirSync('node_modules/.cache', { recursive: true });
  const out = mkdtempSync(resolve('node_modules/.cache/mnist-studio-shell-test-'));
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  await build({
    entryPoints,
    bundle: true,
    platform: 'node',
    format: 'esm',
    outdir: out,
    logLevel: 'silent',
    packages: 'external',
    plugins: [
      {
        name: 'stand-ins',
        setup(b) {
          b.onResolve({ filter: /^electron$/ }, () => ({ path: fake, external: true }));
          b.onResolve({ filter: /^@core\// }, (args) => ({
            path: pathToFileURL(`${resolve('src/core', args.path.slice('@core/'.length))}.ts`).href,
            external: true,
          }));
        },
      },
    ],
  });
  return Object.fromEntries(Object.keys(entryPoints).map((name) => [name, pathToFileURL(resolve(out, `${name}.js`)).href])) as Record<K, string>;
}
