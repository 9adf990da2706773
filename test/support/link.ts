import { nodeCrypto } from '../../main/crypto/node.js';
import type { GrepCrypto } from '../../main/grep/crypto.js';
import { seededRandom } from '../../main/grep/random.js';
import { FrameReader } from '../../main/link/frame.js';
import { LinkSession, type SessionEvent } from '../../main/link/session.js';

/** A KM and a DC session wired back to back in memory, each behind its own frame reader. */
export class SessionPair {
  readonly km: LinkSession;
  readonly dc: LinkSession;
  readonly kmEvents: SessionEvent[] = [];
  readonly dcEvents: SessionEvent[] = [];
  private readonly toKm = new FrameReader();
  private readonly toDc = new FrameReader();

  constructor(kmKey: Uint8Array, dcKey = kmKey, options: { seed?: number; kmCrypto?: GrepCrypto; dcCrypto?: GrepCrypto } = {}) {
    const random = seededRandom(options.seed ?? 1);
    this.km = LinkSession.initiator({ crypto: options.kmCrypto ?? nodeCrypto, random, pairingKey: kmKey });
    this.dc = LinkSession.responder({ crypto: options.dcCrypto ?? nodeCrypto, random, pairingKey: dcKey });
  }

  /** Runs the handshake until neither side has anything more to say; `tamper` may rewrite any frame on the way. */
  handshake(tamper: (frame: Uint8Array, index: number) => Uint8Array = (frame) => frame): this {
    let toDc = [this.km.start()];
    let index = 0;
    while (toDc.length > 0) {
      const toKm = toDc.flatMap((bytes) => this.deliverToDc(tamper(bytes, index++)));
      toDc = toKm.flatMap((bytes) => this.deliverToKm(tamper(bytes, index++)));
    }
    return this;
  }

  /** Feeds bytes to the DC; returns what it answers. */
  deliverToDc(bytes: Uint8Array): Uint8Array[] {
    return this.deliver(this.toDc, this.dc, this.dcEvents, bytes);
  }

  deliverToKm(bytes: Uint8Array): Uint8Array[] {
    return this.deliver(this.toKm, this.km, this.kmEvents, bytes);
  }

  private deliver(reader: FrameReader, session: LinkSession, log: SessionEvent[], bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const frame of reader.push(bytes).frames) {
      const step = session.receive(frame);
      out.push(...step.send);
      log.push(...step.events);
    }
    return out;
  }
}

export const pairingKey = (fill: number, length = 16) => new Uint8Array(length).fill(fill);
