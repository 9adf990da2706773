import type { CampaignSummary, CampaignView, ManifestView, PackageView } from '../../preload/api.js';
import { type CampaignState, campaignCounts, type Manifest } from '../firmware/index.js';
import { toHex } from '../grep/index.js';
import type { PackageRecord } from '../store/index.js';

/** The firmware rows and engine state as the shapes of preload/api.ts, for the UI, the CLI and the console. */

export function manifestOf(manifest: Manifest): ManifestView {
  return { vendor: manifest.vendor, model: manifest.model, version: manifest.version, sequence: manifest.sequence, size: manifest.size, digest: toHex(manifest.digest) };
}

export function packageView(record: PackageRecord): PackageView {
  const { id, vendor, model, version, sequence, size, digest, packageDigest, stagedAt } = record;
  return { id, manifest: { vendor, model, version, sequence, size, digest }, packageDigest, stagedAt };
}

export function manifestView(pkg: PackageRecord): ManifestView {
  return { vendor: pkg.vendor, model: pkg.model, version: pkg.version, sequence: pkg.sequence, size: pkg.size, digest: pkg.digest };
}

export function campaignSummary(pkg: PackageRecord, state: CampaignState, row: { readonly blockSize: number; readonly sentBytes: number; readonly createdAt: string }): CampaignSummary {
  return {
    id: state.id,
    packageId: pkg.id,
    manifest: manifestView(pkg),
    status: state.status,
    blockSize: row.blockSize,
    totalBlocks: state.totalBlocks,
    round: state.round,
    counts: campaignCounts(state),
    meters: Object.keys(state.meters).length,
    sentBytes: row.sentBytes,
    createdAt: row.createdAt,
  };
}

export function campaignView(summary: CampaignSummary, state: CampaignState): CampaignView {
  const perMeter = Object.entries(state.meters)
    .map(([id, meter]) => ({ meterId: Number(id), state: meter.state, received: meter.received, reason: meter.reason, version: meter.version }))
    .sort((a, b) => a.meterId - b.meterId);
  return { ...summary, perMeter };
}
