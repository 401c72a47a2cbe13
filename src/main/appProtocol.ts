// The app:// protocol: the renderer's files, through the same static-file server as the browser host.
// Kept free of Electron so tests can call it with plain Requests.
import { serveStatic } from '@core/web/staticFiles';

/** The handler for protocol.handle(APP_SCHEME, …): the page may connect nowhere (its API is IPC). */
export function appProtocolHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    let pathname: string | undefined;
    let host = '';
    try {
      // Chromium hands over a parsed, still percent-encoded URL; the server decodes and confines it.
      ({ pathname, host } = new URL(request.url));
    } catch {
      pathname = undefined;
    }
    // The hidden compute window (app://compute) gets its page and scripts, nothing else of the app's (refused as a bad request).
    if (host === 'compute' && !(pathname === '/compute.html' || /^\/assets\/[\w.-]+\.js$/.test(pathname ?? ''))) pathname = undefined;
    const reply = await serveStatic(rendererDir, request.method, pathname, "'none'");
    // A Node Buffer is a valid body; only the DOM typings' ArrayBuffer-vs-SharedArrayBuffer split objects.
    return new Response(request.method === 'HEAD' ? null : (reply.body as BodyInit), { status: reply.status, headers: reply.headers });
  };
}
