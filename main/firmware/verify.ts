import { equalBytes } from '../grep/bytes.js';
import type { GrepCrypto } from '../grep/crypto.js';
import { CHECK_CODES, FirmwareError, type StagingCheck } from './errors.js';
import { type FirmwarePackage, manifestSigningInput, parse } from './package.js';

/**
 * Staging (GREP.md §10 "staging verifies everything before the package can be scheduled"). The checks
 * run in a fixed order and every one is reported, so the UI can show the whole list; a check that
 * cannot run because the package could not be read is 'skipped'. The meters run the same checks but
 * format on the image they assembled (campaign receiving side), so what staging accepts, meters accept.
 */

export const STAGING_CHECKS: readonly StagingCheck[] = ['format', 'signature', 'size', 'digest', 'model', 'sequence'];

export interface StagingContext {
  /** vendor/operator public keys a package may be signed with */
  readonly trustedKeys: readonly Uint8Array[];
  /** the model of the meters the package is for */
  readonly model: string;
  /** the highest sequence number the meters run: a package must be above it (anti-rollback) */
  readonly runningSequence: number;
}

export interface CheckResult {
  readonly check: StagingCheck;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly detail: string;
}

export interface StagingReport {
  readonly checks: readonly CheckResult[];
  /** present when the format check passed */
  readonly package: FirmwarePackage | undefined;
}

const passed = (check: StagingCheck, detail: string): CheckResult => ({ check, status: 'passed', detail });
const failed = (check: StagingCheck, detail: string): CheckResult => ({ check, status: 'failed', detail });

/** The checks after format, on a package already read. */
export function checkPackage(crypto: GrepCrypto, pkg: FirmwarePackage, context: StagingContext): CheckResult[] {
  const { manifest, image } = pkg;
  const signedInput = manifestSigningInput(pkg.manifestBytes);
  const signer = context.trustedKeys.find((key) => crypto.verify(key, signedInput, pkg.signature));
  const digest = crypto.sha256(image);
  return [
    signer ? passed('signature', 'signed by a trusted key') : failed('signature', 'not signed by any trusted vendor/operator key'),
    manifest.size === image.length ? passed('size', `${image.length} bytes`) : failed('size', `manifest says ${manifest.size} bytes, image has ${image.length}`),
    equalBytes(digest, manifest.digest) ? passed('digest', 'SHA-256 matches') : failed('digest', 'image SHA-256 differs from the manifest'),
    manifest.model === context.model ? passed('model', manifest.model) : failed('model', `package is for ${manifest.model}, meters are ${context.model}`),
    manifest.sequence > context.runningSequence
      ? passed('sequence', `${manifest.sequence} > ${context.runningSequence}`)
      : failed('sequence', `sequence ${manifest.sequence} is not above ${context.runningSequence} (rollback)`),
  ];
}

export function stagingReport(crypto: GrepCrypto, bytes: Uint8Array, context: StagingContext): StagingReport {
  let pkg: FirmwarePackage;
  try {
    pkg = parse(bytes);
  } catch (error) {
    if (!(error instanceof FirmwareError)) throw error;
    const skipped = STAGING_CHECKS.slice(1).map((check): CheckResult => ({ check, status: 'skipped', detail: 'package could not be read' }));
    return { checks: [failed('format', error.message), ...skipped], package: undefined };
  }
  return { checks: [passed('format', 'envelope and manifest read'), ...checkPackage(crypto, pkg, context)], package: pkg };
}

/** Throws a FirmwareError whose code and `check` name the first failed check; nothing else fails. */
export function refuseFailed(checks: readonly CheckResult[]): void {
  const first = checks.find((result) => result.status === 'failed');
  if (first) throw new FirmwareError(CHECK_CODES[first.check], `${first.check} check failed: ${first.detail}`, first.check);
}

/** The package, if it passes every check. */
export function stage(crypto: GrepCrypto, bytes: Uint8Array, context: StagingContext): FirmwarePackage {
  const report = stagingReport(crypto, bytes, context);
  refuseFailed(report.checks);
  return report.package!;
}
