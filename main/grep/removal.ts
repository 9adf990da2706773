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
  const existingIds = new Set(existing.map((s) => s.id));
  const anchor = (subgroup: number, side: typeof existing): SubgroupAnchor => ({
    subgroup,
    audience: side.map((s) => s.id),
    audienceMembers: side.reduce((sum, s) => sum + s.members.length, 0),
  });
  const olderSide = existing.filter((s) => s.id < sa);
  const youngerSide = existing.filter((s) => s.id > sb);
  const olderIds = olderSide.map((s) => s.id);
  const youngerIds = youngerSide.map((s) => s.id);
  const between = existing.filter((s) => s.id > sa && s.id < sb && !colluderPositions.has(s.id)).map((s) => s.id);
  const direct = [...between];
  let olderAnchor: RemovalShape['olderAnchor'];
  let youngerAnchor: RemovalShape['youngerAnchor'];
  if (olderIds.length > 0) {
    if (existingIds.has(sa)) olderAnchor = anchor(sa, olderSide);
    else direct.push(...olderIds);
  }
  if (youngerIds.length > 0) {
    if (existingIds.has(sb)) youngerAnchor = anchor(sb, youngerSide);
    else direct.push(...youngerIds);
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
