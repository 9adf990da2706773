import type { KeyManager } from '../../main/grep/index.js';

export interface RemovalCounts {
  readonly A: number;
  readonly B: number;
  readonly C: number;
  readonly D: number;
}

/**
 * GREP.md §6's message counts, recomputed from scratch in the plainest way, as the independent oracle
 * for invariant 7. Kept deliberately naive: it shares no code with main/grep/removal.ts.
 */
export function expectedRemovalCounts(km: KeyManager, removed: readonly number[]): RemovalCounts {
  const subgroups = [...km.subgroups()].map((s) => ({
    id: s.id,
    members: s.members.map((id) => ({ id, position: km.placeOf(id)!.position, removed: removed.includes(id) })),
  }));
  const colluderPositions = new Map<number, number[]>();
  for (const s of subgroups) for (const m of s.members) if (m.removed) colluderPositions.set(s.id, [...(colluderPositions.get(s.id) ?? []), m.position]);
  for (const entry of km.suspicion) colluderPositions.set(entry.subgroup, [...(colluderPositions.get(entry.subgroup) ?? []), entry.position]);

  let A = 0;
  let B = 0;
  for (const s of subgroups) {
    const positions = colluderPositions.get(s.id);
    if (!positions) continue;
    const o = Math.min(...positions);
    const y = Math.max(...positions);
    const oPresent = s.members.some((m) => m.position === o);
    const yPresent = s.members.some((m) => m.position === y);
    const stay = s.members.filter((m) => !m.removed);
    const older = stay.filter((m) => m.position < o).length;
    const younger = stay.filter((m) => m.position > y).length;
    const between = stay.filter((m) => m.position > o && m.position < y).length;
    if ((oPresent && older > 0) || (yPresent && younger > 0)) A++;
    B += between + (oPresent ? 0 : older) + (yPresent ? 0 : younger);
  }
  const colluded = [...colluderPositions.keys()];
  const sa = Math.min(...colluded);
  const sb = Math.max(...colluded);
  const exists = (id: number) => subgroups.some((s) => s.id === id);
  const olderSubgroups = subgroups.filter((s) => s.id < sa).length;
  const youngerSubgroups = subgroups.filter((s) => s.id > sb).length;
  const C = (olderSubgroups > 0 && exists(sa)) || (youngerSubgroups > 0 && exists(sb)) ? 1 : 0;
  let D = subgroups.filter((s) => s.id > sa && s.id < sb && !colluderPositions.has(s.id)).length;
  if (olderSubgroups > 0 && !exists(sa)) D += olderSubgroups;
  if (youngerSubgroups > 0 && !exists(sb)) D += youngerSubgroups;
  return { A, B, C, D };
}

export function countKinds(messages: readonly { type: string }[]): RemovalCounts {
  const count = (...types: string[]) => messages.filter((m) => types.includes(m.type)).length;
  return { A: count('A', 'M1'), B: count('B'), C: count('C', 'M2'), D: count('D') };
}
