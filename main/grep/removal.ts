import { fail } from './errors.js';

/**
 * The shape of remove(C) (GREP.md §6), computed from membership alone: who gets which message,
 * under which token or key. No key is drawn here, so the same shape serves the plan the operator
 * confirms and the execution that follows it.
 */

export interface SuspicionEntry {
  readonly member: number;
  readonly subgroup: number;
  readonly position: number;
}

export interface MembershipView {
  /** existing subgroups in creation order, members in join order with their join positions */
  subgroups(): Iterable<{ readonly id: number; readonly members: readonly number[]; readonly positions: readonly number[] }>;
  positionOf(member: number): { readonly subgroup: number; readonly position: number } | undefined;
  readonly memberCount: number;
  readonly suspicion: readonly SuspicionEntry[];
}

/** One side of an A (or M1) broadcast: the colluder whose token the audience holds, and the audience. */
export interface AnchoredSide {
  readonly anchor: number;
  readonly audience: readonly number[];
}

export interface ColludedSubgroup {
  readonly subgroup: number;
  readonly removed: readonly number[];
  /** false when every remaining member is removed: the subgroup is deleted and gets no message */
  readonly survives: boolean;
  /** P, reached with phi_o */
  readonly older: AnchoredSide | undefined;
  /** Q, reached with beta_y */
  readonly younger: AnchoredSide | undefined;
  /** M, one unicast each under the node key */
  readonly unicast: readonly number[];
}

/** A subgroup token and the subgroups whose members hold it (counted, not listed: this can be n members). */
export interface SubgroupAnchor {
  readonly subgroup: number;
  readonly audience: readonly number[];
  readonly audienceMembers: number;
}

export interface RemovalShape {
  readonly removed: readonly number[];
  /** true for §5's leave: one member, empty record; encoded as M1/M2 */
  readonly simpleLeave: boolean;
  readonly colluded: readonly ColludedSubgroup[];
  /** Sa, when its forward token reaches the older subgroups (C message, slot 0) */
  readonly olderAnchor: SubgroupAnchor | undefined;
  /** Sb, when its backward token reaches the younger subgroups (C message, slot 1) */
  readonly youngerAnchor: SubgroupAnchor | undefined;
  /** non-colluded subgroups reached by a D message under their own KS */
  readonly direct: readonly number[];
  readonly deletedSubgroups: readonly number[];
  /** record positions counted as colluders in this removal */
  readonly recordCounted: readonly SuspicionEntry[];
}

export function shapeRemoval(view: MembershipView, members: readonly number[]): RemovalShape {
  if (members.length === 0) fail('EMPTY_SET', 'remove() needs at least one member');
  const removed = [...new Set(members)];
  if (removed.length !== members.length) fail('BAD_ARGUMENT', 'a member is named twice');
  const colluderPositions = new Map<number, number[]>();
  const addPosition = (subgroup: number, position: number) => {
    const list = colluderPositions.get(subgroup) ?? [];
    list.push(position);
    colluderPositions.set(subgroup, list);
  };
  const removedSet = new Set(removed);
  for (const id of removed) {
    const place = view.positionOf(id);
    if (!place) fail('UNKNOWN_MEMBER', `meter ${id} is not a member of the group`);
    addPosition(place.subgroup, place.position);
  }
  for (const entry of view.suspicion) addPosition(entry.subgroup, entry.position);

  const existing = [...view.subgroups()];
  if (view.memberCount === removed.length) fail('GROUP_WOULD_BE_EMPTY', 'removing every member would leave no group; re-initialise instead');

  const colluded: ColludedSubgroup[] = [];
  const deletedSubgroups: number[] = [];
  for (const subgroup of existing) {
    const positions = colluderPositions.get(subgroup.id);
    if (!positions) continue;
    const oldest = Math.min(...positions);
    const youngest = Math.max(...positions);
    const placed = subgroup.members.map((id, index) => ({ id, position: subgroup.positions[index]!, removed: removedSet.has(id) }));
    const remaining = placed.filter((m) => !m.removed);
    const removedHere = placed.filter((m) => m.removed).map((m) => m.id);
    const oldestMember = placed.find((m) => m.position === oldest && m.removed)?.id;
    const youngestMember = placed.find((m) => m.position === youngest && m.removed)?.id;
    const older = remaining.filter((m) => m.position < oldest).map((m) => m.id);
    const younger = remaining.filter((m) => m.position > youngest).map((m) => m.id);
    // A departed anchor's token no longer exists (§6): its side joins M and is reached by unicast.
    const unicast = remaining
      .filter(
        (m) =>
          (m.position > oldest && m.position < youngest) ||
          (oldestMember === undefined && m.position < oldest) ||
          (youngestMember === undefined && m.position > youngest),
      )
      .map((m) => m.id);
    if (remaining.length === 0) deletedSubgroups.push(subgroup.id);
    colluded.push({
      subgroup: subgroup.id,
      removed: removedHere,
      survives: remaining.length > 0,
      older: oldestMember !== undefined && older.length > 0 ? { anchor: oldestMember, audience: older } : undefined,
      younger: youngestMember !== undefined && younger.length > 0 ? { anchor: youngestMember, audience: younger } : undefined,
      unicast,
    });
  }

  // Sa and Sb count deleted subgroups too: a record entry can sit in a subgroup that no longer exists.
  const colludedIds = [...colluderPositions.keys()];
  const sa = Math.min(...colludedIds);
  const sb = Math.max(...colludedIds);
  // one pass over the subgroups: at n = 10^6 there are a thousand, and this runs on every leave
  const older = { ids: [] as number[], members: 0 };
  const younger = { ids: [] as number[], members: 0 };
  const direct: number[] = [];
  let saExists = false;
  let sbExists = false;
  for (const subgroup of existing) {
    if (subgroup.id === sa) saExists = true;
    if (subgroup.id === sb) sbExists = true;
    const side = subgroup.id < sa ? older : subgroup.id > sb ? younger : undefined;
    if (side) {
      side.ids.push(subgroup.id);
      side.members += subgroup.members.length;
    } else if (!colluderPositions.has(subgroup.id)) direct.push(subgroup.id);
  }
  const anchor = (subgroup: number, side: typeof older): SubgroupAnchor => ({ subgroup, audience: side.ids, audienceMembers: side.members });
  let olderAnchor: RemovalShape['olderAnchor'];
  let youngerAnchor: RemovalShape['youngerAnchor'];
  if (older.ids.length > 0) {
    if (saExists) olderAnchor = anchor(sa, older);
    else direct.push(...older.ids);
  }
  if (younger.ids.length > 0) {
    if (sbExists) youngerAnchor = anchor(sb, younger);
    else direct.push(...younger.ids);
  }
  direct.sort((a, b) => a - b);

  return {
    removed,
    simpleLeave: removed.length === 1 && view.suspicion.length === 0,
    colluded,
    olderAnchor,
    youngerAnchor,
    direct,
    deletedSubgroups,
    recordCounted: [...view.suspicion],
  };
}
