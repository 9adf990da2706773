/** Refusals of the operations service: a stable code for scripts and the UI, and a message for the operator. */
export type ServiceErrorCode =
  | 'BAD_INPUT'
  | 'UNKNOWN_METER'
  | 'DUPLICATE_METER'
  | 'WOULD_EMPTY_GROUP'
  | 'EMPTY_SET'
  | 'UNKNOWN_PLAN'
  | 'PLAN_CONSUMED'
  | 'STALE_PLAN'
  | 'REJECTED_ROWS'
  /** an input over a documented limit (COMMISSION_LIMIT): refused before any of it is read */
  | 'TOO_LARGE'
  | 'BUSY'
  | 'UNKNOWN_PACKAGE'
  | 'UNKNOWN_CAMPAIGN'
  /** a campaign step not allowed in the campaign's current status, or meters already in an open campaign */
  | 'CAMPAIGN_STATE'
  /** a firmware signing key that would accept forged signatures */
  | 'BAD_KEY'
  /** the store's group is at another epoch than this process's Key Manager: someone else wrote it */
  | 'STALE_STATE';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
  ) {
    super(message);
  }
}
