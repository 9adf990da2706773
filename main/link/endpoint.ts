import { EventEmitter } from 'node:events';
import type { GrepCrypto, Random } from '../grep/crypto.js';
import { HandshakeSlots } from './admission.js';
import { DEFAULT_TIMING, type LinkTiming, SessionChannel, sessionOptions } from './channel.js';
import type { DcReport, Transfer } from './client.js';
import { LinkError } from './errors.js';
import type { LinkMessage } from './messages.js';
import { encodeForFrame, LinkSession } from './session.js';
import { type Connector, listenTcp, serialConnector, type SerialOptions, type TcpListener } from './transport.js';

/*
 * The Data Concentrator's end of the link (GREP.md §9): one authenticated KM session at a time, over a
 * TCP listener and/or a serial port. A newcomer replaces the live session only once it has proved the
 * pairing key, so a stranger who connects cannot cut the KM off. Each transfer reaches the handler once:
 * a resent id (the KM did not hear our `accepted`) is answered again without a second delivery.
 *
 * Nor can a stranger keep the KM from connecting (security issue 10). Anyone who reaches the TCP port can
 * open connections, and until one proves the pairing key nothing tells the KM's from a stranger's: a hello
 * is a version and a nonce, which anyone can send. What unauthenticated connections hold must be bounded,
 * and the KM must still get through; the former rule (4 slots, drop the oldest) let 200 connections a
 * second from a stranger cut every KM handshake that took more than 20 ms. What guarantees progress:
 *  - Two stages, each with its own limit (maxHandshakes): connections waiting for their hello, and
 *    connections that sent a well-formed hello and wait for the proof. Silent or junk connections can only
 *    displace others that have said nothing yet, never a handshake under way; hellos only other hellos.
 *  - Deadlines: the hello within helloTimeoutMs of accepting (short: a KM says hello the moment it is
 *    connected), the proof within handshakeTimeoutMs. A wrong proof ends a connection at once. So a
 *    stranger's connection holds a slot only that long, and a slower flood displaces nobody.
 *  - A stage over its limit drops the oldest connection of the source address that holds the most
 *    connections in that stage (an IPv6 /64 is one source, see admission.ts). A KM at another address than
 *    the flood is never the one dropped, whatever the rate (short of exhausting the DC's CPU), unless the
 *    flood comes from as many addresses as a stage has slots. From the KM's own address (on loopback all
 *    are 127.0.0.1), the oldest goes: a KM holds a slot for half a round trip waiting for its hello and one
 *    round trip waiting for its proof, so the connection waiting longest is the least likely to be it. It
 *    is dropped only if more than maxHandshakes connections, or hellos, arrive within that time (by default
 *    64: 640 hellos a second for a 100 ms round trip); then no rule can tell it from the flood, and it
 *    tries again.
 * Not a hard cap per address: a local flood would fill the loopback quota and shut out a KM behind the
 * same address (the simulator, a tunnel). Not dropping the newcomer: a flood that keeps a stage full would
 * then turn away every KM arriving after it.
 */

export type EndpointState =
  | { readonly state: 'up'; readonly peer: string }
  | { readonly state: 'down'; readonly peer: string; readonly reason: LinkError }
  /** a peer failed the handshake (no pairing key, or a protocol error) */
  | { readonly state: 'refused'; readonly peer: string; readonly reason: LinkError };

export interface DcEndpointEvents {
  state: [EndpointState];
  /** the handler threw: the transfer is not accepted, and the KM will send it again */
  handlerError: [error: unknown, transfer: Transfer];
}

export interface DcEndpointOptions {
  readonly pairingKey: Uint8Array;
  /** called once per transfer id */
  readonly onTransfer: (transfer: Transfer) => void;
  /** port 0 picks a free port (see tcpPort) */
  readonly tcp?: { readonly host?: string; readonly port?: number };
  readonly serial?: SerialOptions;
  readonly crypto?: GrepCrypto;
  readonly random?: Random;
  readonly timing?: Partial<LinkTiming>;
  /** how many recent transfer ids are remembered to drop duplicates */
  readonly seenTransfers?: number;
  /** reports and statuses kept while no KM is connected; beyond it the oldest are dropped */
  readonly outboxLimit?: number;
  /** wait before reopening a serial port that closed or failed to open */
  readonly reopenMs?: number;
  /** unauthenticated TCP connections in each handshake stage (see the header for which is dropped beyond it) */
  readonly maxHandshakes?: number;
}

export class DcEndpoint extends EventEmitter<DcEndpointEvents> {
  private readonly timing: LinkTiming;
  private readonly seen = new Set<number>();
  private readonly outbox: DcReport[] = [];
  private readonly channels = new Set<SessionChannel>();
  /** accepted TCP connections still to authenticate */
  private readonly handshaking: HandshakeSlots<SessionChannel>;
  private live: SessionChannel | undefined;
  private listener: TcpListener | undefined;
  private serialTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** reports dropped because the outbox was full */
  droppedReports = 0;
  /** unauthenticated connections dropped because their handshake stage was full */
  droppedHandshakes = 0;

  constructor(private readonly options: DcEndpointOptions) {
    super();
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    LinkSession.responder(sessionOptions(this.options));
    const maxHandshakes = options.maxHandshakes ?? 64;
    if (!Number.isInteger(maxHandshakes) || maxHandshakes < 1) throw new LinkError('BAD_ARGUMENT', `maxHandshakes must be a positive integer, not ${maxHandshakes}`);
    this.handshaking = new HandshakeSlots(maxHandshakes);
  }

  /** The bound TCP port once started, when listening on TCP. */
  get tcpPort(): number | undefined {
    return this.listener?.port;
  }

  get isUp(): boolean {
    return this.live?.isUp === true;
  }

  async start(): Promise<void> {
    const { tcp, serial } = this.options;
    if (!tcp && !serial) throw new LinkError('BAD_ARGUMENT', 'the endpoint needs a TCP listener or a serial port');
    if (tcp) this.listener = await listenTcp(tcp, (attach, address) => this.acceptTcp(attach, address));
    if (serial) this.openSerial(serialConnector(serial));
  }

  /** A report, status, aired batch or error for the KM: sent now if a session is up, else kept until one is. */
  send(report: DcReport): void {
    encodeForFrame(report);
    if (this.live?.send(report)) return;
    this.outbox.push(report);
    if (this.outbox.length > (this.options.outboxLimit ?? 1_024)) {
      this.outbox.shift();
      this.droppedReports++;
    }
  }

  /** Ends the current KM session (the KM reconnects). */
  dropSession(reason = 'dropped by the Data Concentrator'): void {
    this.live?.close(new LinkError('CLOSED', reason));
  }

  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.serialTimer);
    const channels = [...this.channels];
    for (const channel of channels) channel.close(new LinkError('CLOSED', 'the endpoint is closing'));
    await Promise.all([this.listener?.close(), ...channels.map((channel) => channel.ended)]);
  }


  private acceptTcp(attach: Connector, address: string): void {
    this.dropHandshake(this.handshaking.accepted(this.open(attach, true), address));
  }

  private dropHandshake(channel: SessionChannel | undefined): void {
    if (!channel) return;
    this.droppedHandshakes++;
    channel.close(new LinkError('CLOSED', 'too many handshakes at once'));
  }

  /** A serial port has no connections: keep it open, and reopen it whenever it closes (unplug, new PTY). */
  private openSerial(connect: Connector): void {
    this.open(connect, false, () => {
      if (!this.closing) this.serialTimer = setTimeout(() => this.openSerial(connect), this.options.reopenMs ?? 500);
    });
  }

  private open(connect: Connector, handshakeFromOpen: boolean, onClosed?: () => void): SessionChannel {
    let refusal: LinkError | undefined;
    const channel: SessionChannel = new SessionChannel(LinkSession.responder(sessionOptions(this.options)), connect, this.timing, {
      greeted: () => this.dropHandshake(this.handshaking.greeted(channel)),
      event: (event) => {
        if (event.type === 'authenticated') this.onUp(channel);
        else if (event.type === 'message') this.onMessage(channel, event.message);
        else if (event.type === 'failed') refusal = event.error;
      },
      closed: (reason) => {
        this.channels.delete(channel);
        this.handshaking.remove(channel);
        if (refusal) this.emit('state', { state: 'refused', peer: channel.peer, reason: refusal });
        if (this.live === channel) {
          this.live = undefined;
          this.emit('state', { state: 'down', peer: channel.peer, reason });
        }
        onClosed?.();
      },
    }, handshakeFromOpen);
    this.channels.add(channel);
    return channel;
  }

  private onUp(channel: SessionChannel): void {
    this.handshaking.remove(channel);
    const previous = this.live;
    this.live = channel;
    if (previous && previous !== channel) previous.close(new LinkError('CLOSED', `replaced by a newer session from ${channel.peer}`));
    this.emit('state', { state: 'up', peer: channel.peer });
    while (this.outbox.length > 0 && channel.send(this.outbox[0]!)) this.outbox.shift();
  }

  private onMessage(channel: SessionChannel, message: LinkMessage): void {
    if (message.kind !== 'broadcast' && message.kind !== 'unicast' && message.kind !== 'keyUpdate') return;
    if (!this.seen.has(message.transfer)) {
      try {
        this.options.onTransfer(message);
      } catch (error) {
        this.emit('handlerError', error, message);
        return;
      }
      this.remember(message.transfer);
    }
    channel.send({ kind: 'accepted', transfer: message.transfer });
  }

  private remember(transfer: number): void {
    this.seen.add(transfer);
    if (this.seen.size > (this.options.seenTransfers ?? 4_096)) this.seen.delete(this.seen.values().next().value!);
  }
}
