import { z } from 'zod';
import type { CheckView, ModelTrustView, StagingView, StagingWarning, TrustedKeyView } from '../../preload/api.js';
import { FirmwareError, type FirmwarePackage, manifestSigningInput, parse, stagingReport } from '../firmware/index.js';
import { checkSigningPublicKey, GrepError, type GrepCrypto, toHex } from '../grep/index.js';
import type { KmStore, PackageRecord } from '../store/index.js';
import { keysTrustedByModel, modelTrust as recordedModelTrust, type ModelTrustRecord, recordModelTrust } from '../store/modelKeys.js';
import { ServiceError } from './errors.js';
import { manifestOf, packageView } from './firmwareViews.js';
import { validate } from './planning.js';

/*
 * The store's gate for firmware (GREP.md §10): which vendor keys are trusted, and staging, where a
 * package is checked against those keys, the group's models and the sequence each model runs. Nothing
 * is stored unless every check passed; the outcome is audited either way.
 *
 * A meter checks the signature against its own factory keys only once the whole image is in, so a
 * package signed by a key the Key Manager trusts but the meters do not would cost a full campaign of
 * airtime and then fail on every meter. The keys each model's meters trust are recorded per group
 * (store/modelKeys.ts), and staging and push refuse such a package by name before anything is sent.
 */

export interface StagingContext {
  readonly store: KmStore;
  readonly groupId: number;
  readonly actor: string;
  readonly crypto: GrepCrypto;
}

const MAX_PACKAGE_BYTES = 17 << 20;
const Label = z.string().trim().min(1).max(64);
const Model = z.string().min(1).max(255);
const PublicKey = z.instanceof(Uint8Array);

function checkedKey(publicKey: Uint8Array): Uint8Array {
  const key = validate(PublicKey, publicKey, 'public key');
  try {
    return checkSigningPublicKey(key, 'vendor public key');
  } catch (error) {
    if (error instanceof GrepError) throw new ServiceError('BAD_KEY', `${error.message}: not trusted`);
    throw error;
  }
}

export function trustKey({ store, actor }: StagingContext, label: string, publicKey: Uint8Array): TrustedKeyView[] {
  const name = validate(Label, label, 'label');
  const key = checkedKey(publicKey);
  store.transaction(() => {
    if (store.firmware.trustKey(name, key, new Date())) store.audit(actor, 'trust firmware key', { label: name, publicKey: toHex(key) });
  });
  return trustedKeys(store);
}

export function trustedKeys(store: KmStore): TrustedKeyView[] {
  return store.firmware.trustedKeys().map((key) => ({ label: key.label, publicKey: toHex(key.publicKey), addedAt: key.addedAt }));
}

/**
 * Records that the model's meters were provisioned to trust the key, and trusts it for staging in the
 * same transaction: the key then signs packages the Key Manager accepts and the meters install. A key
 * staging already trusts keeps its label; a new one needs `label`.
 */
export function trustKeyForModel({ store, groupId, actor }: StagingContext, model: string, publicKey: Uint8Array, label?: string): ModelTrustView[] {
  const name = validate(Model, model, 'model');
  const key = checkedKey(publicKey);
  const given = label === undefined ? undefined : validate(Label, label, 'label');
  const hex = toHex(key);
  store.transaction(() => {
    const known = store.firmware.trustedKeys().find((trusted) => toHex(trusted.publicKey) === hex);
    if (!known && given === undefined) throw new ServiceError('BAD_INPUT', `label: key ${fingerprint(key)} is not yet trusted for staging, so it needs a label`);
    const staged = known?.label ?? given!;
    const at = new Date();
    if (!known && store.firmware.trustKey(staged, key, at)) store.audit(actor, 'trust firmware key', { label: staged, publicKey: hex });
    if (recordModelTrust(store.db, groupId, { model: name, label: staged, publicKey: key }, at)) store.audit(actor, 'record model trust', { model: name, label: staged, publicKey: hex });
  });
  return modelTrustViews(store, groupId);
}

/** Every model of the group's members and every model with a record, with the keys recorded for it. */
export function modelTrustViews(store: KmStore, groupId: number): ModelTrustView[] {
  const members = new Map<string, number>();
  for (const member of store.members(groupId)) if (member.status === 'member') members.set(member.model, (members.get(member.model) ?? 0) + 1);
  const keys = new Map<string, TrustedKeyView[]>();
  for (const record of recordedModelTrust(store.db, groupId)) keys.set(record.model, [...(keys.get(record.model) ?? []), keyView(record)]);
  return [...new Set([...members.keys(), ...keys.keys()])].sort().map((model) => ({ model, members: members.get(model) ?? 0, keys: keys.get(model) ?? [] }));
}

const keyView = (key: { readonly label: string; readonly publicKey: Uint8Array; readonly addedAt: string }): TrustedKeyView => ({ label: key.label, publicKey: toHex(key.publicKey), addedAt: key.addedAt });

/** Enough of a public key to tell keys apart by eye; the whole key is in every listing. */
const fingerprint = (key: Uint8Array) => `${toHex(key).slice(0, 16)}…`;
const named = (key: { readonly label: string; readonly publicKey: Uint8Array }) => `${key.label} (${fingerprint(key.publicKey)})`;

type ModelTrust =
  | { readonly verdict: 'trusted'; readonly key: ModelTrustRecord }
  | { readonly verdict: 'untrusted' | 'unrecorded'; readonly detail: string };

/** What the record says about the package's model and the key that signed it. */
function modelTrustOf(store: KmStore, groupId: number, crypto: GrepCrypto, pkg: FirmwarePackage): ModelTrust {
  const { model } = pkg.manifest;
  const signedInput = manifestSigningInput(pkg.manifestBytes);
  const signs = (key: { readonly publicKey: Uint8Array }) => crypto.verify(key.publicKey, signedInput, pkg.signature);
  const recorded = keysTrustedByModel(store.db, groupId, model);
  const key = recorded.find(signs);
  if (key) return { verdict: 'trusted', key };
  const signer = store.firmware.trustedKeys().find(signs);
  const signedBy = `this package is signed by ${signer ? named(signer) : 'a key the Key Manager does not trust'}`;
  const record = `\`grepctl fw trust --model ${JSON.stringify(model)} <key file>\``;
  if (recorded.length === 0) {
    return { verdict: 'unrecorded', detail: `no record of the keys meters of model ${model} trust; ${signedBy}: if they were not provisioned with it, every one refuses the image after the whole transfer (record their keys with ${record})` };
  }
  return { verdict: 'untrusted', detail: `meters of model ${model} trust ${recorded.map(named).join(', ')}; ${signedBy}: record the model's trust with ${record} if the meters were provisioned with it` };
}

/** The trust check of staging (after the meters' own checks) and its warning when nothing is recorded. */
function trustCheck(store: KmStore, groupId: number, crypto: GrepCrypto, pkg: FirmwarePackage | undefined, signed: boolean): { check: CheckView; warnings: StagingWarning[] } {
  if (!pkg || !signed) return { check: { check: 'trust', status: 'skipped', detail: pkg ? 'no trusted key signed the package' : 'package could not be read' }, warnings: [] };
  const trust = modelTrustOf(store, groupId, crypto, pkg);
  if (trust.verdict === 'trusted') return { check: { check: 'trust', status: 'passed', detail: `meters of model ${pkg.manifest.model} trust ${named(trust.key)}` }, warnings: [] };
  if (trust.verdict === 'untrusted') return { check: { check: 'trust', status: 'failed', detail: trust.detail }, warnings: [] };
  return { check: { check: 'trust', status: 'skipped', detail: trust.detail }, warnings: [{ code: 'MODEL_TRUST_UNRECORDED', message: trust.detail }] };
}

/** Push's last look before a campaign exists: the record may have changed since the package was staged. */
export function refuseUntrustedSigner({ store, groupId, crypto }: StagingContext, packageBytes: Uint8Array): void {
  const trust = modelTrustOf(store, groupId, crypto, parse(packageBytes));
  if (trust.verdict === 'untrusted') throw new FirmwareError('MODEL_DOES_NOT_TRUST_KEY', `trust check failed: ${trust.detail}; nothing was sent`, 'trust');
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
  const signed = report.checks.some((check) => check.check === 'signature' && check.status === 'passed');
  const trust = trustCheck(store, groupId, crypto, report.package, signed);
  const checks = [...report.checks, trust.check];
  const manifest = report.package && manifestOf(report.package.manifest);
  // a check that could not run (trust, with nothing recorded) warns; only a failed one refuses
  const passed = report.package !== undefined && checks.every((check) => check.status !== 'failed');
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
    const failed = checks.filter((check) => check.status === 'failed').map((check) => ({ check: check.check, detail: check.detail }));
    const warnings = trust.warnings.map((warning) => warning.code);
    store.audit(actor, passed ? 'stage firmware' : 'refuse firmware', { package: record?.id, packageDigest, manifest, failed, ...(warnings.length > 0 ? { warnings } : {}) });
    return record && packageView(record);
  });
  return { checks, manifest, staged, warnings: trust.warnings };
}
