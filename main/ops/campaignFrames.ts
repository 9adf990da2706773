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
    const entry = { kind: send.to === 'all' ? ('broadcast' as const) : ('unicast' as const), epoch, member: send.to === 'all' ? null : send.to, payload };
    return { ...entry, id: store.enqueue(groupId, entry) };
  });
}
