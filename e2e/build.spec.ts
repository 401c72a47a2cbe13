// The Electron build's trainer worker (out/main/worker.js, bundled by electron-vite) trains for real
// under plain Node: bundling must not break the worker or the wasm kernel threads it starts.
import { test, expect } from '@playwright/test';
import { Worker } from 'node:worker_threads';
import { SEED_RECIPE } from '@shared/training';
import type { WorkerMessage } from '@shared/workerProtocol';

test('the bundled trainer worker trains a short run', async ({}, testInfo) => {
  test.skip(testInfo.project.name !== 'browser-host', 'checked once, in the browser-host project');
  const worker = new Worker(new URL('../out/main/worker.js', import.meta.url));
  try {
    const reply = await new Promise<WorkerMessage>((resolve, reject) => {
      worker.on('message', (m: WorkerMessage) => m.type === 'reply' && resolve(m));
      worker.on('error', reject);
      worker.postMessage({
        type: 'startTraining',
        id: 1,
        config: { ...SEED_RECIPE, backend: 'wasm', threads: 2, epochs: 1, trainLimit: 3200, testLimit: 500 },
      });
    });
    expect(reply.type === 'reply' && reply.ok).toBe(true);
    const { history } = (reply as { value: { history: { epochs: { test: { accuracy: number } }[] } } }).value;
    expect(history.epochs[0]!.test.accuracy).toBeGreaterThan(0.8);
  } finally {
    await worker.terminate();
  }
});
