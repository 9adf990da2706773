import type { CampaignSummary, CampaignView, CheckView, ManifestView, ModelTrustView, PackageView, StagingWarning, TrustedKeyView } from '../../preload/api.js';
import { nodeCrypto } from '../crypto/node.js';
import type { FirmwarePackage } from '../firmware/index.js';
import { toHex } from '../grep/index.js';
import { escapeControl } from '../text/escape.js';
import { ExitCode } from './errors.js';
import type { Outcome } from './spec.js';

/** Firmware packages, staging checks and campaigns as an operator reads them, and as --json carries them. */

export function manifestView(pkg: FirmwarePackage): ManifestView {
  const { vendor, model, version, sequence, size, digest } = pkg.manifest;
  return { vendor, model, version, sequence, size, digest: toHex(digest) };
}

/** vendor, model and version are the vendor's words, signed or not: escaped before a terminal sees them */
export const manifestText = (manifest: ManifestView): string =>
  `${escapeControl(manifest.vendor)} ${escapeControl(manifest.model)} version ${escapeControl(manifest.version)} (sequence ${manifest.sequence}), ${manifest.size} B, SHA-256 ${manifest.digest}`;

const MARK: Record<CheckView['status'], string> = { passed: 'passed ', failed: 'FAILED ', skipped: 'skipped' };

// a detail may quote the manifest's model, the vendor's words
export const checksText = (checks: readonly CheckView[]): string => checks.map((check) => `  ${MARK[check.status]}  ${check.check.padEnd(9)}  ${escapeControl(check.detail)}`).join('\n');

export const warningText = (warning: StagingWarning): string => `WARNING ${warning.code}: ${escapeControl(warning.message)}`;

export const packageText = (pkg: PackageView): string => `package ${pkg.id}: ${manifestText(pkg.manifest)}\n  staged ${pkg.stagedAt}, package SHA-256 ${pkg.packageDigest}`;

export const trustedKeysText = (keys: readonly TrustedKeyView[]): string =>
  keys.length === 0 ? 'no trusted firmware keys' : keys.map((key) => `  ${escapeControl(key.label).padEnd(20)}  ${key.publicKey}  added ${key.addedAt}`).join('\n');

export const modelTrustText = (models: readonly ModelTrustView[]): string =>
  models
    .map((entry) => {
      const head = `${escapeControl(entry.model)} (${entry.members} member${entry.members === 1 ? '' : 's'})`;
      if (entry.keys.length === 0) return `${head}: no record of the keys its meters trust (staging warns): grepctl fw trust --model ${escapeControl(JSON.stringify(entry.model))} <pub file>`;
      return [`${head}: its meters trust`, ...entry.keys.map((key) => `  ${escapeControl(key.label).padEnd(24)}  ${key.publicKey}  recorded ${key.addedAt}`)].join('\n');
    })
    .join('\n');

const METER_STATES = ['pending', 'receiving', 'verified', 'activated', 'failed'] as const;

const stateCounts = (campaign: CampaignSummary): string =>
  `${METER_STATES.filter((state) => campaign.counts[state] > 0).map((state) => `${campaign.counts[state]} ${state}`).join(', ') || 'no meters'} of ${campaign.meters} meters`;

const progressText = (campaign: CampaignSummary): string => `campaign ${campaign.id} ${campaign.status}, round ${campaign.round}: ${stateCounts(campaign)}`;

export const campaignText = (campaign: CampaignSummary): string =>
  `${progressText(campaign)}; package ${campaign.packageId} (${escapeControl(campaign.manifest.model)} ${escapeControl(campaign.manifest.version)}), ` +
  `${campaign.totalBlocks} blocks of ${campaign.blockSize} B, ${campaign.sentBytes} B sent`;

export function campaignDetailText(campaign: CampaignView): string {
  const rows = campaign.perMeter.map((meter) => {
    const note = escapeControl(meter.reason ?? (meter.version !== undefined ? `running ${meter.version}` : ''));
    return `  ${String(meter.meterId).padStart(10)}  ${meter.state.padEnd(9)}  ${String(meter.received).padStart(6)}/${campaign.totalBlocks} blocks  ${note}`.trimEnd();
  });
  return [campaignText(campaign), `  created ${campaign.createdAt}`, ...rows].join('\n');
}

/** Progress while waiting on one campaign: a line when its status, round or meter counts change, not per report. */
export function progressPrinter(campaignId: () => number | undefined, write: (line: string) => void): (summary: CampaignSummary) => void {
  let last = '';
  return (summary) => {
    if (summary.id !== campaignId()) return;
    const line = progressText(summary);
    if (line !== last) write(`${line}, ${summary.sentBytes} B sent\n`);
    last = line;
  };
}

/** What inspect and pack show of a package: manifest, sizes, digests. */
export function described(file: string, bytes: Uint8Array, pkg: FirmwarePackage) {
  return {
    file,
    manifest: manifestView(pkg),
    bytes: { package: bytes.length, manifest: pkg.manifestBytes.length, signature: pkg.signature.length, image: pkg.image.length },
    packageDigest: toHex(nodeCrypto.sha256(bytes)),
  };
}

export const describedText = (info: ReturnType<typeof described>) =>
  `${info.file}: ${manifestText(info.manifest)}\n  ${info.bytes.package} B: manifest ${info.bytes.manifest} B, signature ${info.bytes.signature} B, image ${info.bytes.image} B; package SHA-256 ${info.packageDigest}`;

export type Goal = 'distributed' | 'completed';

/** How a wait on a campaign ended: reached the goal with every meter, or why not and what next. */
export function campaignOutcome(group: string, campaign: CampaignView, goal: Goal, interrupted: boolean, seconds: number): Outcome {
  const failed = campaign.perMeter.filter((meter) => meter.state === 'failed');
  const reached = campaign.status === goal && failed.length === 0;
  const next = `grepctl fw status ${campaign.id} shows it; grepctl fw resume ${campaign.id} drives it on`;
  const why = reached
    ? `every meter ${goal === 'distributed' ? 'verified the image' : 'runs the new firmware'}`
    : interrupted
      ? `interrupted: the campaign stays stored as ${campaign.status}; ${next}`
      : campaign.status === goal
        ? `${failed.length} ${failed.length === 1 ? 'meter' : 'meters'} failed: ${failed.map((meter) => `${meter.meterId} (${escapeControl(meter.reason ?? 'no reason given')})`).join(', ')}`
        : campaign.status === 'distributing' || campaign.status === 'activating'
          ? `not ${goal} within --timeout ${seconds} s: the campaign stays stored; ${next}`
          : `the campaign is ${campaign.status}`;
  return {
    exitCode: reached ? ExitCode.ok : interrupted ? ExitCode.interrupted : ExitCode.failed,
    json: { group, campaign, reached: goal, done: reached, interrupted, message: why },
    text: `${campaignText(campaign)}\n${why}`,
  };
}

