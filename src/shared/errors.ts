// The one set of error codes every boundary reports: API replies, worker replies, CLI lines.

export const ERROR_CODES = [
  'bad-request',
  'cancelled',
  'bad-data',
  'bad-model',
  'backend-unavailable',
  'busy',
  'no-model',
  'foreign-folder',
  'model-exists',
  'worker-failed',
  'backend-failed',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];
export interface StudioError {
  code: ErrorCode;
  message: string;
}

/**
 * The base of every domain error: each kind names its code once, where it is declared, so every
 * boundary reports it the same way through toStudioError (no message or shape matching).
 */
export abstract class StudioFailure extends Error {
  abstract readonly code: ErrorCode;
}

/** What the file system says no with, in words a person can act on (a protected folder, a full disk). */
const REFUSALS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted (the folder or file is protected)',
  EROFS: 'on a read-only file system',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'over the disk quota',
  ENAMETOOLONG: 'the name is too long',
};

/** The worded refusal for a file-system errno code, or undefined where it is not one a person can act on. */
export const fileSystemRefusal = (code: string): string | undefined => (Object.hasOwn(REFUSALS, code) ? REFUSALS[code] : undefined);

/** Any thrown value as the error that crosses the boundaries: a domain error keeps its code, the rest is 'internal'. */
export function toStudioError(error: unknown): StudioError {
  if (error instanceof StudioFailure) return { code: error.code, message: error.message };
  // The file system said no (Node's errors carry an errno code and the path): something a person can act on.
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  if (typeof code === 'string' && fileSystemRefusal(code)) return { code: 'bad-request', message: `${path ?? 'a file'}: ${fileSystemRefusal(code)}` };
  return { code: 'internal', message: (error as Error)?.message ?? String(error) };
}
