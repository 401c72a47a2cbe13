// The webgpu engine as seen from a process that cannot load Dawn (Electron's main process and its
// workers): a proxy that implements Engine over a message port to a page running GpuEngine on the
// browser's own navigator.gpu (the Electron shell's hidden compute window). Messages keep their order,
// so setParams and friends are plain posts; every answer is validated before it is believed, every
// question must be answered in time, and any bad message, a device loss, a silence or the link
// breaking ends the engine with one GpuError (the run's backend-failed error).
import type { Engine, EngineOptions, StepResult } from '@shared/engine';
import type { Dataset } from '@shared/dataset';
import { ComputeEventSchema, replyValue, type AdapterReply, type ComputeRequest, type ComputeShape, type ComputeSplit } from '@shared/computeProtocol';
import { inputSize } from '@shared/modelSpec';
import { paramCountFor } from '@shared/architecture';
import { GpuError } from '@gpu/gpuEngine';
import { PendingCalls } from '@shared/rpc';

/** One end of the port to the compute page, however it is carried (Electron, worker_threads, a test relay). */
export interface ComputeLink {
  post(message: ComputeRequest, transfer?: ArrayBuffer[]): void;
  /** Every message from the page, unvalidated. */
  onMessage(listener: (data: unknown) => void): void;
  /** The carrier broke (the window crashed or closed); said by the trusted side, not by the page. */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

export interface PortTimeouts {
  /** How long the page may take to find an adapter, compile and upload the dataset. */
  startMs?: number;
  /** How long any one later request (a group of steps, logits, weights) may go unanswered. */
  opMs?: number;
}

/** Defaults: a slow integrated GPU answers a group of steps or the test set's logits in seconds, not minutes. */
export const PORT_TIMEOUTS: Required<PortTimeouts> = { startMs: 120_000, opMs: 60_000 };

type Asked = Extract<ComputeRequest, { id: number }>;
type Ask = Asked extends infer R ? (R extends Asked ? Omit<R, 'id'> : never) : never;

/**
 * A copy of a split whose buffers can be transferred: the trainer keeps its own. A plain Uint8Array
 * copy, since the split may be a Node Buffer (whose slice is a view, and which does not clone as one).
 */
function transferable(split: Dataset['train'], inSize: number): { split: ComputeSplit; buffers: ArrayBuffer[] } {
  const images = new Uint8Array(split.images.subarray(0, split.count * inSize)),
    labels = new Uint8Array(split.labels.subarray(0, split.count));
  return { split: { count: split.count, images, labels }, buffers: [images.buffer, labels.buffer] };
}

export class PortEngine implements Engine {
  readonly backend = 'webgpu' as const;
  detail = 'webgpu in the compute window';
  device: string | undefined;
  private failure: GpuError | undefined;
  /** The questions waiting for the page's answer, each with the request it answers (to check the reply against). */
  private readonly calls = new PendingCalls<unknown, Ask>();

  /** Sends the dataset once and waits until the page's engine is ready; rejects with GpuError if it cannot start. */
  static async create(link: ComputeLink, dataset: Dataset, options: EngineOptions, timeouts: PortTimeouts = {}): Promise<PortEngine> {
    const { startMs, opMs } = { ...PORT_TIMEOUTS, ...timeouts };
    const spec = dataset.spec;
    const shape = { params: paramCountFor(spec), classes: spec.classes.length, inSize: inputSize(spec) };
    const engine = new PortEngine(link, shape, opMs);
    const [train, test] = [transferable(dataset.train, shape.inSize), transferable(dataset.test, shape.inSize)];
    try {
      const device = await engine.ask(
        { type: 'init', maxBatch: options.maxBatch, augmented: options.augmented, spec, train: train.split, test: test.split },
        [...train.buffers, ...test.buffers],
        startMs,
      );
      engine.detail = engine.device = device as string;
      return engine;
    } catch (error) {
      engine.dispose();
      throw error;
    }
  }

  /** Asks a fresh page which adapter it would train on (then lets it go); rejects with GpuError. */
  static async adapter(link: ComputeLink, timeouts: PortTimeouts = {}): Promise<AdapterReply> {
    const { startMs } = { ...PORT_TIMEOUTS, ...timeouts };
    const engine = new PortEngine(link, { params: 0, classes: 0, inSize: 1 }, startMs);
    try {
      return (await engine.ask({ type: 'adapter' }, undefined, startMs)) as AdapterReply;
    } finally {
      engine.fail('the adapter was found');
    }
  }

  private constructor(
    private readonly link: ComputeLink,
    private readonly shape: ComputeShape,
    private readonly opMs: number,
  ) {
    link.onMessage((data) => this.receive(data));
    link.onClose((reason) => this.fail(reason));
  }

  private receive(data: unknown): void {
    if (this.failure) return;
    const parsed = ComputeEventSchema.safeParse(data);
    if (!parsed.success) return this.fail(`the compute window sent a bad message: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
    const event = parsed.data;
    if (event.type === 'progress') return;
    if (event.type === 'failed') return this.fail(event.message);
    const request = this.calls.contextOf(event.id);
    const answers = request && (event.type === 'ready' ? request.type === 'init' : !event.ok || request.type !== 'init');
    if (!answers) return this.fail(`the compute window answered a request it was not asked (${event.id})`);
    // Checked while still pending, so that a bad answer fails its own call too.
    const value =
      event.type === 'ready'
        ? { success: true as const, data: event.device }
        : event.ok
          ? replyValue({ ...request, id: event.id } as Asked, this.shape).safeParse(event.value)
          : undefined;
    if (value && !value.success) return this.fail(`the compute window sent a bad ${request.type} reply: ${value.error.issues[0]?.message ?? 'malformed'}`);
    if (value) this.calls.settle(event.id, value.data);
    else this.calls.fail(event.id, new GpuError((event as { message: string }).message));
  }

  /** Set once the page failed or went away, also between runs: the worker then drops this engine. */
  get broken(): string | undefined {
    return this.failure?.message;
  }

  /** Ends the engine: every waiting call and every later one rejects with this message. */
  private fail(message: string): void {
    if (this.failure) return;
    this.failure = new GpuError(message);
    this.calls.failAll(this.failure);
    this.link.close();
  }

  private ask(body: Ask, transfer?: ArrayBuffer[], ms = this.opMs): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return this.calls.request((id) => this.link.post({ ...body, id } as Asked, transfer), {
      context: body,
      timeoutMs: ms,
      // A page that stops answering (hung, or its GPU wedged) must end the run, never stall it.
      onTimeout: () => this.fail(`the compute window did not answer ${body.type} within ${ms / 1000} s`),
    });
  }

  private tell(message: Exclude<ComputeRequest, { id: number }>): void {
    if (this.failure) throw this.failure;
    this.link.post(message);
  }

  trainSteps(batches: Int32Array[], learningRate: number, momentum: number, images?: Uint8Array[]): Promise<StepResult[]> {
    return this.ask({ type: 'train-steps', batches, learningRate, momentum, images }) as Promise<StepResult[]>;
  }

  async trainStep(indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): Promise<StepResult> {
    return (await this.trainSteps([indices], learningRate, momentum, images && [images]))[0]!;
  }

  logits(split: 'train' | 'test', start: number, count: number): Promise<Float32Array> {
    return this.ask({ type: 'logits', split, start, count }) as Promise<Float32Array>;
  }

  logitsOf(images: Float32Array): Promise<Float32Array> {
    return this.ask({ type: 'logits-of', images }) as Promise<Float32Array>;
  }

  getParams(): Promise<Float32Array> {
    return this.ask({ type: 'get-params' }) as Promise<Float32Array>;
  }

  getVelocity(): Promise<Float32Array> {
    return this.ask({ type: 'get-velocity' }) as Promise<Float32Array>;
  }

  setParams(flat: Float32Array): void {
    this.tell({ type: 'set-params', params: flat });
  }

  setVelocity(flat: Float32Array): void {
    this.tell({ type: 'set-velocity', velocity: flat });
  }

  tensorCount(): number {
    return 0;
  }

  dispose(): void {
    if (!this.failure) this.link.post({ type: 'dispose' });
    this.fail('the webgpu engine was disposed');
  }
}
