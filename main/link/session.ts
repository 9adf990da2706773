import { concatBytes, equalBytes } from '../grep/bytes.js';
import { type GrepCrypto, KEY_BYTES, NONCE_BYTES, type Random, TAG_BYTES } from '../grep/crypto.js';
import { escapeControl } from '../text/escape.js';
import { LinkError } from './errors.js';
import { encodeFrame, type Frame, type FrameKind, frameHeader, MAX_PAYLOAD_BYTES } from './frame.js';
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from './messages.js';

/*
 * The authenticated KM <-> DC session (GREP.md §9), a pure state machine: frames in, frames to send and
 * events out. Handshake:
 *   KM -> DC  hello      version ‖ kmNonce
 *   DC -> KM  helloReply kmNonce ‖ dcNonce ‖ MAC_DC      (the DC proves the pairing key first)
 *   KM -> DC  auth       dcNonce ‖ MAC_KM
 *   DC -> KM  authOk     sealed, empty                    (proves the DC derived the same session keys)
 * MAC_X = HMAC(pairingKey, label ‖ prover ‖ verifier ‖ kmNonce ‖ dcNonce): the roles in the MAC stop a
 * reflected proof, the fresh nonces a replayed one. Each side's echo of the other's nonce lets it tell a
 * stale handshake frame (left on a serial line by an earlier attempt) from a wrong key.
 * Session keys: HKDF-SHA-256(salt = kmNonce ‖ dcNonce, ikm = pairingKey, info = direction label), one
 * AES-128-GCM key per direction, so the two counters never share a nonce under one key.
 */

const LINK_VERSION = 1;
const NONCE_LENGTH = 16;
const MAC_LENGTH = 32;
/** sequence 0 marks the cleartext handshake frames; sealed frames count from 1 */
const HANDSHAKE_SEQUENCE = 0;
const LAST_SEQUENCE = 0xffffffff;
/** The largest encoded LinkMessage one data frame carries. */
export const MAX_MESSAGE_BYTES = MAX_PAYLOAD_BYTES - TAG_BYTES;

const text = (value: string) => new TextEncoder().encode(value);
const PROOF_LABEL = text('GREP link v1 proof');
const KM_TO_DC = text('GREP link v1 km->dc');
const DC_TO_KM = text('GREP link v1 dc->km');
const ROLE = { km: text('KM'), dc: text('DC') } as const;

/** Why the peer ended a handshake, sent in clear in an error frame. */
const ERROR_CODES = { authFailed: 1, protocol: 2 } as const;
const MAX_REASON_BYTES = 256;

export type Role = keyof typeof ROLE;
export type RejectReason = 'unauthenticated' | 'replayed' | 'tampered' | 'malformed' | 'unexpected' | 'stale';
export type SessionEvent =
  | { readonly type: 'authenticated' }
  | { readonly type: 'message'; readonly message: LinkMessage }
  | { readonly type: 'rejected'; readonly reason: RejectReason; readonly detail: string }
  | { readonly type: 'failed'; readonly error: LinkError };

export interface SessionStep {
  /** encoded frames to write, in order */
  send: Uint8Array[];
  events: SessionEvent[];
  /** the frame was authenticated and fresh: proof that the peer is alive */
  fresh: boolean;
}

export type SessionCounters = Record<RejectReason, number> & { accepted: number; lostFrames: number };
export type SessionState = 'idle' | 'listening' | 'handshake' | 'up' | 'failed';

interface Keys {
  readonly send: Uint8Array;
  readonly receive: Uint8Array;
  sent: number;
  received: number;
}

export interface SessionOptions {
  readonly crypto: GrepCrypto;
  readonly random: Random;
  /** provisioned on the DC at commissioning; 16 or 32 bytes */
  readonly pairingKey: Uint8Array;
}

export class LinkSession {
  readonly counters: SessionCounters = {
    accepted: 0, lostFrames: 0, unauthenticated: 0, replayed: 0, tampered: 0, malformed: 0, unexpected: 0, stale: 0,
  };
  private keys: Keys | undefined;
  private up = false;
  private failed = false;
  /** the handshake in progress: on the DC it runs beside a live session, which it replaces only once it succeeds */
  private handshake: { readonly kmNonce: Uint8Array; readonly dcNonce?: Uint8Array } | undefined;

  private constructor(readonly role: Role, private readonly options: SessionOptions) {
    const length = options.pairingKey.length;
    if (length !== 16 && length !== 32) throw new LinkError('BAD_KEY', `the pairing key must be 16 or 32 bytes, not ${length}`);
  }

  /** The Key Manager's side: it speaks first. */
  static initiator(options: SessionOptions): LinkSession {
    return new LinkSession('km', options);
  }

  /** The Data Concentrator's side. */
  static responder(options: SessionOptions): LinkSession {
    return new LinkSession('dc', options);
  }

  get state(): SessionState {
    if (this.failed) return 'failed';
    if (this.up) return 'up';
    if (this.handshake) return 'handshake';
    return this.role === 'km' ? 'idle' : 'listening';
  }

  /** KM: the hello that opens the handshake. */
  start(): Uint8Array {
    if (this.role !== 'km' || this.state !== 'idle') throw new LinkError('BAD_ARGUMENT', 'only a fresh KM session starts a handshake');
    const kmNonce = this.options.random(NONCE_LENGTH);
    this.handshake = { kmNonce };
    return encodeFrame('hello', HANDSHAKE_SEQUENCE, concatBytes(Uint8Array.of(LINK_VERSION), kmNonce));
  }

  /** An encoded data frame carrying `message`, sealed under this side's direction key. */
  send(message: LinkMessage): Uint8Array {
    return this.seal('data', encodeForFrame(message));
  }

  /** A sealed empty frame: the peer's dead-peer timer needs authenticated traffic, and a PTY may never report a hang-up. */
  keepalive(): Uint8Array {
    return this.seal('keepalive', new Uint8Array(0));
  }

  receive(frame: Frame): SessionStep {
    const step: SessionStep = { send: [], events: [], fresh: false };
    if (this.failed) return step;
    const cleartext = frame.kind === 'hello' || frame.kind === 'helloReply' || frame.kind === 'auth' || frame.kind === 'error';
    if (cleartext && frame.sequence !== HANDSHAKE_SEQUENCE) {
      // nothing authenticates a cleartext header, so it must be exactly the expected one
      this.reject(step, 'unexpected', `a ${frame.kind} frame with sequence ${frame.sequence}`);
      return step;
    }
    if (frame.kind === 'error') this.onError(frame, step);
    else if (!cleartext) this.onSealed(frame, step);
    else if ((frame.kind === 'helloReply') !== (this.role === 'km')) this.reject(step, 'unexpected', `a ${frame.kind} frame sent to the ${this.role}`);
    else if (frame.kind === 'hello') this.onHello(frame, step);
    else if (frame.kind === 'helloReply') this.onHelloReply(frame, step);
    else this.onAuth(frame, step);
    return step;
  }

  private onHello(frame: Frame, step: SessionStep): void {
    if (frame.payload.length !== 1 + NONCE_LENGTH || frame.payload[0] !== LINK_VERSION) {
      this.refuse(step, ERROR_CODES.protocol, `unsupported hello (link version ${frame.payload[0] ?? 'missing'})`);
      return;
    }
    const kmNonce = frame.payload.slice(1);
    const dcNonce = this.options.random(NONCE_LENGTH);
    this.handshake = { kmNonce, dcNonce };
    const mac = this.proof('dc', kmNonce, dcNonce);
    step.send.push(encodeFrame('helloReply', HANDSHAKE_SEQUENCE, concatBytes(kmNonce, dcNonce, mac)));
  }

  private onHelloReply(frame: Frame, step: SessionStep): void {
    const pending = this.handshake;
    if (!pending || pending.dcNonce || frame.payload.length !== 2 * NONCE_LENGTH + MAC_LENGTH) {
      this.reject(step, 'unexpected', 'a hello reply outside the handshake');
      return;
    }
    if (!equalBytes(frame.payload.subarray(0, NONCE_LENGTH), pending.kmNonce)) {
      this.reject(step, 'stale', 'a hello reply to an earlier hello');
      return;
    }
    const dcNonce = frame.payload.slice(NONCE_LENGTH, 2 * NONCE_LENGTH);
    if (!equalBytes(frame.payload.subarray(2 * NONCE_LENGTH), this.proof('dc', pending.kmNonce, dcNonce))) {
      this.refuse(step, ERROR_CODES.authFailed, 'authentication failed: the Data Concentrator does not hold this pairing key');
      return;
    }
    this.handshake = { kmNonce: pending.kmNonce, dcNonce };
    this.keys = this.deriveKeys(pending.kmNonce, dcNonce);
    step.send.push(encodeFrame('auth', HANDSHAKE_SEQUENCE, concatBytes(dcNonce, this.proof('km', pending.kmNonce, dcNonce))));
  }

  private onAuth(frame: Frame, step: SessionStep): void {
    const pending = this.handshake;
    if (!pending?.dcNonce || frame.payload.length !== NONCE_LENGTH + MAC_LENGTH) {
      this.reject(step, 'unexpected', 'an auth frame outside the handshake');
      return;
    }
    if (!equalBytes(frame.payload.subarray(0, NONCE_LENGTH), pending.dcNonce)) {
      this.reject(step, 'stale', 'an auth frame for an earlier handshake');
      return;
    }
    if (!equalBytes(frame.payload.subarray(NONCE_LENGTH), this.proof('km', pending.kmNonce, pending.dcNonce))) {
      this.refuse(step, ERROR_CODES.authFailed, 'authentication failed: the Key Manager does not hold this pairing key');
      return;
    }
    this.handshake = undefined;
    this.keys = this.deriveKeys(pending.kmNonce, pending.dcNonce);
    this.up = true;
    step.send.push(this.seal('authOk', new Uint8Array(0)));
    step.events.push({ type: 'authenticated' });
  }

  /**
   * Cleartext and bound to nothing, so anyone on the line could have written it: it ends the handshake (a real
   * refusal, e.g. an unsupported version, should not wait for the deadline) but is never taken as the peer's
   * word. Always PEER_ERROR, never AUTH_FAILED, whatever code it claims: a KM learns of a wrong key from the
   * DC's proof it checks itself, and a forged frame must not buy the slow retry of a refused key. Its text
   * is escaped and marked unverified, so it cannot pose as our own log lines or drive a terminal.
   * Ignored after authentication, when the sealed frames are the peer's only voice.
   */
  private onError(frame: Frame, step: SessionStep): void {
    if (this.up || !this.handshake) {
      this.reject(step, 'unauthenticated', 'a cleartext error frame');
      return;
    }
    const claimed = frame.payload[0] === ERROR_CODES.authFailed ? 'authentication failed' : 'protocol error';
    const reason = new TextDecoder('utf-8', { fatal: false }).decode(frame.payload.subarray(1, 1 + MAX_REASON_BYTES));
    const message = `an unauthenticated peer ended the handshake (unverified, claims ${claimed}): "${escapeControl(reason)}"`;
    this.fail(step, new LinkError('PEER_ERROR', message));
  }

  private onSealed(frame: Frame, step: SessionStep): void {
    const keys = this.keys;
    const awaitingOk = this.role === 'km' && !this.up && keys !== undefined;
    if (!keys || (frame.kind === 'authOk' ? !awaitingOk : !this.up)) {
      this.reject(step, this.up ? 'unexpected' : 'unauthenticated', `a ${frame.kind} frame ${this.up ? 'after' : 'before'} authentication`);
      return;
    }
    if (frame.sequence <= keys.received) {
      this.reject(step, 'replayed', `sequence ${frame.sequence} after ${keys.received}`);
      return;
    }
    const plaintext = this.options.crypto.open(keys.receive, counterNonce(frame.sequence), frame.payload, frame.header);
    if (plaintext === undefined) {
      this.reject(step, 'tampered', `sequence ${frame.sequence} failed authentication`);
      return;
    }
    // gaps are frames lost on a serial line; the transfers they carried are resent by the KM
    this.counters.lostFrames += frame.sequence - keys.received - 1;
    keys.received = frame.sequence;
    this.counters.accepted++;
    step.fresh = true;
    if (frame.kind === 'authOk') {
      this.up = true;
      this.handshake = undefined;
      step.events.push({ type: 'authenticated' });
    } else if (frame.kind === 'data') {
      try {
        step.events.push({ type: 'message', message: decodeLinkMessage(plaintext) });
      } catch (error) {
        this.reject(step, 'malformed', error instanceof Error ? error.message : String(error));
      }
    }
  }

  private seal(kind: FrameKind, plaintext: Uint8Array): Uint8Array {
    const keys = this.keys;
    if (!keys || (!this.up && kind !== 'authOk')) throw new LinkError('NOT_AUTHENTICATED', 'the session is not authenticated');
    // a nonce must never repeat under a key: the session ends before its counter would wrap
    if (keys.sent === LAST_SEQUENCE) throw new LinkError('SEQUENCE_EXHAUSTED', 'the session has used every sequence number; reconnect');
    const sequence = ++keys.sent;
    const header = frameHeader(kind, sequence, plaintext.length + TAG_BYTES);
    return encodeFrame(kind, sequence, this.options.crypto.seal(keys.send, counterNonce(sequence), plaintext, header));
  }

  private proof(prover: Role, kmNonce: Uint8Array, dcNonce: Uint8Array): Uint8Array {
    const verifier = prover === 'km' ? ROLE.dc : ROLE.km;
    return this.options.crypto.hmac(this.options.pairingKey, concatBytes(PROOF_LABEL, ROLE[prover], verifier, kmNonce, dcNonce));
  }

  private deriveKeys(kmNonce: Uint8Array, dcNonce: Uint8Array): Keys {
    const { crypto, pairingKey } = this.options;
    const kmToDc = hkdf(crypto, concatBytes(kmNonce, dcNonce), pairingKey, KM_TO_DC);
    const dcToKm = hkdf(crypto, concatBytes(kmNonce, dcNonce), pairingKey, DC_TO_KM);
    return this.role === 'km'
      ? { send: kmToDc, receive: dcToKm, sent: 0, received: 0 }
      : { send: dcToKm, receive: kmToDc, sent: 0, received: 0 };
  }

  /** Ends the handshake with a cleartext reason for the peer; a DC's live session survives a failed newcomer. */
  private refuse(step: SessionStep, code: number, reason: string): void {
    const bytes = text(reason).slice(0, MAX_REASON_BYTES);
    step.send.push(encodeFrame('error', HANDSHAKE_SEQUENCE, concatBytes(Uint8Array.of(code), bytes)));
    this.handshake = undefined;
    const error = new LinkError(code === ERROR_CODES.authFailed ? 'AUTH_FAILED' : 'PEER_ERROR', reason);
    if (this.up) this.reject(step, 'unexpected', reason);
    else this.fail(step, error);
  }

  private fail(step: SessionStep, error: LinkError): void {
    this.failed = true;
    this.up = false;
    this.keys = undefined;
    this.handshake = undefined;
    step.events.push({ type: 'failed', error });
  }

  private reject(step: SessionStep, reason: RejectReason, detail: string): void {
    this.counters[reason]++;
    step.events.push({ type: 'rejected', reason, detail });
  }
}

/** Encodes `message`, refusing one that no data frame can carry (callers check before queueing it). */
export function encodeForFrame(message: LinkMessage): Uint8Array {
  const encoded = encodeLinkMessage(message);
  if (encoded.length > MAX_MESSAGE_BYTES) {
    throw new LinkError('OVERSIZED', `a ${message.kind} of ${encoded.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte frame`);
  }
  return encoded;
}

/** The frame's sequence number is the nonce: unique per direction key because keys are fresh per session. */
function counterNonce(sequence: number): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  new DataView(nonce.buffer).setUint32(NONCE_BYTES - 4, sequence);
  return nonce;
}

/**
 * RFC 5869 HKDF-SHA-256 with a salt, on the crypto interface's HMAC (its kdf() has an empty salt). A
 * 16-byte key needs only the first expand block: T(1) = HMAC(PRK, info ‖ 0x01).
 */
export function hkdf(crypto: GrepCrypto, salt: Uint8Array, ikm: Uint8Array, info: Uint8Array): Uint8Array {
  const prk = crypto.hmac(salt, ikm);
  return crypto.hmac(prk, concatBytes(info, Uint8Array.of(1))).slice(0, KEY_BYTES);
}
