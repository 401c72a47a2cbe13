// The fastest CPU engine: the same kernels as the wasm engine (kernels/cnn.c), compiled for AVX2+FMA and
// AVX-512 into a Node-API addon (resources/native/linux-x64/cnn.node, built by scripts/build-kernels.sh),
// which picks the build by CPUID and runs it on its own threads in its own memory. Where the addon is
// absent (another OS or architecture) or fails to load, nativeKernels says why in one line and the
// backends fall back to wasm.
import { statSync } from 'node:fs';
import { readRegularFile } from '../store/files';
import { printable } from '@shared/format';
import type { Engine, EngineOptions, StepResult } from '@shared/engine';
import type { Dataset } from '@shared/dataset';
import { resourcePath, packagedResources } from '../resources';
import { wasmThreads } from './wasmEngine';
import { BackendUnavailableError } from './unavailable';

/** An engine's handle inside the addon (a Node-API external). */
type Handle = { readonly __brand: 'native-engine' };

/** What addon.c exports; every function checks its arguments and throws one plain line. */
interface NativeAddon {
  isa(): string;
  create(...args: [Uint8Array, Uint8Array, Uint8Array, Uint8Array, number, number, number, number, number, number, number, string]): Handle;
  get(engine: Handle, which: 0 | 1): Float32Array;
  set(engine: Handle, which: 0 | 1, values: Float32Array): void;
  train(engine: Handle, indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): [number, number];
  logits(engine: Handle, split: 0 | 1, start: number, count: number): Float32Array;
  logitsOf(engine: Handle, images: Float32Array): Float32Array;
  dispose(engine: Handle): void;
}

export interface NativeKernels {
  addon: NativeAddon;
  /** The instruction set the CPU runs: 'AVX-512' or 'AVX2'. */
  isa: string;
}

/** Rows of logits one inference call in the addon computes at a time. */
const OUT_ROWS = 2048;

/** The addon this process loads: MNIST_STUDIO_NATIVE_KERNELS outside an installed app (tests point it elsewhere), else resources. */
export const nativeKernelFile = (): string => (!packagedResources() && process.env.MNIST_STUDIO_NATIVE_KERNELS) || resourcePath('native-kernels');

const loaded = new Map<string, NativeKernels | string>();

/** The addon at `file`, loaded once per thread, or the one line saying why it cannot run here. */
export function nativeKernels(file = nativeKernelFile()): NativeKernels | string {
  let result = loaded.get(file);
  if (result === undefined) {
    result = load(file);
    loaded.set(file, result);
  }
  return result;
}

function load(file: string): NativeKernels | string {
  const platform = `${process.platform}-${process.arch}`;
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return platform === 'linux-x64'
      ? `the native kernels are missing (${printable(file)})`
      : `the native kernels are built for linux-x64 only, not ${platform}`;
  }
  // A FIFO or a device would block dlopen in open() or read() for ever.
  if (!stats.isFile()) return `the native kernels are not a regular file (${printable(file)})`;
  const cut = truncatedElf(file);
  if (cut) return `the native kernels in ${printable(file)} are ${cut}`;
  try {
    // process.dlopen, not require: bundlers leave it alone, and it takes any path.
    const module = { exports: {} as NativeAddon };
    process.dlopen(module, file);
    const addon = module.exports;
    if (typeof addon.isa !== 'function' || typeof addon.create !== 'function') return `the native kernels in ${printable(file)} are not ours`;
    return { addon, isa: addon.isa() };
  } catch (error) {
    return `the native kernels failed to load: ${String((error as Error).message).split('\n')[0]}`;
  }
}

/** Far above the addon's size (about 140 KB); a larger file is not ours. */
const ADDON_MAX = 64 * 1024 * 1024;

/**
 * Why an ELF file is cut short, or undefined where every segment the loader maps lies inside it (or it is
 * no 64-bit little-endian ELF, which dlopen itself refuses in one line). dlopen maps segments past the end
 * of a truncated copy (an interrupted install or copy) and the first touch of such a page is SIGBUS, which
 * kills the whole app, not only this worker, with no word said.
 */
function truncatedElf(file: string): string | undefined {
  let bytes: Buffer;
  try {
    bytes = readRegularFile(file, ADDON_MAX);
  } catch (error) {
    return (error as Error).message.startsWith(`${file}: `) ? (error as Error).message.slice(file.length + 2) : 'unreadable';
  }
  const elf64le = bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46 && bytes[4] === 2 && bytes[5] === 1;
  if (!elf64le) return undefined;
  if (bytes.length < 64) return `cut short (${bytes.length} bytes, not even an ELF header)`;
  const size = BigInt(bytes.length);
  const phoff = bytes.readBigUInt64LE(0x20);
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  if (phentsize < 56 || phoff + BigInt(phentsize * phnum) > size) return `cut short (${bytes.length} bytes, before its program headers end)`;
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + i * phentsize;
    const end = bytes.readBigUInt64LE(at + 0x08) + bytes.readBigUInt64LE(at + 0x20); // p_offset + p_filesz
    if (end > size) return `cut short (${bytes.length} bytes, a segment runs to byte ${end})`;
  }
  return undefined;
}

export const nativeDetail = (isa: string, threads: number): string => `${isa}, ${threads} thread${threads > 1 ? 's' : ''}`;

export class NativeEngine implements Engine {
  readonly backend = 'native' as const;
  readonly detail: string;
  private readonly addon: NativeAddon;
  private readonly handle: Handle;
  private disposed = false;

  constructor(dataset: Dataset, options: EngineOptions) {
    const kernels = nativeKernels(options.nativeFile);
    if (typeof kernels === 'string') throw new BackendUnavailableError(`backend native is unavailable: ${kernels}`);
    const threads = wasmThreads(options.threads);
    const { train, test, spec } = dataset;
    this.addon = kernels.addon;
    this.handle = this.addon.create(
      train.images,
      train.labels,
      test.images,
      test.labels,
      options.maxBatch,
      threads,
      OUT_ROWS,
      spec.height,
      spec.width,
      spec.channels,
      spec.classes.length,
      options.nativeIsa ?? '',
    );
    this.detail = nativeDetail(options.nativeIsa ?? kernels.isa, threads);
  }

  getParams(): Float32Array {
    return this.addon.get(this.handle, 0);
  }

  setParams(flat: Float32Array): void {
    this.addon.set(this.handle, 0, flat);
  }

  getVelocity(): Float32Array {
    return this.addon.get(this.handle, 1);
  }

  setVelocity(flat: Float32Array): void {
    this.addon.set(this.handle, 1, flat);
  }

  trainStep(indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): StepResult {
    const [lossSum, correct] = this.addon.train(this.handle, indices, learningRate, momentum, images);
    return { lossSum, correct };
  }

  logits(split: 'train' | 'test', start: number, count: number): Float32Array {
    return this.addon.logits(this.handle, split === 'train' ? 0 : 1, start, count);
  }

  logitsOf(images: Float32Array): Float32Array {
    return this.addon.logitsOf(this.handle, images);
  }

  tensorCount(): number {
    return 0;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.addon.dispose(this.handle);
  }
}
