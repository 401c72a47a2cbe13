// The trainer worker's webgpu through a compute page, as in Electron but without it: the owner opens
// "pages" whose port is a worker_threads MessageChannel standing in for the window's MessagePortMain,
// bridged to the worker (core/backend/webgpu/computeBridge). The page runs the compute page's own
// protocol handler (renderer/src/compute/serve.ts) on Dawn in this process, so the worker trains through
// PortEngine; stand-in pages that go silent or crash must end the run with backend-failed, never hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { TrainerClient } from '@core/trainer/client';
import type { ComputePage } from '@core/backend/webgpu/computeBridge';
import { findAdapter } from '@core/backend/webgpu/nodeDevice';
import { serveCompute, type ServedPort } from '../../src/renderer/src/compute/serve';
import { StudioCallError } from '@shared/api';
import { SEED_RECIPE, type TrainConfig, type TrainEvent } from '@shared/training';
import { writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { probeCacheFile } from '@core/backend/autoChoice';
import { tempDir } from '../support/helpers';

const found = await findAdapter();
const skip = typeof found === 'string' ? `no WebGPU adapter: ${found}` : false;

const RECIPE: TrainConfig = { ...SEED_RECIPE, backend: 'webgpu', epochs: 1, batchSize: 8, trainLimit: 32, testLimit: 16 };

interface Opened {
  closed: boolean;
  gone(reason: string): void;
}

/** A page: `answer` plays the page's side of the port; the record says whether the owner closed it, and `gone` plays a crash. */
function page(answer: (port: MessagePort & ServedPort) => void, opened: Opened[]): ComputePage {
  const { port1, port2 } = new MessageChannel();
  answer(port2 as unknown as MessagePort & ServedPort);
  const goners: ((reason: string) => void)[] = [];
  const record: Opened = { closed: false, gone: (reason) => goners.forEach((g) => g(reason)) };
  opened.push(record);
  return {
    post: (message) => port1.postMessage(message),
    onMessage: (listener) => void port1.on('message', listener),
    onGone: (listener) => void goners.push(listener),
    close: () => {
      record.closed = true;
      port1.close();
    },
  };
}

/** The compute page's own handler, on Dawn here. */
const dawnPage = (port: ServedPort): void =>
  serveCompute(port, {
    label: 'dawn',
    requestAdapter: async () => {
      const adapter = await findAdapter();
      return typeof adapter === 'string' ? null : adapter.adapter;
    },
  });

/** A page that answers which adapter it has and starts, then says nothing more (or, with `crash`, crashes at the first step). */
const stalling =
  (onStep?: () => void) =>
  (port: ServedPort): void => {
    port.onmessage = (event) => {
      const request = event.data as { type: string; id: number };
      if (request.type === 'adapter')
        port.postMessage({ type: 'reply', id: request.id, ok: true, value: { name: 'webgpu: Stand-in (test)', fallback: false } }, []);
      if (request.type === 'init') port.postMessage({ type: 'ready', id: request.id, device: 'webgpu: Stand-in (test)' }, []);
      if (request.type === 'train-steps') onStep?.();
    };
  };

const waitFor = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
};

test(
  'with compute pages given, the worker trains webgpu through PortEngine in a page (the page handler on Dawn), and closes the page with the engine',
  { skip },
  async () => {
    const opened: Opened[] = [];
    const client = new TrainerClient({ gpu: { open: async () => page(dawnPage, opened) } });
    try {
      const info = await client.request('backend', { choice: 'webgpu' });
      assert.match(info.device!, /^webgpu: .* \(dawn\)$/, 'the adapter named by the page, not by Dawn in the worker');
      const events: TrainEvent[] = [];
      client.onEvent((e) => events.push(e));
      const result = await client.request('startTraining', { config: RECIPE });
      const started = events.find((e) => e.type === 'started') as Extract<TrainEvent, { type: 'started' }>;
      assert.equal(started.backend, 'webgpu');
      assert.match(started.device!, /\(dawn\)$/);
      assert.equal(result.history.epochs.length, 1);
      const losses = events.flatMap((e) => (e.type === 'progress' ? e.losses : []));
      assert.equal(losses.length, 4, 'four steps of 8');
      assert.ok(losses.every((l) => Number.isFinite(l) && l > 0));
      const [prediction] = await client.request('predict', { images: new Float32Array(784) });
      assert.equal(prediction!.probabilities.length, 10, 'predictions answered by the page too');
      // One page for the adapter question (closed once answered), one for the engine (still open).
      assert.deepEqual(
        opened.map((p) => p.closed),
        [true, false],
      );
      await client.request('startTraining', { config: { ...RECIPE, backend: 'wasm' } });
      await waitFor(() => opened[1]!.closed);
      assert.equal(opened[1]!.closed, true, "the engine's page is closed when the worker drops its engine");
    } finally {
      await client.close();
    }
  },
);

test('a page that stops answering ends the run with backend-failed once a request is overdue, and is closed; the worker trains on', async () => {
  const opened: Opened[] = [];
  const client = new TrainerClient({ gpu: { open: async () => page(stalling(), opened), timeouts: { opMs: 400 } } });
  try {
    await assert.rejects(client.request('startTraining', { config: RECIPE }), (e: StudioCallError) => {
      assert.equal(e.studio.code, 'backend-failed');
      assert.match(e.message, /the compute window did not answer train-steps within 0\.4 s/);
      return true;
    });
    await waitFor(() => opened.every((p) => p.closed));
    assert.ok(opened.length >= 2 && opened.every((p) => p.closed), 'every page it opened is closed');
    const result = await client.request('startTraining', { config: { ...RECIPE, backend: 'wasm' } });
    assert.equal(result.history.epochs.length, 1);
  } finally {
    await client.close();
  }
});

test("a page that crashes mid-run ends the run with backend-failed and the owner's reason", async () => {
  const opened: Opened[] = [];
  const client = new TrainerClient({
    gpu: {
      open: async () =>
        page(
          stalling(() => opened.at(-1)!.gone("the compute window's page is gone (crashed)")),
          opened,
        ),
    },
  });
  try {
    await assert.rejects(client.request('startTraining', { config: RECIPE }), (e: StudioCallError) => {
      assert.equal(e.studio.code, 'backend-failed');
      assert.match(e.message, /page is gone \(crashed\)/);
      return true;
    });
    assert.equal(opened.at(-1)!.closed, true);
  } finally {
    await client.close();
  }
});

test('a page that cannot open makes webgpu unavailable, with the reason', async () => {
  const client = new TrainerClient({
    gpu: {
      open: async () => {
        throw new Error('no window for you');
      },
    },
  });
  try {
    await assert.rejects(client.request('backend', { choice: 'webgpu' }), (e: StudioCallError) => {
      assert.equal(e.studio.code, 'backend-unavailable');
      assert.match(e.message, /compute window has no WebGPU: the compute window could not open: no window for you/);
      return true;
    });
  } finally {
    await client.close();
  }
});

test('auto takes the CPU, saying why, when the GPU it picked cannot start the recipe (its verdict came from a probe at batch 32)', async () => {
  const home = tempDir();
  const name = 'webgpu: Stand-in (test)';
  // A verdict as a probe of this adapter would leave it: faster than the CPU kernels auto would otherwise take
  // (native where its addon loads, else wasm: one verdict for each).
  const key = (cpu: string) => `${hostname()} | ${name} | ${Math.min(cpus().length, 4)} threads | ${cpu}`;
  writeFileSync(probeCacheFile(home), JSON.stringify({ [key('native')]: { gpu: 30000, cpu: 1900 }, [key('wasm')]: { gpu: 30000, cpu: 1900 } }));
  const refusing = (port: ServedPort): void => {
    port.onmessage = (event) => {
      const request = event.data as { type: string; id: number };
      if (request.type === 'adapter') port.postMessage({ type: 'reply', id: request.id, ok: true, value: { name, fallback: false } }, []);
      if (request.type === 'init')
        port.postMessage(
          { type: 'reply', id: request.id, ok: false, message: 'Binding size (260339968) is larger than the maximum binding size (134217728)' },
          [],
        );
    };
  };
  process.env.MNIST_STUDIO_HOME = home;
  const opened: Opened[] = [];
  const client = new TrainerClient({ gpu: { open: async () => page(refusing, opened) } });
  delete process.env.MNIST_STUDIO_HOME;
  try {
    assert.equal((await client.request('backend', { choice: 'auto' })).backend, 'webgpu', 'auto picks the GPU from its verdict');
    const started = new Promise<TrainEvent>((resolve) => client.onEvent((e) => e.type === 'started' && resolve(e)));
    const result = await client.request('startTraining', { config: { ...RECIPE, backend: 'auto' } });
    assert.equal(result.history.epochs.length, 1);
    const event = await started;
    assert.ok(event.type === 'started' && event.backend !== 'webgpu', JSON.stringify(event));
    assert.match(event.type === 'started' ? event.fallbackReason! : '', /^webgpu could not start this recipe: .*Binding size \(260339968\)/);
  } finally {
    await client.close();
  }
});
