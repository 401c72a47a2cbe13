// Picks the training backend (auto: a GPU that beats the CPU kernels, else the native kernels where they
// load, else tfjs-node where it installed, else the wasm kernels) and makes its engine; always says which and why.
import type { BackendChoice, BackendInfo, BackendStatus } from '@shared/training';
import type { Engine, EngineOptions } from '@shared/engine';
import type { Dataset } from '@shared/dataset';
import { WasmEngine, wasmDetail, wasmThreads } from './wasmEngine';
import { TfjsEngine, TFJS_DETAIL } from './tfjsEngine';
import { NativeEngine, nativeDetail, nativeKernels } from './nativeEngine';
import type { GpuAdapter } from './webgpu/nodeDevice';
import { autoChoice, probeCacheFile, type CpuKernels, type GpuCandidate, type ProbeVerdict } from './autoChoice';
import type { PageProvider } from './webgpu/computeBridge';
import { softwareRenderer } from '@gpu/device';
import { defaultHome } from '../home';
import { initialParams } from '../model/init';
import { INPUT_SHAPE, CLASSES } from '@shared/architecture';
import { MNIST_SPEC } from '@shared/modelSpec';
import { BackendUnavailableError } from './unavailable';

export { BackendUnavailableError };

let tfjsNode: Promise<string | undefined> | undefined;

/** Loads tfjs-node once. Resolves to undefined when it works, else to the reason it does not. */
export function tfjsNodeProblem(): Promise<string | undefined> {
  tfjsNode ??= (async () => {
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
  return tfjsNode;
}

/** Why the native kernels cannot run here (one line), or undefined where they load. */
export function kernelsProblem(): string | undefined {
  const kernels = nativeKernels();
  return typeof kernels === 'string' ? kernels : undefined;
}

/** "AVX-512, 2 threads": what the native kernels run on here, or why they cannot. */
function nativeStatus(threads?: number): { available: boolean; detail: string } {
  const kernels = nativeKernels();
  return typeof kernels === 'string' ? { available: false, detail: kernels } : { available: true, detail: nativeDetail(kernels.isa, wasmThreads(threads)) };
}

export interface BackendPick {
  engine: Engine;
  /** Why the backends auto prefers are not the one in use, when they are not. */
  fallbackReason?: string;
}

/**
 * Where webgpu engines come from when Dawn cannot run here (Electron): compute pages the owner opens.
 * Set once, by the trainer worker, when its owner gave it a way to open them.
 */
let pages: PageProvider | undefined;
export function useComputePages(provider: PageProvider | undefined): void {
  pages = provider;
}

/** The compute page's adapter, asked once per worker (a page that could not answer is asked again next time). */
let pageAdapter: Promise<GpuCandidate | string> | undefined;
function askPageAdapter(provider: PageProvider): Promise<GpuCandidate | string> {
  pageAdapter ??= (async () => {
    try {
      const { PortEngine } = await import('./webgpu/portEngine');
      const reply = await PortEngine.adapter(await provider.open(), provider.timeouts);
      return { name: reply.name, software: reply.fallback || softwareRenderer(reply.name) };
    } catch (error) {
      pageAdapter = undefined;
      return `the compute window has no WebGPU: ${(error as Error).message.split('\n')[0]}`;
    }
  })();
  return pageAdapter;
}

/** The best adapter here (the compute page's where one is provided, else Dawn's), or why there is none; Dawn is loaded only when this is first called. */
async function gpuAdapter(): Promise<GpuAdapter | GpuCandidate | string> {
  if (pages) return askPageAdapter(pages);
  const { findAdapter } = await import('./webgpu/nodeDevice');
  return findAdapter();
}

/**
 * The adapter as statuses, auto and headers need it (a name, software or not), looked up once per worker:
 * each lookup asks Dawn for a fresh adapter, which the picker's repeated asks made pile up, and which Dawn
 * has aborted the process over right after a lost device. An engine still gets a fresh adapter of its own.
 */
let described: Promise<GpuCandidate | string> | undefined;
function describedAdapter(): Promise<GpuCandidate | string> {
  if (pages) return askPageAdapter(pages);
  described ??= gpuAdapter().then((found) => (typeof found === 'string' ? found : { name: found.name, software: found.software }));
  return described;
}

/** What a choice resolves to on this machine, without starting an engine. */
export async function resolveBackend(choice: BackendChoice, threads?: number, gpu = true): Promise<BackendInfo> {
  if (choice === 'auto') {
    const pick = await autoChoice({
      adapter: gpu ? describedAdapter : async () => undefined,
      probe: (adapter, cpu) => probe(adapter, cpu, wasmThreads(threads)),
      kernelsProblem,
      tfjsNodeProblem,
      cacheFile: probeCacheFile(defaultHome()),
      threads: wasmThreads(threads),
    });
    if (pick.backend === 'webgpu') return { backend: 'webgpu', detail: pick.device!, device: pick.device, fallbackReason: pick.reason };
    const detail =
      pick.backend === 'native' ? nativeStatus(threads).detail : pick.backend === 'tfjs-node' ? TFJS_DETAIL['tfjs-node'] : wasmDetail(wasmThreads(threads));
    return { backend: pick.backend, detail, fallbackReason: pick.reason };
  }
  if (choice === 'webgpu') {
    const adapter = await describedAdapter();
    if (typeof adapter === 'string') throw new BackendUnavailableError(`backend webgpu is unavailable: ${adapter}`);
    return { backend: choice, detail: adapter.name, device: adapter.name };
  }
  const problem = choice === 'native' ? kernelsProblem() : choice === 'tfjs-node' ? await tfjsNodeProblem() : undefined;
  if (problem) throw new BackendUnavailableError(`backend ${choice} is unavailable: ${problem}`);
  const detail = {
    native: () => nativeStatus(threads).detail,
    'tfjs-node': () => TFJS_DETAIL['tfjs-node'],
    cpu: () => TFJS_DETAIL.cpu,
    wasm: () => wasmDetail(wasmThreads(threads)),
  };
  return { backend: choice, detail: detail[choice]() };
}

export async function createEngine(choice: BackendChoice, dataset: Dataset, options: EngineOptions): Promise<BackendPick> {
  const { backend, fallbackReason } = await resolveBackend(choice, options.threads, options.gpu);
  if (backend === 'webgpu') {
    try {
      return { engine: await createGpuEngine(dataset, options), fallbackReason };
    } catch (error) {
      // auto's verdict comes from a probe at MNIST's shape and batch 32: a GPU that cannot start this
      // recipe (a buffer past its binding limit, say) leaves auto to the CPU backends, saying why.
      if (choice !== 'auto') throw error;
      const why = `webgpu could not start this recipe: ${(error as Error).message.split('\n')[0]!.replace(/^webgpu could not start: /, '')}`;
      const cpu = await createEngine('auto', dataset, { ...options, gpu: false });
      return { engine: cpu.engine, fallbackReason: [why, cpu.fallbackReason].filter(Boolean).join('; ') };
    }
  }
  if (backend === 'native') {
    try {
      return { engine: new NativeEngine(dataset, options), fallbackReason };
    } catch (error) {
      // The addon loaded but could not start this engine (out of memory, no threads): auto goes on with wasm.
      if (choice !== 'auto') throw error;
      const why = `no native kernels: ${(error as Error).message.split('\n')[0]!.replace(/^backend native is unavailable: /, '')}`;
      return { engine: new WasmEngine(dataset, options), fallbackReason: [fallbackReason, why].filter(Boolean).join('; ') };
    }
  }
  const engine = backend === 'wasm' ? new WasmEngine(dataset, options) : new TfjsEngine(backend, dataset, options);
  return { engine, fallbackReason };
}

/** The webgpu engine: in a fresh compute page where pages are provided, else on a fresh device from Dawn's best adapter (or the one given). */
async function createGpuEngine(dataset: Dataset, options: EngineOptions, found?: GpuAdapter | GpuCandidate): Promise<Engine> {
  if (pages) {
    const { PortEngine } = await import('./webgpu/portEngine');
    return PortEngine.create(await pages.open(), dataset, options, pages.timeouts);
  }
  const given = found && 'adapter' in found ? found : await gpuAdapter();
  if (typeof given === 'string') throw new BackendUnavailableError(`backend webgpu is unavailable: ${given}`);
  // Without compute pages every candidate is Dawn's.
  const adapter = given as GpuAdapter;
  const { requestDevice } = await import('./webgpu/nodeDevice');
  const { GpuEngine } = await import('@gpu/gpuEngine');
  const device = await requestDevice(adapter.adapter);
  // Fault injection for tests (MNIST_STUDIO_FAULTS=1): 'shader' compiles broken WGSL, 'lost:N' loses the
  // device after N steps, 'oom:N' reports an out-of-memory error after N steps.
  const fault = process.env.MNIST_STUDIO_FAULTS === '1' ? process.env.MNIST_STUDIO_GPU_FAULT : undefined;
  const faults = {
    patchShader: fault === 'shader' ? (wgsl: string) => `${wgsl}\nfn broken() -> f32 { return undefined_name; }\n` : undefined,
    loseDeviceAfter: fault?.startsWith('lost:') ? Number(fault.slice(5)) : undefined,
    outOfMemoryAfter: fault?.startsWith('oom:') ? Number(fault.slice(4)) : undefined,
  };
  return GpuEngine.create(device, dataset, { ...options, ...faults, device: adapter.name, ownsDevice: true });
}

/** Training examples per second of the GPU and of the CPU kernels, on made-up images (speed does not depend on them). */
async function probe(adapter: GpuCandidate, kernels: CpuKernels, threads: number): Promise<ProbeVerdict> {
  const size = INPUT_SHAPE.reduce((a, b) => a * b, 1),
    count = 32 * 32;
  const split = {
    count,
    images: Uint8Array.from({ length: count * size }, (_, i) => (i * 37) & 255),
    labels: Uint8Array.from({ length: count }, (_, i) => i % CLASSES),
  };
  const dataset: Dataset = { source: 'probe', spec: MNIST_SPEC, train: split, test: split };
  const batches = Array.from({ length: 32 }, (_, i) => Int32Array.from({ length: 32 }, (_, j) => i * 32 + j));
  const rate = (steps: number, ms: number) => (steps * 32 * 1000) / ms;
  const gpu = await createGpuEngine(dataset, { maxBatch: 32 }, adapter);
  const cpu = kernels === 'native' ? new NativeEngine(dataset, { maxBatch: 32, threads }) : new WasmEngine(dataset, { maxBatch: 32, threads });
  try {
    gpu.setParams(initialParams(0));
    cpu.setParams(initialParams(0));
    // One group to compile and warm up, then one timed group, as training runs them.
    await gpu.trainSteps!(batches.slice(0, 4), 0.01, 0.9);
    let start = performance.now();
    await gpu.trainSteps!(batches, 0.01, 0.9);
    const gpuRate = rate(batches.length, performance.now() - start);
    cpu.trainStep(batches[0]!, 0.01, 0.9);
    start = performance.now();
    for (const batch of batches.slice(0, 8)) cpu.trainStep(batch, 0.01, 0.9);
    return { gpu: gpuRate, cpu: rate(8, performance.now() - start) };
  } finally {
    gpu.dispose();
    cpu.dispose();
  }
}

/** Every choice with its status here, for the app's picker: what each trains on, or why it cannot. */
export async function backendStatuses(threads?: number): Promise<BackendStatus[]> {
  const adapter = await gpuAdapter();
  const problem = await tfjsNodeProblem();
  const auto = await resolveBackend('auto', threads);
  const gpu: Omit<BackendStatus, 'choice'> =
    typeof adapter === 'string'
      ? { available: false, detail: adapter }
      : { available: true, detail: `${adapter.name}${adapter.software ? ' — a software renderer, much slower than wasm' : ''}` };
  return [
    { choice: 'auto', available: true, detail: `${auto.backend}: ${auto.detail}` },
    { choice: 'webgpu', ...gpu },
    { choice: 'native', ...nativeStatus(threads) },
    { choice: 'wasm', available: true, detail: wasmDetail(wasmThreads(threads)) },
    { choice: 'tfjs-node', available: !problem, detail: problem ?? TFJS_DETAIL['tfjs-node'] },
    { choice: 'cpu', available: true, detail: TFJS_DETAIL.cpu },
  ];
}
