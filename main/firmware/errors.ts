/**
 * Every refusal of a firmware package or campaign step carries a stable code (scripts, the UI's check
 * list) and a human message. A staging refusal also names the check that failed.
 */
export type StagingCheck = 'format' | 'signature' | 'size' | 'digest' | 'model' | 'sequence' | 'trust';

export type FirmwareErrorCode =
  /** the envelope or manifest cannot be read: corrupt, truncated, wrong magic or version */
  | 'FORMAT'
  | 'SIGNATURE'
  | 'SIZE'
  | 'DIGEST'
  | 'MODEL'
  /** sequence number not above what the meters run (anti-rollback) */
  | 'ROLLBACK'
  /** the Key Manager's record says the target model's meters do not trust the key that signed the package */
  | 'MODEL_DOES_NOT_TRUST_KEY'
  | 'BAD_ARGUMENT'
  /** a campaign step not allowed in the campaign's current status */
  | 'CAMPAIGN_STATE';

export const CHECK_CODES: Readonly<Record<StagingCheck, FirmwareErrorCode>> = {
  format: 'FORMAT',
  signature: 'SIGNATURE',
  size: 'SIZE',
  digest: 'DIGEST',
  model: 'MODEL',
  sequence: 'ROLLBACK',
  trust: 'MODEL_DOES_NOT_TRUST_KEY',
};

export class FirmwareError extends Error {
  readonly code: FirmwareErrorCode;
  /** the staging check that refused the package, when a check did */
  readonly check: StagingCheck | undefined;
  constructor(code: FirmwareErrorCode, message: string, check?: StagingCheck) {
    super(message);
    this.name = 'FirmwareError';
    this.code = code;
    this.check = check;
  }
}

export function firmwareFail(code: FirmwareErrorCode, message: string): never {
  throw new FirmwareError(code, message);
}
