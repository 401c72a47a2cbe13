/// <reference types="@webgpu/types" />
// The Node side's GPUDevice: Dawn's Node bindings (the optional `webgpu` package), loaded only when a
// webgpu backend is asked for (in the trainer worker, the CLI's bench, tests). The platform's own
// backend first (Vulkan, Metal, D3D12), then OpenGL ES in compatibility mode, which is what Mesa's
// llvmpipe offers on a machine with no GPU.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { printable } from '@shared/format';
import { adapterLabel, softwareRenderer } from '@gpu/device';

export interface GpuAdapter {
  /** "webgpu: NVIDIA H200 (vulkan)" */
  name: string;
  /** A CPU rasteriser (llvmpipe, SwiftShader, lavapipe, WARP) or an adapter Dawn marks as fallback. */
  software: boolean;
  adapter: GPUAdapter;
}

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawn: Promise<Dawn> | undefined;
let noNative = false;

const PLATFORM_BACKEND: Record<string, string> = { linux: 'vulkan', darwin: 'metal', win32: 'd3d12' };

/**
 * Without a display Dawn's EGL needs the surfaceless platform, read from the process's environment when
 * Dawn loads. A worker thread's process.env is its own copy that native code never sees, so the main
 * thread calls this before it starts the trainer worker; Dawn's loader calls it too (for the CLI's bench).
 */
export function prepareGpuEnvironment(): void {
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) process.env.EGL_PLATFORM ??= 'surfaceless';
}

/** MNIST_STUDIO_DAWN's file, checked before require opens it: a FIFO or a device there would block the
 *  thread in open() or read() for ever. Relative paths are taken from the working folder, as shells mean them. */
function dawnFile(given: string): string {
  const file = resolve(given);
  let stats;
  try {
    stats = statSync(file);
  } catch {
    throw new Error(`MNIST_STUDIO_DAWN=${printable(given)}: no such file`);
  }
  if (!stats.isFile() || extname(file) !== '.node') throw new Error(`MNIST_STUDIO_DAWN=${printable(given)}: not a .node file (Dawn's Node bindings)`);
  return file;
}

/** Loads Dawn once: from MNIST_STUDIO_DAWN (a dawn.node file, for bundled builds) or the `webgpu` package. */
function loadDawn(): Promise<Dawn> {
  dawn ??= (async () => {
    prepareGpuEnvironment();
    const file = process.env.MNIST_STUDIO_DAWN && dawnFile(process.env.MNIST_STUDIO_DAWN);
    // A variable specifier keeps bundlers and the type checker from requiring the optional package.
    const name = 'webgpu';
    const loaded = (file ? createRequire(import.meta.url)(file) : await import(/* @vite-ignore */ name)) as Dawn;
    if (!loaded || typeof loaded.create !== 'function' || typeof loaded.globals !== 'object' || !loaded.globals)
      throw new Error(`${file ?? name} is not Dawn's Node bindings (no create() and globals)`);
    // Dawn's objects need the WebGPU constants (GPUBufferUsage and so on) as globals.
    for (const [key, value] of Object.entries(loaded.globals)) (globalThis as Record<string, unknown>)[key] ??= value;
    return loaded;
  })();
  return dawn;
}

/** One Dawn instance per set of flags, alive as long as the process: one collected under a live device crashes Dawn at exit. */
const instances = new Map<string, GPU>();
function instance(gpu: Dawn, flags: string[]): GPU {
  const key = flags.join(' ');
  if (!instances.has(key)) instances.set(key, gpu.create(flags));
  return instances.get(key)!;
}

function describe(adapter: GPUAdapter, backend: string): GpuAdapter {
  const info = adapter.info;
  const device = (info.device || info.description || info.vendor || 'unknown adapter').replace(/[-\s]+$/, '');
  const software =
    Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) || softwareRenderer(`${info.device} ${info.description} ${info.vendor}`);
  return { name: adapterLabel(device, backend), software, adapter };
}

/** The best adapter Dawn offers here, or the reason there is none. A fresh adapter each call: an adapter gives one device. */
export async function findAdapter(): Promise<GpuAdapter | string> {
  // dawn.node hands out external ArrayBuffers, which Electron's V8 sandbox refuses (node-webgpu issue 5).
  if (process.versions.electron) return 'Dawn cannot run inside Electron (its V8 sandbox refuses external buffers)';
  let gpu: Dawn;
  try {
    gpu = await loadDawn();
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? 'the webgpu package (Dawn) is not installed'
      : `Dawn failed to load: ${(error as Error).message.split('\n')[0]}`;
  }
  const platform = PLATFORM_BACKEND[process.platform] ?? 'default';
  // Once the platform backend has no adapter it is not asked again (Dawn logs each failed attempt).
  const native = noNative
    ? null
    : await instance(gpu, [])
        .requestAdapter({ powerPreference: 'high-performance' })
        .catch(() => null);
  if (native) return describe(native, platform);
  noNative = true;
  const gles = await instance(gpu, ['backend=opengles'])
    .requestAdapter({ featureLevel: 'compatibility' })
    .catch(() => null);
  if (gles) return describe(gles, 'opengles, compatibility mode');
  return `Dawn found no GPU adapter (no ${platform} driver, and no OpenGL ES through EGL)`;
}

export { requestDevice } from '@gpu/device';
