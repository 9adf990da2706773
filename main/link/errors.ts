/** Every failure of the KM <-> DC link carries a stable code (for scripts and the UI) and a human message. */
export type LinkErrorCode =
  | 'OVERSIZED'
  | 'BAD_KEY'
  | 'BAD_ARGUMENT'
  | 'NOT_AUTHENTICATED'
  | 'SEQUENCE_EXHAUSTED'
  | 'AUTH_FAILED'
  | 'PEER_ERROR'
  | 'HANDSHAKE_TIMEOUT'
  | 'PEER_SILENT'
  | 'CONNECT_FAILED'
  | 'PERMISSION_DENIED'
  | 'NO_SUCH_PORT'
  | 'PORT_BUSY'
  | 'DISCONNECTED'
  | 'CLOSED';

export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly code: LinkErrorCode,
    message: string,
  ) {
    super(message);
  }
}
