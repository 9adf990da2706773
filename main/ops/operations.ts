import type { CommandSelector, DisconnectorAction, KeyManager, Plan, Random } from '../grep/index.js';
import { concatBytes } from '../grep/index.js';
import { ServiceError } from './errors.js';
import { type BaselineRound, baselineRounds, type CommissionRow, type CostComparison, compareCosts, countByKind, type RejectedRow } from './planning.js';

/**
 * Turning an operator's request into a plan: the unsafe requests refused with the reason, the
 * messages and bytes GREP will send sized on the current group (on a scratch copy for a batch of
 * joins, whose later joins depend on the earlier ones), and what the service stores to run it later.
 */

export type Operation = 'commission' | 'leave' | 'recover' | 'periodic' | 'resync' | 'command';

export type OperationInput =
  | { readonly operation: 'commission'; readonly rows: readonly CommissionRow[]; readonly rejected: readonly RejectedRow[] }
  | { readonly operation: 'leave' | 'recover' | 'resync'; readonly meters: readonly number[] }
  | { readonly operation: 'periodic' };

/** The plan row's parameters (no secrets: node keys are sealed apart, in the plan's secrets column). */
export type StoredPlan =
  | { readonly operation: 'commission'; readonly affected: number[]; readonly meters: { id: number; serial: string; model: string }[]; readonly rejected: RejectedRow[] }
  | { readonly operation: 'command'; readonly affected: number[]; readonly action: DisconnectorAction; readonly selector: CommandSelector; readonly rejected: RejectedRow[] }
  | { readonly operation: Exclude<Operation, 'commission' | 'command'>; readonly affected: number[]; readonly rejected: RejectedRow[] };

/** What the operator confirms. */
export interface OperatorPlan {
  readonly id: string;
  readonly operation: Operation;
  /** the epoch it was made at; executing at another epoch is refused */
  readonly epoch: number;
  readonly affected: readonly number[];
  /** GREP messages by type, and the DC's KG copy as keyUpdate */
  readonly messages: Readonly<Record<string, number>>;
  readonly broadcasts: number;
  readonly unicasts: number;
  /** bytes on the DC's medium */
  readonly bytes: number;
  readonly costs: CostComparison;
  /** for removals: what the suspicion record (§6) adds to this plan; a re-seed would clear it */
  readonly recordAdds?: Plan['recordAdds'];
  /** CSV lines left out, by line number */
  readonly rejected: readonly RejectedRow[];
}

function checkMembers(km: KeyManager, meters: readonly number[], what: string): void {
  if (meters.length === 0) throw new ServiceError('EMPTY_SET', `${what} needs at least one meter`);
  const seen = new Set<number>();
  for (const meter of meters) {
    if (seen.has(meter)) throw new ServiceError('DUPLICATE_METER', `meter ${meter} is named twice`);
    seen.add(meter);
    if (!km.has(meter)) throw new ServiceError('UNKNOWN_METER', `meter ${meter} is not a member of the group`);
  }
}

export function planOperation(
  input: OperationInput,
  km: KeyManager,
  scratch: () => KeyManager,
  random: Random,
): { plan: Omit<OperatorPlan, 'id'>; stored: StoredPlan; secrets: Uint8Array | undefined } {
  let plans: Plan[];
  let rounds: BaselineRound[];
  let stored: StoredPlan;
  let secrets: Uint8Array | undefined;
  switch (input.operation) {
    case 'commission': {
      const named = new Set<number>();
      for (const row of input.rows) {
        if (km.has(row.id)) throw new ServiceError('DUPLICATE_METER', `meter ${row.id} (row ${row.line}) is already a member`);
        if (named.has(row.id)) throw new ServiceError('DUPLICATE_METER', `meter ${row.id} is named twice`);
        named.add(row.id);
      }
      const copy = scratch();
      plans = input.rows.map((row) => copy.join(row, random).plan);
      rounds = input.rows.map((_, index) => baselineRounds.join(km.size + index + 1));
      stored = { operation: 'commission', affected: input.rows.map((row) => row.id), meters: input.rows.map(({ id, serial, model }) => ({ id, serial, model })), rejected: [...input.rejected] };
      secrets = concatBytes(...input.rows.map((row) => row.nodeKey));
      break;
    }
    case 'leave':
    case 'recover': {
      checkMembers(km, input.meters, input.operation === 'recover' ? 'collusion recovery' : 'a leave');
      if (input.meters.length >= km.size) throw new ServiceError('WOULD_EMPTY_GROUP', `removing all ${km.size} members would leave no group; re-initialise instead`);
      plans = [km.planRemove(input.meters)];
      rounds = [baselineRounds.remove(km.size, input.meters.length)];
      stored = { operation: input.operation, affected: [...input.meters], rejected: [] };
      break;
    }
    case 'resync':
      checkMembers(km, input.meters, 'a resync');
      plans = input.meters.map((meter) => km.planResync(meter));
      rounds = input.meters.map(() => baselineRounds.resync(km.size));
      stored = { operation: 'resync', affected: [...input.meters], rejected: [] };
      break;
    case 'periodic':
      if (km.size === 0) throw new ServiceError('EMPTY_SET', 'a periodic rekey needs a group with members');
      plans = [km.planPeriodicRekey()];
      rounds = [baselineRounds.periodic(km.size)];
      stored = { operation: 'periodic', affected: [], rejected: [] };
      break;
  }
  const costs = compareCosts(plans, rounds);
  return {
    plan: {
      operation: input.operation,
      epoch: km.epoch,
      affected: stored.affected,
      messages: countByKind(plans),
      ...costs.grep,
      costs,
      ...(plans[0]?.recordAdds ? { recordAdds: plans[0].recordAdds } : {}),
      rejected: stored.rejected,
    },
    stored,
    secrets,
  };
}
