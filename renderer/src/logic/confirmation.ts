import type { LeaveCostView, Operation, PlanView } from '../../../preload/api.js';

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

/** Operations that rekey every member without naming any: their plans list no affected meter. */
const WHOLE_GROUP: readonly Operation[] = ['reseed', 'periodic'];

export function executeGate(plan: Pick<PlanView, 'operation' | 'confirmation' | 'rejected' | 'affected'>, typed: string, acceptRejected: boolean): ExecuteGate {
  if (plan.affected.length === 0 && !WHOLE_GROUP.includes(plan.operation)) return { enabled: false, reason: 'the plan affects no meter' };
  if (plan.rejected.length > 0 && !acceptRejected)
    return { enabled: false, reason: `${plan.rejected.length} line(s) rejected: tick "commission the valid lines only" to go on` };
  if (!confirmationMatches(plan.confirmation, typed)) return { enabled: false, reason: `type ${plan.confirmation} exactly to confirm` };
  return { enabled: true, reason: undefined };
}

/**
 * The Commands page: a command to every member asks for the typed group name (its plan's
 * confirmation), one to listed meters for the explicit tick beside their count.
 */
export function commandGate(plan: Pick<PlanView, 'operation' | 'confirmation' | 'rejected' | 'affected'>, typed: string, ticked: boolean): ExecuteGate {
  const gate = executeGate(plan, typed, false);
  if (gate.enabled && plan.confirmation === undefined && !ticked) return { enabled: false, reason: 'tick the box to confirm' };
  return gate;
}

/** What the operator types to suspect departed meters (suspectDeparted): their ids as listed, joined by single spaces, as for a leave. */
export function suspectConfirmation(meters: readonly number[]): string {
  return meters.join(' ');
}

/**
 * Suspecting departed meters sends nothing and cannot be undone until a re-seed: the operator first
 * sees what every later leave will cost with them (`preview`, made for exactly `meters`), then types
 * the ids.
 */
export function suspectGate(meters: readonly number[], problems: readonly string[], preview: { readonly meters: readonly number[]; readonly cost: LeaveCostView | undefined } | undefined, typed: string): ExecuteGate {
  if (meters.length === 0) return { enabled: false, reason: 'name at least one departed meter' };
  if (problems.length > 0) return { enabled: false, reason: 'fix the meter ids first' };
  if (preview === undefined || suspectConfirmation(preview.meters) !== suspectConfirmation(meters)) return { enabled: false, reason: 'show what a leave will cost first' };
  if (!confirmationMatches(suspectConfirmation(meters), typed)) return { enabled: false, reason: `type ${suspectConfirmation(meters)} exactly to confirm` };
  return { enabled: true, reason: undefined };
}
