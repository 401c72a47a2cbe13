import { StudioFailure } from '@shared/errors';

/** A backend asked for by name cannot run here; the message says why, in one line. */
export class BackendUnavailableError extends StudioFailure {
  readonly code = 'backend-unavailable';
}
