import { afterEach, describe, expect, test, vi } from 'vitest';
import type { LinkState } from '../../main/link/client.js';
import { LinkError } from '../../main/link/errors.js';
import { CampaignLinkWatch } from '../../main/ops/campaignLink.js';

const up: LinkState = { state: 'up', peer: '127.0.0.1:4059' };
const down: LinkState = { state: 'down', reason: new LinkError('CONNECT_FAILED', 'connection refused'), retryInMs: 1_000 };
const connecting: LinkState = { state: 'connecting', attempt: 2 };

afterEach(() => {
  vi.useRealTimers();
});

describe('a campaign following the DC link', () => {
  test('waits from when the link first went down: a reconnect attempt does not restart the clock, the link back ends the wait', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const link = new CampaignLinkWatch(up);
    expect(link.up).toBe(true);
    expect(link.waiting(3)).toBeUndefined();

    expect(link.follow(down)).toBe(true);
    expect(link.up).toBe(false);
    vi.advanceTimersByTime(5_000);
    // still not up: nothing for the driver to act on, but the note names the latest state
    expect(link.follow(connecting)).toBe(false);
    expect(link.waiting(3)).toEqual({ at: 1_000, reason: 'the DC link is reconnecting; 3 frames of this round wait to go out, and the campaign goes on by itself when the link is back' });

    expect(link.follow(up)).toBe(true);
    expect(link.up).toBe(true);
    expect(link.waiting(3)).toBeUndefined();
    expect(link.follow(up)).toBe(false);
  });

  test('a driver started with the link down waits from its start, and the note says what the operator does, if anything', () => {
    vi.useFakeTimers({ now: 2_000_000 });
    const link = new CampaignLinkWatch({ state: 'stopped' });
    expect(link.up).toBe(false);
    expect(link.waiting(1)).toEqual({ at: 2_000, reason: 'the DC link is stopped (connect to the DC on the Connection screen); 1 frame of this round waits to go out, and the campaign goes on by itself when the link is back' });
    link.follow({ state: 'refused', reason: new LinkError('AUTH_FAILED', 'bad proof'), retryInMs: 60_000 });
    expect(link.waiting(0)?.reason).toBe("the DC refused this Key Manager's pairing key (correct the DC profile on the Connection screen); the meters' answers wait at the DC, and the campaign goes on by itself when the link is back");
    link.follow(down);
    expect(link.waiting(0)?.reason).toMatch(/^the DC link is down \(connection refused\), retrying; /);
  });
});
