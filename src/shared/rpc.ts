// The one request/reply bookkeeping for every channel that sends requests with ids and hears replies
// later: the trainer client and its worker, the port engine and its compute page, the compute bridge's
// page provider, the browser's socket transport and the image worker. Each channel keeps its own
// wire format and failure rules; this keeps the ids, the waiting promises and their timers. It runs
// in the page too, so it uses no Node or Electron module (setTimeout is in both).

/** A call that went unanswered for its timeout (when the channel's onTimeout did not settle it its own way). */
export class CallTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no reply within ${ms} ms`);
    this.name = 'CallTimeoutError';
  }
}

export interface CallOptions<Context> {
  /** Kept with the call until it settles (the port engine keeps the request, to check its reply against). */
  context?: Context;
  /** How long the reply may take; without it the call waits until it is settled or failed. */
  timeoutMs?: number;
  /** Runs when the time is up; a call it leaves unsettled then fails with CallTimeoutError. */
  onTimeout?: (id: number) => void;
}

interface Waiting<Reply, Context> {
  resolve: (value: Reply) => void;
  reject: (error: Error) => void;
  context: Context | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export class PendingCalls<Reply = unknown, Context = undefined> {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting<Reply, Context>>();

  /**
   * Registers a call under a fresh id, then sends it with `send(id)`. The promise settles with the reply
   * to that id, a failure, or the timeout; a send that throws fails the call at once.
   */
  request(send: (id: number) => void, options: CallOptions<Context> = {}): Promise<Reply> {
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      const call: Waiting<Reply, Context> = { resolve, reject, context: options.context, timer: undefined };
      this.waiting.set(id, call);
      if (options.timeoutMs !== undefined) {
        const ms = options.timeoutMs;
        call.timer = setTimeout(() => {
          options.onTimeout?.(id);
          this.fail(id, new CallTimeoutError(ms));
        }, ms);
      }
      try {
        send(id);
      } catch (error) {
        this.fail(id, error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Whether a call with this id is waiting for its reply. */
  has(id: number): boolean {
    return this.waiting.has(id);
  }

  /** The context the waiting call with this id was made with; undefined when none waits. */
  contextOf(id: number): Context | undefined {
    return this.waiting.get(id)?.context;
  }

  /** How many calls are waiting. */
  get size(): number {
    return this.waiting.size;
  }

  /** Answers the call with this id; false (and nothing happens) when no call waits under it. */
  settle(id: number, value: Reply): boolean {
    const call = this.take(id);
    call?.resolve(value);
    return call !== undefined;
  }

  /** Fails the call with this id; false when no call waits under it. */
  fail(id: number, error: Error): boolean {
    const call = this.take(id);
    call?.reject(error);
    return call !== undefined;
  }

  /** Fails every waiting call with the one error (the channel broke); later requests start afresh. */
  failAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, error);
  }

  private take(id: number): Waiting<Reply, Context> | undefined {
    const call = this.waiting.get(id);
    if (!call) return undefined;
    this.waiting.delete(id);
    clearTimeout(call.timer);
    return call;
  }
}
