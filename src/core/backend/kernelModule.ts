// Finds and compiles the wasm kernels once per thread of the owner: the relaxed-SIMD build
// (resources/kernels/cnn-relaxed.wasm, f32x4.relaxed_madd, fused on x86 with FMA) where the runtime
// validates relaxed SIMD, else the plain SIMD128 build (resources/kernels/cnn.wasm).
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { resourcePath } from '../resources';

export type KernelBuild = 'relaxed' | 'plain';

// (module (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
const RELAXED_PROBE = Uint8Array.from([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);

let relaxed: boolean | undefined;

/**
 * Whether this runtime runs relaxed SIMD. Electron's V8 and Node 22 have it on; Node 20 has it behind
 * --experimental-wasm-relaxed-simd, which V8 still takes at run time before the first module using it
 * compiles (it is process-wide, so worker threads see it too). Where even that fails, plain SIMD it is.
 */
export function relaxedSimd(): boolean {
  if (relaxed === undefined) {
    relaxed = WebAssembly.validate(RELAXED_PROBE);
    if (!relaxed) {
      try {
        setFlagsFromString('--experimental-wasm-relaxed-simd');
      } catch {
        // A runtime that refuses the flag keeps the plain build.
      }
      relaxed = WebAssembly.validate(RELAXED_PROBE);
    }
  }
  return relaxed;
}

const compiled = new Map<KernelBuild, WebAssembly.Module>();

/** The build the wasm engine runs here, unless one is asked for. */
export const kernelBuild = (asked?: KernelBuild): KernelBuild => asked ?? (relaxedSimd() ? 'relaxed' : 'plain');

/** The kernels, compiled once per build; a `file` compiles that binary instead (benchmarks compare builds). */
export function kernelModule(file?: string, build: KernelBuild = kernelBuild()): WebAssembly.Module {
  if (file) return new WebAssembly.Module(readFileSync(file));
  if (build === 'relaxed' && !relaxedSimd()) throw new Error('this runtime has no relaxed SIMD');
  let module = compiled.get(build);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(resourcePath(build === 'relaxed' ? 'kernels-relaxed' : 'kernels')));
    compiled.set(build, module);
  }
  return module;
}
