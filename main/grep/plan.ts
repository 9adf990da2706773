import type { MessageType } from './wire.js';

/**
 * The vocabulary of a KM operation, shared by GREP's KeyManager and the baselines so the benchmark and
 * the UI read every scheme alike: who is commissioned, what the operator confirms (Plan, sized before
 * any key is drawn) and what is then sent (Executed).
 */

export interface Commissioning {
  readonly id: number;
  readonly nodeKey: Uint8Array;
}

export type Recipient = 'all' | number;

/**
 * Who acts on a message, as data: the edges keep it with the frame (GREP.md §11) and plan replays from
 * it (§7) without decoding the KM's bytes again. Subgroups are named by id; a member's subgroup changes
 * only at a re-seed, which sends every member its part again.
 */
export type Audience =
  | { readonly kind: 'all' }
  | { readonly kind: 'member'; readonly member: number }
  /** the members of the subgroups in `ranges` (ids, both ends included), except `except` */
  | { readonly kind: 'subgroups'; readonly ranges: readonly (readonly [number, number])[]; readonly except: readonly number[] };

const LAST_SUBGROUP = 0xffffffff;

export const everyMember: Audience = { kind: 'all' };

export function oneMember(member: number): Audience {
  return { kind: 'member', member };
}

/** Subgroups `from`..`to`; empty ranges (from > to) are dropped. */
export function subgroupRanges(ranges: readonly (readonly [number, number | 'last'])[], except: readonly number[] = []): Audience {
  const bounded = ranges.map(([from, to]) => [from, to === 'last' ? LAST_SUBGROUP : to] as const).filter(([from, to]) => from <= to);
  return { kind: 'subgroups', ranges: bounded, except: [...except] };
}

/** Whether `member`, now in subgroup subgroupOf(member), acts on a message for `audience`. */
export function isInAudience(audience: Audience, member: number, subgroupOf: (member: number) => number | undefined): boolean {
  switch (audience.kind) {
    case 'all':
      return true;
    case 'member':
      return audience.member === member;
    case 'subgroups': {
      if (audience.except.includes(member)) return false;
      const subgroup = subgroupOf(member);
      return subgroup !== undefined && audience.ranges.some(([from, to]) => subgroup >= from && subgroup <= to);
    }
  }
}

export interface Outgoing {
  readonly type: MessageType;
  readonly to: Recipient;
  /** the epoch the message brings its audience to (a unicast of the current state: the current epoch) */
  readonly epoch: number;
  readonly audience: Audience;
  readonly bytes: Uint8Array;
}

export interface PlannedMessage {
  readonly type: MessageType;
  readonly to: Recipient;
  readonly bytes: number;
  /** members expected to act on it */
  readonly audience: number;
}

export type Operation = 'join' | 'leave' | 'recover' | 'periodic' | 'resync' | 'reseed';

export interface Plan {
  readonly operation: Operation;
  /** the epoch the group is at when the plan is made; execution refuses a plan made at another epoch */
  readonly epoch: number;
  readonly messages: readonly PlannedMessage[];
  readonly broadcasts: number;
  readonly unicasts: number;
  readonly bytes: number;
  /** for removals: what the suspicion record adds to this plan compared with an empty record */
  readonly recordAdds?: { readonly broadcasts: number; readonly unicasts: number; readonly bytes: number; readonly entries: number };
}

export interface Executed {
  readonly plan: Plan;
  readonly epoch: number;
  readonly messages: readonly Outgoing[];
}

/** Counts and bytes of a plan from its messages; every scheme's plans are summed the same way. */
export function summarisePlan(operation: Operation, epoch: number, messages: PlannedMessage[]): Plan {
  const broadcasts = messages.filter((m) => m.to === 'all').length;
  return {
    operation,
    epoch,
    messages,
    broadcasts,
    unicasts: messages.length - broadcasts,
    bytes: messages.reduce((sum, m) => sum + m.bytes, 0),
  };
}
