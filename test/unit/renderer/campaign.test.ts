import { describe, expect, test } from 'vitest';
import type { CampaignStatus, MeterCampaignState } from '../../../preload/api.js';
import { activationGate, blockProgress, campaignActionAllowed, campaignNoteHeadline, campaignNoteText, campaignOutcome, campaignProgress, cancelConsequence } from '../../../renderer/src/logic/campaign.js';

const STATUSES: CampaignStatus[] = ['created', 'distributing', 'paused', 'distributed', 'activating', 'completed', 'cancelled'];

describe('campaign buttons', () => {
  test('each applies only in its statuses', () => {
    const allowed = (action: 'pause' | 'resume' | 'cancel' | 'activate') => STATUSES.filter((s) => campaignActionAllowed(action, s));
    expect(allowed('pause')).toEqual(['distributing', 'activating']);
    expect(allowed('resume')).toEqual(['paused']);
    expect(allowed('activate')).toEqual(['distributed']);
    expect(allowed('cancel')).toEqual(['created', 'distributing', 'paused', 'distributed', 'activating']);
  });

  test('every status but completed and cancelled leaves the operator at least Cancel', () => {
    for (const status of STATUSES.filter((s) => s !== 'completed' && s !== 'cancelled')) expect([status, campaignActionAllowed('cancel', status)]).toEqual([status, true]);
  });

  test('Cancel while activating says that meters already switched keep the new firmware', () => {
    expect(cancelConsequence('activating')).toContain('already switched keep running the new firmware');
    expect(cancelConsequence('distributing')).toContain('keep their running firmware');
  });
});

describe('the Activate button', () => {
  const counts = { pending: 0, receiving: 0, verified: 3, activated: 0, failed: 1 };
  const distributed = { id: 12, status: 'distributed' as const, counts };

  test('stays disabled until the campaign id is typed exactly', () => {
    for (const typed of ['', '1', '012', '12 ', ' 12', '13', '#12']) expect(activationGate(distributed, typed), JSON.stringify(typed)).toEqual({ enabled: false, reason: 'type 12 exactly to activate' });
    expect(activationGate(distributed, '12')).toEqual({ enabled: true, reason: undefined });
  });

  test('needs at least one verified meter, whatever is typed', () => {
    expect(activationGate({ ...distributed, counts: { ...counts, verified: 0, failed: 4 } }, '12')).toEqual({ enabled: false, reason: 'no meter has verified the image' });
  });

  test('applies only once distribution has settled', () => {
    for (const status of STATUSES.filter((s) => s !== 'distributed')) expect(activationGate({ ...distributed, status }, '12').enabled, status).toBe(false);
  });
});

describe('campaign progress', () => {
  test('verified and activated meters count as done', () => {
    const counts = { pending: 1, receiving: 2, verified: 3, activated: 4, failed: 1 };
    expect(campaignProgress({ counts, meters: 11 })).toEqual({ done: 7, meters: 11, activated: 4, failed: 1 });
  });
  test('blocks acknowledged over all meters, and this round\'s frames on the air', () => {
    expect(blockProgress({ blocksAcknowledged: 23, meters: 3, totalBlocks: 10, onAir: { frames: 12, aired: 5, dcQueueSeconds: 2 } })).toEqual({ acknowledged: 23, total: 30, aired: 5, frames: 12 });
  });
});

describe('the campaign status line', () => {
  const counts = (c: Partial<Record<MeterCampaignState, number>>) => ({ pending: 0, receiving: 0, verified: 0, activated: 0, failed: 0, ...c });
  test('reads a campaign that ended with every meter failed as failed, never a green "completed"', () => {
    expect(campaignOutcome({ status: 'completed', meters: 56, counts: counts({ failed: 56 }) })).toEqual({ label: 'completed: failed, 56 of 56 meters failed', tone: 'failed' });
    expect(campaignOutcome({ status: 'distributed', meters: 56, counts: counts({ failed: 56 }) }).tone).toBe('failed');
  });

  test('reads one with some failed meters as partial, with the counts', () => {
    expect(campaignOutcome({ status: 'distributed', meters: 10, counts: counts({ verified: 7, failed: 3 }) })).toEqual({ label: 'distributed: partial, 7 of 10 meters verified, 3 failed', tone: 'partial' });
    expect(campaignOutcome({ status: 'completed', meters: 10, counts: counts({ activated: 9, failed: 1 }) }).label).toBe('completed: partial, 9 of 10 meters done, 1 failed');
  });

  test('reads a campaign cancelled during activation with the meters that switched', () => {
    expect(campaignOutcome({ status: 'cancelled', meters: 56, counts: counts({ activated: 12, verified: 44 }) })).toEqual({ label: 'cancelled: 12 of 56 meters activated and run the new firmware, 44 did not switch', tone: 'partial' });
    expect(campaignOutcome({ status: 'cancelled', meters: 56, counts: counts({ verified: 56 }) }).label).toBe('cancelled');
  });

  test('keeps the status as it is while running, or when nothing failed', () => {
    expect(campaignOutcome({ status: 'completed', meters: 10, counts: counts({ activated: 10 }) })).toEqual({ label: 'completed', tone: 'completed' });
    expect(campaignOutcome({ status: 'distributing', meters: 10, counts: counts({ receiving: 8, failed: 2 }) })).toEqual({ label: 'distributing', tone: 'distributing' });
  });
});

describe('the campaign note', () => {
  const since = '2026-11-25T17:00:00.000Z';
  test('says who acts next', () => {
    expect(campaignNoteText({ kind: 'waiting', by: 'driver', reason: 'the DC link is reconnecting', resumesItself: true, since })).toBe('Waiting: the DC link is reconnecting.');
    expect(campaignNoteText({ kind: 'paused', by: 'operator', reason: 'paused by alice', resumesItself: false, since })).toBe('Paused: paused by alice. Resume to go on, or Cancel.');
    expect(campaignNoteText({ kind: 'paused', by: 'driver', reason: 'no end after 40 rounds', resumesItself: false, since })).toBe('Paused by the Key Manager: no end after 40 rounds.');
    expect(campaignNoteHeadline({ kind: 'paused', by: 'driver', reason: 'the DC accepted none', resumesItself: true, since })).toBe('paused by the Key Manager: goes on by itself');
    expect(campaignNoteHeadline({ kind: 'paused', by: 'operator', reason: 'paused by alice', resumesItself: false, since })).toBe('paused by the operator: Resume or Cancel');
  });
});
