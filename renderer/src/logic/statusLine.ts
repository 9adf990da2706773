/*
 * The status line reports what a call said about the state of the group at that moment. An error
 * stays true only while that state does: "42 is not a member" after 42 left, or BUSY after the
 * operation finished, is a stale alarm the operator learns to ignore. So an error goes when the group
 * it described changes (epoch, members, running operations) or the back end comes back, when the
 * same action later succeeds, or when the operator changes an input on the screen. Information lines
 * stay until replaced.
 */

export interface StatusMessage {
  readonly kind: 'error' | 'info';
  readonly code: string;
  readonly message: string;
  readonly at: string;
  /** the action that failed (useAction's label): its later success clears the error */
  readonly what?: string;
  /** statusWorld() when it was reported */
  readonly world?: string;
}

/**
 * What an error on the screen describes: the group's epoch and members, the operations running, and
 * the back end's comings back (an UNREACHABLE error is stale once it answers again).
 */
export function statusWorld(group: { readonly epoch: number; readonly members: number } | undefined, running: readonly string[], reconnects: number): string {
  return `${group?.epoch ?? '-'}|${group?.members ?? '-'}|${[...running].sort().join(',')}|${reconnects}`;
}

export type StatusChange =
  | { readonly kind: 'world'; readonly world: string }
  | { readonly kind: 'succeeded'; readonly what: string }
  | { readonly kind: 'input' };

/** The status line after `change`: the same object when it still holds, undefined when it went stale. */
export function afterChange(status: StatusMessage | undefined, change: StatusChange): StatusMessage | undefined {
  if (status?.kind !== 'error') return status;
  switch (change.kind) {
    case 'world':
      return status.world !== undefined && status.world !== change.world ? undefined : status;
    case 'succeeded':
      return status.what === change.what ? undefined : status;
    case 'input':
      return undefined;
  }
}
