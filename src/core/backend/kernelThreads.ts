// A tiny thread pool for the wasm kernels: every thread instantiates cnn.wasm over one shared memory and
// runs the same export on its own part of the work. Work is handed out through a SharedArrayBuffer with
// Atomics, not postMessage, because a training step takes only ~17 ms and message round trips would show.
import { Worker } from 'node:worker_threads';
import { StudioFailure } from '@shared/errors';

export const Op = { Train: 1, Update: 2, Infer: 3, Exit: 9 } as const;
export type Op = (typeof Op)[keyof typeof Op];

// Slots of the control block. DEAD holds the number of the first helper that died; its last words go
// to a separate shared buffer of MESSAGE_BYTES.
// FAULT names a helper that is to exit at the start of its next operation (fault injection for tests).
const GEN = 0,
  OP = 1,
  ARG0 = 2,
  PENDING = 7,
  FAILED = 8,
  DEAD = 9,
  FAULT = 10,
  SLOTS = 16;
const MESSAGE_BYTES = 512;
/**
 * The longest an operation may take before its helpers are presumed dead. The slowest real one (a batch
 * of 1,024 or 2,048 rows of inference) takes about a second on one slow core; a helper killed without a
 * chance to say so (terminated, out of memory) is only ever noticed this way.
 */
export const OP_DEADLINE_MS = 60_000;
/** ptr()'s selector for a thread's stack top (P_STACK in cnn.c). */
const STACK_PTR = 11;

export interface KernelExports {
  plan(
    base: number,
    nTrain: number,
    nTest: number,
    maxBatch: number,
    shards: number,
    threads: number,
    outRows: number,
    height: number,
    width: number,
    channels: number,
    classes: number,
  ): number;
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
const { module, memory, ctrlBuffer, messageBuffer, thread, threads, shards } = workerData;
const ctrl = new Int32Array(ctrlBuffer);
let k;
let leaving = false;
const runOp = (${RUN_OP_SOURCE});
// The owner is blocked in Atomics.wait and cannot see this thread's error or exit events: a helper
// that dies tells it in shared memory, with its reason, on every way out that still runs JavaScript.
const die = (reason) => {
  if (Atomics.compareExchange(ctrl, ${DEAD}, 0, thread) === 0) {
    const bytes = new TextEncoder().encode(String(reason).slice(0, ${MESSAGE_BYTES} / 4));
    new Uint8Array(messageBuffer).set(bytes.subarray(0, ${MESSAGE_BYTES}));
  }
  Atomics.notify(ctrl, ${PENDING});
};
process.on('exit', (code) => leaving || die('exited with code ' + code));
try {
  k = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log } }).exports;
  k.__stack_pointer.value = k.ptr(${STACK_PTR}, thread);
} catch (error) {
  die('failed to start: ' + (error && error.message));
  throw error;
}
const args = new Int32Array(ctrlBuffer, ${ARG0 * 4}, 5);
const fargs = new Float32Array(ctrlBuffer, ${ARG0 * 4}, 5);
let gen = 0;
for (;;) {
  // A wake-up is not an operation: the owner's notify for the operation this thread has already run
  // (it bumps GEN, and this thread saw the bump before the notify landed) wakes it a second time.
  // Running the op again would take another thread's PENDING count, so only a new GEN counts.
  while (Atomics.load(ctrl, ${GEN}) === gen) Atomics.wait(ctrl, ${GEN}, gen);
  gen = Atomics.load(ctrl, ${GEN});
  const op = Atomics.load(ctrl, ${OP});
  if (op === ${Op.Exit}) {
    leaving = true;
    break;
  }
  if (Atomics.load(ctrl, ${FAULT}) === thread) process.exit(70);
  try {
    runOp(k, op, args, fargs, thread, threads, shards);
  } catch {
    Atomics.store(ctrl, ${FAILED}, 1);
  }
  if (Atomics.sub(ctrl, ${PENDING}, 1) === 1) Atomics.notify(ctrl, ${PENDING});
}`;

type RunOp = (k: KernelExports, op: number, a: Int32Array, f: Float32Array, thread: number, threads: number, shards: number) => void;
const runOp = new Function(`return (${RUN_OP_SOURCE})`)() as RunOp;

/** The pool can no longer run kernels: a helper died or stopped answering. Its engine must be dropped. */
export class KernelThreadError extends StudioFailure {
  override readonly name = 'KernelThreadError';
  readonly code = 'backend-failed';
}

export class KernelPool {
  private readonly ctrl: Int32Array;
  private readonly args: Int32Array;
  private readonly fargs: Float32Array;
  private readonly message: Uint8Array;
  /** The helper threads; exposed so tests can kill one. */
  readonly helpers: Worker[] = [];
  /** Why this pool is unusable, once it is. */
  broken: string | undefined;
  private disposed = false;

  constructor(
    private readonly k: KernelExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    readonly threads: number,
    readonly shards: number,
    private readonly deadlineMs = OP_DEADLINE_MS,
  ) {
    const ctrlBuffer = new SharedArrayBuffer(SLOTS * 4);
    const messageBuffer = new SharedArrayBuffer(MESSAGE_BYTES);
    this.ctrl = new Int32Array(ctrlBuffer);
    this.args = new Int32Array(ctrlBuffer, ARG0 * 4, 5);
    this.fargs = new Float32Array(ctrlBuffer, ARG0 * 4, 5);
    this.message = new Uint8Array(messageBuffer);
    for (let t = 1; t < threads; t++) {
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData: { module, memory, ctrlBuffer, messageBuffer, thread: t, threads, shards } });
      worker.unref();
      // Seen whenever the owner's event loop runs (between operations): the next run fails at once.
      worker.on('error', (error) => (this.broken ??= `kernel thread ${t} failed: ${error.message}`));
      worker.on('exit', (code) => this.disposed || (this.broken ??= `kernel thread ${t} exited (code ${code})`));
      this.helpers.push(worker);
    }
  }

  private fail(reason: string): never {
    this.broken ??= reason;
    throw new KernelThreadError(this.broken);
  }

  /** Runs op on every thread (this one is thread 0) and returns when all are done. */
  run(op: Op, ints: number[] = [], floats: number[] = []): void {
    if (this.broken) this.fail(this.broken);
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
    const deadline = Date.now() + this.deadlineMs;
    for (let p = Atomics.load(this.ctrl, PENDING); p !== 0; p = Atomics.load(this.ctrl, PENDING)) {
      // More answers than helpers: some helper ran an operation twice, and its results cannot be trusted.
      if (p < 0) this.fail(`kernel threads answered ${-p} time${p < -1 ? 's' : ''} too often (a helper ran an operation twice)`);
      const dead = Atomics.load(this.ctrl, DEAD);
      if (dead) this.fail(`kernel thread ${dead} died: ${new TextDecoder().decode(this.message.slice()).replace(/\0+$/, '')}`);
      if (Date.now() > deadline) this.fail(`${p} kernel thread${p > 1 ? 's' : ''} did not finish an operation within ${this.deadlineMs / 1000} s`);
      Atomics.wait(this.ctrl, PENDING, p, 100);
    }
    if (failure) throw failure;
    if (Atomics.load(this.ctrl, FAILED)) throw new Error('a kernel thread failed');
  }

  /**
   * Tests: wakes the helpers with no new operation, as the owner's notify does when it lands after a
   * helper has already seen and run the operation it announces (the owner lost its core in between).
   */
  wakeWithoutWork(): void {
    Atomics.notify(this.ctrl, GEN);
  }

  /** Makes helper `thread` exit in the middle of the next operation (tests: a helper dying mid-step). */
  injectFault(thread: number): void {
    Atomics.store(this.ctrl, FAULT, thread);
  }

  dispose(): void {
    this.disposed = true;
    Atomics.store(this.ctrl, OP, Op.Exit);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.helpers) void w.terminate();
    this.helpers.length = 0;
  }
}
