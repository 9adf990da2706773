import { concatBytes } from './bytes.js';
import { checkKey, KEY_BYTES, type Random } from './crypto.js';
import { fail } from './errors.js';
import type { GroupState, SubgroupState } from './groupState.js';
import { memberStateSize } from './payloads.js';
import { type Commissioning, type Executed, type Outgoing, type Plan, type PlannedMessage, summarisePlan } from './plan.js';
import { checkU32, Flag, messageSize } from './wire.js';

/** Join of z into S (GREP.md §4): J1 for the members of S, J2 for everyone else, J3 to z under Kz. */

/** §3: the youngest subgroup while it has room, else a new one (existing subgroups are never reshuffled). */
function joinTarget(state: GroupState): { subgroup: SubgroupState | undefined; isNew: boolean } {
  const youngest = state.youngestSubgroup();
  if (youngest && youngest.members.length < state.subgroupCap) return { subgroup: youngest, isNew: false };
  return { subgroup: undefined, isNew: true };
}

export function planJoin(state: GroupState, member: number): Plan {
  checkU32(member, 'meter id');
  if (state.members.has(member)) fail('DUPLICATE_MEMBER', `meter ${member} is already a member`);
  const { subgroup, isNew } = joinTarget(state);
  const messages: PlannedMessage[] = [];
  const inSubgroup = subgroup?.members.length ?? 0;
  if (!isNew) messages.push({ type: 'J1', to: 'all', bytes: messageSize('J1', [48]), audience: inSubgroup });
  if (state.members.size > inSubgroup) {
    messages.push({ type: 'J2', to: 'all', bytes: messageSize('J2', [isNew ? 32 : 16]), audience: state.members.size - inSubgroup });
  }
  const olderSubgroups = state.subgroups.size - (isNew ? 0 : 1);
  messages.push({ type: 'J3', to: member, bytes: messageSize('J3', [memberStateSize(inSubgroup + olderSubgroups)]), audience: 1 });
  return summarisePlan('join', state.epoch, messages);
}

/** Backward secrecy: KG*, KS* are fresh random and z gets only never-used tokens. */
export function join(state: GroupState, joiner: Commissioning, random: Random): Executed {
  const plan = planJoin(state, joiner.id);
  checkKey(joiner.nodeKey, `node key of meter ${joiner.id}`);
  const { subgroup: existing, isNew } = joinTarget(state);
  const oldKg = state.kg;
  const kg = random(KEY_BYTES);
  const ks = random(KEY_BYTES);
  const beta = random(KEY_BYTES);
  const phi = random(KEY_BYTES);
  const subgroup = existing ?? state.openSubgroup(ks, random);
  const oldKs = subgroup.ks;
  const epoch = state.epoch + 1;
  const messages: Outgoing[] = [];
  if (!isNew) {
    messages.push(state.broadcast('J1', epoch, joiner.id, [{ slot: 0, owner: subgroup.id, key: oldKs, plaintext: concatBytes(ks, kg, phi) }]));
  }
  if (state.members.size > subgroup.members.length) {
    // every other member is in an older subgroup, so a new S hands them all its F_S
    const payload = isNew ? concatBytes(kg, state.subgroupToken(subgroup, 'forward')) : kg;
    messages.push(
      state.broadcast('J2', epoch, joiner.id, [{ slot: 0, owner: subgroup.id, key: oldKg, plaintext: payload }], isNew ? Flag.SUBGROUP_NEW : 0),
    );
  }
  state.admit(subgroup, joiner, beta, phi);
  subgroup.ks = ks;
  state.kg = kg;
  state.epoch = epoch;
  messages.push(state.unicastState('J3', joiner.id));
  return { plan, epoch, messages };
}
