// The protocol between the trainer and the compute page where the webgpu engine runs on a browser's own
// navigator.gpu (Electron's hidden compute window). Requests go to the page; the page answers each one
// and reports device loss on its own. The page is less trusted than the trainer: the trainer validates
// every message it gets back with these schemas, and a message that fails them ends the engine.
import { z } from 'zod';
import type { ModelSpec } from './modelSpec';
import { NOT_IN_NAMES } from './format';

/** window.postMessage data with which the compute preload (or a test page) hands the page its port. */
export const COMPUTE_PORT_MESSAGE = 'mnist-studio-compute-port';
/** The IPC channel on which main hands the compute preload that port. */
export const COMPUTE_PORT_CHANNEL = 'compute-port';

export interface ComputeSplit {
  count: number;
  /** count x height x width x channels bytes of the spec. */
  images: Uint8Array;
  labels: Uint8Array;
}

export type ComputeRequest =
  /** Which adapter the page would train on, without starting an engine (for the backend picker and auto). */
  | { type: 'adapter'; id: number }
  | { type: 'init'; id: number; maxBatch: number; augmented?: boolean; spec: ModelSpec; train: ComputeSplit; test: ComputeSplit }
  /** images: an augmented run's batches, one per step (see Engine.trainStep). */
  | { type: 'train-steps'; id: number; batches: Int32Array[]; learningRate: number; momentum: number; images?: Uint8Array[] }
  | { type: 'logits'; id: number; split: 'train' | 'test'; start: number; count: number }
  | { type: 'logits-of'; id: number; images: Float32Array }
  | { type: 'get-params'; id: number }
  | { type: 'get-velocity'; id: number }
  | { type: 'set-params'; params: Float32Array }
  | { type: 'set-velocity'; velocity: Float32Array }
  | { type: 'dispose' };

export type ComputeRequestType = ComputeRequest['type'];

const id = z.number().int().positive();
const finite = z.number().finite();
/** An adapter's name as the page reports it: shown in headers and kept in histories, so one printable line. */
const deviceName = z
  .string()
  .min(1)
  .max(200)
  .refine((n) => !NOT_IN_NAMES.test(n), 'control or text-direction characters in a name');
/** A float32 sum cannot exceed this: a larger loss is not the GPU's. */
const F32_MAX = 3.4028234663852886e38;

/** What the page may send. The value of an ok reply is checked again against what was asked (see replyValue). */
export const ComputeEventSchema = z.union([
  /** Startup stages, for the log: "adapter", "compiling". */
  z.strictObject({ type: z.literal('progress'), stage: z.string().max(200) }),
  z.strictObject({ type: z.literal('ready'), id, device: deviceName }),
  z.strictObject({ type: z.literal('reply'), id, ok: z.literal(true), value: z.unknown() }),
  z.strictObject({ type: z.literal('reply'), id, ok: z.literal(false), message: z.string().max(2000) }),
  /** The device was lost or a GPU error escaped: the engine is finished. */
  z.strictObject({ type: z.literal('failed'), message: z.string().max(2000) }),
]);
export type ComputeEvent = z.infer<typeof ComputeEventSchema>;

/** The sizes an engine's answers are checked against: parameters, classes and values per image of its spec. */
export interface ComputeShape {
  params: number;
  classes: number;
  inSize: number;
}

/** The page's adapter: "webgpu: <adapter> (chromium)", and whether the browser marks it as a fallback (software) one. */
export const AdapterReplySchema = z.strictObject({ name: deviceName, fallback: z.boolean() });
export type AdapterReply = z.infer<typeof AdapterReplySchema>;

// Finite, too: a NaN in weights or logits would be saved into models and checkpoints that then cannot be opened.
const floats = (length: number) =>
  z
    .instanceof(Float32Array)
    .refine((a) => a.length === length, `expected ${length} floats`)
    .refine((a) => a.every(Number.isFinite), 'NaN or infinity among the floats');

/** The schema of an ok reply's value for a request: step results, exactly as many floats as asked for, or the adapter. */
export function replyValue(request: ComputeRequest, shape: ComputeShape): z.ZodType {
  const { params, classes, inSize } = shape;
  switch (request.type) {
    case 'adapter':
      return AdapterReplySchema;
    case 'train-steps':
      return z
        .array(z.strictObject({ lossSum: finite.nonnegative().max(F32_MAX), correct: z.number().int().nonnegative() }))
        .length(request.batches.length)
        .refine((steps) => steps.every((s, i) => s.correct <= request.batches[i]!.length), 'more hits than examples');
    case 'logits':
      return floats(request.count * classes);
    case 'logits-of':
      return floats((request.images.length / inSize) * classes);
    default:
      return floats(params);
  }
}
