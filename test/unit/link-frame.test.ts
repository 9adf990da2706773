import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../main/grep/bytes.js';
import { seededRandom } from '../../main/grep/random.js';
import {
  crc32,
  encodeFrame,
  type Frame,
  FrameReader,
  MAX_FRAME_BYTES,
  MAX_PAYLOAD_BYTES,
  type ReadResult,
} from '../../main/link/frame.js';

const random = seededRandom(42);
const text = (value: string) => new TextEncoder().encode(value);
const summary = (frames: Frame[]) => frames.map((f) => `${f.kind}/${f.sequence}/${toHex(f.payload)}`);
const codes = (result: ReadResult) => result.faults.map((f) => f.code);

/** A few frames of every size class, to stream through the reader. */
const frames = [
  encodeFrame('hello', 0, random(17)),
  encodeFrame('data', 1, random(300)),
  encodeFrame('keepalive', 2, new Uint8Array(0)),
  encodeFrame('data', 3, random(1)),
  encodeFrame('error', 0, text('authentication failed')),
];
const expected = summary(new FrameReader().push(concatBytes(...frames)).frames);

describe('CRC-32', () => {
  it('matches the standard check value and zlib', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = random(1000);
    expect(crc32(data)).toBe(zlibCrc32(data));
    expect(crc32(data, 10, 500)).toBe(zlibCrc32(data.subarray(10, 500)));
  });
});

describe('frame encoding', () => {
  it('lays out magic, length, kind, sequence, payload and CRC over length..payload', () => {
    const frame = encodeFrame('data', 0x01020304, Uint8Array.of(0xaa, 0xbb));
    const crc = zlibCrc32(Uint8Array.of(0x00, 0x02, 0x10, 0x01, 0x02, 0x03, 0x04, 0xaa, 0xbb));
    expect(toHex(frame)).toBe('9e47' + '0002' + '10' + '01020304' + 'aabb' + crc.toString(16).padStart(8, '0'));
  });

  it('round-trips every kind, sequence edge and payload size up to the maximum', () => {
    const kinds = ['hello', 'helloReply', 'auth', 'authOk', 'data', 'keepalive', 'error'] as const;
    for (const kind of kinds) {
      for (const sequence of [0, 1, 0xffffffff]) {
        for (const size of [0, 1, 4096, MAX_PAYLOAD_BYTES]) {
          const payload = random(size);
          const result = new FrameReader().push(encodeFrame(kind, sequence, payload));
          expect(result.faults).toEqual([]);
          expect(result.frames).toHaveLength(1);
          expect(result.frames[0]).toMatchObject({ kind, sequence });
          expect(toHex(result.frames[0]!.payload)).toBe(toHex(payload));
        }
      }
    }
  });

  it('refuses a payload over the maximum and a sequence that is not 32-bit', () => {
    expect(() => encodeFrame('data', 1, new Uint8Array(MAX_PAYLOAD_BYTES + 1))).toThrow(expect.objectContaining({ code: 'OVERSIZED' }));
    expect(() => encodeFrame('data', 2 ** 32, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => encodeFrame('data', -1, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('FrameReader', () => {
  it('skips garbage before and between frames and says how much', () => {
    const garbage = text('AT+CGMI\r\nOK\r\n');
    const reader = new FrameReader();
    const result = reader.push(concatBytes(garbage, frames[0]!, garbage, frames[1]!, garbage, ...frames.slice(2)));
    expect(summary(result.frames)).toEqual(expected);
    expect(codes(result)).toEqual(['GARBAGE', 'GARBAGE', 'GARBAGE']);
    expect(reader.counters.discardedBytes).toBe(3 * garbage.length);
    expect(reader.buffered).toBe(0);
  });

  it('finds the next frame after a false start inside garbage (magic, impossible length or kind, bad CRC)', () => {
    const falseStarts = [
      Uint8Array.of(0x9e, 0x47, 0xff, 0xff, 0x10, 0, 0, 0, 1), // length over the maximum
      Uint8Array.of(0x9e, 0x47, 0x00, 0x01, 0x55, 0, 0, 0, 1), // no such kind
      Uint8Array.of(0x9e, 0x47, 0x00, 0x00, 0x11, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef), // CRC wrong
    ];
    for (const [index, falseStart] of falseStarts.entries()) {
      const result = new FrameReader().push(concatBytes(falseStart, ...frames));
      expect(summary(result.frames)).toEqual(expected);
      expect(codes(result)[0]).toBe(['BAD_LENGTH', 'UNKNOWN_KIND', 'BAD_CRC'][index]);
    }
  });

  it('drops a frame whose payload was corrupted and keeps the next one', () => {
    const corrupted = frames[1]!.slice();
    corrupted[100]! ^= 0x01;
    const reader = new FrameReader();
    const result = reader.push(concatBytes(frames[0]!, corrupted, ...frames.slice(2)));
    expect(summary(result.frames)).toEqual(expected.filter((_, i) => i !== 1));
    expect(reader.counters.faults.BAD_CRC).toBe(1);
  });

  it('recovers from a frame cut in half as soon as a complete frame follows it, without waiting for its claimed length', () => {
    const big = encodeFrame('data', 9, random(2000));
    const cut = big.subarray(0, 1000);
    const reader = new FrameReader();
    const result = reader.push(concatBytes(cut, frames[1]!));
    expect(summary(result.frames)).toEqual([expected[1]]);
    expect(codes(result)).toEqual(['CUT']);
    expect(reader.counters.discardedBytes).toBe(1000);
    expect(reader.buffered).toBe(0);

    // cut inside the header too, and the good frame arriving a byte at a time
    const trickle = new FrameReader();
    const stream = concatBytes(big.subarray(0, 6), frames[0]!, big.subarray(0, 1500), frames[2]!, frames[1]!);
    const collected: Frame[] = [];
    for (const byte of stream) collected.push(...trickle.push(Uint8Array.of(byte)).frames);
    expect(summary(collected)).toEqual([expected[0], expected[2], expected[1]]);
    expect(trickle.counters.faults.CUT).toBe(2);
  });

  it('keeps a slow frame however long it takes to arrive', () => {
    const big = encodeFrame('data', 9, random(MAX_PAYLOAD_BYTES));
    const reader = new FrameReader();
    const collected: Frame[] = [];
    for (let at = 0; at < big.length; at += 64) collected.push(...reader.push(big.subarray(at, at + 64)).frames);
    expect(collected.map((f) => f.sequence)).toEqual([9]);
    expect(reader.counters.discardedBytes).toBe(0);
  });

  it('decodes the same frames whatever the byte boundaries of the stream', () => {
    const stream = concatBytes(text('noise'), frames[0]!, Uint8Array.of(0x9e), frames[1]!, Uint8Array.of(0x9e, 0x47, 0), ...frames.slice(2));
    const whole = summary(new FrameReader().push(stream).frames);
    expect(whole).toEqual(expected);
    for (let split = 0; split <= stream.length; split++) {
      const reader = new FrameReader();
      const first = reader.push(stream.subarray(0, split)).frames;
      const second = reader.push(stream.subarray(split)).frames;
      expect(summary([...first, ...second])).toEqual(whole);
    }
    const bytewise = new FrameReader();
    const collected: Frame[] = [];
    for (const byte of stream) collected.push(...bytewise.push(Uint8Array.of(byte)).frames);
    expect(summary(collected)).toEqual(whole);
  });

  it('never holds more than one maximum frame, whatever it is fed', () => {
    const reader = new FrameReader();
    // a header that claims the largest payload, then a flood that never completes a valid frame
    const claim = encodeFrame('data', 1, new Uint8Array(MAX_PAYLOAD_BYTES)).subarray(0, 9);
    reader.push(claim);
    for (let i = 0; i < 40; i++) {
      const chunk = random(50_000);
      chunk.set(claim, i * 1000); // false starts everywhere
      reader.push(chunk);
      expect(reader.buffered).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    }
    // and it still decodes after the flood
    expect(summary(reader.push(concatBytes(...frames)).frames)).toEqual(expected);
    expect(reader.counters.discardedBytes).toBeGreaterThan(1_000_000);
  });

  it('takes a chunk larger than its buffer', () => {
    const many = concatBytes(...Array.from({ length: 40 }, (_, i) => encodeFrame('data', i + 1, random(5_000))));
    expect(many.length).toBeGreaterThan(MAX_FRAME_BYTES);
    const result = new FrameReader().push(many);
    expect(result.frames.map((f) => f.sequence)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});
