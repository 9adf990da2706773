import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FirmwareReport } from '../../main/firmware/campaign.js';
import { fromHex, GrepError, toHex } from '../../main/grep/index.js';
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from '../../main/link/messages.js';
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
  { kind: 'status', status: { meters: 200, queued: 3, epoch: 12, airtimeSeconds: 1.25 } },
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

  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const firmwareReport: fc.Arbitrary<FirmwareReport> = fc.oneof(
    fc.record({ meter: u32, campaign: u32, status: fc.constantFrom('no-key' as const, 'verified' as const) }),
    fc.record({ meter: u32, campaign: u32, status: fc.constant('receiving' as const), missing: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ meter: u32, campaign: u32, status: fc.constant('failed' as const), reason: fc.string({ maxLength: 60 }) }),
    fc.record({ meter: u32, campaign: u32, status: fc.constant('activated' as const), version: fc.string({ minLength: 1, maxLength: 30 }) }),
  );
  const firmwareBatch = fc.array(firmwareReport, { maxLength: 8 }).map((reports) => ({ kind: 'firmware' as const, reports }));

  it('firmware batches round-trip, and a mutated one is refused or reads back as exactly its own bytes', () => {
    fc.assert(
      fc.property(firmwareBatch, fc.nat(), fc.integer({ min: 0, max: 255 }), (message, at, value) => {
        const bytes = encodeLinkMessage(message);
        // lone surrogates become U+FFFD in UTF-8: compare what the wire carries
        expect(encodeLinkMessage(decodeLinkMessage(bytes))).toEqual(bytes);
        const mutated = bytes.slice();
        mutated[at % bytes.length] = value;
        let decoded: LinkMessage | undefined;
        try {
          decoded = decodeLinkMessage(mutated);
        } catch (error) {
          expect(error).toBeInstanceOf(GrepError);
        }
        // strict and canonical: no firmware batch the decoder accepts re-encodes to other bytes (an error's
        // text is decoded leniently, so a kind byte mutated to 'error' is left out)
        if (decoded?.kind === 'firmware') expect(encodeLinkMessage(decoded)).toEqual(mutated);
      }),
      { numRuns: 2000 },
    );
  });
});
