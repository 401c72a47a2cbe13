// The Electron shell's compute page, driven in Debian's Chromium on SwiftShader's WebGPU through the
// same MessagePort protocol the shell uses: the page is served (with its CSP header) from 127.0.0.1,
// handed a port with window.postMessage as the compute preload does, and the trainer's PortEngine
// talks to it over a relay. Its losses must match the wasm engine's; a hostile page must be refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from '@playwright/test';
import { PortEngine, type ComputeLink } from '@core/backend/webgpu/portEngine';
import { WasmEngine } from '@core/backend/wasmEngine';
import { contentSecurityPolicy } from '@core/web/csp';
import { COMPUTE_PORT_MESSAGE } from '@shared/computeProtocol';
import { initialParams } from '@core/model/init';
import { PARAM_COUNT } from '@shared/architecture';
import { Rng } from '@core/model/rng';
import type { Dataset } from '@shared/dataset';
import { mnist } from '../support/helpers';
import { softwareRenderer } from '@gpu/device';
import { findChromium } from '../../e2e/chromium';

const found = await findChromium().catch((error: Error) => error.message);
const skip = typeof found === 'string' ? found : false;
if (skip) console.log(`# compute page tests skipped: ${skip}`);

/** A real MNIST slice: the first 2,048 training and 512 test images. */
function slice(): Dataset {
  const d = mnist(),
    cut = (s: Dataset['train'], n: number) => ({ count: n, images: s.images.subarray(0, n * 784), labels: s.labels.subarray(0, n) });
  return { source: 'MNIST slice', spec: d.spec, train: cut(d.train, 2048), test: cut(d.test, 512) };
}

let browser: Browser | undefined;
let url = '';
if (!skip) {
  const bundle = await build({
    entryPoints: ['src/renderer/src/compute/main.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  const files: Record<string, [string, string]> = {
    '/compute.html': ['text/html', readFileSync('src/renderer/compute.html', 'utf8')],
    '/src/compute/main.ts': ['text/javascript', bundle.outputFiles[0]!.text],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? ''];
    res.writeHead(file ? 200 : 404, { 'Content-Type': file?.[0] ?? 'text/plain', 'Content-Security-Policy': contentSecurityPolicy("'none'") });
    res.end(file?.[1] ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/compute.html`;
  browser = await chromium.launch({
    executablePath: (found as { path: string }).path,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--disable-background-networking'],
  });
  after(async () => {
    await browser?.close();
    server.close();
  });
}

/**
 * A fresh compute page and a link to it. The page's own script gets the port unless `hostile` is given:
 * then that function, run in the page, keeps the port and answers as it likes.
 */
async function open(hostile?: ((port: MessagePort) => void) | string): Promise<{ page: Page; link: ComputeLink }> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const listeners: ((data: unknown) => void)[] = [];
  await page.exposeFunction('fromCompute', (data: unknown) => listeners.forEach((l) => l(data)));
  await page.evaluate(
    ([message, hostileSource]) => {
      const channel = new MessageChannel();
      const w = window as unknown as { toCompute: (m: unknown) => void; fromCompute: (m: unknown) => void };
      channel.port1.onmessage = (event) => w.fromCompute(event.data);
      w.toCompute = (m) => channel.port1.postMessage(m);
      if (hostileSource) new Function('port', `(${hostileSource})(port)`)(channel.port2);
      else window.postMessage(message, '*', [channel.port2]);
    },
    [COMPUTE_PORT_MESSAGE, hostile?.toString()] as const,
  );
  // Posts keep their order: each waits for the one before it to reach the page. One that arrives after the
  // page has closed goes nowhere, as on a closed port.
  let chain = Promise.resolve();
  const toPage = (m: unknown) =>
    page
      .evaluate((m) => (window as unknown as { toCompute: (m: unknown) => void }).toCompute(m), m)
      .catch(() => (page.isClosed() ? undefined : Promise.reject(new Error('post failed'))));
  const link: ComputeLink = {
    post: (message) => void (chain = chain.then(() => toPage(message))),
    onMessage: (listener) => void listeners.push(listener),
    onClose: (listener) => void page.on('crash', () => listener('the compute page crashed')),
    close: () => undefined,
  };
  after(() => assert.deepEqual(errors, [], 'no uncaught errors in the page'));
  return { page, link };
}

test('the compute page trains real MNIST through the port: four steps within 1e-4 of the wasm engine', { skip }, async () => {
  const data = slice();
  // Asked first which adapter it has (as the backend picker and auto ask), a page answers without starting an engine.
  const probe = await open();
  const adapter = await PortEngine.adapter(probe.link);
  assert.match(adapter.name, /^webgpu: .*swiftshader.* \(chromium\)$/);
  assert.equal(softwareRenderer(adapter.name), true);
  await probe.page.close();
  const { page, link } = await open();
  // SwiftShader runs WGSL on the CPU, slowly: a few small steps.
  const gpu = await PortEngine.create(link, data, { maxBatch: 8 });
  const wasm = new WasmEngine(data, { maxBatch: 8, threads: 1 });
  try {
    assert.match(gpu.device!, /^webgpu: .*swiftshader.* \(chromium\)$/);
    const order = new Rng(5).permutation(data.train.count);
    const batches = Array.from({ length: 4 }, (_, i) => order.subarray(i * 8, i * 8 + 8));
    for (const engine of [gpu, wasm]) {
      engine.setParams(initialParams(6));
      engine.setVelocity(new Float32Array(PARAM_COUNT));
    }
    const expected = batches.map((b) => wasm.trainStep(b, 0.01, 0.9).lossSum);
    // Two single steps, then a group of two, as the trainer's loop sends them.
    const got = [];
    for (const b of batches.slice(0, 2)) got.push((await gpu.trainStep(b, 0.01, 0.9)).lossSum);
    const t0 = performance.now();
    got.push(...(await gpu.trainSteps(batches.slice(2), 0.01, 0.9)).map((r) => r.lossSum));
    // For the record (SwiftShader runs on the CPU, on a loaded machine): not a timing claim.
    console.log(`# SwiftShader in Chromium, through the port: ${(16 / ((performance.now() - t0) / 1000)).toFixed(1)} examples/s at batch 8`);
    got.forEach((loss, i) => assert.ok(Math.abs(loss - expected[i]!) / expected[i]! < 1e-4, `step ${i}: ${loss} vs ${expected[i]}`));
    const [params, logits] = [await gpu.getParams(), await gpu.logits('test', 0, 16)];
    const reference = wasm.logits('test', 0, 16);
    assert.equal(params.length, PARAM_COUNT);
    assert.ok(
      logits.every((v, i) => Math.abs(v - reference[i]!) <= 1e-3 * (1 + Math.abs(reference[i]!))),
      'test logits after training',
    );
  } finally {
    gpu.dispose();
    wasm.dispose();
    await page.close();
  }
});

type Request = { type: string; id: number };
/** A hostile page's source: it answers init properly, then every request with `answer(request)`. */
const ready = (answer: (request: Request) => unknown): string => `(port) => {
  const answer = ${answer.toString()};
  port.onmessage = (event) => {
    const request = event.data;
    if (request.type === 'init') port.postMessage({ type: 'ready', id: request.id, device: 'webgpu: hostile (chromium)' });
    else if ('id' in request) port.postMessage(answer(request));
  };
}`;

test(
  'a hostile or silent page is refused: malformed, unasked and out-of-range answers, or none in time, end the engine with a typed error, without a crash',
  { skip },
  async () => {
    const data = slice();
    // A page that answers init with junk never becomes an engine.
    const junk = await open((port) => (port.onmessage = () => port.postMessage({ type: 'ready', id: 1, device: 'x', extra: { __proto__: 1 } })));
    await assert.rejects(PortEngine.create(junk.link, data, { maxBatch: 8 }), { code: 'backend-failed', message: /compute window sent a bad message/ });
    await junk.page.close();
    const step = (engine: PortEngine) => engine.trainStep(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 0.01, 0.9);
    const hostile: [string, string, RegExp, ((engine: PortEngine) => Promise<unknown>)?][] = [
      ['NaN losses', ready((r) => ({ type: 'reply', id: r.id, ok: true, value: [{ lossSum: NaN, correct: 0 }] })), /bad train-steps reply/],
      // Past what a float32 sum can hold: JavaScript's sum of such losses turns to infinity in the history.
      ['a loss no float32 holds', ready((r) => ({ type: 'reply', id: r.id, ok: true, value: [{ lossSum: 1e308, correct: 0 }] })), /bad train-steps reply/],
      // NaN weights or logits would be saved into models and checkpoints that cannot be opened again.
      [
        'a NaN among the logits',
        ready((r) => ({ type: 'reply', id: r.id, ok: true, value: new Float32Array((r as unknown as { count: number }).count * 10).fill(NaN) })),
        /bad logits reply: NaN or infinity/,
        (engine) => engine.logits('test', 0, 8),
      ],
      [
        'more hits than examples',
        ready((r) => ({ type: 'reply', id: r.id, ok: true, value: [{ lossSum: 1, correct: 9 }] })),
        /bad train-steps reply: more hits/,
      ],
      ['floats for steps', ready((r) => ({ type: 'reply', id: r.id, ok: true, value: new Float32Array(2) })), /bad train-steps reply/],
      ['an answer to nothing', ready((r) => ({ type: 'reply', id: r.id + 100, ok: true, value: [] })), /not asked/],
      ['a second ready', ready((r) => ({ type: 'ready', id: r.id, device: 'again' })), /not asked/],
      ['a string', ready(() => 'pwned'), /bad message/],
      ['a huge error message', ready((r) => ({ type: 'reply', id: r.id, ok: false, message: 'x'.repeat(100_000) })), /bad message/],
    ];
    for (const [what, page, expected, call] of hostile) {
      const { page: tab, link } = await open(page);
      const engine = await PortEngine.create(link, data, { maxBatch: 8 });
      await assert.rejects((call ?? step)(engine), { code: 'backend-failed', message: expected }, what);
      // Once refused, the engine stays failed: later calls reject at once instead of waiting.
      await assert.rejects(engine.getParams(), { code: 'backend-failed' }, what);
      assert.throws(() => engine.setParams(new Float32Array(PARAM_COUNT)), { code: 'backend-failed' }, what);
      engine.dispose();
      await tab.close();
    }
    // An adapter's name lands in headers, terminals and histories: no escape sequences or line breaks.
    const named = await open(ready((r) => ({ type: 'reply', id: r.id, ok: true, value: { name: 'gpu\u001b[2J\r\nowned', fallback: false } })));
    await assert.rejects(PortEngine.adapter(named.link), { code: 'backend-failed', message: /bad adapter reply/ });
    await named.page.close();
    // A page that starts and then goes silent ends the engine once its answer is overdue, rather than never.
    const silent = await open(
      (port) => (port.onmessage = (e) => e.data.type === 'init' && port.postMessage({ type: 'ready', id: e.data.id, device: 'webgpu: silent (chromium)' })),
    );
    const quiet = await PortEngine.create(silent.link, data, { maxBatch: 8 }, { opMs: 300 });
    await assert.rejects(quiet.trainStep(Int32Array.from([0, 1, 2, 3]), 0.01, 0.9), {
      code: 'backend-failed',
      message: /did not answer train-steps within 0.3 s/,
    });
    await assert.rejects(quiet.getParams(), { code: 'backend-failed' }, 'and stays failed');
    quiet.dispose();
    await silent.page.close();
  },
);
