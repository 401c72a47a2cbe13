// Parses what a client puts after the method in its request line. Anyone can send anything there
// (`//`, `/%`, `http://x`, megabytes of `?`), so nothing here throws: a target that is not a plain
// origin-form path with a decodable path and query is simply undefined, and the caller answers 400.
// `new URL(target, base)` is not used: it throws on `//` (a host-relative URL with an empty host).

export interface RequestTarget {
  /** The decoded path, always starting with `/`. */
  path: string;
  query: URLSearchParams;
}

export function parseTarget(target: string | undefined): RequestTarget | undefined {
  if (typeof target !== 'string' || !target.startsWith('/')) return undefined;
  const cut = target.indexOf('?');
  const rawPath = cut < 0 ? target : target.slice(0, cut);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return undefined; // a lone or malformed % escape
  }
  if (path.includes('\0')) return undefined;
  // URLSearchParams never throws: bad escapes in the query are kept as they are.
  return { path, query: new URLSearchParams(cut < 0 ? '' : target.slice(cut + 1)) };
}
