// The browser host: the renderer over HTTP and the app's API as JSON over a WebSocket, on loopback only.
// It is how the app runs where Electron cannot (npm start's fallback, `cli serve`) and how the e2e tests
// drive the real core. A caller must present the per-run token, and Host and Origin must name this
// server exactly, so neither another site in the user's browser nor a DNS-rebinding page can reach it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StudioService } from '@core/service/studioService';
import { parseTarget } from '@core/web/requestTarget';
import { serveStatic } from '@core/web/staticFiles';

/** Largest message a client may send (a predict call's images are capped below it: PREDICT_MAX_BASE64). */
const MAX_MESSAGE = 1024 * 1024;
/** Requests one connection may have waiting for their answers (pipelined); browsers do not pipeline at all. */
const MAX_PIPELINED = 16;
/** API calls one WebSocket may have in progress; more are answered `busy` at once. */
const MAX_CALLS_IN_FLIGHT = 64;
/** Answers and events a WebSocket client may leave unread before its connection is closed. */
const MAX_UNSENT = 32 * 1024 * 1024;
/** Answer bytes a client may leave unread on one connection (queued answers and the socket's buffer) before it is dropped. */
const MAX_UNREAD = 4 * 1024 * 1024;

/** What one HTTP connection has asked for and not yet taken: a client that never reads must not grow our memory. */
interface Backlog {
  waiting: number;
  bytes: number;
}

export interface HostOptions {
  service: StudioService;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  port?: number;
  token?: string;
}

export interface RunningHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function sameToken(given: string | null, token: string): boolean {
  const a = Buffer.from(given ?? ''),
    b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startBrowserHost(options: HostOptions): Promise<RunningHost> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  let port = 0;
  const allowedHosts = (): string[] => [`127.0.0.1:${port}`, `localhost:${port}`];

  const serveFile = async (req: IncomingMessage, res: ServerResponse, backlog: Backlog): Promise<void> => {
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      res.writeHead(421).end('misdirected request');
      return;
    }
    const reply = await serveStatic(options.rendererDir, req.method, req.url, `ws://127.0.0.1:${port} ws://localhost:${port}`);
    const body = req.method === 'HEAD' ? undefined : reply.body;
    const size = typeof body === 'string' ? Buffer.byteLength(body) : (body?.byteLength ?? 0);
    // Pipelined answers wait in memory until the client reads the ones before them: one that has left
    // more than MAX_UNREAD unread is dropped instead of being answered (one large file still goes out).
    if (req.socket.destroyed || req.socket.writableLength + backlog.bytes > MAX_UNREAD) {
      req.socket.destroy();
      return;
    }
    backlog.bytes += size;
    let counted = true;
    const taken = (): void => {
      if (counted) backlog.bytes -= size;
      counted = false;
    };
    res.once('finish', taken).once('close', taken);
    res.writeHead(reply.status, reply.headers).end(body);
  };

  const backlogs = new WeakMap<object, Backlog>();
  // Each request is contained: whatever goes wrong answers that request (or drops its connection)
  // and nothing else; an unhandled rejection here would end the process and any run in it.
  const http = createServer((req, res) => {
    const socket = req.socket;
    let backlog = backlogs.get(socket);
    if (!backlog) backlogs.set(socket, (backlog = { waiting: 0, bytes: 0 }));
    if (socket.destroyed) return;
    if (backlog.waiting >= MAX_PIPELINED) {
      socket.destroy();
      return;
    }
    const mine = backlog;
    mine.waiting++;
    res.once('close', () => mine.waiting--);
    serveFile(req, res, mine).catch(() => (res.headersSent ? res.destroy() : res.writeHead(500).end()));
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const target = parseTarget(req.url);
    if (!target) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const origin = req.headers.origin ?? '';
    const ok =
      target.path === '/api' &&
      allowedHosts().includes(req.headers.host ?? '') &&
      allowedHosts().some((h) => origin === `http://${h}`) &&
      sameToken(target.query.get('token'), token);
    if (!ok) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  };
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error listener off an upgraded socket: without this one, a client that
    // resets the connection mid-handshake raises an uncaught error.
    socket.on('error', () => socket.destroy());
    try {
      upgrade(req, socket, head);
    } catch {
      socket.destroy();
    }
  });

  const serveSocket = (ws: WebSocket): void => {
    // A client that stops reading leaves our answers and events in its socket's buffer: past
    // MAX_UNSENT the connection is closed instead of holding them all.
    const send = (message: unknown): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_UNSENT) ws.terminate();
      else ws.send(JSON.stringify(message));
    };
    let inFlight = 0;
    const off = options.service.onEvent((event) => send({ event }));
    ws.on('close', off);
    // An oversized or malformed frame ends this connection (ws has already sent the close code);
    // without a listener the error would be uncaught and take the whole host down.
    ws.on('error', () => ws.terminate());
    ws.on('message', (data) => {
      let message: { id?: unknown; method?: unknown; input?: unknown };
      try {
        message = JSON.parse(String(data));
      } catch {
        send({ id: null, reply: { ok: false, error: { code: 'bad-request', message: 'not JSON' } } });
        return;
      }
      const id = typeof message?.id === 'number' ? message.id : null;
      if (inFlight >= MAX_CALLS_IN_FLIGHT) {
        send({ id, reply: { ok: false, error: { code: 'busy', message: `more than ${MAX_CALLS_IN_FLIGHT} calls at once: wait for their answers` } } });
        return;
      }
      inFlight++;
      options.service
        .dispatch(message?.method, message?.input)
        .then((reply) => send({ id, reply }))
        .catch(() => ws.terminate())
        .finally(() => inFlight--);
    });
  };

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/**
 * The last line of defence for a process that hosts the app: an error that escapes every handler is
 * reported in one line instead of ending the process, and with it a training run of many minutes.
 * Every request is already contained in startBrowserHost; this catches what a future bug lets through.
 */
export function keepHostAlive(report: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): void {
  const say = (what: string, error: unknown): void =>
    report(
      `error: ${what}: ${String((error as Error)?.message ?? error)
        .split('\n')[0]!
        .slice(0, 200)}`,
    );
  process.on('uncaughtException', (error) => say('uncaught', error));
  process.on('unhandledRejection', (error) => say('unhandled rejection', error));
}
