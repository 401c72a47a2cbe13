/// <reference types="@webgpu/types" />
// What both GPUDevice providers share (Dawn in Node, navigator.gpu in the compute page): the device
// request and which adapters count as software renderers.
import { printable } from '@shared/format';

const SOFTWARE = /llvmpipe|softpipe|lavapipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** Whether an adapter's name or description is a CPU rasteriser's (llvmpipe, SwiftShader, lavapipe, WARP). */
export const softwareRenderer = (text: string): boolean => SOFTWARE.test(text);

/** "webgpu: <adapter> (<where>)", as headers, histories and the CLI show it: the driver's words made one
 *  printable line (its control, text-direction and invisible characters escaped), at most 200 characters. */
export const adapterLabel = (adapter: string, where: string): string => `webgpu: ${printable(adapter)} (${where})`.slice(0, 200);

/** A device with the adapter's own storage limits (the defaults allow only 8 storage buffers per stage). */
export async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const limits = adapter.limits;
  return adapter.requestDevice({
    requiredLimits: {
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    },
  });
}
