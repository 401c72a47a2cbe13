// A tiny thread pool for the wasm kernels: every thread instantiates cnn.wasm over one shared memory and
// runs the same export on its own part of the work. Work is handed out through a SharedArrayBuffer with
// Atomics, not postMessage, because a training step takes only ~17 ms and message round trips would show.
import { Worker } from 'node:worker_threads';

export const Op = { Train: 1, Update: 2, Infer: 3, Exit: 9 } as const;
export type Op = (typeof Op)[keyof typeof Op];

// Slots of the control block.
const GEN = 0, OP = 1, ARG0 = 2, PENDING = 7, FAILED = 8, DEAD = 9, SLOTS = 16;
/** ptr()'s selector for a thread's stack top (P_STACK in cnn.c). */
const STACK_PTR = 11;

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

// The helpers' code is kept as source text, not as functions whose toString() would be shipped:
// bundlers rewrite function bodies (require becomes __require), but they leave strings alone.
// runOp's text runs on both sides, so the owner and its helpers always agree on what an op does.
const RUN_OP_SOURCE = `function runOp(k, op, a, f, thread, threads, shards) {
  if (op === ${Op.Train}) {
    for (let s = thread; s < shards; s += threads) k.train_shard(s, thread, a[0]);
  } else if (op === ${Op.Update}) {
    k.update(thread, f[0], f[1]);
  } else if (op === ${Op.Infer}) {
    k.infer(a[0], a[1], a[2], thread);
  }
}`;

const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrlBuffer, thread, threads, shards } = workerData;
const ctrl = new Int32Array(ctrlBuffer);
let k;
const runOp = (${RUN_OP_SOURCE});
try {
  k = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } }).exports;
  k.__stack_pointer.value = k.ptr(${STACK_PTR}, thread);
} catch (error) {
  // The owner is blocked in Atomics.wait and cannot see this thread's error event: tell it in memory.
  Atomics.store(ctrl, ${DEAD}, 1);
  Atomics.notify(ctrl, ${PENDING});
  throw error;
}
const args = new Int32Array(ctrlBuffer, ${ARG0 * 4}, 5);
const fargs = new Float32Array(ctrlBuffer, ${ARG0 * 4}, 5);
let gen = 0;
for (;;) {
  Atomics.wait(ctrl, ${GEN}, gen);
  gen = Atomics.load(ctrl, ${GEN});
  const op = Atomics.load(ctrl, ${OP});
  if (op === ${Op.Exit}) break;
  try {
    runOp(k, op, args, fargs, thread, threads, shards);
  } catch {
    Atomics.store(ctrl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctrl, ${PENDING}, 1) === 1) Atomics.notify(ctrl, ${PENDING});
}`;

type RunOp = (k: KernelExports, op: number, a: Int32Array, f: Float32Array, thread: number, threads: number, shards: number) => void;
const runOp = new Function(`return (${RUN_OP_SOURCE})`)() as RunOp;

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
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, ctrlBuffer, thread: t, threads, shards } });
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
      if (Atomics.load(this.ctrl, DEAD)) throw new Error('a kernel thread failed to start');
      Atomics.wait(this.ctrl, PENDING, p, 1000);
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
