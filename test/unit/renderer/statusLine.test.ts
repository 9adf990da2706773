import { describe, expect, test } from 'vitest';
import { afterChange, type StatusMessage, statusWorld } from '../../../renderer/src/logic/statusLine.js';

const world = statusWorld({ epoch: 7, members: 200 }, ['plan-a'], 0);
const error: StatusMessage = { kind: 'error', code: 'UNKNOWN_METER', message: 'plan leave: meter 42 is not a member of the group', at: '2026-01-01T10:00:00Z', what: 'plan leave', world };

describe('a stale error leaves the status line', () => {
  test('when the epoch, the members or the running operations change, or the back end comes back', () => {
    expect(afterChange(error, { kind: 'world', world })).toBe(error);
    expect(afterChange(error, { kind: 'world', world: statusWorld({ epoch: 8, members: 200 }, ['plan-a'], 0) })).toBeUndefined();
    expect(afterChange(error, { kind: 'world', world: statusWorld({ epoch: 7, members: 199 }, ['plan-a'], 0) })).toBeUndefined();
    // BUSY described plan-a running: it finished
    expect(afterChange(error, { kind: 'world', world: statusWorld({ epoch: 7, members: 200 }, [], 0) })).toBeUndefined();
    // UNREACHABLE described a back end that answers again
    expect(afterChange(error, { kind: 'world', world: statusWorld({ epoch: 7, members: 200 }, ['plan-a'], 1) })).toBeUndefined();
  });

  test('the order of the running operations is not a change', () => {
    expect(statusWorld({ epoch: 1, members: 2 }, ['b', 'a'], 0)).toBe(statusWorld({ epoch: 1, members: 2 }, ['a', 'b'], 0));
  });

  test('when the same action later succeeds, and not when another one does', () => {
    expect(afterChange(error, { kind: 'succeeded', what: 'plan command' })).toBe(error);
    expect(afterChange(error, { kind: 'succeeded', what: 'plan leave' })).toBeUndefined();
  });

  test('when the operator changes an input', () => {
    expect(afterChange(error, { kind: 'input' })).toBeUndefined();
  });

  test('information stays until replaced', () => {
    const info: StatusMessage = { kind: 'info', code: 'OK', message: 'Remove meters: epoch 7 → 8, converged', at: '2026-01-01T10:00:00Z' };
    for (const change of [{ kind: 'input' }, { kind: 'succeeded', what: 'plan leave' }, { kind: 'world', world: 'x' }] as const) expect(afterChange(info, change)).toBe(info);
    expect(afterChange(undefined, { kind: 'input' })).toBeUndefined();
  });
});
