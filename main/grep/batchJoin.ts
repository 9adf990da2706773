import { concatBytes } from './bytes.js';
import { fillSubgroups, plannedSeeds, seedMessage, seedSubgroups } from './chainSeeding.js';
import { checkKey, KEY_BYTES, type Random } from './crypto.js';
import { fail } from './errors.js';
import type { GroupState } from './groupState.js';
import { checkNewcomers, join, planJoins } from './join.js';
import { bundleSize, encodeBundle } from './payloads.js';
import { type Commissioning, type Executed, type Outgoing, type Plan, type PlannedMessage, subgroupRanges, summarisePlan } from './plan.js';
import { Flag, messageSize, ROSTER_PART_MEMBERS } from './wire.js';

/*
 * Batch join (GREP.md §4): k meters commissioned into a running group in one operation. A large batch
 * goes whole into new subgroups N_1..N_q seeded by hash chains: existing members get KG* and F_{N_1}
 * in one J2 and hash up to the other F_N; the joiners get the existing subgroups' B_T in one BUNDLE
 * under a fresh batch key KB (never under KG*, which every existing member and the DC hold), and each
 * its constant-size SEED. A batch smaller than half a subgroup is not worth new subgroups: its meters
 * join one after the other (README, protocol deviation 9).
 */

/** Below this many joiners (half a subgroup) a batch is a run of ordinary joins. */
export const batchThreshold = (cap: number) => Math.max(1, Math.ceil(cap / 2));

function checkJoiners(state: GroupState, joiners: readonly number[]): void {
  if (joiners.length === 0) fail('EMPTY_SET', 'a batch join needs at least one meter');
  checkNewcomers(state, joiners);
}

function checkLargeBatch(state: GroupState, joiners: readonly number[]): void {
  checkJoiners(state, joiners);
  if (joiners.length > ROSTER_PART_MEMBERS) fail('OVERSIZED', `a batch of ${joiners.length} meters does not fit one BUNDLE (at most ${ROSTER_PART_MEMBERS}): re-seed instead`);
}

/** The plans a batch join runs: one per join for a small batch, else one operation. */
export function planBatchJoin(state: GroupState, joiners: readonly number[]): Plan[] {
  if (joiners.length < batchThreshold(state.subgroupCap)) return [...planJoins(state, joiners)];
  checkLargeBatch(state, joiners);
  const groups = fillSubgroups(joiners, state.subgroupCap);
  const messages: PlannedMessage[] = [];
  if (state.members.size > 0) messages.push({ type: 'J2', to: 'all', bytes: messageSize('J2', [2 * KEY_BYTES]), audience: state.members.size });
  messages.push({ type: 'BUNDLE', to: 'all', bytes: messageSize('BUNDLE', [bundleSize(state.subgroups.size)], undefined, groups), audience: joiners.length });
  messages.push(...plannedSeeds(joiners, groups.map((group) => group.length), true));
  return [summarisePlan('join', state.epoch, messages)];
}

export function batchJoin(state: GroupState, joiners: readonly Commissioning[], random: Random): Executed[] {
  const ids = joiners.map((joiner) => joiner.id);
  if (ids.length < batchThreshold(state.subgroupCap)) {
    // every joiner checked before the first joins: a refused batch changes nothing
    checkJoiners(state, ids);
    for (const joiner of joiners) checkKey(joiner.nodeKey, `node key of meter ${joiner.id}`);
    return joiners.map((joiner) => join(state, joiner, random));
  }
  const [plan] = planBatchJoin(state, ids);
  for (const joiner of joiners) checkKey(joiner.nodeKey, `node key of meter ${joiner.id}`);
  const epoch = state.epoch + 1;
  const oldKg = state.kg;
  const existing = [...state.subgroups.values()].map((subgroup) => ({ owner: subgroup.id, value: state.subgroupToken(subgroup, 'backward') }));
  const hadMembers = state.members.size > 0;
  const kg = random(KEY_BYTES);
  const kb = random(KEY_BYTES);
  const groups = fillSubgroups(joiners, state.subgroupCap);
  const range = seedSubgroups(state, groups, epoch, random);
  const messages: Outgoing[] = [];
  if (hadMembers) {
    const forward = state.subgroupToken(range.subgroups[0]!, 'forward');
    const flags = Flag.SUBGROUP_NEW | Flag.SUBGROUP_CHAIN;
    messages.push(state.broadcast('J2', epoch, range.last, [{ slot: 0, owner: range.first, key: oldKg, plaintext: concatBytes(kg, forward) }], subgroupRanges([[0, range.first - 1]]), flags));
  }
  const roster = { rangeFirst: range.first, rangeCount: groups.length, subgroups: range.subgroups.map((subgroup) => [...subgroup.members]) };
  messages.push(state.broadcast('BUNDLE', epoch, range.first, [{ slot: 0, owner: 0, key: kb, plaintext: encodeBundle(existing) }], subgroupRanges([[range.first, 'last']]), 0, undefined, roster));
  state.kg = kg;
  state.epoch = epoch;
  for (const id of ids) messages.push(seedMessage(state, range, id, epoch, kb));
  return [{ plan: plan!, epoch, messages }];
}
