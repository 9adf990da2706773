import { describe, expect, test } from 'vitest';
import type { CampaignStatus } from '../../../preload/api.js';
import { blockProgress, campaignActionAllowed, campaignProgress } from '../../../renderer/src/logic/campaign.js';

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

describe('campaign progress', () => {
  test('verified and activated meters count as done', () => {
    const counts = { pending: 1, receiving: 2, verified: 3, activated: 4, failed: 1 };
    expect(campaignProgress({ counts, meters: 11 })).toEqual({ done: 7, meters: 11, activated: 4, failed: 1 });
  });
  test('blocks over all meters, never above the total', () => {
    expect(blockProgress([{ received: 3 }, { received: 10 }, { received: 12 }], 10)).toEqual({ received: 23, total: 30 });
  });
});
