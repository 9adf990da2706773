/** Every failure of the protocol core carries a stable code (for scripts and the UI) and a human message. */
export type GrepErrorCode =
  | 'TRUNCATED'
  | 'OVERSIZED'
  | 'MALFORMED'
  | 'UNSUPPORTED_VERSION'
  | 'UNKNOWN_TYPE'
  | 'WRONG_GROUP'
  | 'BAD_SIGNATURE'
  | 'DECRYPT_FAILED'
  | 'UNKNOWN_MEMBER'
  | 'DUPLICATE_MEMBER'
  | 'EMPTY_SET'
  | 'GROUP_WOULD_BE_EMPTY'
  | 'BAD_KEY'
  | 'BAD_ARGUMENT'
  | 'STALE_PLAN';

export class GrepError extends Error {
  readonly code: GrepErrorCode;
  constructor(code: GrepErrorCode, message: string) {
    super(message);
    this.name = 'GrepError';
    this.code = code;
  }
}

export function fail(code: GrepErrorCode, message: string): never {
  throw new GrepError(code, message);
}
