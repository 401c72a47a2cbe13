// The browser host's transport: the same StudioApi over a WebSocket to the app on 127.0.0.1. A dropped
// connection is opened again (the app may have been busy, or restarted on the same port); listeners
// of onReconnect then re-sync, since events sent meanwhile were missed. A query lost with the connection
// is asked again on the next one; a command fails, since it may or may not have been carried out.
import { m } from '@shared/i18n/locale';
import { API_METHODS, QUERY_METHODS, type ApiMethod, type Envelope, type StudioApi, type StudioEvent, unwrap } from '@shared/api';
import { PendingCalls } from '@shared/rpc';

const RETRY_MS = [250, 500, 1000, 2000, 5000];
/** Failed connection attempts in a row before the page says something is wrong. */
const TROUBLE_AFTER = 3;

export function socketStudio(url: string): StudioApi {
  const calls = new PendingCalls<Envelope<unknown>>();
  /** What the calls still waiting fail with when their connection closes. */
  const lost = new Error('the connection closed');
  const listeners = new Set<(event: StudioEvent) => void>();
  const reconnectListeners = new Set<() => void>();
  const troubleListeners = new Set<(problem: string | undefined) => void>();
  const tell = (problem: string | undefined) => troubleListeners.forEach((listener) => listener(problem));
  /** The open socket calls go to; while there is none, a promise of the next. */
  let resolveReady: (ws: WebSocket) => void = () => undefined;
  const nextSocket = (): Promise<WebSocket> => new Promise((resolve) => (resolveReady = resolve));
  let ready = nextSocket();
  let opened = false;
  let live: WebSocket | undefined;
  let failures = 0;

  const connect = (): void => {
    const ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      if (failures >= TROUBLE_AFTER) tell(undefined);
      failures = 0;
      live = ws;
      resolveReady(ws);
      if (opened) for (const listener of reconnectListeners) listener();
      opened = true;
    });
    ws.addEventListener('message', (message) => {
      const data = JSON.parse(String(message.data)) as { id?: number; reply?: Envelope<unknown>; event?: StudioEvent };
      if (data.event) for (const listener of listeners) listener(data.event);
      else if (typeof data.id === 'number' && data.reply) calls.settle(data.id, data.reply);
    });
    ws.addEventListener('close', () => {
      if (live === ws) {
        live = undefined;
        ready = nextSocket();
      }
      calls.failAll(lost);
      // A browser does not say why a WebSocket was refused (a stale token gets 403): after a few tries in a
      // row, say what usually causes it, and keep trying.
      if (++failures === TROUBLE_AFTER) tell(opened ? m.connection_lost() : m.connection_refused());
      setTimeout(connect, RETRY_MS[Math.min(failures - 1, RETRY_MS.length - 1)]);
    });
  };
  connect();

  const call = async (method: ApiMethod, input: unknown): Promise<unknown> => {
    for (;;) {
      const ws = await ready;
      const got = await calls
        .request((id) => ws.send(JSON.stringify({ id, method, input })))
        .catch((error: unknown) => (error === lost ? 'lost' : Promise.reject(error)));
      if (got !== 'lost') return unwrap(got);
      if (!QUERY_METHODS.has(method)) return unwrap({ ok: false, error: { code: 'worker-failed', message: 'the connection to MNIST Studio closed' } });
    }
  };
  const api = Object.fromEntries(API_METHODS.map((m) => [m, (input: unknown) => call(m, input)]));
  return {
    ...(api as Omit<StudioApi, 'onEvent' | 'onReconnect' | 'onConnectionTrouble' | 'pathForFile'>),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onReconnect: (listener) => {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    onConnectionTrouble: (listener) => {
      troubleListeners.add(listener);
      return () => troubleListeners.delete(listener);
    },
  } as StudioApi;
}
