import { describe, expect, test } from 'vitest';
import type { CampaignStatus } from '../../../preload/api.js';
import { activationGate, blockProgress, campaignActionAllowed, campaignProgress } from '../../../renderer/src/logic/campaign.js';

const STATUSES: CampaignStatus[] = ['created', 'distributing', 'paused', 'distributed', 'activating', 'completed', 'cancelled'];

describe('campaign buttons', () => {
  test('each applies only in its statuses', () => {
    const allowed = (action: 'pause' | 'resume' | 'cancel' | 'activate') => STATUSES.filter((s) => campaignActionAllowed(action, s));
    expect(allowed('pause')).toEqual(['distributing']);
    expect(allowed('resume')).toEqual(['paused']);
    expect(allowed('activate')).toEqual(['distributed']);
    expect(allowed('cancel')).toEqual(['created', 'distributing', 'paused', 'distributed']);
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
  test('blocks over all meters, never above the total', () => {
    expect(blockProgress([{ received: 3 }, { received: 10 }, { received: 12 }], 10)).toEqual({ received: 23, total: 30 });
  });
});
