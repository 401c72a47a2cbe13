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
