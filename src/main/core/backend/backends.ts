// Picks the training backend: tfjs-node where it installed, else the wasm kernels; always says which and why.
import type { BackendChoice, BackendInfo, BackendName } from '../../../shared/contract';
import type { Engine, EngineOptions } from './engine';
import type { Dataset } from '../dataset/dataset';
import { WasmEngine, wasmDetail, wasmThreads } from './wasmEngine';
import { TfjsEngine, TFJS_DETAIL } from './tfjsEngine';
import type { GpuAdapter } from './webgpu/nodeDevice';

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

/** Dawn's best adapter here, or why there is none; Dawn is loaded only when this is first called. */
async function gpuAdapter(): Promise<GpuAdapter | string> {
  const { findAdapter } = await import('./webgpu/nodeDevice');
  return findAdapter();
}

/** What a choice resolves to on this machine, without starting an engine. */
export async function resolveBackend(choice: BackendChoice, threads?: number): Promise<BackendInfo> {
  let backend: BackendName = choice === 'auto' ? 'native' : choice;
  let fallbackReason: string | undefined;
  if (backend === 'webgpu') {
    const adapter = await gpuAdapter();
    if (typeof adapter === 'string') throw new BackendUnavailableError(`backend webgpu is unavailable: ${adapter}`);
    return { backend, detail: adapter.name, device: adapter.name };
  }
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
  if (backend === 'webgpu') return { engine: await createGpuEngine(dataset, options), fallbackReason };
  const engine = backend === 'wasm' ? new WasmEngine(dataset, options) : new TfjsEngine(backend, dataset, options);
  return { engine, fallbackReason };
}

/** The webgpu engine on a fresh device from Dawn's best adapter. */
async function createGpuEngine(dataset: Dataset, options: EngineOptions): Promise<Engine> {
  const adapter = await gpuAdapter();
  if (typeof adapter === 'string') throw new BackendUnavailableError(`backend webgpu is unavailable: ${adapter}`);
  const { requestDevice } = await import('./webgpu/nodeDevice');
  const { GpuEngine } = await import('./webgpu/gpuEngine');
  const device = await requestDevice(adapter.adapter);
  // Fault injection for tests (MNIST_STUDIO_FAULTS=1): 'shader' compiles broken WGSL, 'lost:N' loses the
  // device after N steps.
  const fault = process.env.MNIST_STUDIO_FAULTS === '1' ? process.env.MNIST_STUDIO_GPU_FAULT : undefined;
  const faults = {
    patchShader: fault === 'shader' ? (wgsl: string) => `${wgsl}\nfn broken() -> f32 { return undefined_name; }\n` : undefined,
    loseDeviceAfter: fault?.startsWith('lost:') ? Number(fault.slice(5)) : undefined,
  };
  return GpuEngine.create(device, dataset, { ...options, ...faults, device: adapter.name, ownsDevice: true });
}
