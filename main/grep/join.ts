import { concatBytes } from './bytes.js';
import { checkKey, KEY_BYTES, type Random } from './crypto.js';
import { fail } from './errors.js';
import type { GroupState, SubgroupState } from './groupState.js';
import { memberStateSize } from './payloads.js';
import { type Commissioning, type Executed, type Outgoing, type Plan, type PlannedMessage, subgroupRanges, summarisePlan } from './plan.js';
import { checkU32, Flag, MAX_MESSAGE_BYTES, messageSize } from './wire.js';

/** Join of z into S (GREP.md §4): J1 for the members of S, J2 for everyone else, J3 to z under Kz. */

/** §3: a joiner enters the youngest subgroup while it has room (`youngest`: its member count, if there is one). */
const hasRoom = (youngest: number | undefined, cap: number) => youngest !== undefined && youngest < cap;

/** §3: the youngest subgroup while it has room, else a new one (existing subgroups are never reshuffled). */
function joinTarget(state: GroupState): { subgroup: SubgroupState | undefined; isNew: boolean } {
  const youngest = state.youngestSubgroup();
  if (hasRoom(youngest?.members.length, state.subgroupCap)) return { subgroup: youngest, isNew: false };
  return { subgroup: undefined, isNew: true };
}

/** All a join's sizes depend on: counts only, so a batch of joins is sized without running any of them. */
interface JoinShape {
  members: number;
  subgroups: number;
  /** members of the youngest subgroup; undefined when the group has no subgroup */
  youngest: number | undefined;
}

function shapeOf(state: GroupState): JoinShape {
  return { members: state.members.size, subgroups: state.subgroups.size, youngest: state.youngestSubgroup()?.members.length };
}

/** Adds the messages of `member`'s join to `messages`, then moves `shape` on to the group the join leaves. */
function sizeJoin(shape: JoinShape, cap: number, member: number, messages: PlannedMessage[]): void {
  const isNew = !hasRoom(shape.youngest, cap);
  const inSubgroup = isNew ? 0 : shape.youngest!;
  if (!isNew) messages.push({ type: 'J1', to: 'all', bytes: messageSize('J1', [48]), audience: inSubgroup });
  if (shape.members > inSubgroup) {
    messages.push({ type: 'J2', to: 'all', bytes: messageSize('J2', [isNew ? 32 : 16]), audience: shape.members - inSubgroup });
  }
  const olderSubgroups = shape.subgroups - (isNew ? 0 : 1);
  messages.push({ type: 'J3', to: member, bytes: messageSize('J3', [memberStateSize(inSubgroup + olderSubgroups)]), audience: 1 });
  shape.members++;
  shape.subgroups += isNew ? 1 : 0;
  shape.youngest = isNew ? 1 : inSubgroup + 1;
}

export function planJoin(state: GroupState, member: number): Plan {
  checkU32(member, 'meter id');
  if (state.members.has(member)) fail('DUPLICATE_MEMBER', `meter ${member} is already a member`);
  const messages: PlannedMessage[] = [];
  sizeJoin(shapeOf(state), state.subgroupCap, member, messages);
  return summarisePlan('join', state.epoch, messages);
}

/** Every id a valid meter id, none a member already, none named twice: checked before any joins. */
export function checkNewcomers(state: GroupState, members: readonly number[]): void {
  const named = new Set<number>();
  for (const member of members) {
    checkU32(member, 'meter id');
    if (state.members.has(member)) fail('DUPLICATE_MEMBER', `meter ${member} is already a member`);
    if (named.has(member)) fail('DUPLICATE_MEMBER', `meter ${member} is named twice`);
    named.add(member);
  }
}

/**
 * The plans of joining `members` one after the other, each sized on the group the earlier ones leave,
 * exactly as planJoin before each join would size it, without drawing a key or changing the state, in
 * time linear in the batch whatever the group's size. The members are checked and the state is read at
 * the call, so the caller may draw the plans later, a few at a time; one refusal refuses the batch, as
 * a join that no decoder could accept (its J3 over MAX_MESSAGE_BYTES) would stop running it part way.
 */
export function planJoins(state: GroupState, members: readonly number[]): IterableIterator<Plan> {
  checkNewcomers(state, members);
  const shape = shapeOf(state);
  const { subgroupCap, epoch } = state;
  return (function* () {
    for (const [index, member] of members.entries()) {
      const messages: PlannedMessage[] = [];
      sizeJoin(shape, subgroupCap, member, messages);
      const j3 = messages[messages.length - 1]!.bytes;
      if (j3 > MAX_MESSAGE_BYTES) fail('OVERSIZED', `the J3 of meter ${member} would be ${j3} bytes, over ${MAX_MESSAGE_BYTES}: the group has too many subgroups for this batch`);
      yield summarisePlan('join', epoch + index, messages);
    }
  })();
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
  const subgroup = existing ?? state.openSubgroup(ks, { backward: random(KEY_BYTES), forward: random(KEY_BYTES) });
  const oldKs = subgroup.ks;
  const epoch = state.epoch + 1;
  const messages: Outgoing[] = [];
  if (!isNew) {
    messages.push(state.broadcast('J1', epoch, joiner.id, [{ slot: 0, owner: subgroup.id, key: oldKs, plaintext: concatBytes(ks, kg, phi) }], subgroupRanges([[subgroup.id, subgroup.id]], [joiner.id])));
  }
  if (state.members.size > subgroup.members.length) {
    // every other member is in an older subgroup, so a new S hands them all its F_S
    const payload = isNew ? concatBytes(kg, state.subgroupToken(subgroup, 'forward')) : kg;
    messages.push(
      // the joiner's subgroup is the youngest: J2 is for every older one
      state.broadcast('J2', epoch, joiner.id, [{ slot: 0, owner: subgroup.id, key: oldKg, plaintext: payload }], subgroupRanges([[0, subgroup.id - 1]]), isNew ? Flag.SUBGROUP_NEW : 0),
    );
  }
  state.admit(subgroup, joiner, beta, phi);
  subgroup.ks = ks;
  state.kg = kg;
  state.epoch = epoch;
  messages.push(state.unicastState('J3', joiner.id));
  return { plan, epoch, messages };
}
