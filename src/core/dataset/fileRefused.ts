// A dataset file that cannot be used: listed with its reason, and the import goes on.
import type { MakeError } from '../store/files';
import { StudioFailure } from '@shared/errors';

export class FileRefused extends StudioFailure {
  readonly code = 'bad-data';
}

/** For the shared safe reader: the list names the file, so the error carries only the problem. */
export const refuse: MakeError = (_file, problem) => new FileRefused(problem);
