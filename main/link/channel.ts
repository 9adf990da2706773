import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import type { GrepCrypto, Random } from '../grep/crypto.js';
import { LinkError } from './errors.js';
import { FrameReader, type ReadResult } from './frame.js';
import type { LinkMessage } from './messages.js';
import type { LinkSession, SessionEvent, SessionOptions } from './session.js';
import type { ByteStream, Connector, StreamSink } from './transport.js';

/*
 * One byte stream carrying one session, with the clocks the pure session leaves to the I/O side: the
 * handshake deadline, keepalives, the dead-peer deadline (a PTY, or a half-open TCP connection, may
 * never report that the other end is gone). Shared by the KM's DcLink and the DC's DcEndpoint.
 */

export interface LinkTiming {
  /**
   * DC on TCP: from accepting a connection until its hello. Short, because a KM says hello the moment it
   * is connected, while a connection that says nothing only holds a handshake slot (endpoint.ts).
   */
  readonly helloTimeoutMs: number;
  /** from opening (KM, and DC on TCP) or from the first hello (DC on serial) until authenticated */
  readonly handshakeTimeoutMs: number;
  readonly keepaliveMs: number;
  /** no authenticated frame for this long and the session is declared dead */
  readonly deadPeerMs: number;
}

export const DEFAULT_TIMING: LinkTiming = { helloTimeoutMs: 1_000, handshakeTimeoutMs: 5_000, keepaliveMs: 2_000, deadPeerMs: 6_000 };

/** The KM and the DC run on node:crypto and the OS CSPRNG unless a test injects others. */
export function sessionOptions(options: { crypto?: GrepCrypto; random?: Random; pairingKey: Uint8Array }): SessionOptions {
  return { crypto: options.crypto ?? nodeCrypto, random: options.random ?? nodeRandom, pairingKey: options.pairingKey };
}

export interface ChannelListener {
  opened?(): void;
  /** DC: the peer sent a well-formed hello and was answered; its proof is awaited */
  greeted?(): void;
  event(event: SessionEvent): void;
  /** exactly once, with the first cause */
  closed(error: LinkError): void;
}

export class SessionChannel implements StreamSink {
  readonly reader = new FrameReader();
  /** settles with the cause once the stream has closed */
  readonly ended: Promise<LinkError>;
  private readonly stream: ByteStream;
  private settle: (cause: LinkError) => void = () => {};
  private cause: LinkError | undefined;
  private done = false;
  private helloTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private deadPeerTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;

  /** `handshakeFromOpen`: an opened stream must authenticate in time even if the peer never says hello. */
  constructor(
    readonly session: LinkSession,
    connect: Connector,
    private readonly timing: LinkTiming,
    private readonly listener: ChannelListener,
    private readonly handshakeFromOpen: boolean,
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
    this.stream = connect(this);
  }

  get peer(): string {
    return this.stream.peer;
  }

  get isUp(): boolean {
    return !this.done && !this.cause && this.session.state === 'up';
  }

  /** Seals and writes `message`; false when the session cannot carry it (then it is closing). */
  send(message: LinkMessage): boolean {
    if (!this.isUp) return false;
    return this.writeSealed(() => this.session.send(message));
  }

  close(error = new LinkError('CLOSED', 'closed by this side')): void {
    if (this.done) return;
    this.cause ??= error;
    this.stream.close();
  }

  opened(): void {
    if (this.done) return;
    if (this.session.role === 'km') this.stream.write(this.session.start());
    if (this.handshakeFromOpen) this.armHandshake();
    if (this.handshakeFromOpen && this.session.role === 'dc') this.armHello();
    this.listener.opened?.();
  }

  data(bytes: Uint8Array): void {
    if (this.done) return;
    this.handle(this.reader.push(bytes));
  }

  closed(error: LinkError): void {
    if (this.done) return;
    this.done = true;
    for (const timer of [this.helloTimer, this.handshakeTimer, this.deadPeerTimer]) clearTimeout(timer);
    clearInterval(this.keepaliveTimer);
    const cause = this.cause ?? error;
    this.listener.closed(cause);
    this.settle(cause);
  }

  private handle({ frames }: ReadResult): void {
    for (const frame of frames) {
      // once closing, nothing more is believed or answered on this stream
      if (this.done || this.cause) return;
      const before = this.session.state;
      const step = this.session.receive(frame);
      for (const bytes of step.send) this.stream.write(bytes);
      if (step.fresh) this.armDeadPeer();
      for (const event of step.events) this.onEvent(event);
      if (this.session.state === 'handshake' && this.handshakeTimer === undefined) this.armHandshake();
      if (before === 'listening' && this.session.state === 'handshake') {
        clearTimeout(this.helloTimer);
        this.listener.greeted?.();
      }
    }
  }

  private onEvent(event: SessionEvent): void {
    if (event.type === 'authenticated') {
      clearTimeout(this.handshakeTimer);
      this.handshakeTimer = undefined;
      this.armDeadPeer();
      clearInterval(this.keepaliveTimer);
      this.keepaliveTimer = setInterval(() => this.writeSealed(() => this.session.keepalive()), this.timing.keepaliveMs);
    }
    this.listener.event(event);
    if (event.type === 'failed') this.close(event.error);
  }

  private writeSealed(seal: () => Uint8Array): boolean {
    try {
      this.stream.write(seal());
      return true;
    } catch (error) {
      if (!(error instanceof LinkError) || error.code === 'OVERSIZED') throw error;
      this.close(error);
      return false;
    }
  }

  private armHello(): void {
    const { helloTimeoutMs } = this.timing;
    this.helloTimer = setTimeout(() => {
      if (this.session.state === 'listening') this.close(new LinkError('HANDSHAKE_TIMEOUT', `${this.peer}: no hello within ${helloTimeoutMs} ms`));
    }, helloTimeoutMs);
  }

  private armHandshake(): void {
    const { handshakeTimeoutMs } = this.timing;
    this.handshakeTimer = setTimeout(() => {
      if (this.session.state !== 'up') {
        this.close(new LinkError('HANDSHAKE_TIMEOUT', `${this.peer}: no authenticated session within ${handshakeTimeoutMs} ms`));
      }
    }, handshakeTimeoutMs);
  }

  private armDeadPeer(): void {
    clearTimeout(this.deadPeerTimer);
    const { deadPeerMs } = this.timing;
    this.deadPeerTimer = setTimeout(
      () => this.close(new LinkError('PEER_SILENT', `${this.peer}: nothing authenticated heard for ${deadPeerMs} ms`)),
      deadPeerMs,
    );
  }
}
