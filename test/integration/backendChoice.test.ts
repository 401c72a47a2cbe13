// How `--backend auto` chooses, and the adapter named wherever webgpu runs: real Dawn where it finds an
// adapter, stand-in adapters and probes for the cases this machine cannot show (a fast hardware GPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { autoChoice, probeCacheFile, type AutoDeps } from '@core/backend/autoChoice';
import { findAdapter, type GpuAdapter } from '@core/backend/webgpu/nodeDevice';
import { resolveBackend } from '@core/backend/backends';
import { tempDir } from '../support/helpers';

const found = await findAdapter();
const skip = typeof found === 'string' ? `no WebGPU adapter: ${found}` : false;

const hardware = { name: 'webgpu: Intel Xe Graphics (vulkan)', software: false, adapter: {} as GPUAdapter } satisfies GpuAdapter;

function deps(overrides: Partial<AutoDeps>) {
  const calls = { probe: 0 };
  const all: AutoDeps = {
    adapter: async () => hardware,
    probe: async () => (calls.probe++, { gpu: 30000, cpu: 1900 }),
    kernelsProblem: () => 'the native kernels are built for linux-x64 only, not darwin-arm64',
    tfjsNodeProblem: async () => 'tfjs-node is not installed',
    cacheFile: probeCacheFile(tempDir()),
    threads: 2,
    ...overrides,
  };
  return { deps: all, calls };
}

test('auto takes a hardware GPU that beats the CPU kernels, and probes it once per machine, adapter and CPU engine', async () => {
  const { deps: d, calls } = deps({});
  assert.deepEqual(await autoChoice(d), { backend: 'webgpu', device: hardware.name });
  assert.deepEqual(await autoChoice(d), { backend: 'webgpu', device: hardware.name });
  assert.equal(calls.probe, 1, 'the second choice used the cached verdict');
  const cache = JSON.parse(readFileSync(d.cacheFile!, 'utf8')) as Record<string, unknown>;
  assert.match(Object.keys(cache)[0]!, /Intel Xe Graphics \(vulkan\) \| 2 threads \| wasm$/);
  // Where the native kernels load, the GPU is measured against them, and that verdict is kept apart.
  const probed: string[] = [];
  const withNative = { ...d, kernelsProblem: () => undefined, probe: async (_: unknown, cpu: string) => (probed.push(cpu), { gpu: 30000, cpu: 5000 }) };
  assert.deepEqual(await autoChoice(withNative), { backend: 'webgpu', device: hardware.name });
  assert.deepEqual(probed, ['native']);
  // Another adapter (or thread count) is probed afresh; a damaged file only costs a probe.
  await autoChoice({ ...d, threads: 4 });
  assert.equal(calls.probe, 2);
  writeFileSync(d.cacheFile!, '{ not json');
  await autoChoice(d);
  assert.equal(calls.probe, 3);
});

test("a probe cache that cannot be written (a home under /proc, where Node's recursive mkdir spins forever) costs a probe, not a hang", async () => {
  const { deps: d, calls } = deps({ cacheFile: probeCacheFile('/proc/mnist-studio-no-such-home') });
  assert.deepEqual(await autoChoice(d), { backend: 'webgpu', device: hardware.name });
  assert.deepEqual(await autoChoice(d), { backend: 'webgpu', device: hardware.name });
  assert.equal(calls.probe, 2);
});

test('the probe cache: a FIFO where the old code staged its write, a verdict no probe gives, and three asks at once cost one probe each', async () => {
  const { deps: d, calls } = deps({});
  // A FIFO at the old staging name used to block the worker in open() forever.
  spawnSync('mkfifo', [`${d.cacheFile}.tmp`]);
  assert.deepEqual(await autoChoice(d), { backend: 'webgpu', device: hardware.name });
  assert.equal(calls.probe, 1);
  const key = Object.keys(JSON.parse(readFileSync(d.cacheFile!, 'utf8')) as object)[0]!;
  writeFileSync(d.cacheFile!, JSON.stringify({ [key]: { gpu: 1e300, cpu: -5 } }));
  await autoChoice(d);
  assert.equal(calls.probe, 2, 'a verdict with a negative speed is not believed');
  // The picker, auto and another page asking at once share one probe (one measured beside another is wrong).
  const slow = deps({ probe: async () => (await new Promise((r) => setTimeout(r, 200)), slow.calls.probe++, { gpu: 30000, cpu: 1900 }) });
  const picks = await Promise.all([autoChoice(slow.deps), autoChoice(slow.deps), autoChoice(slow.deps)]);
  assert.deepEqual(new Set(picks.map((p) => p.backend)), new Set(['webgpu']));
  assert.equal(slow.calls.probe, 1);
});

test('auto passes over a GPU the probe found slower, a software renderer and no GPU at all, saying why', async () => {
  const slow = await autoChoice(deps({ probe: async () => ({ gpu: 900, cpu: 1900 }) }).deps);
  assert.equal(slow.backend, 'wasm');
  assert.match(
    slow.reason!,
    /^no webgpu: Intel Xe Graphics \(vulkan\) trained 900 examples\/s in a probe, the wasm kernels 1900; no native kernels: the native kernels are built for linux-x64 only, not darwin-arm64; tfjs-node is not installed$/,
  );
  const beaten = await autoChoice(deps({ probe: async () => ({ gpu: 4000, cpu: 6000 }), kernelsProblem: () => undefined }).deps);
  assert.deepEqual(beaten, { backend: 'native', reason: 'no webgpu: Intel Xe Graphics (vulkan) trained 4000 examples/s in a probe, the native kernels 6000' });
  const soft = deps({ adapter: async () => ({ ...hardware, name: 'webgpu: llvmpipe (opengles)', software: true }) });
  const software = await autoChoice(soft.deps);
  assert.equal(soft.calls.probe, 0, 'a software renderer is not even probed');
  assert.match(software.reason!, /llvmpipe \(opengles\) is a software renderer/);
  let probes = 0;
  const broken = deps({ probe: async () => (probes++, Promise.reject(new Error('the GPU device was lost (unknown): gone\nmore'))) });
  assert.match(
    (await autoChoice(broken.deps)).reason!,
    /^no webgpu: Intel Xe Graphics \(vulkan\) failed its probe: the GPU device was lost \(unknown\): gone; no native kernels: .*; tfjs-node/,
  );
  await autoChoice(broken.deps);
  assert.equal(probes, 2, 'a failed probe is not kept as a verdict');
  const none = await autoChoice(deps({ adapter: async () => 'Dawn found no GPU adapter', kernelsProblem: () => undefined }).deps);
  assert.deepEqual(none, { backend: 'native', reason: 'no webgpu: Dawn found no GPU adapter' });
  const tfjsNode = await autoChoice(deps({ adapter: async () => 'Dawn found no GPU adapter', tfjsNodeProblem: async () => undefined }).deps);
  assert.deepEqual(tfjsNode, {
    backend: 'tfjs-node',
    reason: 'no webgpu: Dawn found no GPU adapter; no native kernels: the native kernels are built for linux-x64 only, not darwin-arm64',
  });
  // For predictions alone a GPU is not considered, so it is not named among what was passed over.
  const unconsidered = await autoChoice(deps({ adapter: async () => undefined }).deps);
  assert.deepEqual(unconsidered, {
    backend: 'wasm',
    reason: 'no native kernels: the native kernels are built for linux-x64 only, not darwin-arm64; tfjs-node is not installed',
  });
  assert.deepEqual(await autoChoice(deps({ adapter: async () => undefined, kernelsProblem: () => undefined }).deps), { backend: 'native', reason: undefined });
});

test("this machine's adapter: auto's reason names it; --backend webgpu uses it and names it in bench and train", { skip }, async () => {
  const adapter = found as GpuAdapter;
  const auto = await resolveBackend('auto');
  if (adapter.software) {
    assert.notEqual(auto.backend, 'webgpu');
    assert.ok(auto.fallbackReason!.includes(adapter.name.replace(/^webgpu: /, '')), auto.fallbackReason);
  }
  assert.deepEqual(await resolveBackend('webgpu'), { backend: 'webgpu', detail: adapter.name, device: adapter.name });
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, MNIST_STUDIO_HOME: tempDir() },
    });
  const bench = cli('bench', '--backend', 'webgpu', '--steps', '1', '--warmup', '0', '--batch-size', '2', '--json');
  assert.equal(bench.status, 0, bench.stderr);
  const lines = bench.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; device?: string; examplesPerSecond?: number });
  assert.equal(lines[0]!.device, adapter.name);
  assert.equal(lines.at(-1)!.device, adapter.name);
  assert.ok(lines.at(-1)!.examplesPerSecond! > 0);
  const out = join(tempDir(), 'model');
  const run = cli('train', '--backend', 'webgpu', '--epochs', '1', '--batch-size', '2', '--train-limit', '4', '--test-limit', '4', '--json', '--out', out);
  assert.equal(run.status, 0, run.stderr);
  const started = JSON.parse(run.stdout.split('\n')[0]!) as { type: string; backend: string; device: string };
  assert.deepEqual([started.type, started.backend, started.device], ['started', 'webgpu', adapter.name]);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as { backend: string; device: string };
  assert.deepEqual([history.backend, history.device], ['webgpu', adapter.name]);
});

test('MNIST_STUDIO_DAWN naming a FIFO, a device, a folder or nothing: one line saying so, never a hang', () => {
  const fifo = join(tempDir(), 'dawn.node');
  spawnSync('mkfifo', [fifo]);
  for (const [file, problem] of [
    [fifo, 'not a .node file'],
    ['/dev/zero', 'not a .node file'],
    [tempDir(), 'not a .node file'],
    [join(tempDir(), 'missing.node'), 'no such file'],
  ] as const) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'bench', '--backend', 'webgpu', '--steps', '1', '--warmup', '0'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, MNIST_STUDIO_DAWN: file, MNIST_STUDIO_HOME: tempDir() },
    });
    assert.equal(run.status, 2, `${file}: ${run.signal ?? run.stderr}`);
    assert.equal(
      run.stderr.trim(),
      `error: backend webgpu is unavailable: Dawn failed to load: MNIST_STUDIO_DAWN=${file}: ${problem}${problem === 'no such file' ? '' : " (Dawn's Node bindings)"}`,
    );
  }
});
