/** Every store failure carries a stable code for scripts and the UI; messages never quote secret bytes. */
export type StoreErrorCode =
  | 'CORRUPT'
  | 'WRONG_PASSPHRASE'
  | 'SEAL_BROKEN'
  | 'NOT_INITIALISED'
  | 'ALREADY_INITIALISED'
  | 'UNKNOWN_GROUP'
  | 'BAD_BACKUP'
  | 'STORE_OPEN';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
