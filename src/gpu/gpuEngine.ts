/// <reference types="@webgpu/types" />
// The seed's CNN on any GPUDevice (Dawn in Node, Chromium's navigator.gpu in a window): the datasets
// live on the GPU from the start, a step uploads only its batch's row numbers and a 32-byte uniform,
// many steps go in one submission, and their loss sums and hits come back in one read per submission.
import { MAX_GROUP_STEPS, type Engine, type EngineOptions, type StepResult } from '@shared/engine';
import type { Dataset } from '@shared/dataset';
import { StudioFailure } from '@shared/errors';
import { geometry, layout, INFER_ROWS, type Geometry, type Layout } from './geometry';
import { ENTRY_POINTS, REDUCE_WORKGROUP, WORKGROUP, invocations, shaderSource, type EntryPoint } from './shaders';

/** Uniform slots, one per step or inference pass of a submission; 256 bytes apart for dynamic offsets. */
const SLOTS = 256;
const SLOT_BYTES = 256;
const TRAIN_PASS: EntryPoint[] = ['conv0', 'conv1', 'dense0', 'logits', 'loss', 'dense1Back', 'dense0Back', 'conv1Back', 'smallGrads', 'update'];
const INFER_PASS: EntryPoint[] = ['conv0', 'conv1', 'dense0', 'logits'];
const SOURCE = { train: 0, test: 1, floats: 2 } as const;

/** The GPU failed: device lost, out of memory, a shader or validation error. The run ends with this message. */
export class GpuError extends StudioFailure {
  readonly code = 'backend-failed';
}

export interface GpuEngineOptions extends EngineOptions {
  /** "webgpu: <adapter> (<backend>)", shown wherever the backend is named. */
  device: string;
  /** Destroy the device with the engine (true when the engine's provider made it for this engine). */
  ownsDevice?: boolean;
  /** For fault-injection tests: replaces the WGSL before it compiles. */
  patchShader?: (wgsl: string) => string;
  /** For fault-injection tests: the device is destroyed (lost) once this many steps have run. */
  loseDeviceAfter?: number;
  /**
   * For fault-injection tests: once this many steps have run, the device reports an out-of-memory error
   * outside any error scope, as a driver does when an allocation fails mid-run.
   */
  outOfMemoryAfter?: number;
}

// The WebGPU spec's flag values, so this module needs no globals at import time (Dawn installs them late).
const MAP_READ = 1,
  COPY_SRC = 4,
  COPY_DST = 8,
  UNIFORM = 64,
  STORAGE = 128,
  COMPUTE = 4,
  READ = 1;

function packed(bytes: Uint8Array, extra = 0): Uint8Array {
  // Storage buffers hold whole u32 words; the images are read four pixels a word.
  const out = new Uint8Array(Math.max(4, Math.ceil((bytes.length + extra) / 4) * 4));
  out.set(bytes);
  return out;
}

export class GpuEngine implements Engine {
  readonly backend = 'webgpu' as const;
  readonly detail: string;
  readonly device: string;
  private failure: string | undefined;
  private readonly failed: Promise<never>;
  private readonly buffers: GPUBuffer[] = [];
  private readonly floats: GPUBuffer;
  private readonly rows: GPUBuffer;
  private readonly results: GPUBuffer;
  private readonly uniforms: GPUBuffer;
  private readonly bindGroup: GPUBindGroup;
  private readonly g: Geometry;
  private readonly l: Layout;
  /** Augmented runs: the train buffers' rows past the train set, where a submission's batches go. */
  private readonly slot: { first: number; rows: number; x: GPUBuffer; y: GPUBuffer; labels: Uint8Array } | undefined;

  /** Compiles the kernels and uploads the dataset; a shader or allocation error rejects with GpuError. */
  static async create(device: GPUDevice, dataset: Dataset, options: GpuEngineOptions): Promise<GpuEngine> {
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let engine: GpuEngine | undefined;
    let thrown: unknown;
    try {
      engine = new GpuEngine(device, dataset, options);
    } catch (error) {
      thrown = error;
    }
    const [validation, memory] = [await device.popErrorScope(), await device.popErrorScope()];
    const problem = validation ?? memory;
    const messages = engine ? (await engine.module.getCompilationInfo()).messages.filter((m) => m.type === 'error') : [];
    if (thrown || problem || messages.length) {
      engine?.dispose();
      const what = messages[0] ? `shader error at line ${messages[0].lineNum}: ${messages[0].message}` : (problem?.message ?? (thrown as Error).message);
      throw new GpuError(`webgpu could not start: ${what.split('\n')[0]}`);
    }
    return engine!;
  }

  private readonly module: GPUShaderModule;
  private readonly pipelines: Record<EntryPoint, GPUComputePipeline>;

  private constructor(
    private readonly gpu: GPUDevice,
    dataset: Dataset,
    private readonly options: GpuEngineOptions,
  ) {
    this.g = geometry(dataset.spec);
    this.l = layout(this.g, options.maxBatch);
    this.detail = this.device = options.device;
    this.failed = new Promise<never>((_, reject) => {
      gpu.lost.then((info) => {
        this.failure ??= `the GPU device was lost (${info.reason}): ${info.message}`;
        reject(new GpuError(this.failure));
      });
      gpu.addEventListener('uncapturederror', (event) => {
        const { error } = event as GPUUncapturedErrorEvent;
        const what = error.constructor.name === 'GPUOutOfMemoryError' ? 'the GPU ran out of memory' : 'GPU error';
        this.failure ??= `${what}: ${error.message.split('\n')[0]}`;
        reject(new GpuError(this.failure));
      });
    });
    this.failed.catch(() => undefined);
    const wgsl = shaderSource(this.g, this.l);
    this.module = gpu.createShaderModule({ code: options.patchShader?.(wgsl) ?? wgsl });
    const storage = (type: GPUBufferBindingType) => ({ visibility: COMPUTE, buffer: { type } });
    const bindLayout = gpu.createBindGroupLayout({
      entries: [
        { binding: 0, ...storage('storage') },
        { binding: 1, ...storage('read-only-storage') },
        { binding: 2, ...storage('read-only-storage') },
        { binding: 3, ...storage('read-only-storage') },
        { binding: 4, ...storage('read-only-storage') },
        { binding: 5, ...storage('storage') },
        { binding: 6, visibility: COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: 32 } },
      ],
    });
    const pipelineLayout = gpu.createPipelineLayout({ bindGroupLayouts: [bindLayout] });
    this.pipelines = Object.fromEntries(
      ENTRY_POINTS.map((entryPoint) => [entryPoint, gpu.createComputePipeline({ layout: pipelineLayout, compute: { module: this.module, entryPoint } })]),
    ) as Record<EntryPoint, GPUComputePipeline>;
    const { train, test } = dataset;
    this.floats = this.buffer(this.l.floats * 4, STORAGE | COPY_SRC | COPY_DST);
    const slotRows = options.augmented ? MAX_GROUP_STEPS * options.maxBatch : 0;
    const trainX = this.upload(packed(train.images, slotRows * this.g.inSize));
    const testX = this.upload(packed(test.images));
    const labels = new Uint32Array(train.count + slotRows);
    labels.set(train.labels);
    const trainY = this.upload(new Uint8Array(labels.buffer));
    this.slot = slotRows ? { first: train.count, rows: slotRows, x: trainX, y: trainY, labels: train.labels } : undefined;
    this.rows = this.buffer(4 * Math.max(SLOTS * options.maxBatch, train.count, test.count), STORAGE | COPY_DST);
    this.results = this.buffer(SLOTS * 8, STORAGE | COPY_SRC);
    this.uniforms = this.buffer(SLOTS * SLOT_BYTES, UNIFORM | COPY_DST);
    const resources = [this.floats, trainX, testX, trainY, this.rows, this.results];
    this.bindGroup = gpu.createBindGroup({
      layout: bindLayout,
      entries: [...resources.map((buffer, binding) => ({ binding, resource: { buffer } })), { binding: 6, resource: { buffer: this.uniforms, size: 32 } }],
    });
  }

  private buffer(size: number, usage: number): GPUBuffer {
    const buffer = this.gpu.createBuffer({ size, usage });
    this.buffers.push(buffer);
    return buffer;
  }

  private upload(bytes: Uint8Array): GPUBuffer {
    const buffer = this.buffer(bytes.length, STORAGE | COPY_DST);
    this.write(buffer, 0, bytes);
    return buffer;
  }

  private write(buffer: GPUBuffer, offset: number, data: ArrayBufferView | ArrayBuffer): void {
    this.gpu.queue.writeBuffer(buffer, offset, data as ArrayBuffer);
  }

  private check(): void {
    if (this.failure) throw new GpuError(this.failure);
  }

  private staging(bytes: number): GPUBuffer {
    return this.gpu.createBuffer({ size: Math.max(4, bytes), usage: MAP_READ | COPY_DST });
  }

  /** Submits the encoder's work and reads the staging buffer back; rejects rather than waits if the device fails. */
  private async finish(encoder: GPUCommandEncoder, staging: GPUBuffer, floats: number): Promise<Float32Array> {
    try {
      this.gpu.queue.submit([encoder.finish()]);
      const mapped = staging.mapAsync(READ);
      // If the device fails first, the mapping's own rejection follows; it is the same failure.
      mapped.catch(() => undefined);
      await Promise.race([mapped, this.failed]);
      this.check();
      return new Float32Array(staging.getMappedRange(0, floats * 4).slice(0));
    } finally {
      staging.destroy();
    }
  }

  /** Writes one uniform slot per pass: batch size, where its row numbers start, its result slot, the source. */
  private writeSlots(slots: { batch: number; base: number; source: number }[], learningRate = 0, momentum = 0): void {
    const data = new ArrayBuffer(slots.length * SLOT_BYTES);
    slots.forEach((s, i) => {
      new Uint32Array(data, i * SLOT_BYTES, 4).set([s.batch, s.base, i, s.source]);
      new Float32Array(data, i * SLOT_BYTES + 16, 2).set([learningRate, momentum]);
    });
    this.write(this.uniforms, 0, data);
  }

  private encode(pass: GPUComputePassEncoder, entries: EntryPoint[], slot: number, batch: number): void {
    pass.setBindGroup(0, this.bindGroup, [slot * SLOT_BYTES]);
    for (const entry of entries) {
      pass.setPipeline(this.pipelines[entry]);
      const groups =
        entry === 'loss'
          ? 1
          : entry === 'smallGrads' || entry === 'dense0'
            ? invocations(this.g, entry, batch) / REDUCE_WORKGROUP
            : Math.ceil(invocations(this.g, entry, batch) / WORKGROUP);
      // Grids past 65,535 workgroups wrap into a second dimension; the kernels flatten them back.
      const x = Math.min(groups, 65535);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    }
  }

  private stepsRun = 0;

  private reportOutOfMemory(): void {
    const { GPUUncapturedErrorEvent: Event, GPUOutOfMemoryError: OutOfMemory } = globalThis as unknown as {
      GPUUncapturedErrorEvent: new (type: string, init: { error: GPUError }) => GPUUncapturedErrorEvent;
      GPUOutOfMemoryError: new (message: string) => GPUError;
    };
    this.gpu.dispatchEvent(new Event('uncapturederror', { error: new OutOfMemory('injected: an allocation of the step failed') }));
  }

  /** Writes a submission's augmented images into the batch slot; returns each batch's rows there. */
  private slotted(batches: Int32Array[], images: Uint8Array[]): Int32Array[] {
    const slot = this.slot;
    const rows = batches.reduce((n, b) => n + b.length, 0);
    if (!slot) throw new RangeError('augmented images for an engine made without room for them');
    if (rows > slot.rows) throw new RangeError(`${rows} augmented images in one submission, room for ${slot.rows}`);
    const px = this.g.inSize;
    const x = new Uint8Array(rows * px),
      y = new Uint32Array(rows);
    let at = 0;
    const slotted = batches.map((batch, i) => {
      x.set(images[i]!.subarray(0, batch.length * px), at * px);
      const mine = Int32Array.from(batch, (row, j) => ((y[at + j] = slot.labels[row]!), slot.first + at + j));
      at += batch.length;
      return mine;
    });
    // Queued after the submissions before it, so a group still running keeps the images it was given.
    this.write(slot.x, slot.first * px, x);
    this.write(slot.y, slot.first * 4, y);
    return slotted;
  }

  async trainSteps(batches: Int32Array[], learningRate: number, momentum: number, images?: Uint8Array[]): Promise<StepResult[]> {
    this.stepsRun += batches.length;
    if (this.stepsRun > (this.options.loseDeviceAfter ?? Infinity)) this.gpu.destroy();
    if (this.stepsRun > (this.options.outOfMemoryAfter ?? Infinity)) this.reportOutOfMemory();
    this.check();
    if (batches.length > SLOTS) throw new RangeError(`at most ${SLOTS} steps per submission`);
    if (images) batches = this.slotted(batches, images);
    const rows = new Uint32Array(batches.reduce((n, b) => n + b.length, 0));
    const slots = batches.map((batch, i) => {
      if (batch.length < 1 || batch.length > this.l.maxBatch) throw new RangeError(`batch of ${batch.length} outside 1..${this.l.maxBatch}`);
      const base = i === 0 ? 0 : batches.slice(0, i).reduce((n, b) => n + b.length, 0);
      rows.set(batch, base);
      return { batch: batch.length, base, source: SOURCE.train };
    });
    this.write(this.rows, 0, rows);
    this.writeSlots(slots, learningRate, momentum);
    const encoder = this.gpu.createCommandEncoder();
    const pass = encoder.beginComputePass();
    slots.forEach((s, i) => this.encode(pass, TRAIN_PASS, i, s.batch));
    pass.end();
    const staging = this.staging(slots.length * 8);
    encoder.copyBufferToBuffer(this.results, 0, staging, 0, slots.length * 8);
    const sums = await this.finish(encoder, staging, slots.length * 2);
    return slots.map((_, i) => ({ lossSum: sums[2 * i]!, correct: sums[2 * i + 1]! }));
  }

  async trainStep(indices: Int32Array, learningRate: number, momentum: number, images?: Uint8Array): Promise<StepResult> {
    return (await this.trainSteps([indices], learningRate, momentum, images && [images]))[0]!;
  }

  /** Logits of `count` rows, INFER_ROWS per pass; `before(pass)` may stage that pass's input. */
  private async infer(source: number, count: number, perSubmission: number, before?: (pass: number) => void): Promise<Float32Array> {
    this.check();
    const k = this.g.classes,
      passes = Math.ceil(count / INFER_ROWS);
    const staging = this.staging(count * k * 4);
    let encoder = this.gpu.createCommandEncoder();
    for (let first = 0; first < passes; first += perSubmission) {
      const slots = Array.from({ length: Math.min(passes, first + perSubmission) - first }, (_, i) => {
        const base = (first + i) * INFER_ROWS;
        return { batch: Math.min(INFER_ROWS, count - base), base, source };
      });
      before?.(first);
      this.writeSlots(slots);
      slots.forEach((s, i) => {
        const pass = encoder.beginComputePass();
        this.encode(pass, INFER_PASS, i, s.batch);
        pass.end();
        // Each pass's logits leave the shared buffer before the next pass overwrites them.
        encoder.copyBufferToBuffer(this.floats, this.l.logits * 4, staging, s.base * k * 4, s.batch * k * 4);
      });
      if (first + perSubmission < passes) {
        // Queue order puts the next submission's uniform and input writes after this one's passes.
        this.gpu.queue.submit([encoder.finish()]);
        encoder = this.gpu.createCommandEncoder();
      }
    }
    return this.finish(encoder, staging, count * k);
  }

  logits(split: 'train' | 'test', start: number, count: number): Promise<Float32Array> {
    this.write(
      this.rows,
      0,
      Uint32Array.from({ length: count }, (_, i) => start + i),
    );
    return this.infer(split === 'train' ? SOURCE.train : SOURCE.test, count, SLOTS);
  }

  logitsOf(images: Float32Array): Promise<Float32Array> {
    const size = this.g.inSize,
      count = images.length / size;
    // The float input region holds one pass's images, so each pass gets its own submission.
    return this.infer(SOURCE.floats, count, 1, (pass) =>
      this.write(this.floats, this.l.xin * 4, images.subarray(pass * INFER_ROWS * size, Math.min(count, (pass + 1) * INFER_ROWS) * size)),
    );
  }

  private region(offset: number): Promise<Float32Array> {
    this.check();
    const encoder = this.gpu.createCommandEncoder();
    const staging = this.staging(this.g.params * 4);
    encoder.copyBufferToBuffer(this.floats, offset * 4, staging, 0, this.g.params * 4);
    return this.finish(encoder, staging, this.g.params);
  }

  getParams(): Promise<Float32Array> {
    return this.region(this.l.prm);
  }

  setParams(flat: Float32Array): void {
    this.write(this.floats, this.l.prm * 4, flat);
  }

  getVelocity(): Promise<Float32Array> {
    return this.region(this.l.vel);
  }

  setVelocity(flat: Float32Array): void {
    this.write(this.floats, this.l.vel * 4, flat);
  }

  /**
   * Where a training step's time goes, for `bench --profile`: `repeats` steps of the first k kernels
   * in one submission, for k = 0..9; each kernel's cost is the difference to the prefix before it, and
   * `encode` is the CPU time to record a whole step. It trains on rows 0.. and leaves the weights changed.
   */
  async kernelTimes(batch: number, repeats: number): Promise<Record<string, number>> {
    this.write(
      this.rows,
      0,
      Uint32Array.from({ length: batch }, (_, i) => i),
    );
    this.writeSlots([{ batch, base: 0, source: SOURCE.train }], 0, 0);
    const times: Record<string, number> = {};
    const run = async (entries: EntryPoint[]) => {
      const start = performance.now();
      const encoder = this.gpu.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (let i = 0; i < repeats; i++) this.encode(pass, entries, 0, batch);
      pass.end();
      const encoded = performance.now();
      // A copy into the staging buffer makes its mapping wait for the kernels before it.
      const staging = this.staging(4);
      encoder.copyBufferToBuffer(this.results, 0, staging, 0, 4);
      await this.finish(encoder, staging, 1);
      return { encode: (encoded - start) / repeats, total: (performance.now() - start) / repeats };
    };
    await run(TRAIN_PASS);
    let before = (await run([])).total;
    for (let k = 1; k <= TRAIN_PASS.length; k++) {
      const { encode, total } = await run(TRAIN_PASS.slice(0, k));
      times[TRAIN_PASS[k - 1]!] = Number((total - before).toFixed(4));
      before = total;
      if (k === TRAIN_PASS.length) [times.encode, times.step] = [Number(encode.toFixed(4)), Number(total.toFixed(4))];
    }
    return times;
  }

  tensorCount(): number {
    return 0;
  }

  /** Set once the device is lost or failed, also between runs: the worker then drops this engine. */
  get broken(): string | undefined {
    return this.failure;
  }

  /** Fault injection (tests): the device is lost now, as a driver reset would lose it between runs. */
  loseDevice(): void {
    this.gpu.destroy();
  }

  dispose(): void {
    for (const buffer of this.buffers.splice(0)) buffer.destroy();
    if (this.options.ownsDevice) this.gpu.destroy();
  }
}
