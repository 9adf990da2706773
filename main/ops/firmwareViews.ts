import type { CampaignNote, CampaignOnAir, CampaignSummary, CampaignView, ManifestView, PackageView } from '../../preload/api.js';
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

/** What only a driving service knows: the round on the air, and why a running campaign cannot go on. */
export interface CampaignLive {
  readonly onAir: CampaignOnAir;
  /** a running campaign held up by something that clears by itself (the DC link down), since when (driver clock) */
  readonly waiting: { readonly reason: string; readonly at: number } | undefined;
}

const IDLE: CampaignLive = { onAir: { frames: 0, aired: 0, dcQueueSeconds: undefined }, waiting: undefined };

export function campaignSummary(
  pkg: PackageRecord,
  state: CampaignState,
  row: { readonly blockSize: number; readonly sentBytes: number; readonly createdAt: string },
  live: CampaignLive = IDLE,
): CampaignSummary {
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
    blocksAcknowledged: Object.values(state.meters).reduce((sum, meter) => sum + Math.min(meter.received, state.totalBlocks), 0),
    onAir: live.onAir,
    note: campaignNote(state, live.waiting),
  };
}

const isoAt = (seconds: number) => new Date(seconds * 1000).toISOString();

function campaignNote(state: CampaignState, waiting: CampaignLive['waiting']): CampaignNote | undefined {
  if (state.status === 'paused' && state.pause) {
    const { by, reason, resumesItself, at } = state.pause;
    return { kind: 'paused', by, reason, resumesItself, since: isoAt(at) };
  }
  if (waiting && (state.status === 'created' || state.status === 'distributing' || state.status === 'activating')) return { kind: 'waiting', by: 'driver', reason: waiting.reason, resumesItself: true, since: isoAt(waiting.at) };
  return undefined;
}

export function campaignView(summary: CampaignSummary, state: CampaignState): CampaignView {
  const perMeter = Object.entries(state.meters)
    .map(([id, meter]) => ({ meterId: Number(id), state: meter.state, received: meter.received, reason: meter.reason, version: meter.version }))
    .sort((a, b) => a.meterId - b.meterId);
  return { ...summary, perMeter };
}
