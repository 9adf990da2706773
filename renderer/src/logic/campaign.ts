import type { CampaignNote, CampaignStatus, CampaignSummary } from '../../../preload/api.js';
import { confirmationMatches, type ExecuteGate } from './confirmation.js';

export type CampaignAction = 'pause' | 'resume' | 'cancel' | 'activate';

/**
 * Which campaign buttons apply in which status: anything else would be refused by the engine. Every
 * status but the final two leaves the operator a way out: Cancel always, Pause while it runs.
 */
const ALLOWED: Readonly<Record<CampaignAction, readonly CampaignStatus[]>> = {
  pause: ['distributing', 'activating'],
  resume: ['paused'],
  cancel: ['created', 'distributing', 'paused', 'distributed', 'activating'],
  activate: ['distributed'],
};

export function campaignActionAllowed(action: CampaignAction, status: CampaignStatus): boolean {
  return ALLOWED[action].includes(status);
}

/** What the operator types to activate a campaign (ConfirmOptions of activateCampaign): its id. */
export function activationConfirmation(c: Pick<CampaignSummary, 'id'>): string {
  return String(c.id);
}

/** Activate: once distribution settled, with at least one meter verified (else none would switch), and the campaign id typed exactly. */
export function activationGate(c: Pick<CampaignSummary, 'id' | 'status' | 'counts'>, typed: string): ExecuteGate {
  if (!campaignActionAllowed('activate', c.status)) return { enabled: false, reason: `a ${c.status} campaign cannot be activated` };
  if ((c.counts.verified ?? 0) === 0) return { enabled: false, reason: 'no meter has verified the image' };
  if (!confirmationMatches(activationConfirmation(c), typed)) return { enabled: false, reason: `type ${activationConfirmation(c)} exactly to activate` };
  return { enabled: true, reason: undefined };
}

/**
 * What a campaign's status line says: a campaign that ended (distributed or completed) with failed
 * meters is not a success, whatever its engine status: "failed" when no meter got the image,
 * "partial" with the counts otherwise. `tone` picks the colour.
 */
export function campaignOutcome(c: Pick<CampaignSummary, 'status' | 'counts' | 'meters'>): { readonly label: string; readonly tone: string } {
  const failed = c.counts.failed ?? 0;
  const succeeded = (c.counts.verified ?? 0) + (c.counts.activated ?? 0);
  const ended = c.status === 'distributed' || c.status === 'completed';
  const activated = c.counts.activated ?? 0;
  // cancelled during activation: the meters that switched run the new image, whatever the campaign became
  if (c.status === 'cancelled' && activated > 0) return { label: `cancelled: ${activated} of ${c.meters} meters activated and run the new firmware, ${c.meters - activated} did not switch`, tone: 'partial' };
  if (!ended || failed === 0) return { label: c.status, tone: c.status };
  if (succeeded === 0) return { label: `${c.status}: failed, ${failed} of ${c.meters} meters failed`, tone: 'failed' };
  return { label: `${c.status}: partial, ${succeeded} of ${c.meters} meters ${c.status === 'completed' ? 'done' : 'verified'}, ${failed} failed`, tone: 'partial' };
}

export interface CampaignProgress {
  /** meters verified or activated */
  readonly done: number;
  readonly meters: number;
  readonly activated: number;
  readonly failed: number;
}

export function campaignProgress(c: Pick<CampaignSummary, 'counts' | 'meters'>): CampaignProgress {
  return {
    done: (c.counts.verified ?? 0) + (c.counts.activated ?? 0),
    meters: c.meters,
    activated: c.counts.activated ?? 0,
    failed: c.counts.failed ?? 0,
  };
}

export interface BlockProgress {
  /** blocks the meters reported holding, against meters × total blocks */
  readonly acknowledged: number;
  readonly total: number;
  /** this round's frames the DC has put on the air, of those handed to it */
  readonly aired: number;
  readonly frames: number;
}

export function blockProgress(c: Pick<CampaignSummary, 'blocksAcknowledged' | 'meters' | 'totalBlocks' | 'onAir'>): BlockProgress {
  return { acknowledged: c.blocksAcknowledged, total: c.meters * c.totalBlocks, aired: c.onAir.aired, frames: c.onAir.frames };
}

/** What the campaign waits for or why it is paused, and who acts next, in one line (the reasons say it when it goes on by itself). */
export function campaignNoteText(note: CampaignNote): string {
  if (note.kind === 'waiting') return `Waiting: ${note.reason}.`;
  if (note.by === 'operator') return `Paused: ${note.reason}. Resume to go on, or Cancel.`;
  return `Paused by the Key Manager: ${note.reason}.`;
}

/** The note in a few words, for the campaign list (the whole text is on the campaign and in its tooltip). */
export function campaignNoteHeadline(note: CampaignNote): string {
  const what = note.kind === 'waiting' ? 'waiting for the DC link' : note.by === 'operator' ? 'paused by the operator' : 'paused by the Key Manager';
  return `${what}: ${note.resumesItself ? 'goes on by itself' : 'Resume or Cancel'}`;
}

/** What Cancel does in this status, for its confirmation. */
export function cancelConsequence(status: CampaignStatus): string {
  if (status === 'activating') {
    return 'Meters that already switched keep running the new firmware and stay counted as activated; no further meter is told to switch. A switch command the DC already holds may still reach a meter: it is recorded if it does.';
  }
  return 'Meters keep their running firmware; blocks already sent are discarded.';
}
