// Finds and compiles resources/kernels/cnn.wasm once per thread of the owner.
import { readFileSync } from 'node:fs';
import { resourcePath } from '../resources';

let compiled: WebAssembly.Module | undefined;

export function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(readFileSync(resourcePath('kernels')));
  return compiled;
}
