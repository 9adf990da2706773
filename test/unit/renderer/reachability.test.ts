import { describe, expect, test } from 'vitest';
import { backEndText, Reachability } from '../../../renderer/src/logic/reachability.js';

describe('whether the page reaches its back end', () => {
  test('a loss keeps the time of the first failure; the stream coming back counts a reconnect', () => {
    const reachability = new Reachability();
    let changes = 0;
    reachability.subscribe(() => changes++);
    reachability.reached();
    expect(reachability.state).toEqual({ state: 'reachable' });
    expect(changes).toBe(0);
    reachability.lost('Failed to fetch', new Date('2026-01-01T10:00:00Z'));
    reachability.lost('connection refused', new Date('2026-01-01T10:00:05Z'));
    expect(reachability.state).toEqual({ state: 'unreachable', since: '2026-01-01T10:00:00.000Z', detail: 'connection refused' });
    expect(reachability.reconnects).toBe(0);
    reachability.reached();
    expect(reachability.state).toEqual({ state: 'reachable' });
    expect(reachability.reconnects).toBe(1);
    expect(changes).toBe(3);
  });

  test('a call answering after a loss is a recovery; the stream reopening always is one, since its events of the gap are lost', () => {
    const reachability = new Reachability();
    reachability.lost('Failed to fetch');
    reachability.reached();
    expect(reachability.state).toEqual({ state: 'reachable' });
    expect(reachability.reconnects).toBe(1);
    reachability.reached();
    expect(reachability.reconnects).toBe(1);
    reachability.resumed();
    expect(reachability.reconnects).toBe(2);
  });

  test('a token refused after it was accepted means the console restarted, and nothing heals that', () => {
    const reachability = new Reachability();
    reachability.reached();
    reachability.lost('Failed to fetch');
    reachability.refused();
    expect(reachability.state).toEqual({ state: 'restarted' });
    reachability.lost('Failed to fetch');
    reachability.reached();
    expect(reachability.state).toEqual({ state: 'restarted' });
    expect(backEndText(reachability.state)).toMatch(/^The console restarted: reopen the address it printed/);
  });

  test('a token refused from the start is an old or mistyped address, not a restart', () => {
    const reachability = new Reachability();
    reachability.refused();
    expect(reachability.state).toEqual({ state: 'refused' });
    expect(backEndText(reachability.state)).toMatch(/open the address the console printed/);
  });

  test('the header says nothing extra while the back end is there, and the failure while it is not', () => {
    expect(backEndText({ state: 'reachable' })).toBeUndefined();
    expect(backEndText({ state: 'unreachable', since: '2026-01-01T10:00:00Z', detail: 'Failed to fetch' })).toMatch(/unreachable since .*\(Failed to fetch\); retrying by itself/);
  });
});
