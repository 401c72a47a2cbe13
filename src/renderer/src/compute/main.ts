/// <reference types="@webgpu/types" />
// The hidden compute window's page: the same GpuEngine the CLI runs on Dawn, here on Chromium's own
// navigator.gpu. It waits for one MessagePort (handed over by the compute preload, or by a test page,
// with window.postMessage) and then answers the trainer's requests on it; see shared/computeProtocol.
import { COMPUTE_PORT_MESSAGE } from '@shared/computeProtocol';
import { serveCompute } from './serve';

async function requestAdapter(): Promise<GPUAdapter | null> {
  if (!navigator.gpu) throw new Error('this window has no WebGPU (navigator.gpu is missing)');
  return (
    (await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? (await navigator.gpu.requestAdapter({ featureLevel: 'compatibility' }))
  );
}

const onPort = (event: MessageEvent): void => {
  // Only this window itself (its preload) may hand over the port, and only once.
  if (event.source !== window || event.data !== COMPUTE_PORT_MESSAGE || !event.ports[0]) return;
  window.removeEventListener('message', onPort);
  serveCompute(event.ports[0], { requestAdapter, label: 'chromium' });
};
window.addEventListener('message', onPort);
