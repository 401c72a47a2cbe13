// The renderer's Content-Security-Policy, sent as a header by both shells: only the app's own scripts,
// styles and workers, images from itself or from data:/blob: (thumbnails), and no network but `connect`.
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
