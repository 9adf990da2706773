import { EventEmitter } from 'node:events';
import type { GrepCrypto, Random } from '../grep/crypto.js';
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
  /** unauthenticated TCP connections handshaking at once; the oldest is dropped beyond it */
  readonly maxHandshakes?: number;
}

export class DcEndpoint extends EventEmitter<DcEndpointEvents> {
  private readonly timing: LinkTiming;
  private readonly seen = new Set<number>();
  private readonly outbox: DcReport[] = [];
  private readonly channels = new Set<SessionChannel>();
  /** accepted TCP connections still to authenticate */
  private readonly handshaking = new Set<SessionChannel>();
  private live: SessionChannel | undefined;
  private listener: TcpListener | undefined;
  private serialTimer: NodeJS.Timeout | undefined;
  private closing = false;
  /** reports dropped because the outbox was full */
  droppedReports = 0;

  constructor(private readonly options: DcEndpointOptions) {
    super();
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    LinkSession.responder(sessionOptions(this.options));
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
    if (tcp) this.listener = await listenTcp(tcp, (attach) => this.acceptTcp(attach));
    if (serial) this.openSerial(serialConnector(serial));
  }

  /** A report, status or error for the KM: sent now if a session is up, else kept until one is. */
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


  private acceptTcp(attach: Connector): void {
    const channel = this.open(attach, true);
    this.handshaking.add(channel);
    if (this.handshaking.size > (this.options.maxHandshakes ?? 4)) {
      const oldest = this.handshaking.values().next().value!;
      oldest.close(new LinkError('CLOSED', 'too many handshakes at once'));
    }
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
      event: (event) => {
        if (event.type === 'authenticated') this.onUp(channel);
        else if (event.type === 'message') this.onMessage(channel, event.message);
        else if (event.type === 'failed') refusal = event.error;
      },
      closed: (reason) => {
        this.channels.delete(channel);
        this.handshaking.delete(channel);
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
    this.handshaking.delete(channel);
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
