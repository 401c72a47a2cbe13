// Finds and compiles resources/kernels/cnn.wasm once per thread of the owner.
import { readFileSync } from 'node:fs';
import { resourcePath } from '../resources';

let compiled: WebAssembly.Module | undefined;

/** The kernels, compiled once; a `file` compiles that binary instead (benchmarks compare builds). */
export function kernelModule(file?: string): WebAssembly.Module {
  if (file) return new WebAssembly.Module(readFileSync(file));
  compiled ??= new WebAssembly.Module(readFileSync(resourcePath('kernels')));
  return compiled;
}
