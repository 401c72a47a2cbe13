// The one static-file server for the renderer, used by both shells: Electron's app:// protocol handler
// and the browser host. Same traversal guard, same headers (the one CSP, nosniff, no-referrer), same
// refusal of anything that is not a regular file inside the renderer folder.
import { realpath } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import { contentSecurityPolicy } from './csp';
import { parseTarget } from './requestTarget';
import { readRegularFileAsync } from '../store/files';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

/** No file of the built renderer comes near this; it bounds what one request can make us read. */
const MAX_FILE = 64 * 1024 * 1024;

export interface StaticReply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

const within = (base: string, file: string): boolean => {
  const inside = relative(base, file);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
};

/** The file a decoded request path names, or undefined when it is not inside the folder, symlinks resolved. */
async function fileInside(root: string, path: string): Promise<string | undefined> {
  const file = resolve(root, path === '/' ? 'index.html' : `.${path}`);
  if (!within(resolve(root), file)) return undefined;
  try {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(file)]);
    return within(realRoot, real) ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Answers one request for a file of `root`. `target` is the raw, still percent-encoded path (and query)
 * as the client sent it; `connect` is what the page may connect to (the CSP's connect-src).
 */
export async function serveStatic(root: string, method: string | undefined, target: string | undefined, connect: string): Promise<StaticReply> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': contentSecurityPolicy(connect),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'Content-Type': 'text/plain; charset=utf-8',
  };
  const reply = (status: number, body: string): StaticReply => ({ status, headers, body });
  if (method !== 'GET' && method !== 'HEAD') return reply(405, 'method not allowed');
  const parsed = parseTarget(target);
  if (!parsed) return reply(400, 'bad request');
  const file = await fileInside(root, parsed.path);
  if (!file) return reply(404, 'not found');
  let body: Uint8Array;
  try {
    body = await readRegularFileAsync(file, MAX_FILE);
  } catch {
    return reply(404, 'not found');
  }
  return { status: 200, headers: { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }, body };
}
