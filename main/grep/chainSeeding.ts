import { drawChains } from './chain.js';
import { KEY_BYTES, type Random } from './crypto.js';
import type { GroupState, SubgroupState } from './groupState.js';
import { encodeSeed, seedSize } from './payloads.js';
import { type Commissioning, oneMember, type Outgoing, type PlannedMessage } from './plan.js';
import { messageSize, ROSTER_PART_MEMBERS, type RosterPart } from './wire.js';

/*
 * The Key Manager's side of seeding subgroups by hash chains (GREP.md §7 compact re-seed, §4 batch
 * join): open new subgroups with chained tokens, and build each member's constant-size SEED and the
 * roster parts that tell it who stands where. The same code serves a re-seed (every subgroup is new)
 * and a large batch join (only the joiners' subgroups are).
 */

/** Subgroups with consecutive ids opened together, oldest first, and the ids they span. */
export interface SeededRange {
  readonly subgroups: readonly SubgroupState[];
  readonly first: number;
  readonly last: number;
}

/** Splits members in order into subgroups of `cap` (the last one takes the rest). */
export function fillSubgroups<T>(members: readonly T[], cap: number): T[][] {
  const groups: T[][] = [];
  for (let at = 0; at < members.length; at += cap) groups.push(members.slice(at, at + cap));
  return groups;
}

/**
 * Opens one subgroup per list, in order, at `epoch`: a fresh KS each, node tokens drawn as the two
 * chains over the members in join order, subgroup tokens as the two chains over these subgroups only.
 */
export function seedSubgroups(state: GroupState, groups: readonly (readonly Commissioning[])[], epoch: number, random: Random): SeededRange {
  const first = state.nextSubgroupId;
  const ids = groups.map((_, index) => first + index);
  const subgroupTokens = drawChains(state.crypto, 'subgroup', epoch, ids, { backward: random(KEY_BYTES), forward: random(KEY_BYTES) });
  const subgroups = groups.map((members, index) => {
    const subgroup = state.openSubgroup(random(KEY_BYTES), { backward: subgroupTokens.backward[index]!, forward: subgroupTokens.forward[index]! });
    const nodeTokens = drawChains(state.crypto, 'node', epoch, members.map((member) => member.id), { backward: random(KEY_BYTES), forward: random(KEY_BYTES) });
    members.forEach((member, at) => state.admit(subgroup, member, nodeTokens.backward[at]!, nodeTokens.forward[at]!));
    return subgroup;
  });
  return { subgroups, first, last: first + groups.length - 1 };
}

/** How many of the four chain starts a member at position u of s, in subgroup t of the range, receives. */
function chainStarts(u: number, s: number, t: number, count: number): number {
  return Number(u > 1) + Number(u < s) + Number(t > 0) + Number(t < count - 1);
}

/** The SEEDs' sizes for members laid out as `sizes` (members per subgroup, in order). */
export function plannedSeeds(ids: readonly number[], sizes: readonly number[], withBatchKey: boolean): PlannedMessage[] {
  const messages: PlannedMessage[] = [];
  let at = 0;
  sizes.forEach((s, t) => {
    for (let u = 1; u <= s; u++) {
      const present = chainStarts(u, s, t, sizes.length) + Number(withBatchKey);
      messages.push({ type: 'SEED', to: ids[at++]!, bytes: messageSize('SEED', [seedSize(present)]), audience: 1 });
    }
  });
  return messages;
}

/** Roster parts of whole subgroups, each within ROSTER_PART_MEMBERS members (one part holds at least one subgroup). */
export function rosterParts(subgroups: readonly (readonly number[])[], first: number): { first: number; part: RosterPart }[] {
  const parts: { first: number; part: RosterPart }[] = [];
  let current: (readonly number[])[] = [];
  let members = 0;
  let partFirst = first;
  const close = () => {
    if (current.length > 0) parts.push({ first: partFirst, part: { rangeFirst: first, rangeCount: subgroups.length, subgroups: current } });
    partFirst += current.length;
    current = [];
    members = 0;
  };
  for (const subgroup of subgroups) {
    if (current.length > 0 && members + subgroup.length > ROSTER_PART_MEMBERS) close();
    current.push(subgroup);
    members += subgroup.length;
  }
  close();
  return parts;
}

export function plannedRoster(subgroups: readonly (readonly number[])[], first: number, audience: number): PlannedMessage[] {
  return rosterParts(subgroups, first).map(({ part }) => ({ type: 'ROSTER', to: 'all', bytes: messageSize('ROSTER', [], undefined, part.subgroups), audience }));
}

/** The member's SEED under its Ku: KG, its KS, and the first token of each chain on its side. */
export function seedMessage(state: GroupState, range: SeededRange, member: number, epoch: number, kb?: Uint8Array): Outgoing {
  const place = state.members.get(member)!;
  const subgroup = state.subgroups.get(place.subgroup)!;
  const u = subgroup.members.indexOf(member);
  const t = place.subgroup - range.first;
  const neighbour = (offset: number) => state.subgroups.get(place.subgroup + offset)!;
  const plaintext = encodeSeed({
    kg: state.kg,
    ks: subgroup.ks,
    subgroup: subgroup.id,
    kb,
    nodeBackward: u > 0 ? state.nodeToken(subgroup, subgroup.members[u - 1]!, 'backward') : undefined,
    nodeForward: u < subgroup.members.length - 1 ? state.nodeToken(subgroup, subgroup.members[u + 1]!, 'forward') : undefined,
    subgroupBackward: t > 0 ? state.subgroupToken(neighbour(-1), 'backward') : undefined,
    subgroupForward: place.subgroup < range.last ? state.subgroupToken(neighbour(1), 'forward') : undefined,
  });
  return { type: 'SEED', to: member, epoch, audience: oneMember(member), bytes: state.encode('SEED', epoch, member, [{ slot: 0, owner: 0, key: place.nodeKey, plaintext }]) };
}
