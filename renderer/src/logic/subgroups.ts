import type { MemberView } from '../../../preload/api.js';

export interface SubgroupRow {
  readonly subgroup: number;
  /** current members (left and recovered meters not counted) */
  readonly members: number;
  readonly inSync: number;
  readonly lagging: number;
  readonly unreachable: number;
}

/** Per subgroup, current members only, in subgroup order. One pass: the fleet can hold 10^5 meters. */
export function subgroupOverview(members: readonly Pick<MemberView, 'subgroup' | 'status' | 'sync'>[]): SubgroupRow[] {
  const rows = new Map<number, { subgroup: number; members: number; inSync: number; lagging: number; unreachable: number }>();
  for (const member of members) {
    if (member.status !== 'member') continue;
    let row = rows.get(member.subgroup);
    if (row === undefined) {
      row = { subgroup: member.subgroup, members: 0, inSync: 0, lagging: 0, unreachable: 0 };
      rows.set(member.subgroup, row);
    }
    row.members += 1;
    if (member.sync === 'in sync') row.inSync += 1;
    else if (member.sync === 'lagging') row.lagging += 1;
    else if (member.sync === 'unreachable') row.unreachable += 1;
  }
  return [...rows.values()].sort((a, b) => a.subgroup - b.subgroup);
}

export function totals(rows: readonly SubgroupRow[]): Omit<SubgroupRow, 'subgroup'> {
  return rows.reduce(
    (sum, row) => ({
      members: sum.members + row.members,
      inSync: sum.inSync + row.inSync,
      lagging: sum.lagging + row.lagging,
      unreachable: sum.unreachable + row.unreachable,
    }),
    { members: 0, inSync: 0, lagging: 0, unreachable: 0 },
  );
}
