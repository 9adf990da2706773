import { EventEmitter } from 'node:events';
import type { GrepCrypto, Random } from '../grep/crypto.js';
import { escapeControl } from '../text/escape.js';
import { DEFAULT_TIMING, type LinkTiming, SessionChannel, sessionOptions } from './channel.js';
import { LinkError } from './errors.js';
import { type DcReport, isDcReport, type LinkMessage, type Transfer } from './messages.js';
import { encodeForFrame, LinkSession } from './session.js';
import type { Connector } from './transport.js';

/*
 * The Key Manager's end of the DC link (GREP.md §9). Transfers are kept, in order, until the DC
 * answers `accepted` for their id: after any disconnect they go out again on the next session, and
 * the DC drops ids it already holds, so nothing queued is lost and nothing reaches the meters twice.
 */

export type { DcReport, Transfer } from './messages.js';

export type LinkState =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'authenticating'; readonly peer: string }
  | { readonly state: 'up'; readonly peer: string }
  | { readonly state: 'down'; readonly reason: LinkError; readonly retryInMs: number }
  /**
   * the DC's proof of the pairing key failed our own check: retried only slowly, the operator has to act.
   * Never from an error frame, which anyone on the path could forge (see LinkSession.onError).
   */
  | { readonly state: 'refused'; readonly reason: LinkError; readonly retryInMs: number }
  | { readonly state: 'stopped' };

export interface DcLinkEvents {
  state: [LinkState];
  message: [DcReport];
  accepted: [transfer: number];
}

export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** the slow retry after a refused pairing key */
  readonly refusedMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 5_000, refusedMs: 30_000 };

export interface DcLinkOptions {
  /** tcpConnector(...) or serialConnector(...) from transport.ts */
  readonly connect: Connector;
  readonly pairingKey: Uint8Array;
  readonly crypto?: GrepCrypto;
  readonly random?: Random;
  readonly backoff?: Partial<Backoff>;
  readonly timing?: Partial<LinkTiming>;
  /** transfers sent and not yet accepted, at most: a slow serial line is not flooded, and a reconnect resends little */
  readonly window?: number;
  /** a transfer not accepted this long after sending is sent again (a frame lost on serial) */
  readonly ackTimeoutMs?: number;
  /** in [0, 1); spreads the reconnects of many consoles */
  readonly jitter?: () => number;
}

interface Queued {
  readonly transfer: Transfer;
  /** when it went out on the current session; undefined: still to send */
  sentAt: number | undefined;
}

export class DcLink extends EventEmitter<DcLinkEvents> {
  private readonly queue = new Map<number, Queued>();
  private readonly backoff: Backoff;
  private readonly timing: LinkTiming;
  private readonly window: number;
  private readonly ackTimeoutMs: number;
  private channel: SessionChannel | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  /** connection attempts since the link was last up */
  private failures = 0;
  private inFlight = 0;
  private running = false;
  private current: LinkState = { state: 'stopped' };

  constructor(private readonly options: DcLinkOptions) {
    super();
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.window = options.window ?? 16;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    // fail at construction on a bad pairing key, not on the first connect
    LinkSession.initiator(sessionOptions(this.options));
  }

  get state(): LinkState {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  /** Queues a transfer (the caller assigns its id) behind the ones already waiting. */
  send(transfer: Transfer): void {
    if (transfer.kind !== 'broadcast' && transfer.kind !== 'unicast' && transfer.kind !== 'keyUpdate') {
      throw new LinkError('BAD_ARGUMENT', `the KM does not send ${String((transfer as LinkMessage).kind)} messages`);
    }
    const id = transfer.transfer;
    // the wire carries 32 bits: a larger id would come back accepted under another number
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new LinkError('BAD_ARGUMENT', `transfer id ${id} is not a 32-bit unsigned integer`);
    if (this.queue.has(transfer.transfer)) throw new LinkError('BAD_ARGUMENT', `transfer ${transfer.transfer} is already queued`);
    encodeForFrame(transfer);
    this.queue.set(transfer.transfer, { transfer, sentAt: undefined });
    this.pump();
  }

  /** Transfers the DC has not accepted yet, in sending order. */
  pending(): Transfer[] {
    return [...this.queue.values()].map((queued) => queued.transfer);
  }

  /** Closes the link and stops retrying; the queue is kept for a later start(). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    const channel = this.channel;
    if (!channel) {
      this.setState({ state: 'stopped' });
      return;
    }
    channel.close(new LinkError('CLOSED', 'the link was stopped'));
    await channel.ended;
  }


  private connect(): void {
    this.setState({ state: 'connecting', attempt: this.failures + 1 });
    let refused = false;
    const channel: SessionChannel = new SessionChannel(LinkSession.initiator(sessionOptions(this.options)), this.options.connect, this.timing, {
      opened: () => this.setState({ state: 'authenticating', peer: channel.peer }),
      event: (event) => {
        if (event.type === 'authenticated') this.onUp(channel);
        else if (event.type === 'message') this.onMessage(event.message);
        else if (event.type === 'failed') refused = event.error.code === 'AUTH_FAILED';
      },
      closed: (reason) => this.onClosed(reason, refused),
    }, true);
    this.channel = channel;
  }

  private onUp(channel: SessionChannel): void {
    this.failures = 0;
    this.setState({ state: 'up', peer: channel.peer });
    this.ackTimer = setInterval(() => this.resendOverdue(), Math.max(1, this.ackTimeoutMs / 2));
    this.pump();
  }

  private onMessage(message: LinkMessage): void {
    if (message.kind !== 'accepted') {
      // the DC's own words, but a compromised or buggy DC must not drive the terminal or log it ends up in
      if (message.kind === 'error') this.emit('message', { ...message, message: escapeControl(message.message) });
      // the kinds a DC may send are listed once, in messages.ts, so a new one reaches the listeners; a transfer kind from the DC is dropped
      else if (isDcReport(message)) this.emit('message', message);
      return;
    }
    const queued = this.queue.get(message.transfer);
    if (!queued) return;
    this.queue.delete(message.transfer);
    if (queued.sentAt !== undefined) this.inFlight--;
    this.emit('accepted', message.transfer);
    this.pump();
  }

  private onClosed(reason: LinkError, refused: boolean): void {
    this.channel = undefined;
    clearInterval(this.ackTimer);
    // the sent transfers form a prefix of the queue: all of them go again on the next session
    for (const queued of this.queue.values()) {
      if (queued.sentAt === undefined) break;
      queued.sentAt = undefined;
    }
    this.inFlight = 0;
    if (!this.running) {
      this.setState({ state: 'stopped' });
      return;
    }
    this.failures++;
    const retryInMs = refused ? this.backoff.refusedMs : this.retryDelay();
    this.setState(refused ? { state: 'refused', reason, retryInMs } : { state: 'down', reason, retryInMs });
    this.retryTimer = setTimeout(() => this.connect(), retryInMs);
  }

  /** Exponential from initialMs to maxMs, each delay drawn from its upper half so retries stay spread. */
  private retryDelay(): number {
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(ceiling * (0.5 + 0.5 * (this.options.jitter ?? Math.random)()));
  }

  private pump(): void {
    const channel = this.channel;
    if (!channel?.isUp) return;
    for (const queued of this.queue.values()) {
      if (this.inFlight >= this.window) return;
      if (queued.sentAt !== undefined) continue;
      if (!channel.send(queued.transfer)) return;
      queued.sentAt = Date.now();
      this.inFlight++;
    }
  }

  private resendOverdue(): void {
    const channel = this.channel;
    const overdue = Date.now() - this.ackTimeoutMs;
    for (const queued of this.queue.values()) {
      if (queued.sentAt === undefined || !channel?.isUp) return;
      if (queued.sentAt <= overdue && channel.send(queued.transfer)) queued.sentAt = Date.now();
    }
  }

  private setState(state: LinkState): void {
    this.current = state;
    this.emit('state', state);
  }
}
