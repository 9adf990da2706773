import { pathToFileURL } from 'node:url';
import { equalBytes } from '../../main/grep/bytes.js';
import { encodeFrame, FRAME_KINDS, type FrameKind, FrameReader, HEADER_BYTES, MAX_FRAME_BYTES } from '../../main/link/frame.js';
import type { LinkMessage } from '../../main/link/messages.js';
import type { LinkSession } from '../../main/link/session.js';
import { pairingKey, SessionPair } from '../support/link.js';

/*
 * Fuzz of the link's receiving side: FrameReader + LinkSession. Three kinds of case:
 *  - noise: random bytes, and random frames with a valid CRC, into a reader and an authenticated DC;
 *  - mutation: a sealed KM frame, mutated (with and without a recomputed CRC), then the original:
 *    the mutated bytes are accepted exactly when they still contain the original frame intact, and
 *    the original is accepted exactly when the mutated bytes were not;
 *  - handshake: one frame of a fresh handshake mutated (CRC recomputed): nobody authenticates.
 * Any violation, or any exception out of the reader or the session, throws with the seed and case.
 * `npm test` runs a bounded number of cases (test/unit/link-session.test.ts); `npm run fuzz` many more.
 */

export interface FuzzReport {
  cases: number;
  noiseCases: number;
  mutationCases: number;
  handshakeCases: number;
  maxBuffered: number;
  badCrc: number;
  tampered: number;
  replayed: number;
}

const KINDS = Object.keys(FRAME_KINDS) as FrameKind[];

/** xorshift32: the fuzz must replay from its seed and cost little per draw. */
class Draw {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  next(): number {
    let s = this.state;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (this.state = s >>> 0);
  }
  below(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

function fields(frame: Uint8Array): { kind: FrameKind; sequence: number; payload: Uint8Array } {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const kind = KINDS.find((k) => FRAME_KINDS[k] === frame[4])!;
  return { kind, sequence: view.getUint32(5), payload: frame.slice(HEADER_BYTES, frame.length - 4) };
}

/** One mutation; the CRC-recomputing ones reach the AEAD instead of dying at the CRC. */
export function mutate(frame: Uint8Array, draw: Draw): Uint8Array {
  const out = frame.slice();
  const at = draw.below(frame.length);
  const { kind, sequence, payload } = fields(frame);
  switch (draw.below(9)) {
    case 0:
      out[at]! ^= 1 << draw.below(8);
      return out;
    case 1:
      out[at] = draw.below(256);
      return out;
    case 2:
      return Uint8Array.of(...frame.subarray(0, at), draw.below(256), ...frame.subarray(at));
    case 3:
      return Uint8Array.of(...frame.subarray(0, at), ...frame.subarray(at + 1));
    case 4:
      return frame.slice(0, at);
    case 5: {
      const forged = payload.slice();
      if (forged.length > 0) forged[draw.below(forged.length)]! ^= 1 << draw.below(8);
      return encodeFrame(kind, sequence, forged);
    }
    case 6:
      return encodeFrame(kind, draw.below(3) === 0 ? draw.next() : sequence + 1 + draw.below(4), payload);
    case 7:
      return encodeFrame(KINDS[draw.below(KINDS.length)]!, sequence, payload);
    default: {
      const cut = draw.below(payload.length + 1);
      return encodeFrame(kind, sequence, Uint8Array.of(...payload.subarray(0, cut), ...draw.bytes(draw.below(3))));
    }
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (equalBytes(haystack.subarray(i, i + needle.length), needle)) return true;
  }
  return false;
}

/** Feeds bytes; returns how many frames authenticated. */
function accept(reader: FrameReader, session: LinkSession, bytes: Uint8Array, report: FuzzReport): number {
  let fresh = 0;
  const result = reader.push(bytes);
  report.maxBuffered = Math.max(report.maxBuffered, reader.buffered);
  for (const frame of result.frames) {
    if (session.receive(frame).fresh) fresh++;
  }
  return fresh;
}

function fail(seed: number, index: number, what: string): never {
  throw new Error(`link fuzz, seed ${seed}, case ${index}: ${what}`);
}

export function runLinkFuzz(cases: number, seed = 1): FuzzReport {
  const draw = new Draw(seed);
  const report: FuzzReport = {
    cases, noiseCases: 0, mutationCases: 0, handshakeCases: 0, maxBuffered: 0, badCrc: 0, tampered: 0, replayed: 0,
  };
  const key = pairingKey(7);
  const pair = new SessionPair(key, key, { seed }).handshake();
  const { km, dc } = pair;
  const noiseReader = new FrameReader();
  const reader = new FrameReader();
  for (let index = 0; index < cases; index++) {
    const kind = draw.below(20);
    if (kind < 6) {
      report.noiseCases++;
      const noise = draw.below(4) === 0
        ? encodeFrame(KINDS[draw.below(KINDS.length)]!, draw.next(), draw.bytes(draw.below(64)))
        : draw.bytes(draw.below(600));
      const step = noiseReader.push(noise);
      for (const frame of step.frames) {
        const result = dc.receive(frame);
        if (result.fresh || result.events.some((e) => e.type === 'message' || e.type === 'authenticated')) fail(seed, index, 'noise authenticated');
      }
      report.maxBuffered = Math.max(report.maxBuffered, noiseReader.buffered);
    } else if (kind < 19) {
      report.mutationCases++;
      const message: LinkMessage = { kind: 'broadcast', transfer: index, payload: draw.bytes(draw.below(200)) };
      const original = draw.below(8) === 0 ? km.keepalive() : km.send(message);
      const mutated = mutate(original, draw);
      const intact = contains(mutated, original);
      const acceptedMutated = accept(reader, dc, mutated, report);
      if (acceptedMutated !== (intact ? 1 : 0)) fail(seed, index, `mutated frame accepted ${acceptedMutated} times (original intact: ${intact})`);
      const acceptedOriginal = accept(reader, dc, original, report);
      if (acceptedOriginal !== (intact ? 0 : 1)) fail(seed, index, `original accepted ${acceptedOriginal} times after the mutation`);
    } else {
      report.handshakeCases++;
      const victim = draw.below(4);
      const fresh = new SessionPair(key, key, { seed: draw.next() });
      let changed = false;
      fresh.handshake((frame, at) => {
        if (at !== victim) return frame;
        const bad = mutate(frame, draw);
        changed = !contains(bad, frame);
        return bad;
      });
      const authenticated = fresh.km.state === 'up' || (victim !== 3 && fresh.dc.state === 'up');
      if (changed && authenticated) fail(seed, index, `a mutated handshake frame ${victim} still authenticated`);
    }
  }
  report.badCrc = reader.counters.faults.BAD_CRC + noiseReader.counters.faults.BAD_CRC;
  report.tampered = dc.counters.tampered;
  report.replayed = dc.counters.replayed;
  return report;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const option = (name: string, fallback: number) => {
    const at = process.argv.lastIndexOf(name);
    return at >= 0 ? Number(process.argv[at + 1]) : fallback;
  };
  const cases = option('--cases', 5_000_000);
  const seed = option('--seed', Date.now() % 0xffffffff);
  const started = performance.now();
  const report = runLinkFuzz(cases, seed);
  console.log(JSON.stringify({ seed, seconds: Math.round((performance.now() - started) / 100) / 10, ...report, maxFrameBytes: MAX_FRAME_BYTES }));
}
