// Finds and compiles resources/kernels/cnn.wasm once per thread of the owner.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let compiled: WebAssembly.Module | undefined;

/** The kernels' file: next to the sources in development, under resources/ in every build. */
export function kernelPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'resources', 'kernels', 'cnn.wasm');
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, '..');
  }
  throw new Error('resources/kernels/cnn.wasm is missing: run npm run build:kernels');
}

export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(kernelPath()));
  return compiled;
}
