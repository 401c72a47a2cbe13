// Picks the training backend: tfjs-node where it installed, else the wasm kernels; always says which and why.
import type { BackendChoice, BackendInfo, BackendName } from '../../../shared/contract';
import type { Engine, EngineOptions } from './engine';
import type { Dataset } from '../dataset/dataset';
import { WasmEngine, wasmDetail, wasmThreads } from './wasmEngine';
import { TfjsEngine, TFJS_DETAIL } from './tfjsEngine';

export class BackendUnavailableError extends Error {
  readonly code = 'backend-unavailable';
}

let native: Promise<string | undefined> | undefined;

/** Loads tfjs-node once. Resolves to undefined when it works, else to the reason it does not. */
export function nativeProblem(): Promise<string | undefined> {
  native ??= (async () => {
    try {
      // A variable specifier keeps bundlers and the type checker from requiring the optional package.
      const name = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ name);
      return undefined;
    } catch (error) {
      const code = (error as { code?: string }).code;
      return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? 'tfjs-node is not installed (its native TensorFlow library could not be downloaded when the app was installed)'
        : `tfjs-node failed to load: ${(error as Error).message.split('\n')[0]}`;
    }
  })();
  return native;
}

export interface BackendPick {
  engine: Engine;
  /** Why the native backend is not the one in use, when it is not. */
  fallbackReason?: string;
}

/** What a choice resolves to on this machine, without starting an engine. */
export async function resolveBackend(choice: BackendChoice, threads?: number): Promise<BackendInfo> {
  let backend: BackendName = choice === 'auto' ? 'native' : choice;
  let fallbackReason: string | undefined;
  if (backend === 'native') {
    const problem = await nativeProblem();
    if (problem && choice === 'native') throw new BackendUnavailableError(`backend native is unavailable: ${problem}`);
    if (problem) [backend, fallbackReason] = ['wasm', problem];
  }
  const detail = { native: TFJS_DETAIL.native, cpu: TFJS_DETAIL.cpu, wasm: wasmDetail(wasmThreads(threads)) }[backend];
  return { backend, detail, fallbackReason };
}

export async function createEngine(choice: BackendChoice, dataset: Dataset, options: EngineOptions): Promise<BackendPick> {
  const { backend, fallbackReason } = await resolveBackend(choice, options.threads);
  const engine = backend === 'wasm' ? new WasmEngine(dataset, options) : new TfjsEngine(backend, dataset, options);
  return { engine, fallbackReason };
}
