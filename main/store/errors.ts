/** Every store failure carries a stable code for scripts and the UI; messages never quote secret bytes. */
export type StoreErrorCode =
  | 'CORRUPT'
  | 'WRONG_PASSPHRASE'
  | 'SEAL_BROKEN'
  | 'NOT_INITIALISED'
  | 'ALREADY_INITIALISED'
  | 'UNKNOWN_GROUP'
  | 'UNKNOWN_DC'
  | 'BAD_BACKUP'
  | 'STORE_OPEN'
  /** another process holds the store's writer lock (writerLock.ts) */
  | 'STORE_BUSY'
  | 'LOCK_FAILED'
  /** an existing file that is not a Key Manager store: never migrated, never written */
  | 'NOT_A_STORE'
  /** the store's files were deleted or replaced while it was open */
  | 'STORE_REPLACED'
  /** a store written by a newer version, or one a read-only open would have to migrate */
  | 'STORE_VERSION';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
