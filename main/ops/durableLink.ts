import type { DcLinkEvents, LinkState, Transfer } from '../link/client.js';
import type { KmStore, OutboxEntry } from '../store/index.js';
import type { ConvergenceLink, LoggedMessage } from './convergence.js';
import { linkTransport } from './linkTransport.js';

/** What the service needs of the DC link: the real DcLink, or the simulator's in-process one on its simulated clock. */
export interface DcPort {
  readonly state: LinkState;
  send(transfer: Transfer): void;
  on<E extends keyof DcLinkEvents>(event: E, listener: (...args: DcLinkEvents[E]) => void): unknown;
  off<E extends keyof DcLinkEvents>(event: E, listener: (...args: DcLinkEvents[E]) => void): unknown;
}
/** The link's time, as the convergence driver sees it. */
export type LinkClock = Pick<ConvergenceLink, 'wait' | 'now'>;

/**
 * The convergence driver's link with every transfer going through the outbox first (GREP.md §11), so
 * its id is its outbox id and a transfer not yet accepted survives a crash. An operation's messages are
 * committed with it and reach the driver with their rows (LoggedMessage.row): sending one hands the DC
 * that row. A repair has no commit of its own: it is written to the outbox as it is sent.
 */
export class DurableLink implements ConvergenceLink {
  /** the DC's KG committed with the operation being sent, by epoch */
  private readonly committedKeys = new Map<number, OutboxEntry>();
  private readonly timing: LinkClock;

  constructor(private readonly store: KmStore, private readonly groupId: number, private readonly link: DcPort, clock?: LinkClock) {
    this.timing = clock ?? linkTransport(link, () => {
      throw new RangeError('the durable link assigns transfer ids from the outbox');
    });
  }

  /** The key row an operation just committed: updateKey for its epoch sends that row. */
  expectKey(entry: OutboxEntry): void {
    this.committedKeys.set(entry.epoch, entry);
  }

  send(message: LoggedMessage): number {
    const kind = message.to === 'all' ? 'broadcast' : 'unicast';
    const member = message.to === 'all' ? null : message.to;
    const row = { kind, member, payload: message.bytes, epoch: message.epoch, message: { type: message.type, audience: message.audience } } as const;
    if (message.row !== undefined) {
      this.dispatch({ ...row, id: message.row, purpose: 'rekey' });
      return message.row;
    }
    return this.sendNew({ ...row, purpose: 'repair' });
  }

  updateKey(epoch: number, kg: Uint8Array): void {
    const committed = this.committedKeys.get(epoch);
    this.committedKeys.clear();
    if (committed) this.dispatch(committed);
    else this.sendNew({ kind: 'keyUpdate', purpose: 'key', member: null, payload: kg, epoch, message: null });
  }

  /** Hands a committed outbox row to the DC link under its id. */
  dispatch(entry: OutboxEntry): void {
    this.link.send(toTransfer(entry));
  }

  /** Writes a transfer to the outbox in its own transaction, then sends it; returns its id. */
  sendNew(entry: Omit<OutboxEntry, 'id'>): number {
    const id = this.store.transaction(() => this.store.enqueue(this.groupId, entry));
    this.dispatch({ ...entry, id });
    return id;
  }

  wait(seconds: number, satisfied: () => boolean): Promise<void> {
    return this.timing.wait(seconds, satisfied);
  }

  now(): number {
    return this.timing.now();
  }
}

/** The outbox row as the link's transfer, its id as the transfer id. */
export function toTransfer(entry: OutboxEntry): Transfer {
  switch (entry.kind) {
    case 'broadcast':
      return { kind: 'broadcast', transfer: entry.id, payload: entry.payload };
    case 'unicast':
      return { kind: 'unicast', transfer: entry.id, member: entry.member!, payload: entry.payload };
    case 'keyUpdate':
      return { kind: 'keyUpdate', transfer: entry.id, epoch: entry.epoch, kg: entry.payload };
  }
}
