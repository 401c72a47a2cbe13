// What `--backend auto` picks: webgpu only on a hardware adapter that a short probe found faster than
// the CPU kernels auto would otherwise run (native where they load, else wasm), else the native kernels,
// else tfjs-node where it loads, else wasm, with the reasons for every backend passed over. The native
// kernels are not probed against wasm: they are the same kernels on wider vectors, without wasm's bounds
// checks. The probe's verdict is kept per machine, adapter, thread count and CPU engine under the app's
// home, so it runs once.
import { existsSync } from 'node:fs';
import { makeFolders, readRegularFile, writeDurably } from '../store/files';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { BackendName } from '@shared/training';
import type { GpuAdapter } from './webgpu/nodeDevice';

/** Training examples per second of the GPU and of the CPU kernels it was measured against. */
export interface ProbeVerdict {
  gpu: number;
  cpu: number;
}

/** The CPU kernels auto runs when it passes the GPU over. */
export type CpuKernels = 'native' | 'wasm';

/** An adapter as auto weighs it: Dawn's in Node, or the compute window's where the shell gives one. */
export type GpuCandidate = Pick<GpuAdapter, 'name' | 'software'>;

export interface AutoDeps {
  /** Dawn's best adapter, why there is none, or undefined where a GPU is not considered at all (predictions alone). */
  adapter: () => Promise<GpuCandidate | string | undefined>;
  /** Examples per second of the GPU and of the CPU kernels over a few steps at batch 32. */
  probe: (adapter: GpuCandidate, cpu: CpuKernels) => Promise<ProbeVerdict>;
  /** Why the native kernels cannot run here, or undefined where they can. */
  kernelsProblem: () => string | undefined;
  tfjsNodeProblem: () => Promise<string | undefined>;
  /** The verdicts file; undefined keeps nothing. */
  cacheFile?: string;
  threads: number;
}

export interface AutoPick {
  backend: BackendName;
  device?: string;
  /** Why the backends before it were passed over, for people. */
  reason?: string;
}

/** The probe cache holds a few verdicts; anything larger is not ours. */
const MAX_PROBE_FILE = 1024 * 1024;

export const probeCacheFile = (home: string): string => join(home, 'backend-probe.json');

function readCache(file: string | undefined): Record<string, ProbeVerdict> {
  if (!file || !existsSync(file)) return {};
  try {
    // Read like any file someone else may have put there: a FIFO must not hang the worker.
    const parsed = JSON.parse(readRegularFile(file, MAX_PROBE_FILE).toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, ProbeVerdict>) : {};
  } catch {
    // A damaged file only costs a new probe.
    return {};
  }
}

function writeCache(file: string, cache: Record<string, ProbeVerdict>): void {
  try {
    // Our own mkdir (Node's recursive one spins forever under /proc) and a fresh staging file (one left in
    // the way, a FIFO or a link, is neither opened nor followed).
    makeFolders(dirname(file));
    writeDurably(file, JSON.stringify(cache, null, 1));
  } catch {
    // An unwritable home only costs a probe per run.
  }
}

/** A verdict as a probe gives it: two speeds. Anything else in the file is not believed. */
const valid = (v: ProbeVerdict | undefined): v is ProbeVerdict =>
  typeof v?.gpu === 'number' && typeof v.cpu === 'number' && v.gpu > 0 && v.cpu > 0 && v.gpu < 1e9 && v.cpu < 1e9;

/** One probe per adapter at a time: the picker, auto and a second page asking at once share it (a probe
 *  measured beside another would be wrong, and its verdict is kept). */
const probing = new Map<string, Promise<ProbeVerdict>>();

export async function autoChoice(deps: AutoDeps): Promise<AutoPick> {
  const reasons: string[] = [];
  const kernelsProblem = deps.kernelsProblem();
  const cpu: CpuKernels = kernelsProblem ? 'wasm' : 'native';
  const adapter = await deps.adapter();
  if (adapter === undefined) {
    // Not considered, so nothing was passed over.
  } else if (typeof adapter === 'string') reasons.push(`no webgpu: ${adapter}`);
  else if (adapter.software) reasons.push(`no webgpu: ${adapter.name.replace(/^webgpu: /, '')} is a software renderer, slower than the CPU kernels`);
  else {
    const key = `${hostname()} | ${adapter.name} | ${deps.threads} threads | ${cpu}`;
    const cache = readCache(deps.cacheFile);
    let verdict = cache[key];
    let failure: string | undefined;
    if (!valid(verdict)) {
      // A GPU that fails its probe is passed over, not fatal; it is probed again next time.
      let probe = probing.get(key);
      if (!probe) {
        probe = deps.probe(adapter, cpu);
        probing.set(key, probe);
        void probe
          .then(
            (measured) => deps.cacheFile && valid(measured) && writeCache(deps.cacheFile, { ...readCache(deps.cacheFile), [key]: measured }),
            () => undefined,
          )
          .finally(() => probing.delete(key));
      }
      verdict = await probe.catch((error: Error) => ((failure = error.message.split('\n')[0]), undefined));
    }
    const name = adapter.name.replace(/^webgpu: /, '');
    if (verdict && verdict.gpu > verdict.cpu) return { backend: 'webgpu', device: adapter.name };
    reasons.push(
      verdict
        ? `no webgpu: ${name} trained ${Math.round(verdict.gpu)} examples/s in a probe, the ${cpu} kernels ${Math.round(verdict.cpu)}`
        : `no webgpu: ${name} failed its probe: ${failure}`,
    );
  }
  if (!kernelsProblem) return { backend: 'native', reason: reasons.join('; ') || undefined };
  reasons.push(`no native kernels: ${kernelsProblem}`);
  const problem = await deps.tfjsNodeProblem();
  if (!problem) return { backend: 'tfjs-node', reason: reasons.join('; ') };
  reasons.push(problem);
  return { backend: 'wasm', reason: reasons.join('; ') };
}
