import { z } from 'zod';
import type { StagingView, TrustedKeyView } from '../../preload/api.js';
import { FirmwareError, parse, stagingReport } from '../firmware/index.js';
import { checkSigningPublicKey, GrepError, type GrepCrypto, toHex } from '../grep/index.js';
import type { KmStore, PackageRecord } from '../store/index.js';
import { ServiceError } from './errors.js';
import { manifestOf, packageView } from './firmwareViews.js';
import { validate } from './planning.js';

/*
 * The store's gate for firmware (GREP.md §10): which vendor keys are trusted, and staging, where a
 * package is checked against those keys, the group's models and the sequence each model runs. Nothing
 * is stored unless every check passed; the outcome is audited either way.
 */

export interface StagingContext {
  readonly store: KmStore;
  readonly groupId: number;
  readonly actor: string;
  readonly crypto: GrepCrypto;
}

const MAX_PACKAGE_BYTES = 17 << 20;
const Label = z.string().trim().min(1).max(64);

export function trustKey({ store, actor }: StagingContext, label: string, publicKey: Uint8Array): TrustedKeyView[] {
  const name = validate(Label, label, 'label');
  const key = validate(z.instanceof(Uint8Array), publicKey, 'public key');
  try {
    checkSigningPublicKey(key, 'vendor public key');
  } catch (error) {
    if (error instanceof GrepError) throw new ServiceError('BAD_KEY', `${error.message}: not trusted`);
    throw error;
  }
  store.transaction(() => {
    if (store.firmware.trustKey(name, key, new Date())) store.audit(actor, 'trust firmware key', { label: name, publicKey: toHex(key) });
  });
  return trustedKeys(store);
}

export function trustedKeys(store: KmStore): TrustedKeyView[] {
  return store.firmware.trustedKeys().map((key) => ({ label: key.label, publicKey: toHex(key.publicKey), addedAt: key.addedAt }));
}

/** What the model's meters run: the highest sequence a campaign activated, else 1 (factory). */
export function runningSequence(store: KmStore, groupId: number, model: string): number {
  return store.firmware.activatedVersion(groupId, model)?.sequence ?? 1;
}

/** `models`: those of the group's current members, which the package's model must be one of. */
export function stage(context: StagingContext, packageBytes: Uint8Array, models: readonly string[]): StagingView {
  const { store, groupId, actor, crypto } = context;
  const bytes = validate(z.instanceof(Uint8Array).refine((value) => value.length <= MAX_PACKAGE_BYTES, `at most ${MAX_PACKAGE_BYTES} bytes`), packageBytes, 'package');
  let declared: string | undefined;
  try {
    declared = parse(bytes).manifest.model;
  } catch (error) {
    if (!(error instanceof FirmwareError)) throw error;
  }
  const model = declared !== undefined && models.includes(declared) ? declared : models.join(', ') || 'none (the group has no members)';
  const report = stagingReport(crypto, bytes, {
    trustedKeys: store.firmware.trustedKeys().map((key) => key.publicKey),
    model,
    runningSequence: declared === undefined ? 1 : runningSequence(store, groupId, declared),
  });
  const manifest = report.package && manifestOf(report.package.manifest);
  const passed = report.checks.every((check) => check.status === 'passed');
  const packageDigest = toHex(crypto.sha256(bytes));
  const staged = store.transaction(() => {
    let record: PackageRecord | undefined;
    if (passed && manifest) {
      record = store.firmware.packageByDigest(groupId, packageDigest);
      if (!record) {
        const stagedAt = new Date().toISOString();
        record = { id: store.firmware.savePackage(groupId, { ...manifest, packageDigest, stagedAt }, bytes), ...manifest, packageDigest, stagedAt };
      }
    }
    const failed = report.checks.filter((check) => check.status === 'failed').map((check) => ({ check: check.check, detail: check.detail }));
    store.audit(actor, passed ? 'stage firmware' : 'refuse firmware', { package: record?.id, packageDigest, manifest, failed });
    return record && packageView(record);
  });
  return { checks: report.checks, manifest, staged };
}
