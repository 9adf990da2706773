/*
 * Which unauthenticated TCP connection the DC drops when too many are handshaking at once. The reasons
 * for this order are in the header of endpoint.ts; this module only keeps the books, so the policy can
 * be tested without sockets.
 */

/** Where a connection stands before it has proved the pairing key. */
export type HandshakeStage = 'awaitingHello' | 'awaitingProof';

export class HandshakeSlots<Connection> {
  /** each map keeps its entries in the order they entered the stage: the first is the one waiting longest */
  private readonly stages: Record<HandshakeStage, Map<Connection, string>> = { awaitingHello: new Map(), awaitingProof: new Map() };

  /** `perStage`: connections each stage holds before one has to go */
  constructor(private readonly perStage: number) {}

  count(stage: HandshakeStage): number {
    return this.stages[stage].size;
  }

  /** A connection just accepted from `address`; returns a connection to drop when that stage is over its limit. */
  accepted(connection: Connection, address: string): Connection | undefined {
    this.stages.awaitingHello.set(connection, sourceOf(address));
    return this.overflow('awaitingHello');
  }

  /** `connection` sent a well-formed hello and was answered; returns a connection to drop, as accepted() does. */
  greeted(connection: Connection): Connection | undefined {
    const source = this.stages.awaitingHello.get(connection);
    if (source === undefined) return undefined;
    this.stages.awaitingHello.delete(connection);
    this.stages.awaitingProof.set(connection, source);
    return this.overflow('awaitingProof');
  }

  /** The connection authenticated, or closed. */
  remove(connection: Connection): void {
    this.stages.awaitingHello.delete(connection);
    this.stages.awaitingProof.delete(connection);
  }

  /** Over the limit: the oldest connection of the source holding the most connections in the stage. */
  private overflow(stage: HandshakeStage): Connection | undefined {
    const entries = this.stages[stage];
    if (entries.size <= this.perStage) return undefined;
    const counts = new Map<string, number>();
    for (const source of entries.values()) counts.set(source, (counts.get(source) ?? 0) + 1);
    const most = Math.max(...counts.values());
    for (const [connection, source] of entries) {
      if (counts.get(source) !== most) continue;
      entries.delete(connection);
      return connection;
    }
    return undefined;
  }
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The unit of fairness for a remote address: an IPv4 address as it is, an IPv6 address by its /64, since
 * one host is commonly given a whole /64 and could otherwise count as 2^64 sources.
 */
export function sourceOf(address: string): string {
  const bare = address.split('%')[0]!.toLowerCase();
  const mapped = MAPPED_IPV4.exec(bare);
  if (mapped) return mapped[1]!;
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : []);
  const front = groups(head);
  const back = groups(tail);
  const full = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  return `${full.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
