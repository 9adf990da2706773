import { describe, expect, test } from 'vitest';
import { executionOutcome } from '../../../renderer/src/logic/executionOutcome.js';
import type { ExecutionView } from '../../../preload/api.js';

const result = (over: Partial<ExecutionView>): ExecutionView => ({ planId: 'p', epochFrom: 3, epoch: 4, converged: false, superseded: false, unreachable: [], queuedAtDc: [], dcQueuedSeconds: 0, resyncs: 0, ...over });

describe('how an executed operation ended', () => {
  test('only a converged operation reads as OK', () => {
    expect(executionOutcome(result({ converged: true }))).toEqual({ ok: true, code: 'OK', text: 'converged' });
    expect(executionOutcome(result({ unreachable: [7] })).code).not.toBe('OK');
  });

  test('meters queued at a backlogged DC are told apart from unreachable ones, with the airtime left', () => {
    const outcome = executionOutcome(result({ queuedAtDc: Array.from({ length: 1999 }, (_, i) => i + 1), unreachable: [2001], dcQueuedSeconds: 4605 }));
    expect(outcome).toEqual({ ok: false, code: 'NOT CONVERGED', text: 'not converged: 1999 meter(s) still queued at the DC (about 76 min 45 s of airtime left); 1 unreachable' });
  });

  test('an operation taken over by a later one says so', () => {
    expect(executionOutcome(result({ superseded: true, queuedAtDc: [4] }))).toMatchObject({ ok: false, code: 'CONTINUED', text: expect.stringContaining('continued by a later operation') });
  });
});
