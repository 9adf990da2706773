import { checkKey, KEY_BYTES, type Random } from './crypto.js';
import { fail } from './errors.js';
import type { GroupState, SubgroupState } from './groupState.js';
import { memberStateSize } from './payloads.js';
import { type Commissioning, type Executed, type Outgoing, type Plan, type PlannedMessage, summarisePlan } from './plan.js';
import { checkU32, messageSize } from './wire.js';

/** The operations of GREP.md §7 besides catch-up: periodic rekey, resync, re-seed. */

export function planPeriodicRekey(state: GroupState): Plan {
  if (state.members.size === 0) fail('EMPTY_SET', 'the group has no members to rekey');
  return summarisePlan('periodic', state.epoch, [{ type: 'PERIODIC', to: 'all', bytes: messageSize('PERIODIC', [16]), audience: state.members.size }]);
}

export function periodicRekey(state: GroupState, random: Random): Executed {
  const plan = planPeriodicRekey(state);
  const epoch = state.epoch + 1;
  const kg = random(KEY_BYTES);
  const message = state.broadcast('PERIODIC', epoch, 0, [{ slot: 0, owner: 0, key: state.kg, plaintext: kg }]);
  state.installGroupKey(epoch, kg);
  return { plan, epoch, messages: [message] };
}

export function planResync(state: GroupState, member: number): Plan {
  const place = state.members.get(member);
  if (!place) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
  const tokens = state.subgroups.get(place.subgroup)!.members.length - 1 + state.subgroups.size - 1;
  return summarisePlan('resync', state.epoch, [{ type: 'RESYNC', to: member, bytes: messageSize('RESYNC', [memberStateSize(tokens)]), audience: 1 }]);
}

/** Full state under Ku at the current epoch; no state changes, so it can be sent as often as needed. */
export function resync(state: GroupState, member: number): Executed {
  const plan = planResync(state, member);
  return { plan, epoch: state.epoch, messages: [state.unicastState('RESYNC', member)] };
}

/** Present members in subgroup and join order, then the newcomers; every newcomer checked first. */
function reseedRoster(state: GroupState, newcomers: readonly Commissioning[]): Commissioning[] {
  const roster: Commissioning[] = [...state.subgroups.values()].flatMap((s) => s.members.map((id) => state.members.get(id)!));
  const seen = new Set(roster.map((m) => m.id));
  for (const newcomer of newcomers) {
    checkU32(newcomer.id, 'meter id');
    checkKey(newcomer.nodeKey, `node key of meter ${newcomer.id}`);
    if (seen.has(newcomer.id)) fail('DUPLICATE_MEMBER', `meter ${newcomer.id} is named twice or already a member`);
    seen.add(newcomer.id);
  }
  if (roster.length + newcomers.length === 0) fail('EMPTY_SET', 'a group needs at least one member');
  return [...roster, ...newcomers];
}

export function planReseed(state: GroupState, newcomers: readonly Commissioning[]): Plan {
  const everyone = reseedRoster(state, newcomers);
  const cap = state.subgroupCap;
  const subgroups = Math.ceil(everyone.length / cap);
  const messages = everyone.map((member, index): PlannedMessage => {
    const inSubgroup = Math.min(cap, everyone.length - Math.floor(index / cap) * cap);
    const tokens = inSubgroup - 1 + subgroups - 1;
    return { type: 'RESYNC', to: member.id, bytes: messageSize('RESYNC', [memberStateSize(tokens)]), audience: 1 };
  });
  return summarisePlan('reseed', state.epoch, messages);
}

/**
 * Re-seed, also the full re-initialisation of §3 and the commissioning of a whole group: fresh KG, KS
 * and tokens for everyone, subgroups refilled to the cap in the current order, an empty suspicion
 * record. Each member then gets its state by unicast under its node key (reseedMessages).
 */
export function reseed(state: GroupState, newcomers: readonly Commissioning[], random: Random): Executed {
  const plan = planReseed(state, newcomers);
  const everyone = reseedRoster(state, newcomers);
  state.clear(random(KEY_BYTES));
  // One draw for all node tokens: 10^6 members would otherwise cost 2·10^6 calls into the generator.
  const pool = random(everyone.length * 2 * KEY_BYTES);
  let subgroup: SubgroupState | undefined;
  everyone.forEach((member, index) => {
    if (!subgroup || subgroup.members.length >= state.subgroupCap) subgroup = state.openSubgroup(random(KEY_BYTES), random);
    const at = index * 2 * KEY_BYTES;
    state.admit(subgroup, member, pool.subarray(at, at + KEY_BYTES), pool.subarray(at + KEY_BYTES, at + 2 * KEY_BYTES));
  });
  state.epoch += 1;
  return { plan, epoch: state.epoch, messages: [] };
}

/** RESYNC messages for a re-seed, one member at a time so 10^6 of them never sit in memory together. */
export function* reseedMessages(state: GroupState): Iterable<Outgoing> {
  for (const id of state.members.keys()) yield state.unicastState('RESYNC', id);
}
