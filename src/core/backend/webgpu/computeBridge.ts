// How the trainer worker reaches a compute page (Electron's hidden window, where the webgpu engine runs
// on Chromium's WebGPU) without the core knowing Electron. The page's port exists only on the owner's
// main thread (Electron's MessagePortMain), so the owner bridges each page to a fresh worker_threads
// port and transfers that to the worker; the worker asks for a page over a small provider channel.
//
//   worker: PortEngine ── portLink ══ worker_threads port ══ bridgePage ── ComputePage (owner's thread)
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { PORT_TIMEOUTS, type ComputeLink, type PortTimeouts } from './portEngine';
import { GpuError } from '@gpu/gpuEngine';
import { PendingCalls } from '@shared/rpc';

/** A compute page as the owner's thread holds it: the shell's window and its port, or a stand-in in tests. */
export interface ComputePage {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  /** Heard once when the page is gone: it crashed, failed to load or its window closed. */
  onGone(listener: (reason: string) => void): void;
  /** Ends the page (closes its window). */
  close(): void;
}

/** What the owner gives the trainer to open compute pages with; the Electron shell supplies one. */
export interface GpuPages {
  open(): Promise<ComputePage>;
  timeouts?: PortTimeouts;
}

/** What the bridge sends the worker: a page's message, untouched (and untrusted), or the owner's word that the page is gone. */
type Bridged = { page: unknown } | { gone: string };

/**
 * Bridges a page to a fresh worker_threads port (the other end is returned, for the worker), both ways.
 * When the page is gone the worker is told why and the port closes; when the worker closes its end
 * (the engine is disposed or failed) the page is closed.
 */
export function bridgePage(page: ComputePage): MessagePort {
  const { port1, port2 } = new MessageChannel();
  let open = true;
  const end = (): void => {
    if (!open) return;
    open = false;
    port1.close();
    page.close();
  };
  page.onMessage((data) => open && port1.postMessage({ page: data } satisfies Bridged));
  page.onGone((reason) => {
    if (!open) return;
    port1.postMessage({ gone: reason } satisfies Bridged);
    end();
  });
  port1.on('message', (data: unknown) => open && page.post(data));
  port1.on('close', end);
  return port2;
}

/** The worker's ComputeLink over its end of a bridge. */
export function portLink(port: MessagePort): ComputeLink {
  const closers: ((reason: string) => void)[] = [];
  const closed = (reason: string): void => {
    for (const listener of closers.splice(0)) listener(reason);
  };
  const listeners: ((data: unknown) => void)[] = [];
  port.on('message', (message: Bridged) => {
    if ('gone' in message) closed(message.gone);
    else for (const listener of listeners) listener(message.page);
  });
  port.on('close', () => closed('the link to the compute window closed'));
  return {
    post: (message, transfer) => port.postMessage(message, transfer ?? []),
    onMessage: (listener) => void listeners.push(listener),
    onClose: (listener) => void closers.push(listener),
    close: () => port.close(),
  };
}

/** Provider-channel messages: the worker asks for a page, the owner answers with a bridged port or why not. */
type Ask = { type: 'open'; id: number };
type Answer = { type: 'opened'; id: number; port: MessagePort } | { type: 'refused'; id: number; message: string };

/** Owner side: answers the worker's requests for pages on `channel` with bridged ports. */
export function servePages(channel: MessagePort, pages: GpuPages): void {
  channel.on('message', (ask: Ask) => {
    if (ask?.type !== 'open') return;
    pages.open().then(
      (page) => {
        const port = bridgePage(page);
        channel.postMessage({ type: 'opened', id: ask.id, port } satisfies Answer, [port]);
      },
      (error: unknown) => channel.postMessage({ type: 'refused', id: ask.id, message: (error as Error)?.message ?? String(error) } satisfies Answer),
    );
  });
}

/** Worker side: opens pages through the owner, as ComputeLinks. */
export interface PageProvider {
  open(): Promise<ComputeLink>;
  timeouts?: PortTimeouts;
}

export function pageProvider(channel: MessagePort, timeouts?: PortTimeouts): PageProvider {
  const opening = new PendingCalls<ComputeLink>();
  channel.on('message', (answer: Answer) => {
    // A page that opens after its request gave up is closed at once (closing the port closes its window).
    if (answer.type === 'opened') opening.has(answer.id) ? opening.settle(answer.id, portLink(answer.port)) : answer.port.close();
    else opening.fail(answer.id, new GpuError(`the compute window could not open: ${answer.message}`));
  });
  // Only a pending request keeps the worker alive through this channel.
  channel.unref();
  return {
    timeouts,
    open: () => {
      const ms = timeouts?.startMs ?? PORT_TIMEOUTS.startMs;
      channel.ref();
      const opened = opening.request((id) => channel.postMessage({ type: 'open', id } satisfies Ask), {
        timeoutMs: ms,
        // A window that never loads must not leave the run waiting for it.
        onTimeout: (id) => opening.fail(id, new GpuError(`the compute window did not open within ${ms / 1000} s`)),
      });
      return opened.finally(() => {
        if (opening.size === 0) channel.unref();
      });
    },
  };
}
