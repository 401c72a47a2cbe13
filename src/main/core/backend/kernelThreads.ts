// A tiny thread pool for the wasm kernels: every thread instantiates cnn.wasm over one shared memory and
// runs the same export on its own part of the work. Work is handed out through a SharedArrayBuffer with
// Atomics, not postMessage, because a training step is only ~30 ms and a message round trip would show.
import { Worker } from 'node:worker_threads';

// Op codes. runOp below spells them as literals because its source text is also run inside the helpers.
export const Op = { Train: 1, Update: 2, Infer: 3, Exit: 9 } as const;
export type Op = (typeof Op)[keyof typeof Op];

// Slots of the control block.
const GEN = 0, OP = 1, ARG0 = 2, PENDING = 7, FAILED = 8, SLOTS = 16;

export interface KernelExports {
  plan(base: number, nTrain: number, nTest: number, maxBatch: number, shards: number, threads: number, outRows: number): number;
  ptr(which: number, index: number): number;
  train_shard(shard: number, thread: number, batch: number): void;
  update(thread: number, lr: number, momentum: number): void;
  infer(source: number, start: number, count: number, thread: number): void;
  __stack_pointer: WebAssembly.Global;
  __heap_base: WebAssembly.Global;
}

export const kernelImports = { env: { exp: Math.exp, log: Math.log } };

/** Runs one op for one thread. Shared by the pool's owner and its helpers, so both sides agree. */
export function runOp(k: KernelExports, op: number, a: Int32Array, f: Float32Array, thread: number, threads: number, shards: number): void {
  if (op === 1) {
    for (let s = thread; s < shards; s += threads) k.train_shard(s, thread, a[0]!);
  } else if (op === 2) {
    k.update(thread, f[0]!, f[1]!);
  } else if (op === 3) {
    k.infer(a[0]!, a[1]!, a[2]!, thread);
  }
}

// The helper's body, shipped as source text (eval worker) so that it needs no file of its own in any build.
function helperMain(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { workerData } = require('node:worker_threads');
  const { module, memory, ctrlBuffer, thread, threads, shards, runOpSource } = workerData;
  const runOp = new Function(`return (${runOpSource})`)();
  const instance = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } });
  const k = instance.exports as unknown as KernelExports;
  k.__stack_pointer.value = k.ptr(11, thread);
  const ctrl = new Int32Array(ctrlBuffer);
  const args = new Int32Array(ctrlBuffer, 8, 5);
  const fargs = new Float32Array(ctrlBuffer, 8, 5);
  let gen = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, gen);
    gen = Atomics.load(ctrl, 0);
    const op = Atomics.load(ctrl, 1);
    if (op === 9) break;
    try {
      runOp(k, op, args, fargs, thread, threads, shards);
    } catch {
      Atomics.store(ctrl, 8, 1);
    }
    if (Atomics.sub(ctrl, 7, 1) === 1) Atomics.notify(ctrl, 7);
  }
}

export class KernelPool {
  private readonly ctrl: Int32Array;
  private readonly args: Int32Array;
  private readonly fargs: Float32Array;
  private readonly helpers: Worker[] = [];

  constructor(
    private readonly k: KernelExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly threads: number,
    readonly shards: number,
  ) {
    const ctrlBuffer = new SharedArrayBuffer(SLOTS * 4);
    this.ctrl = new Int32Array(ctrlBuffer);
    this.args = new Int32Array(ctrlBuffer, ARG0 * 4, 5);
    this.fargs = new Float32Array(ctrlBuffer, ARG0 * 4, 5);
    for (let t = 1; t < threads; t++) {
      const worker = new Worker(`(${helperMain.toString()})()`, {
        eval: true,
        workerData: { module, memory, ctrlBuffer, thread: t, threads, shards, runOpSource: runOp.toString() },
      });
      worker.unref();
      this.helpers.push(worker);
    }
  }

  /** Runs op on every thread (this one is thread 0) and returns when all are done. */
  run(op: Op, ints: number[] = [], floats: number[] = []): void {
    ints.forEach((v, i) => (this.args[i] = v));
    floats.forEach((v, i) => (this.fargs[i] = v));
    Atomics.store(this.ctrl, FAILED, 0);
    Atomics.store(this.ctrl, OP, op);
    Atomics.store(this.ctrl, PENDING, this.threads - 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    let failure: unknown;
    try {
      runOp(this.k, op, this.args, this.fargs, 0, this.threads, this.shards);
    } catch (error) {
      failure = error;
    }
    for (let p = Atomics.load(this.ctrl, PENDING); p !== 0; p = Atomics.load(this.ctrl, PENDING)) {
      Atomics.wait(this.ctrl, PENDING, p);
    }
    if (failure) throw failure;
    if (Atomics.load(this.ctrl, FAILED)) throw new Error('a kernel thread failed');
  }

  dispose(): void {
    Atomics.store(this.ctrl, OP, Op.Exit);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.helpers) void w.terminate();
    this.helpers.length = 0;
  }
}
