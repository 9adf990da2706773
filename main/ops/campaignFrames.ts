import type { CampaignSealer, CampaignSend } from '../firmware/index.js';
import type { KmStore, OutboxEntry } from '../store/index.js';

/**
 * A campaign round's sends as sealed frames and outbox rows (GREP.md §10-§11). The outbox id is the
 * transfer id, so a frame keeps its id across restarts and the KeyManagerService resends what the DC
 * had not accepted.
 */

export interface GroupKey {
  readonly epoch: number;
  readonly kg: Uint8Array;
}

export interface SealedRound {
  readonly frames: readonly { readonly send: CampaignSend; readonly payload: Uint8Array }[];
  readonly bytes: number;
}

/** `key` is the KG the group holds now: a rekey since the last round re-wraps the key frame. */
export function sealRound(sealer: CampaignSealer, sends: readonly CampaignSend[], key: GroupKey): SealedRound {
  const frames = sends.map((send) => ({ send, payload: sealer.frame(send, () => key) }));
  return { frames, bytes: frames.reduce((sum, frame) => sum + frame.payload.length, 0) };
}

/** Inside the caller's transaction, so the rows commit with the campaign state that sent them. */
export function enqueueRound(store: KmStore, groupId: number, epoch: number, round: SealedRound): OutboxEntry[] {
  return round.frames.map(({ send, payload }) => {
    const entry = { kind: send.to === 'all' ? ('broadcast' as const) : ('unicast' as const), purpose: 'firmware' as const, epoch, member: send.to === 'all' ? null : send.to, payload, message: null };
    return { ...entry, id: store.enqueue(groupId, entry) };
  });
}

/** A campaign's current round as stored with it: its sends and the transfer ids they went out under, in order. */
export interface StoredRound {
  readonly sends: readonly CampaignSend[];
  /** undefined for a round stored before the ids were kept */
  readonly transfers: readonly number[] | undefined;
}

export function storeRound(sends: readonly CampaignSend[], transfers: readonly number[]): string {
  return JSON.stringify({ sends, transfers } satisfies StoredRound);
}

/** Reads what storeRound wrote, or the bare list of sends written before the ids were kept. */
export function readRound(json: string): StoredRound {
  const stored = JSON.parse(json) as StoredRound | CampaignSend[];
  return Array.isArray(stored) ? { sends: stored, transfers: undefined } : stored;
}
