// The browser host's transport: the same StudioApi over a WebSocket to the app on 127.0.0.1.
import { API_METHODS, type ApiMethod, type Envelope, type StudioApi, type StudioEvent, unwrap } from '../../../shared/api';

export function socketStudio(url: string): StudioApi {
  let nextId = 1;
  const pending = new Map<number, (reply: Envelope<unknown>) => void>();
  const listeners = new Set<(event: StudioEvent) => void>();
  const socket = new WebSocket(url);
  const open = new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error('cannot reach the MNIST Studio host')), { once: true });
  });
  socket.addEventListener('message', (message) => {
    const data = JSON.parse(String(message.data)) as { id?: number; reply?: Envelope<unknown>; event?: StudioEvent };
    if (data.event) for (const listener of listeners) listener(data.event);
    else if (typeof data.id === 'number' && data.reply) {
      pending.get(data.id)?.(data.reply);
      pending.delete(data.id);
    }
  });
  socket.addEventListener('close', () => {
    for (const resolve of pending.values()) resolve({ ok: false, error: { code: 'worker-failed', message: 'the connection to MNIST Studio closed' } });
    pending.clear();
  });
  const call = async (method: ApiMethod, input: unknown): Promise<unknown> => {
    await open;
    const id = nextId++;
    const reply = new Promise<Envelope<unknown>>((resolve) => pending.set(id, resolve));
    socket.send(JSON.stringify({ id, method, input }));
    return unwrap(await reply);
  };
  const api = Object.fromEntries(API_METHODS.map((m) => [m, (input: unknown) => call(m, input)]));
  return {
    ...(api as Omit<StudioApi, 'onEvent' | 'pathForFile'>),
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as StudioApi;
}
