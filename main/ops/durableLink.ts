import { equalBytes, type Outgoing } from '../grep/index.js';
import type { DcLink, Transfer } from '../link/client.js';
import type { KmStore, OutboxEntry } from '../store/index.js';
import type { ConvergenceLink } from './convergence.js';
import { linkTransport } from './linkTransport.js';

/**
 * The convergence driver's link with every transfer going through the outbox first (GREP.md §11), so
 * its id is its outbox id and a transfer not yet accepted survives a crash. An operation's transfers
 * are committed with it and then handed over here (`expect`); the driver's sends for that operation
 * claim them in order instead of writing them again. Repair messages have no commit of their own and
 * are written to the outbox as they are sent.
 */
export class DurableLink implements ConvergenceLink {
  private readonly committed: OutboxEntry[] = [];
  private readonly timing: ConvergenceLink;

  /** `epoch`: the group's current epoch, recorded with each repair message */
  constructor(private readonly store: KmStore, private readonly groupId: number, private readonly link: DcLink, private readonly epoch: () => number) {
    this.timing = linkTransport(link, () => {
      throw new RangeError('the durable link assigns transfer ids from the outbox');
    });
  }

  /** The transfers an operation just committed, in the order the driver will send them. */
  expect(entries: readonly OutboxEntry[]): void {
    this.committed.push(...entries);
  }

  send(message: Outgoing): void {
    const kind = message.to === 'all' ? 'broadcast' : 'unicast';
    const entry = this.claim(kind, message.bytes);
    if (entry) this.dispatch(entry);
    else this.sendNew({ kind, member: message.to === 'all' ? null : message.to, payload: message.bytes, epoch: this.epoch() });
  }

  updateKey(epoch: number, kg: Uint8Array): void {
    const entry = this.claim('keyUpdate', kg);
    if (entry) this.dispatch(entry);
    else this.sendNew({ kind: 'keyUpdate', member: null, payload: kg, epoch });
  }

  /** Hands a committed outbox row to the DC link under its id. */
  dispatch(entry: OutboxEntry): void {
    this.link.send(toTransfer(entry));
  }

  /** Writes a transfer to the outbox in its own transaction, then sends it. */
  sendNew(entry: Omit<OutboxEntry, 'id'>): void {
    this.dispatch({ ...entry, id: this.store.transaction(() => this.store.enqueue(this.groupId, entry)) });
  }

  wait(seconds: number, satisfied: () => boolean): Promise<void> {
    return this.timing.wait(seconds, satisfied);
  }

  now(): number {
    return this.timing.now();
  }

  /**
   * The committed transfer the driver sends now. The driver may send an operation's frames in another
   * order than they were committed (largest audience first, Convergence), never other frames: what it
   * sends while the operation's transfers are pending must be one of them.
   */
  private claim(kind: OutboxEntry['kind'], payload: Uint8Array): OutboxEntry | undefined {
    if (this.committed.length === 0) return undefined;
    const index = this.committed.findIndex((entry) => entry.kind === kind && equalBytes(entry.payload, payload));
    if (index < 0) throw new RangeError(`the ${kind} the driver sends is none of the committed outbox ${this.committed.map((entry) => entry.id).join(' ')}`);
    return this.committed.splice(index, 1)[0];
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
