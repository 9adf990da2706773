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

export interface Outgoing {
  readonly type: MessageType;
  readonly to: Recipient;
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
