import { LinkError } from './errors.js';

/*
 * One frame format for TCP and serial (GREP.md §9):
 *   magic (2) ‖ length (2) ‖ kind (1) ‖ sequence (4) ‖ payload (length) ‖ CRC-32 (4) over length..payload,
 * big-endian. On TCP the stream never loses bytes; on serial the magic lets a receiver find the next
 * frame after garbage or a frame cut by an unplug, and the length bound and CRC make it give up quickly
 * on a false start.
 */

/** 0x9E is not printable ASCII, so a console's text on the same line rarely looks like a frame start. */
const MAGIC_0 = 0x9e;
const MAGIC_1 = 0x47;
export const HEADER_BYTES = 9;
export const CRC_BYTES = 4;
/** A GREP RESYNC at n = 10^6 is about 40 KB; 60 KiB leaves room for the link's own envelope and AEAD tag. */
export const MAX_PAYLOAD_BYTES = 60 * 1024;
export const MAX_FRAME_BYTES = HEADER_BYTES + MAX_PAYLOAD_BYTES + CRC_BYTES;

export const FRAME_KINDS = {
  hello: 0x01,
  helloReply: 0x02,
  auth: 0x03,
  authOk: 0x04,
  data: 0x10,
  keepalive: 0x11,
  error: 0x7f,
} as const;
export type FrameKind = keyof typeof FRAME_KINDS;
const KIND_OF = new Map(Object.entries(FRAME_KINDS).map(([kind, code]) => [code as number, kind as FrameKind]));

export interface Frame {
  readonly kind: FrameKind;
  readonly sequence: number;
  readonly payload: Uint8Array;
  /** the 9 header bytes as received: the session binds them as AEAD associated data */
  readonly header: Uint8Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, reflected, as zlib and Ethernet): detects line noise, not an attacker (the AEAD does that). */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function frameHeader(kind: FrameKind, sequence: number, payloadLength: number): Uint8Array {
  if (payloadLength > MAX_PAYLOAD_BYTES) {
    throw new LinkError('OVERSIZED', `frame payload of ${payloadLength} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  }
  if (!Number.isInteger(sequence) || sequence < 0 || sequence > 0xffffffff) {
    throw new LinkError('BAD_ARGUMENT', `frame sequence ${sequence} is not a 32-bit unsigned integer`);
  }
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header[0] = MAGIC_0;
  header[1] = MAGIC_1;
  view.setUint16(2, payloadLength);
  header[4] = FRAME_KINDS[kind];
  view.setUint32(5, sequence);
  return header;
}

export function encodeFrame(kind: FrameKind, sequence: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length + CRC_BYTES);
  frame.set(frameHeader(kind, sequence, payload.length));
  frame.set(payload, HEADER_BYTES);
  const crcAt = HEADER_BYTES + payload.length;
  new DataView(frame.buffer).setUint32(crcAt, crc32(frame, 2, crcAt));
  return frame;
}

export type FrameFaultCode = 'GARBAGE' | 'BAD_LENGTH' | 'UNKNOWN_KIND' | 'BAD_CRC' | 'CUT';
export interface FrameFault {
  readonly code: FrameFaultCode;
  readonly message: string;
}

export interface FrameCounters {
  frames: number;
  /** bytes given up while looking for a frame (garbage, false starts, cut frames) */
  discardedBytes: number;
  faults: Record<FrameFaultCode, number>;
}

export interface ReadResult {
  readonly frames: Frame[];
  readonly faults: FrameFault[];
}

type Inspection =
  | { readonly verdict: 'frame'; readonly kind: FrameKind; readonly end: number }
  | { readonly verdict: 'incomplete' }
  | { readonly verdict: Exclude<FrameFaultCode, 'GARBAGE' | 'CUT'>; readonly message: string };

/**
 * Streaming decoder. Its buffer is one maximum frame: a frame that fits is always complete once the
 * buffer is full, so every push makes progress and memory never grows with the input. Malformed input
 * is reported (faults, counters), never thrown.
 *
 * A frame cut on a serial line (unplug, lost bytes) claims a length that the following frames then
 * fill. Rather than wait for that length (or guess from a timer, which would also drop a frame that is
 * merely slow), the reader looks ahead: a complete frame with a valid CRC starting inside an incomplete
 * one proves the incomplete one was cut, and it is given up at once.
 */
export class FrameReader {
  private readonly buffer = new Uint8Array(MAX_FRAME_BYTES);
  private readonly view = new DataView(this.buffer.buffer);
  private length = 0;
  /** stream offset of buffer[0]; the look-ahead state below is in stream offsets so compaction keeps it valid */
  private base = 0;
  private lookAheadFor = -1;
  private lookAheadFrom = 0;
  private waiting: number[] = [];
  readonly counters: FrameCounters = {
    frames: 0,
    discardedBytes: 0,
    faults: { GARBAGE: 0, BAD_LENGTH: 0, UNKNOWN_KIND: 0, BAD_CRC: 0, CUT: 0 },
  };

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.length;
  }

  push(chunk: Uint8Array): ReadResult {
    const result: ReadResult = { frames: [], faults: [] };
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(chunk.length - offset, this.buffer.length - this.length);
      this.buffer.set(chunk.subarray(offset, offset + take), this.length);
      this.length += take;
      offset += take;
      const rest = this.scan(result);
      this.buffer.copyWithin(0, rest, this.length);
      this.length -= rest;
      this.base += rest;
    }
    return result;
  }

  /** Decodes every complete frame; returns where an incomplete frame (or nothing) begins. */
  private scan(result: ReadResult): number {
    let at = 0;
    for (;;) {
      const magic = this.findMagic(at);
      if (magic > at) at = this.discard(result, at, magic - at, 'GARBAGE', `skipped ${magic - at} bytes before a frame start`);
      if (this.length - at < 2) return at;
      const found = this.inspect(at);
      if (found.verdict === 'frame') {
        this.counters.frames++;
        result.frames.push({
          kind: found.kind,
          sequence: this.view.getUint32(at + 5),
          payload: this.buffer.slice(at + HEADER_BYTES, found.end - CRC_BYTES),
          header: this.buffer.slice(at, at + HEADER_BYTES),
        });
        at = found.end;
      } else if (found.verdict === 'incomplete') {
        const next = this.completeFrameInside(at);
        if (next === undefined) return at;
        at = this.discard(result, at, next - at, 'CUT', `gave up a frame cut after ${next - at} bytes`);
      } else {
        at = this.discard(result, at, 1, found.verdict, found.message);
      }
    }
  }

  private inspect(at: number): Inspection {
    if (this.length - at < HEADER_BYTES) return { verdict: 'incomplete' };
    const payloadLength = this.view.getUint16(at + 2);
    if (payloadLength > MAX_PAYLOAD_BYTES) {
      return { verdict: 'BAD_LENGTH', message: `frame length ${payloadLength} exceeds ${MAX_PAYLOAD_BYTES}` };
    }
    const kind = KIND_OF.get(this.buffer[at + 4]!);
    if (kind === undefined) return { verdict: 'UNKNOWN_KIND', message: `unknown frame kind 0x${this.buffer[at + 4]!.toString(16)}` };
    const crcAt = at + HEADER_BYTES + payloadLength;
    if (this.length < crcAt + CRC_BYTES) return { verdict: 'incomplete' };
    if (crc32(this.buffer, at + 2, crcAt) !== this.view.getUint32(crcAt)) {
      return { verdict: 'BAD_CRC', message: `CRC mismatch on a ${payloadLength}-byte ${kind} frame` };
    }
    return { verdict: 'frame', kind, end: crcAt + CRC_BYTES };
  }

  /**
   * The start of a complete valid frame after `at`, if any. New bytes are searched once; candidates
   * still incomplete are remembered and looked at again, so a push costs what it adds.
   */
  private completeFrameInside(at: number): number | undefined {
    if (this.lookAheadFor !== this.base + at) {
      this.lookAheadFor = this.base + at;
      this.lookAheadFrom = this.base + at + 1;
      this.waiting = [];
    }
    const stillWaiting: number[] = [];
    for (const candidate of this.waiting) {
      const found = this.inspect(candidate - this.base);
      if (found.verdict === 'frame') return candidate - this.base;
      if (found.verdict === 'incomplete') stillWaiting.push(candidate);
    }
    this.waiting = stillWaiting;
    for (let i = this.lookAheadFrom - this.base; i < this.length - 1; i++, this.lookAheadFrom++) {
      if (this.buffer[i] !== MAGIC_0 || this.buffer[i + 1] !== MAGIC_1) continue;
      const found = this.inspect(i);
      if (found.verdict === 'frame') return i;
      if (found.verdict === 'incomplete') this.waiting.push(this.base + i);
    }
    return undefined;
  }

  /** First frame start at or after `from`; a lone first magic byte at the end may still become one. */
  private findMagic(from: number): number {
    for (let i = from; i < this.length - 1; i++) {
      if (this.buffer[i] === MAGIC_0 && this.buffer[i + 1] === MAGIC_1) return i;
    }
    return this.length > from && this.buffer[this.length - 1] === MAGIC_0 ? this.length - 1 : this.length;
  }

  private discard(result: ReadResult, at: number, count: number, code: FrameFaultCode, message: string): number {
    this.counters.discardedBytes += count;
    this.counters.faults[code]++;
    result.faults.push({ code, message });
    return at + count;
  }
}
