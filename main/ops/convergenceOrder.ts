import type { Queued } from './convergenceTypes.js';

/**
 * The order an operation's frames go to the DC: the largest audience first, because the more meters
 * a frame is for, the more of them miss it, and the sooner its ack window closes the more of its
 * repair overlaps the frames still going out (GREP's leave: M2 for nearly everyone before M1 for one
 * subgroup). A frame never overtakes an earlier one that shares a member with it, so every member
 * still gets its own frames in the order the KM made them: a batch of several epochs stays in epoch
 * order for each member, and frames of one epoch (disjoint audiences, §4–§6) are free to move.
 */
export function audienceOrder<T extends Queued>(frames: readonly T[], members: readonly number[]): T[] {
  const audiences = frames.map((frame) => (frame.message.to === 'all' ? members.filter(frame.isFor) : [frame.message.to]));
  // each member's frames in the KM's order; a frame is free once it heads the list of every member it is for
  const pending = new Map<number, number[]>();
  audiences.forEach((audience, index) => {
    for (const member of audience) {
      const list = pending.get(member);
      if (list) list.push(index);
      else pending.set(member, [index]);
    }
  });
  const blockers = audiences.map((audience, index) => audience.filter((member) => pending.get(member)![0] !== index).length);
  const heads = new Map<number, number>();
  const free = new Set(blockers.flatMap((count, index) => (count === 0 ? [index] : [])));
  const order: T[] = [];
  while (free.size > 0) {
    let pick = -1;
    for (const index of free) {
      if (pick < 0 || audiences[index]!.length > audiences[pick]!.length || (audiences[index]!.length === audiences[pick]!.length && index < pick)) pick = index;
    }
    free.delete(pick);
    order.push(frames[pick]!);
    for (const member of audiences[pick]!) {
      const list = pending.get(member)!;
      const head = (heads.get(member) ?? 0) + 1;
      heads.set(member, head);
      const next = list[head];
      if (next !== undefined && --blockers[next]! === 0) free.add(next);
    }
  }
  return order;
}
