import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { nobleCrypto } from '../../main/grep/crypto.js';
import { encodeFrame, FrameReader, MAX_FRAME_BYTES } from '../../main/link/frame.js';
import type { LinkMessage } from '../../main/link/messages.js';
import { hkdf, LinkSession, MAX_MESSAGE_BYTES, type SessionEvent } from '../../main/link/session.js';
import { runLinkFuzz } from '../fuzz/link.js';
import { pairingKey, SessionPair } from '../support/link.js';

const messages = (events: SessionEvent[]) => events.flatMap((e) => (e.type === 'message' ? [e.message] : []));
const failures = (events: SessionEvent[]) => events.flatMap((e) => (e.type === 'failed' ? [e.error.code] : []));
const broadcast = (transfer: number): LinkMessage => ({ kind: 'broadcast', transfer, payload: Uint8Array.of(transfer & 0xff, 1, 2) });

/** Re-encodes a frame with one field changed and a valid CRC, as an attacker on the line would. */
function forge(frame: Uint8Array, change: { kind?: 'data' | 'keepalive'; sequence?: number; flip?: number }): Uint8Array {
  const [decoded] = new FrameReader().push(frame).frames;
  const payload = decoded!.payload.slice();
  if (change.flip !== undefined) payload[change.flip]! ^= 0x80;
  return encodeFrame(change.kind ?? decoded!.kind, change.sequence ?? decoded!.sequence, payload);
}

describe('link session handshake', () => {
  it('authenticates both sides and carries messages both ways, each under its own direction key', () => {
    for (const length of [16, 32]) {
      const pair = new SessionPair(pairingKey(3, length)).handshake();
      expect([pair.km.state, pair.dc.state]).toEqual(['up', 'up']);
      expect(pair.kmEvents).toEqual([{ type: 'authenticated' }]);
      expect(pair.dcEvents).toEqual([{ type: 'authenticated' }]);

      pair.deliverToDc(pair.km.send(broadcast(1)));
      pair.deliverToKm(pair.dc.send({ kind: 'accepted', transfer: 1 }));
      expect(messages(pair.dcEvents)).toEqual([broadcast(1)]);
      expect(messages(pair.kmEvents)).toEqual([{ kind: 'accepted', transfer: 1 }]);

      // a frame reflected back to its sender fails: the directions have different keys
      pair.km.send(broadcast(2));
      pair.deliverToKm(pair.km.send(broadcast(3)));
      expect(pair.km.counters.tampered).toBe(1);
      expect(messages(pair.kmEvents)).toHaveLength(1);
    }
  });

  it('interoperates between the noble and node:crypto providers', () => {
    const pair = new SessionPair(pairingKey(4), pairingKey(4), { kmCrypto: nobleCrypto, dcCrypto: nodeCrypto }).handshake();
    pair.deliverToDc(pair.km.send(broadcast(7)));
    expect(messages(pair.dcEvents)).toEqual([broadcast(7)]);
  });

  it('derives keys with RFC 5869 HKDF (salted), as node:crypto computes it', () => {
    const salt = Uint8Array.of(1, 2, 3);
    const ikm = pairingKey(9, 32);
    const info = new TextEncoder().encode('label');
    const expected = new Uint8Array(hkdfSync('sha256', ikm, salt, info, 16));
    expect(hkdf(nodeCrypto, salt, ikm, info)).toEqual(expected);
    expect(hkdf(nobleCrypto, salt, ikm, info)).toEqual(expected);
  });

  it('refuses a KM with the wrong pairing key on both sides, and accepts nothing from it', () => {
    const pair = new SessionPair(pairingKey(1), pairingKey(2)).handshake();
    // the KM checked the DC's proof itself; the DC only has the KM's cleartext word for it
    expect(failures(pair.kmEvents)).toEqual(['AUTH_FAILED']);
    expect(failures(pair.dcEvents)).toEqual(['PEER_ERROR']);
    expect([pair.km.state, pair.dc.state]).toEqual(['failed', 'failed']);
    expect(pair.dcEvents.some((e) => e.type === 'authenticated')).toBe(false);
    expect(() => pair.km.send(broadcast(1))).toThrow(expect.objectContaining({ code: 'NOT_AUTHENTICATED' }));
  });

  it('refuses a stranger who answers the DC with a made-up proof, and tells it why', () => {
    const pair = new SessionPair(pairingKey(1));
    const [reply] = pair.deliverToDc(pair.km.start());
    const [decoded] = new FrameReader().push(reply!).frames;
    const dcNonce = decoded!.payload.subarray(16, 32);
    const answer = pair.deliverToDc(encodeFrame('auth', 0, Uint8Array.of(...dcNonce, ...new Uint8Array(32))));
    expect(failures(pair.dcEvents)).toEqual(['AUTH_FAILED']);
    const [error] = new FrameReader().push(answer[0]!).frames;
    expect(error!.kind).toBe('error');
    expect(new TextDecoder().decode(error!.payload.subarray(1))).toMatch(/authentication failed/);
  });

  it('takes an error frame in the handshake as an unverified claim: PEER_ERROR, its text escaped, whatever code it claims', () => {
    for (const code of [1, 2]) {
      const pair = new SessionPair(pairingKey(1));
      pair.km.start();
      pair.deliverToKm(encodeFrame('error', 0, Uint8Array.of(code, ...new TextEncoder().encode('\x1b[2J link up\r\n\u202e'))));
      const failed = pair.kmEvents.find((e) => e.type === 'failed');
      expect(failed?.type === 'failed' && failed.error.code).toBe('PEER_ERROR');
      expect(failed?.type === 'failed' && failed.error.message).toBe(
        `an unauthenticated peer ended the handshake (unverified, claims ${code === 1 ? 'authentication failed' : 'protocol error'}): "\\x1b[2J link up\\x0d\\x0a\\u202e"`,
      );
    }
  });

  it('rejects keys that are neither 16 nor 32 bytes', () => {
    expect(() => LinkSession.initiator({ crypto: nodeCrypto, random: () => new Uint8Array(16), pairingKey: new Uint8Array(8) })).toThrow(
      expect.objectContaining({ code: 'BAD_KEY' }),
    );
  });

  it('ignores a stale hello reply (an earlier attempt on the same serial line) instead of calling it a wrong key', () => {
    const first = new SessionPair(pairingKey(5), pairingKey(5), { seed: 1 });
    const staleReply = first.deliverToDc(first.km.start());
    const second = new SessionPair(pairingKey(5), pairingKey(5), { seed: 2 });
    second.km.start();
    second.deliverToKm(staleReply[0]!);
    expect(second.km.state).toBe('handshake');
    expect(second.km.counters.stale).toBe(1);
  });
});

describe('link session after authentication', () => {
  it('rejects and counts replayed and reordered frames; allows and counts gaps', () => {
    const pair = new SessionPair(pairingKey(6)).handshake();
    const [f1, f2, f3, f4, f5] = [1, 2, 3, 4, 5].map((t) => pair.km.send(broadcast(t)));
    pair.deliverToDc(f1!);
    pair.deliverToDc(f1!); // replay
    pair.deliverToDc(f3!);
    pair.deliverToDc(f2!); // reordered
    pair.deliverToDc(f5!); // f4 lost
    expect(messages(pair.dcEvents)).toEqual([broadcast(1), broadcast(3), broadcast(5)]);
    expect(pair.dc.counters).toMatchObject({ replayed: 2, lostFrames: 2, tampered: 0 });
    pair.deliverToDc(f4!);
    expect(pair.dc.counters.replayed).toBe(3);
  });

  it('rejects and counts tampered frames: payload, sequence and kind are all authenticated', () => {
    const pair = new SessionPair(pairingKey(6)).handshake();
    const frame = pair.km.send(broadcast(1));
    pair.deliverToDc(forge(frame, { flip: 3 }));
    pair.deliverToDc(forge(frame, { sequence: 7 }));
    pair.deliverToDc(forge(frame, { kind: 'keepalive' }));
    expect(messages(pair.dcEvents)).toEqual([]);
    expect(pair.dc.counters.tampered).toBe(3);
    pair.deliverToDc(frame); // the genuine one still gets through: forgeries changed nothing
    expect(messages(pair.dcEvents)).toEqual([broadcast(1)]);
  });

  it('rejects and counts frames before authentication, and cleartext errors after it', () => {
    const earlier = new SessionPair(pairingKey(8)).handshake();
    const sealed = earlier.km.send(broadcast(1));
    const fresh = new SessionPair(pairingKey(8), pairingKey(8), { seed: 9 });
    fresh.deliverToDc(sealed);
    fresh.km.start();
    fresh.deliverToKm(earlier.dc.send({ kind: 'accepted', transfer: 1 }));
    expect(fresh.dc.counters.unauthenticated).toBe(1);
    expect(fresh.km.counters.unauthenticated).toBe(1);
    expect(messages([...fresh.dcEvents, ...fresh.kmEvents])).toEqual([]);

    earlier.deliverToKm(encodeFrame('error', 0, Uint8Array.of(1, 0x41)));
    expect(earlier.km.state).toBe('up');
    expect(earlier.km.counters.unauthenticated).toBe(1);
  });

  it('keeps the live DC session while a newcomer handshakes, and switches only once it authenticates', () => {
    const pair = new SessionPair(pairingKey(2)).handshake();
    const stranger = LinkSession.initiator({ crypto: nodeCrypto, random: () => new Uint8Array(16).fill(0xee), pairingKey: pairingKey(3) });
    pair.deliverToDc(stranger.start());
    pair.deliverToDc(pair.km.send(broadcast(1)));
    expect(pair.dc.state).toBe('up');
    expect(messages(pair.dcEvents)).toEqual([broadcast(1)]);
    // the KM restarts on the same line: its new session replaces the old keys
    const restarted = LinkSession.initiator({ crypto: nodeCrypto, random: () => new Uint8Array(16).fill(0x11), pairingKey: pairingKey(2) });
    const reader = new FrameReader();
    let toDc = [restarted.start()];
    while (toDc.length > 0) toDc = toDc.flatMap((b) => pair.deliverToDc(b)).flatMap((b) => reader.push(b).frames.flatMap((f) => restarted.receive(f).send));
    expect(restarted.state).toBe('up');
    pair.deliverToDc(restarted.send(broadcast(2)));
    pair.deliverToDc(pair.km.send(broadcast(3)));
    expect(messages(pair.dcEvents)).toEqual([broadcast(1), broadcast(2)]);
  });

  it('refuses to seal a message larger than one frame carries', () => {
    const pair = new SessionPair(pairingKey(2)).handshake();
    const big: LinkMessage = { kind: 'broadcast', transfer: 1, payload: new Uint8Array(MAX_MESSAGE_BYTES - 5) }; // kind and transfer take 5 bytes
    expect(pair.km.send(big).length).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(() => pair.km.send({ ...big, payload: new Uint8Array(MAX_MESSAGE_BYTES - 4) })).toThrow(expect.objectContaining({ code: 'OVERSIZED' }));
  });
});

describe('link fuzz (bounded)', () => {
  it('100,000 cases: never throws, never accepts a mutated sealed frame, memory bounded', () => {
    const report = runLinkFuzz(100_000, 20_251_125); // throws on the first violation
    expect(report.maxBuffered).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    // the cases reached every defence, so passing means something
    expect(report.noiseCases).toBeGreaterThan(20_000);
    expect(report.mutationCases).toBeGreaterThan(50_000);
    expect(report.handshakeCases).toBeGreaterThan(2_000);
    expect(report.badCrc).toBeGreaterThan(1_000);
    expect(report.tampered).toBeGreaterThan(1_000);
    expect(report.replayed).toBeGreaterThan(100);
  });
});
