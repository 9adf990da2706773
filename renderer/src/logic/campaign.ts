import type { CampaignStatus, CampaignSummary } from '../../../preload/api.js';
import { confirmationMatches, type ExecuteGate } from './confirmation.js';

export type CampaignAction = 'pause' | 'resume' | 'cancel' | 'activate';

/** Which campaign buttons apply in which status: anything else would be refused by the engine. */
const ALLOWED: Readonly<Record<CampaignAction, readonly CampaignStatus[]>> = {
  pause: ['distributing'],
  resume: ['paused'],
  cancel: ['created', 'distributing', 'paused', 'distributed'],
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

/** blocks received over all meters, against meters × total blocks */
export function blockProgress(perMeter: readonly { readonly received: number }[], totalBlocks: number): { received: number; total: number } {
  let received = 0;
  for (const m of perMeter) received += Math.min(m.received, totalBlocks);
  return { received, total: perMeter.length * totalBlocks };
}
