// What `--backend auto` picks: webgpu only on a hardware adapter that a short probe found faster than
// the wasm kernels, else tfjs-node where it loads, else wasm, with the reasons for every backend passed
// over. The probe's verdict is kept per machine, adapter and thread count under the app's home, so it
// runs once.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readRegularFile } from '../store/files';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { BackendName } from '../../../shared/contract';
import type { GpuAdapter } from './webgpu/nodeDevice';

export interface ProbeVerdict {
  gpu: number;
  wasm: number;
}

/** An adapter as auto weighs it: Dawn's in Node, or the compute window's where the shell gives one. */
export type GpuCandidate = Pick<GpuAdapter, 'name' | 'software'>;

export interface AutoDeps {
  /** Dawn's best adapter, why there is none, or undefined where a GPU is not considered at all (predictions alone). */
  adapter: () => Promise<GpuCandidate | string | undefined>;
  /** Examples per second of each engine over a few steps at batch 32. */
  probe: (adapter: GpuCandidate) => Promise<ProbeVerdict>;
  nativeProblem: () => Promise<string | undefined>;
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
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(cache, null, 1));
    renameSync(`${file}.tmp`, file);
  } catch {
    // An unwritable home only costs a probe per run.
  }
}

const valid = (v: ProbeVerdict | undefined): v is ProbeVerdict => Number.isFinite(v?.gpu) && Number.isFinite(v?.wasm);

export async function autoChoice(deps: AutoDeps): Promise<AutoPick> {
  const reasons: string[] = [];
  const adapter = await deps.adapter();
  if (adapter === undefined) {
    // Not considered, so nothing was passed over.
  } else if (typeof adapter === 'string') reasons.push(`no webgpu: ${adapter}`);
  else if (adapter.software) reasons.push(`no webgpu: ${adapter.name.replace(/^webgpu: /, '')} is a software renderer, slower than the CPU kernels`);
  else {
    const key = `${hostname()} | ${adapter.name} | ${deps.threads} threads`;
    const cache = readCache(deps.cacheFile);
    let verdict = cache[key];
    let failure: string | undefined;
    if (!valid(verdict)) {
      // A GPU that fails its probe is passed over, not fatal; it is probed again next time.
      verdict = await deps.probe(adapter).catch((error: Error) => ((failure = error.message.split('\n')[0]), undefined));
      if (deps.cacheFile && verdict) writeCache(deps.cacheFile, { ...cache, [key]: verdict });
    }
    const name = adapter.name.replace(/^webgpu: /, '');
    if (verdict && verdict.gpu > verdict.wasm) return { backend: 'webgpu', device: adapter.name };
    reasons.push(
      verdict
        ? `no webgpu: ${name} trained ${Math.round(verdict.gpu)} examples/s in a probe, the wasm kernels ${Math.round(verdict.wasm)}`
        : `no webgpu: ${name} failed its probe: ${failure}`,
    );
  }
  const problem = await deps.nativeProblem();
  if (!problem) return { backend: 'native', reason: reasons.join('; ') || undefined };
  reasons.push(problem);
  return { backend: 'wasm', reason: reasons.join('; ') };
}
