import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { fail } from './errors.js';

/** Big-endian writer over a pre-sized buffer: every encoder knows its exact length first. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  constructor(length: number) {
    this.bytes = new Uint8Array(length);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(value: number): this {
    this.view.setUint8(this.offset, value);
    this.offset += 1;
    return this;
  }

  u16(value: number): this {
    this.view.setUint16(this.offset, value);
    this.offset += 2;
    return this;
  }

  u32(value: number): this {
    this.view.setUint32(this.offset, value);
    this.offset += 4;
    return this;
  }

  raw(data: Uint8Array): this {
    this.bytes.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  /** The encoders size the buffer exactly; a mismatch is a bug, not bad input. */
  done(): Uint8Array {
    if (this.offset !== this.bytes.length) {
      throw new Error(`encoder wrote ${this.offset} of ${this.bytes.length} bytes`);
    }
    return this.bytes;
  }
}

/** Big-endian reader that checks every length before reading, so hostile input fails with TRUNCATED. */
export class ByteReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private offset = 0;

  constructor(input: Uint8Array) {
    // A Buffer (from a socket) would make slice() return views into the caller's memory: read through
    // a plain Uint8Array so every field handed out is a copy.
    this.bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(count: number, what: string): void {
    if (this.remaining < count) fail('TRUNCATED', `truncated: ${what} needs ${count} bytes, ${this.remaining} left`);
  }

  u8(what: string): number {
    this.need(1, what);
    const value = this.view.getUint8(this.offset);
    this.offset += 1;
    return value;
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.offset);
    this.offset += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  raw(count: number, what: string): Uint8Array {
    this.need(count, what);
    const slice = this.bytes.slice(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  /** Slice of what has been read so far from `start` (used for AAD and signed ranges). */
  since(start: number): Uint8Array {
    return this.bytes.subarray(start, this.offset);
  }

  end(what: string): void {
    if (this.remaining !== 0) fail('OVERSIZED', `${what}: ${this.remaining} unexpected trailing bytes`);
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) fail('BAD_ARGUMENT', 'not an even-length hex string');
  return hexToBytes(hex);
}
