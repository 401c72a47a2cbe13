// The renderer's Content-Security-Policy, the only one: the static-file server both shells share sends it
// as a header with every file (index.html carries no <meta> copy to drift from it). Only the app's own
// scripts, styles and workers, images from itself or from data:/blob: (thumbnails), no network but `connect`.
export function contentSecurityPolicy(connect: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}
