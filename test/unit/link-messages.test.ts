import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FirmwareReport } from '../../main/firmware/campaign.js';
import { fromHex, GrepError, toHex } from '../../main/grep/index.js';
import { decodeLinkMessage, encodeLinkMessage, isDcReport, type LinkMessage } from '../../main/link/messages.js';
import { codeOf } from '../support/grepError.js';

const samples: LinkMessage[] = [
  { kind: 'broadcast', transfer: 1, payload: new Uint8Array([1, 2, 3]) },
  { kind: 'unicast', transfer: 0xffffffff, member: 42, payload: new Uint8Array(300).fill(9) },
  { kind: 'keyUpdate', transfer: 7, epoch: 12, kg: new Uint8Array(16).fill(5) },
  { kind: 'accepted', transfer: 7 },
  {
    kind: 'report',
    reports: [
      { member: 1, epoch: 3, fingerprint: new Uint8Array([1, 2, 3, 4]), event: 'ack', detail: 0 },
      { member: 2, epoch: 9, fingerprint: new Uint8Array(4), event: 'command', detail: 11 },
    ],
  },
  {
    kind: 'firmware',
    reports: [
      { meter: 1, campaign: 5, status: 'receiving', missing: new Uint8Array([0x0f, 0x80]) },
      { meter: 2, campaign: 5, status: 'verified' },
      { meter: 3, campaign: 5, status: 'failed', reason: 'signature check failed' },
      { meter: 4, campaign: 5, status: 'activated', version: '2.0.1' },
      { meter: 5, campaign: 5, status: 'no-key' },
    ],
  },
  { kind: 'firmware', reports: [] },
  { kind: 'status', status: { meters: 200, queued: 3, epoch: 12, airtimeSeconds: 1.25, queuedSeconds: 0.375 } },
  { kind: 'aired', transfers: [7, 0xffffffff, 0], queued: 3, queuedSeconds: 2.5 },
  { kind: 'aired', transfers: [], queued: 0, queuedSeconds: 0 },
  { kind: 'error', code: 503, message: 'medium busy — retry' },
];

describe('link application messages', () => {
  it.each(samples.map((m) => [m.kind, m] as const))('%s round-trips', (_, message) => {
    expect(decodeLinkMessage(encodeLinkMessage(message))).toEqual(message);
  });

  it('refuses numbers the wire would wrap and keys of the wrong size', () => {
    expect(codeOf(() => encodeLinkMessage({ kind: 'accepted', transfer: 2 ** 32 }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeLinkMessage({ kind: 'broadcast', transfer: -1, payload: new Uint8Array(1) }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeLinkMessage({ kind: 'unicast', transfer: 1, member: 1.5, payload: new Uint8Array(1) }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeLinkMessage({ kind: 'keyUpdate', transfer: 1, epoch: 1, kg: new Uint8Array(15) }))).toBe('BAD_KEY');
    const report = { member: 1, epoch: 1, fingerprint: new Uint8Array(3), event: 'ack' as const, detail: 0 };
    expect(codeOf(() => encodeLinkMessage({ kind: 'report', reports: [report] }))).toBe('BAD_ARGUMENT');
  });

  it('rejects unknown kinds, truncated and padded input with typed errors', () => {
    expect(codeOf(() => decodeLinkMessage(new Uint8Array([0x55])))).toBe('UNKNOWN_TYPE');
    for (const message of samples) {
      const bytes = encodeLinkMessage(message);
      if (message.kind !== 'broadcast' && message.kind !== 'unicast') {
        expect(codeOf(() => decodeLinkMessage(bytes.subarray(0, bytes.length - 1)))).toBe('TRUNCATED');
        expect(codeOf(() => decodeLinkMessage(new Uint8Array([...bytes, 0])))).toBe('OVERSIZED');
      }
    }
    const badEvent = encodeLinkMessage(samples[4]!);
    badEvent[3 + 12] = 9;
    expect(codeOf(() => decodeLinkMessage(badEvent))).toBe('MALFORMED');
  });

  it('frames firmware reports as kind 0x23, a count, then each report behind its own length', () => {
    const bytes = encodeLinkMessage({ kind: 'firmware', reports: [{ meter: 7, campaign: 1, status: 'verified' }] });
    expect(toHex(bytes)).toBe('23' + '0001' + '0009' + '00000007' + '00000001' + '02');
  });

  it('refuses firmware batches that are malformed, cut, padded or over the count', () => {
    const message = samples.find((m) => m.kind === 'firmware')!;
    const bytes = encodeLinkMessage(message);
    for (const cut of [1, 2, 4, 10, bytes.length - 1]) expect(codeOf(() => decodeLinkMessage(bytes.subarray(0, cut)))).toBe('TRUNCATED');
    expect(codeOf(() => decodeLinkMessage(new Uint8Array([...bytes, 0])))).toBe('OVERSIZED');
    // a report with a trailing byte inside its own length: refused, not read as the start of the next one
    expect(codeOf(() => decodeLinkMessage(fromHex('23' + '0001' + '000a' + '00000007' + '00000001' + '02' + '00')))).toBe('OVERSIZED');
    expect(codeOf(() => decodeLinkMessage(fromHex('23' + '0001' + '0009' + '00000007' + '00000001' + '09')))).toBe('MALFORMED');
    // the count says two, one follows
    expect(codeOf(() => decodeLinkMessage(fromHex('23' + '0002' + '0009' + '00000007' + '00000001' + '02')))).toBe('TRUNCATED');
    const tooMany = Array.from({ length: 0x10000 }, () => ({ meter: 1, campaign: 1, status: 'verified' as const }));
    expect(codeOf(() => encodeLinkMessage({ kind: 'firmware', reports: tooMany }))).toBe('OVERSIZED');
    expect(codeOf(() => encodeLinkMessage({ kind: 'firmware', reports: [{ meter: -1, campaign: 1, status: 'verified' }] }))).toBe('BAD_ARGUMENT');
  });

  it('frames aired as kind 0x24, a count, the transfer ids, the queue and its airtime; status ends with the queued airtime', () => {
    expect(toHex(encodeLinkMessage({ kind: 'aired', transfers: [7, 0xffffffff], queued: 3, queuedSeconds: 1.5 }))).toBe(
      '24' + '0002' + '00000007' + 'ffffffff' + '00000003' + '3ff8000000000000',
    );
    expect(toHex(encodeLinkMessage({ kind: 'status', status: { meters: 2, queued: 1, epoch: 9, airtimeSeconds: 1.5, queuedSeconds: 2 } }))).toBe(
      '22' + '00000002' + '00000001' + '00000009' + '3ff8000000000000' + '4000000000000000',
    );
  });

  it('refuses aired and status messages that are cut, padded, over their count or with impossible seconds', () => {
    const aired = (count: string, ids: string, seconds = '3ff8000000000000') => fromHex('24' + count + ids + '00000003' + seconds);
    expect(decodeLinkMessage(aired('0001', '00000007'))).toEqual({ kind: 'aired', transfers: [7], queued: 3, queuedSeconds: 1.5 });
    // the count says three, two follow: the queue and its seconds are not read as a third id
    expect(codeOf(() => decodeLinkMessage(aired('0003', '00000007' + '00000008')))).toBe('TRUNCATED');
    expect(codeOf(() => decodeLinkMessage(aired('ffff', '00000007')))).toBe('TRUNCATED');
    expect(codeOf(() => decodeLinkMessage(new Uint8Array([...aired('0001', '00000007'), 0])))).toBe('OVERSIZED');
    const status = (airtime: string, queued: string) => fromHex('22' + '00000002' + '00000001' + '00000009' + airtime + queued);
    for (const bad of ['7ff8000000000000', 'bff0000000000000', '7ff0000000000000', 'fff0000000000000']) {
      // NaN, -1, +Infinity, -Infinity
      expect(codeOf(() => decodeLinkMessage(aired('0001', '00000007', bad)))).toBe('MALFORMED');
      expect(codeOf(() => decodeLinkMessage(status(bad, '3ff8000000000000')))).toBe('MALFORMED');
      expect(codeOf(() => decodeLinkMessage(status('3ff8000000000000', bad)))).toBe('MALFORMED');
    }
    expect(codeOf(() => decodeLinkMessage(status('3ff8000000000000', '')))).toBe('TRUNCATED');
    for (const seconds of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => encodeLinkMessage({ kind: 'aired', transfers: [1], queued: 0, queuedSeconds: seconds }))).toBe('BAD_ARGUMENT');
      expect(codeOf(() => encodeLinkMessage({ kind: 'status', status: { meters: 0, queued: 0, epoch: 0, airtimeSeconds: 0, queuedSeconds: seconds } }))).toBe('BAD_ARGUMENT');
      expect(codeOf(() => encodeLinkMessage({ kind: 'status', status: { meters: 0, queued: 0, epoch: 0, airtimeSeconds: seconds, queuedSeconds: 0 } }))).toBe('BAD_ARGUMENT');
    }
    expect(codeOf(() => encodeLinkMessage({ kind: 'aired', transfers: [2 ** 32], queued: 0, queuedSeconds: 0 }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeLinkMessage({ kind: 'aired', transfers: [1], queued: -1, queuedSeconds: 0 }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeLinkMessage({ kind: 'aired', transfers: Array.from({ length: 0x10000 }, (_, index) => index), queued: 0, queuedSeconds: 0 }))).toBe('OVERSIZED');
  });

  it('tells what the DC says to the KM from what the KM hands the DC', () => {
    expect(samples.filter(isDcReport).map((message) => message.kind)).toEqual(['report', 'firmware', 'firmware', 'status', 'aired', 'aired', 'error']);
  });

  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const firmwareReport: fc.Arbitrary<FirmwareReport> = fc.oneof(
    fc.record({ meter: u32, campaign: u32, status: fc.constantFrom('no-key' as const, 'verified' as const) }),
    fc.record({ meter: u32, campaign: u32, status: fc.constant('receiving' as const), missing: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ meter: u32, campaign: u32, status: fc.constant('failed' as const), reason: fc.string({ maxLength: 60 }) }),
    fc.record({ meter: u32, campaign: u32, status: fc.constant('activated' as const), version: fc.string({ minLength: 1, maxLength: 30 }) }),
  );
  const firmwareBatch = fc.array(firmwareReport, { maxLength: 8 }).map((reports) => ({ kind: 'firmware' as const, reports }));
  const seconds = fc.double({ min: 0, noNaN: true, noDefaultInfinity: true });
  const airedBatch = fc.record({ kind: fc.constant('aired' as const), transfers: fc.array(u32, { maxLength: 8 }), queued: u32, queuedSeconds: seconds });

  /**
   * `bytes` with the byte at `at` set to `value` is refused with a GrepError, or, read back as a `kind`,
   * re-encodes to exactly its own bytes: strict and canonical (an error's text is decoded leniently, so
   * a kind byte mutated to 'error' is left out).
   */
  function expectRefusedOrCanonical(bytes: Uint8Array, at: number, value: number, kind: 'aired' | 'firmware'): void {
    const mutated = bytes.slice();
    mutated[at % bytes.length] = value;
    let decoded: LinkMessage | undefined;
    try {
      decoded = decodeLinkMessage(mutated);
    } catch (error) {
      expect(error).toBeInstanceOf(GrepError);
    }
    if (decoded?.kind === kind) expect(encodeLinkMessage(decoded)).toEqual(mutated);
  }

  it('aired batches round-trip, and a mutated one is refused or reads back as exactly its own bytes', () => {
    fc.assert(
      fc.property(airedBatch, fc.nat(), fc.integer({ min: 0, max: 255 }), (message, at, value) => {
        const bytes = encodeLinkMessage(message);
        expect(decodeLinkMessage(bytes)).toEqual(message);
        expectRefusedOrCanonical(bytes, at, value, 'aired');
      }),
      { numRuns: 1000 },
    );
  });

  it('firmware batches round-trip, and a mutated one is refused or reads back as exactly its own bytes', () => {
    fc.assert(
      fc.property(firmwareBatch, fc.nat(), fc.integer({ min: 0, max: 255 }), (message, at, value) => {
        const bytes = encodeLinkMessage(message);
        // lone surrogates become U+FFFD in UTF-8: compare what the wire carries
        expect(encodeLinkMessage(decodeLinkMessage(bytes))).toEqual(bytes);
        expectRefusedOrCanonical(bytes, at, value, 'firmware');
      }),
      { numRuns: 2000 },
    );
  });
});
