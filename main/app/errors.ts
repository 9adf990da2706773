import type { ApiErrorCode } from '../../preload/api.js';

/** A refusal of the back end itself (locked, not connected, confirmation), typed like the service's own. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}
