import { fillSubgroups, plannedRoster, plannedSeeds, rosterParts, seedMessage, seedSubgroups } from './chainSeeding.js';
import { checkKey, KEY_BYTES, type Random } from './crypto.js';
import { fail } from './errors.js';
import type { GroupState } from './groupState.js';
import { memberStateSize } from './payloads.js';
import { type Commissioning, everyMember, type Executed, type Outgoing, type Plan, subgroupRanges, summarisePlan } from './plan.js';
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
  const message = state.broadcast('PERIODIC', epoch, 0, [{ slot: 0, owner: 0, key: state.kg, plaintext: kg }], everyMember);
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
  const groups = fillSubgroups(everyone.map((member) => member.id), state.subgroupCap);
  const messages = [
    ...plannedRoster(groups, state.nextSubgroupId, everyone.length),
    ...plannedSeeds(everyone.map((member) => member.id), groups.map((group) => group.length), false),
  ];
  return summarisePlan('reseed', state.epoch, messages);
}

/**
 * Re-seed, also the full re-initialisation of §3 and the commissioning of a whole group: fresh KG, KS
 * and tokens for everyone, subgroups refilled to the cap in the current order, an empty suspicion
 * record. Tokens are drawn as hash chains (§7 compact form), so each member then needs only the roster
 * and its own constant-size SEED (reseedMessages).
 */
export function reseed(state: GroupState, newcomers: readonly Commissioning[], random: Random): Executed {
  const plan = planReseed(state, newcomers);
  const everyone = reseedRoster(state, newcomers);
  state.clear(random(KEY_BYTES));
  const epoch = state.epoch + 1;
  seedSubgroups(state, fillSubgroups(everyone, state.subgroupCap), epoch, random);
  state.epoch = epoch;
  return { plan, epoch, messages: [] };
}

/**
 * The re-seed's messages: the roster parts, then one SEED per member, built one at a time so 10^6 of
 * them never sit in memory together. Call right after reseed(), before any other operation.
 */
export function* reseedMessages(state: GroupState): Iterable<Outgoing> {
  const subgroups = [...state.subgroups.values()];
  if (subgroups.length === 0) return;
  const range = { subgroups, first: subgroups[0]!.id, last: subgroups.at(-1)!.id };
  for (const { first, part } of rosterParts(subgroups.map((subgroup) => subgroup.members), range.first)) {
    yield state.broadcast('ROSTER', state.epoch, first, [], subgroupRanges([[first, first + part.subgroups.length - 1]]), 0, undefined, part);
  }
  for (const subgroup of subgroups) {
    for (const member of subgroup.members) yield seedMessage(state, range, member, state.epoch);
  }
}
