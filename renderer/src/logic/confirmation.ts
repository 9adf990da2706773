import type { PlanView } from '../../../preload/api.js';

/**
 * The deliberate step before a dangerous execution. The typed text must equal the plan's
 * confirmation exactly (no trimming, no case folding: the back end checks it the same way).
 */
export function confirmationMatches(expected: string | undefined, typed: string): boolean {
  return expected === undefined || typed === expected;
}

export interface ExecuteGate {
  readonly enabled: boolean;
  /** why the Execute button is disabled, for the operator */
  readonly reason: string | undefined;
}

export function executeGate(plan: Pick<PlanView, 'confirmation' | 'rejected' | 'affected'>, typed: string, acceptRejected: boolean): ExecuteGate {
  if (plan.affected.length === 0) return { enabled: false, reason: 'the plan affects no meter' };
  if (plan.rejected.length > 0 && !acceptRejected)
    return { enabled: false, reason: `${plan.rejected.length} line(s) rejected: tick "commission the valid lines only" to go on` };
  if (!confirmationMatches(plan.confirmation, typed)) return { enabled: false, reason: `type ${plan.confirmation} exactly to confirm` };
  return { enabled: true, reason: undefined };
}
