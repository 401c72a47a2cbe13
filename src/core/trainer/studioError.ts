// What the trainer worker replies (and puts in a run's error event) for an error: the typed StudioError
// whose code a caller can act on, from whichever part of the core threw it.
import type { StudioError } from '@shared/errors';
import { StudioCallError } from '@shared/api';
import { ImportCancelled } from '../dataset/folderImport';
import { DataError } from '../dataset/idx';
import { BackendUnavailableError } from '../backend/backends';
import { KernelThreadError } from '../backend/kernelThreads';
import { ModelFileError } from '../store/modelStore';

export function toStudioError(error: unknown): StudioError {
  if (error instanceof DataError) return { code: 'bad-data', message: error.message };
  if (error instanceof ImportCancelled) return { code: 'cancelled', message: error.message };
  if (error instanceof ModelFileError) return { code: 'bad-model', message: error.message };
  if (error instanceof BackendUnavailableError) return { code: 'backend-unavailable', message: error.message };
  if (isGpuFailure(error)) return { code: 'backend-failed', message: (error as Error).message };
  if (error instanceof KernelThreadError) return { code: 'backend-failed', message: error.message };
  if (error instanceof StudioCallError) return error.studio;
  // The file system said no (a read-only or protected folder, a full disk): something a person can act on.
  const { code, path } = error as { code?: string; path?: string };
  if (code && code in REFUSALS) return { code: 'bad-request', message: `${path ?? 'a file'}: ${REFUSALS[code]}` };
  return { code: 'internal', message: (error as Error)?.message ?? String(error) };
}

/** A GPU engine's failure (a lost device, a page that stopped answering): its GpuError's code. */
export const isGpuFailure = (error: unknown): boolean => (error as { code?: string })?.code === 'gpu-failed';

const REFUSALS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted (the folder or file is protected)',
  EROFS: 'on a read-only file system',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'over the disk quota',
};
