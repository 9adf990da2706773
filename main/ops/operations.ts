import type { CommandSelector, DisconnectorAction, KeyManager, Plan } from '../grep/index.js';
import { GrepError, KEY_BYTES } from '../grep/index.js';
import { ServiceError } from './errors.js';
import { type BaselineRound, baselineRounds, type CommissionRow, type CostComparison, compareCosts, countByKind, type RejectedRow } from './planning.js';
import { inSlices } from './slices.js';

/**
 * Turning an operator's request into a plan: the unsafe requests refused with the reason, the
 * messages and bytes GREP will send sized on the current group (a batch of joins by counts alone, each
 * join on the group the earlier ones leave), and what the service stores to run it later.
 */

export type Operation = 'commission' | 'leave' | 'recover' | 'periodic' | 'resync' | 'reseed' | 'command';

export type OperationInput =
  | { readonly operation: 'commission'; readonly rows: readonly CommissionRow[]; readonly rejected: readonly RejectedRow[] }
  | { readonly operation: 'leave' | 'resync'; readonly meters: readonly number[] }
  /** `departed`: meters that left by a plain leave and are suspected now (GREP.md §6) */
  | { readonly operation: 'recover'; readonly meters: readonly number[]; readonly departed: readonly number[] }
  | { readonly operation: 'periodic' | 'reseed' };

/** The plan row's parameters (no secrets: node keys are sealed apart, in the plan's secrets column). */
export type StoredPlan =
  | { readonly operation: 'commission'; readonly affected: number[]; readonly meters: { id: number; serial: string; model: string }[]; readonly method: CommissionMethod; readonly rejected: RejectedRow[] }
  | { readonly operation: 'command'; readonly affected: number[]; readonly action: DisconnectorAction; readonly selector: CommandSelector; readonly rejected: RejectedRow[] }
  | { readonly operation: 'recover'; readonly affected: number[]; readonly departed?: number[]; readonly rejected: RejectedRow[] }
  | { readonly operation: Exclude<Operation, 'commission' | 'command' | 'recover'>; readonly affected: number[]; readonly rejected: RejectedRow[] };

/**
 * How a list of meters is commissioned (GREP.md §4, §7): one join each, one batch join into new
 * chained subgroups, or a compact re-seed of the whole group with the newcomers in it. The plan sizes
 * every one that applies and runs the cheapest in bytes.
 */
export type CommissionMethod = 'joins' | 'batch' | 'reseed';

export interface CommissionOption {
  readonly method: CommissionMethod;
  readonly broadcasts: number;
  readonly unicasts: number;
  readonly bytes: number;
}

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
  /** for a recovery: departed meters suspected with it (they join the record, no message reaches them) */
  readonly departed?: readonly number[];
  /** CSV lines left out, by line number */
  readonly rejected: readonly RejectedRow[];
  /** commissioning: the method chosen, and every method sized, cheapest first */
  readonly commissioning?: { readonly method: CommissionMethod; readonly options: readonly CommissionOption[] };
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

/** What the service saves and shows: the operator's plan, the plan row's parameters and its sealed secrets. */
export interface Planned {
  readonly plan: Omit<OperatorPlan, 'id'>;
  readonly stored: StoredPlan;
  readonly secrets: Uint8Array | undefined;
}

function planned(epoch: number, plans: readonly Plan[], rounds: readonly BaselineRound[], stored: StoredPlan, secrets?: Uint8Array): Planned {
  const costs = compareCosts(plans, rounds);
  return {
    plan: {
      operation: stored.operation,
      epoch,
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

/**
 * Commissioning a list of meters: sized as one join per meter (each on the group the earlier ones
 * leave, KeyManager.planJoins), as one batch join, and as a compact re-seed with the newcomers in it;
 * the cheapest in bytes is the plan. Joins are drawn a slice at a time so that 10^5 of them never hold
 * up the event loop. The group is read once, at the call: if it moves on meanwhile, the plan is stale
 * and its execution refused (STALE_PLAN), as for any plan.
 */
export async function planCommission(request: Extract<OperationInput, { operation: 'commission' }>, km: KeyManager): Promise<Planned> {
  // a line naming a meter that is already a member (or one named earlier) is a bad line like any
  // other: listed with the others, left out unless the operator opts in
  const firstLine = new Map<number, number>();
  const rows: CommissionRow[] = [];
  const rejected: RejectedRow[] = [...request.rejected];
  await inSlices(request.rows, (row) => {
    const earlier = firstLine.get(row.id);
    if (km.has(row.id)) rejected.push({ line: row.line, reason: `meter ${row.id} is already a member of the group` });
    else if (earlier !== undefined) rejected.push({ line: row.line, reason: `meter ${row.id} is already on line ${earlier}` });
    else {
      firstLine.set(row.id, row.line);
      rows.push(row);
    }
  });
  rejected.sort((a, b) => a.line - b.line);
  if (rows.length === 0) throw new ServiceError('DUPLICATE_METER', `no meter to commission: ${rejected.slice(0, 5).map((row) => `line ${row.line}: ${row.reason}`).join('; ')}${rejected.length > 5 ? ` and ${rejected.length - 5} more` : ''}`);
  const input = { ...request, rows, rejected };
  const { epoch, size } = km;
  const affected = input.rows.map((row) => row.id);
  const rounds: BaselineRound[] = [];
  const meters: { id: number; serial: string; model: string }[] = [];
  // one buffer filled in place: every key spread as concatBytes' arguments runs out of call stack on a large batch
  const secrets = new Uint8Array(input.rows.length * KEY_BYTES);
  await inSlices(input.rows, ({ id, serial, model, nodeKey }, index) => {
    rounds.push(baselineRounds.join(size + index + 1));
    meters.push({ id, serial, model });
    secrets.set(nodeKey, index * KEY_BYTES);
  });
  const sized: { method: CommissionMethod; plans: Plan[] }[] = [];
  // a method the group's shape rules out (a J3 or BUNDLE over its size limit) is simply not offered
  const offer = async (method: CommissionMethod, plan: () => Iterable<Plan> | Promise<Plan[]>) => {
    try {
      const plans: Plan[] = [];
      const planned = await plan();
      await inSlices(planned, (one) => plans.push(one));
      sized.push({ method, plans });
    } catch (error) {
      if (!(error instanceof GrepError)) throw error;
    }
  };
  await offer('joins', () => km.planJoins(affected));
  await offer('batch', () => {
    const batch = km.planBatchJoin(affected);
    // a batch below half a subgroup is the joins again
    return batch.length === 1 && batch[0]!.messages.some((message) => message.type === 'BUNDLE') ? batch : [];
  });
  await offer('reseed', () => [km.planReseed(input.rows)]);
  const options = sized.filter((option) => option.plans.length > 0).map(({ method, plans }) => ({ method, plans, ...compareCosts(plans, rounds).grep })).sort((a, b) => a.bytes - b.bytes);
  const chosen = options[0];
  if (!chosen) throw new ServiceError('TOO_LARGE', `no way to commission ${affected.length} meters into this group fits the message size limits: split the list`);
  const result = planned(epoch, chosen.plans, rounds, { operation: 'commission', affected, meters, method: chosen.method, rejected }, secrets);
  const commissioning = { method: chosen.method, options: options.map(({ method, broadcasts, unicasts, bytes }) => ({ method, broadcasts, unicasts, bytes })) };
  return { ...result, plan: { ...result.plan, commissioning } };
}

/** Removals, resyncs and periodic rekeys, sized on the current group. */
export function planOperation(input: Exclude<OperationInput, { operation: 'commission' }>, km: KeyManager): Planned {
  let plans: Plan[];
  let rounds: BaselineRound[];
  let stored: StoredPlan;
  switch (input.operation) {
    case 'leave':
    case 'recover': {
      const departed = input.operation === 'recover' ? input.departed : [];
      checkMembers(km, input.meters, input.operation === 'recover' ? 'collusion recovery' : 'a leave');
      if (input.meters.length >= km.size) throw new ServiceError('WOULD_EMPTY_GROUP', `removing all ${km.size} members would leave no group; re-initialise instead`);
      plans = [km.planRemove(input.meters, departed)];
      rounds = [baselineRounds.remove(km.size, input.meters.length)];
      stored = input.operation === 'recover' && departed.length > 0
        ? { operation: 'recover', affected: [...input.meters], departed: [...departed], rejected: [] }
        : { operation: input.operation, affected: [...input.meters], rejected: [] };
      break;
    }
    case 'reseed':
      if (km.size === 0) throw new ServiceError('EMPTY_SET', 'a re-seed needs a group with members');
      plans = [km.planReseed([])];
      rounds = [baselineRounds.reseed(km.size)];
      stored = { operation: 'reseed', affected: [], rejected: [] };
      break;
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
  const result = planned(km.epoch, plans, rounds, stored);
  return stored.operation === 'recover' && stored.departed ? { ...result, plan: { ...result.plan, departed: stored.departed } } : result;
}
