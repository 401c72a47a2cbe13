/// <reference types="@webgpu/types" />
// The compute page's side of shared/computeProtocol: the same GpuEngine the CLI runs on Dawn, on whatever
// WebGPU the page has. Kept apart from the page's start-up (main.ts) so that tests can run it in Node on
// Dawn, over a worker_threads port, as well as in Chromium.
import { GpuEngine } from '@gpu/gpuEngine';
import { adapterLabel, requestDevice } from '@gpu/device';
import type { ComputeEvent, ComputeRequest } from '@shared/computeProtocol';

/** The port the page answers on: a DOM MessagePort, or a worker_threads one in tests. */
export interface ServedPort {
  postMessage(message: unknown, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

export interface PageGpu {
  /** A fresh adapter (an adapter gives one device), or null when there is none. */
  requestAdapter(): Promise<GPUAdapter | null>;
  /** Where it runs, for the adapter's name: "chromium". */
  label: string;
}

function adapterName(adapter: GPUAdapter, label: string): string {
  const info = adapter.info;
  const name = [info.vendor, info.architecture, info.device || info.description].filter(Boolean).join(' ') || 'unknown adapter';
  return adapterLabel(name, label);
}

const isFallback = (adapter: GPUAdapter): boolean => Boolean((adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter);

/** Answers the trainer's requests on `port` until it is disposed. */
export function serveCompute(port: ServedPort, gpu: PageGpu): void {
  const send = (event: ComputeEvent, transfer: Transferable[] = []): void => port.postMessage(event, transfer);
  const adapter = async (): Promise<GPUAdapter> => {
    const found = await gpu.requestAdapter();
    if (!found) throw new Error(`${gpu.label} found no WebGPU adapter`);
    return found;
  };
  const start = async (request: Extract<ComputeRequest, { type: 'init' }>): Promise<GpuEngine> => {
    const found = await adapter();
    const device = adapterName(found, gpu.label);
    send({ type: 'progress', stage: `adapter: ${device}` });
    const gpuDevice = await requestDevice(found);
    void gpuDevice.lost.then((info) => send({ type: 'failed', message: `the GPU device was lost (${info.reason}): ${info.message}`.slice(0, 2000) }));
    const dataset = { source: 'compute page', spec: request.spec, train: request.train, test: request.test };
    send({ type: 'progress', stage: 'compiling' });
    return GpuEngine.create(gpuDevice, dataset, { maxBatch: request.maxBatch, augmented: request.augmented, device, ownsDevice: true });
  };
  let engine: Promise<GpuEngine> | undefined;
  const handle = async (request: ComputeRequest): Promise<void> => {
    if (request.type === 'adapter') {
      const found = await adapter();
      send({ type: 'reply', id: request.id, ok: true, value: { name: adapterName(found, gpu.label), fallback: isFallback(found) } });
      return;
    }
    if (request.type === 'init') {
      if (engine) throw new Error('the engine is already started');
      engine = start(request);
      send({ type: 'ready', id: request.id, device: (await engine).device });
      return;
    }
    if (!engine) throw new Error(`${request.type} before init`);
    const e = await engine;
    switch (request.type) {
      case 'set-params':
        return e.setParams(request.params);
      case 'set-velocity':
        return e.setVelocity(request.velocity);
      case 'dispose':
        e.dispose();
        port.close();
        return;
    }
    const value =
      request.type === 'train-steps'
        ? await e.trainSteps(request.batches, request.learningRate, request.momentum, request.images)
        : request.type === 'logits'
          ? await e.logits(request.split, request.start, request.count)
          : request.type === 'logits-of'
            ? await e.logitsOf(request.images)
            : request.type === 'get-params'
              ? await e.getParams()
              : await e.getVelocity();
    send({ type: 'reply', id: request.id, ok: true, value }, value instanceof Float32Array ? [value.buffer] : []);
  };
  port.onmessage = (event: MessageEvent<ComputeRequest>) => {
    // Not queued one after another: each handler reaches the engine in arrival order (they all await
    // the same start), and the engine queues GPU work in call order, so the trainer's next group of
    // steps is submitted while the previous group's results are still being read back.
    const request = event.data;
    handle(request).catch((error: unknown) => {
      const message = ((error as Error)?.message ?? String(error)).slice(0, 2000);
      if ('id' in request) send({ type: 'reply', id: request.id, ok: false, message });
      else send({ type: 'failed', message });
    });
  };
}
