import { concatBytes } from './bytes.js';
import { KEY_BYTES, type Random } from './crypto.js';
import type { GroupState } from './groupState.js';
import { type Executed, oneMember, type Outgoing, type Plan, type PlannedMessage, subgroupRanges, summarisePlan } from './plan.js';
import { fail } from './errors.js';
import { type RemovalShape, shapeRemoval, type SuspicionEntry } from './removal.js';
import { checkU32, Flag, type ItemToSeal, type MessageType, messageSize, type Notice } from './wire.js';

/**
 * remove(C) carried out (GREP.md §5, §6): one routine for leave, multiple leave and collusion recovery.
 * removal.ts decides who gets which message from membership alone; here the plan is sized from that
 * shape, and execution seals the messages under the current tokens and then changes the state.
 */

/**
 * Departed meters the operator now suspects (§6), as record entries: each must have left by a plain
 * leave (its place is kept) and not be in the record already.
 */
export function departedSuspects(state: GroupState, departed: readonly number[]): SuspicionEntry[] {
  if (new Set(departed).size !== departed.length) fail('BAD_ARGUMENT', 'a departed meter is named twice');
  return departed.map((member) => {
    checkU32(member, 'meter id');
    if (state.members.has(member)) fail('BAD_ARGUMENT', `meter ${member} is a member: name it among the meters to remove`);
    if (state.suspicion.some((entry) => entry.member === member)) fail('BAD_ARGUMENT', `meter ${member} is already in the suspicion record`);
    const place = state.departed.get(member);
    if (!place) fail('UNKNOWN_MEMBER', `meter ${member} never left this group by a leave since the last re-seed: there is no place of it to suspect`);
    return place;
  });
}

/** Adds departed meters to the suspicion record, with no message (§6): they count from the next remove() on. */
export function suspect(state: GroupState, departed: readonly number[]): SuspicionEntry[] {
  const entries = departedSuspects(state, departed);
  for (const entry of entries) {
    state.suspicion.push(entry);
    state.departed.delete(entry.member);
  }
  return entries;
}

function shape(state: GroupState, members: readonly number[], record: readonly SuspicionEntry[]): RemovalShape {
  for (const member of members) checkU32(member, 'meter id');
  return shapeRemoval(state.view(record), members);
}

/** An M1/A or M2/C broadcast: one item per side, each opened by that side's audience. */
function plannedSides(type: MessageType, payload: number, audiences: readonly number[], notice: Notice): PlannedMessage {
  return { type, to: 'all', bytes: messageSize(type, audiences.map(() => payload), notice), audience: audiences.reduce((sum, n) => sum + n, 0) };
}

function plannedMessages(state: GroupState, shape: RemovalShape): PlannedMessage[] {
  const messages: PlannedMessage[] = [];
  const notice = (removed: readonly number[]): Notice => ({ removedMembers: removed, deletedSubgroups: shape.deletedSubgroups });
  for (const s of shape.colluded) {
    if (!s.survives) continue;
    const sides = [s.older, s.younger].filter((side) => side !== undefined).map((side) => side.audience.length);
    if (sides.length > 0) messages.push(plannedSides(shape.simpleLeave ? 'M1' : 'A', 32, sides, notice(s.removed)));
    for (const member of s.unicast) messages.push({ type: 'B', to: member, bytes: messageSize('B', [32], notice(s.removed)), audience: 1 });
  }
  const anchors = [shape.olderAnchor, shape.youngerAnchor].filter((a) => a !== undefined).map((a) => a.audienceMembers);
  if (anchors.length > 0) messages.push(plannedSides(shape.simpleLeave ? 'M2' : 'C', 16, anchors, notice([])));
  for (const id of shape.direct) {
    messages.push({ type: 'D', to: 'all', bytes: messageSize('D', [16], notice([])), audience: state.subgroups.get(id)!.members.length });
  }
  return messages;
}

/** The plan, and what the suspicion record adds to it: the UI shows that before the operator confirms (§6). */
function removalPlan(state: GroupState, members: readonly number[], shape: RemovalShape): Plan {
  const plan = summarisePlan(shape.simpleLeave ? 'leave' : 'recover', state.epoch, plannedMessages(state, shape));
  if (shape.recordCounted.length === 0) return plan;
  const without = summarisePlan('leave', state.epoch, plannedMessages(state, shapeRemoval(state.view([]), members)));
  return {
    ...plan,
    recordAdds: {
      broadcasts: plan.broadcasts - without.broadcasts,
      unicasts: plan.unicasts - without.unicasts,
      bytes: plan.bytes - without.bytes,
      entries: shape.recordCounted.length,
    },
  };
}

/** `departed`: meters that left by a plain leave and are suspected now; they join the record with this removal. */
export function planRemove(state: GroupState, members: readonly number[], departed: readonly number[] = []): Plan {
  return removalPlan(state, members, shape(state, members, [...state.suspicion, ...departedSuspects(state, departed)]));
}

/** `suspected` puts the removed members in the suspicion record (compromise, or flagged lost/stolen). */
export function remove(state: GroupState, members: readonly number[], suspected: boolean, random: Random, departed: readonly number[] = []): Executed {
  const newSuspects = departedSuspects(state, departed);
  const removal = shape(state, members, [...state.suspicion, ...newSuspects]);
  const plan = removalPlan(state, members, removal);
  const epoch = state.epoch + 1;
  const kg = random(KEY_BYTES);
  const newKs = new Map(removal.colluded.filter((s) => s.survives).map((s) => [s.subgroup, random(KEY_BYTES)] as const));
  const messages: Outgoing[] = [];
  const flags = (deleted: boolean) => (deleted ? Flag.SUBGROUP_DELETED : 0);

  for (const s of removal.colluded) {
    const ks = newKs.get(s.subgroup);
    if (!ks) continue;
    const subgroup = state.subgroups.get(s.subgroup)!;
    const payload = concatBytes(ks, kg);
    const items: ItemToSeal[] = [];
    if (s.older) items.push({ slot: 0, owner: s.older.anchor, key: state.nodeToken(subgroup, s.older.anchor, 'forward'), plaintext: payload });
    if (s.younger) items.push({ slot: 1, owner: s.younger.anchor, key: state.nodeToken(subgroup, s.younger.anchor, 'backward'), plaintext: payload });
    const notice: Notice = { removedMembers: s.removed, deletedSubgroups: removal.deletedSubgroups };
    if (items.length > 0) {
      // M of §6 gets its own B: A's tokens are not for it
      const audience = subgroupRanges([[s.subgroup, s.subgroup]], s.unicast);
      messages.push(removal.simpleLeave ? state.broadcast('M1', epoch, s.removed[0]!, items, audience) : state.broadcast('A', epoch, s.subgroup, items, audience, 0, notice));
    }
    for (const member of s.unicast) {
      const item: ItemToSeal = { slot: 0, owner: member, key: state.members.get(member)!.nodeKey, plaintext: payload };
      messages.push({ type: 'B', to: member, epoch, audience: oneMember(member), bytes: state.encode('B', epoch, member, [item], 0, notice) });
    }
  }
  const anchorItems: ItemToSeal[] = [];
  if (removal.olderAnchor) {
    const sa = state.subgroups.get(removal.olderAnchor.subgroup)!;
    anchorItems.push({ slot: 0, owner: sa.id, key: state.subgroupToken(sa, 'forward'), plaintext: kg });
  }
  if (removal.youngerAnchor) {
    const sb = state.subgroups.get(removal.youngerAnchor.subgroup)!;
    anchorItems.push({ slot: 1, owner: sb.id, key: state.subgroupToken(sb, 'backward'), plaintext: kg });
  }
  const notice: Notice = { removedMembers: [], deletedSubgroups: removal.deletedSubgroups };
  if (anchorItems.length > 0) {
    if (removal.simpleLeave) {
      const subgroup = removal.colluded[0]!.subgroup;
      const others = subgroupRanges([[0, subgroup - 1], [subgroup + 1, 'last']]);
      messages.push(state.broadcast('M2', epoch, subgroup, anchorItems, others, flags(removal.deletedSubgroups.includes(subgroup))));
    } else {
      // the subgroups older than Sa (slot 0) and younger than Sb (slot 1)
      const older = removal.olderAnchor ? [[0, removal.olderAnchor.subgroup - 1] as const] : [];
      const younger = removal.youngerAnchor ? [[removal.youngerAnchor.subgroup + 1, 'last'] as const] : [];
      messages.push(state.broadcast('C', epoch, 0, anchorItems, subgroupRanges([...older, ...younger]), 0, notice));
    }
  }
  for (const id of removal.direct) {
    const target = state.subgroups.get(id)!;
    messages.push(state.broadcast('D', epoch, id, [{ slot: 0, owner: id, key: target.ks, plaintext: kg }], subgroupRanges([[id, id]]), 0, notice));
  }

  // State change, after every message is built from the old tokens (§6 "Then").
  for (const member of removal.removed) {
    const departing = state.members.get(member)!;
    const subgroup = state.subgroups.get(departing.subgroup)!;
    const index = subgroup.members.indexOf(member);
    subgroup.members.splice(index, 1);
    subgroup.positions.splice(index, 1);
    state.members.delete(member);
    const place = { member, subgroup: departing.subgroup, position: departing.position };
    if (suspected) state.suspicion.push(place);
    else state.departed.set(member, place);
  }
  for (const entry of newSuspects) {
    state.suspicion.push(entry);
    state.departed.delete(entry.member);
  }
  for (const id of removal.deletedSubgroups) state.subgroups.delete(id);
  for (const [id, ks] of newKs) {
    const subgroup = state.subgroups.get(id)!;
    subgroup.ks = ks;
    subgroup.nodeFamily.record(epoch, ks);
  }
  state.installGroupKey(epoch, kg);
  return { plan, epoch, messages };
}
