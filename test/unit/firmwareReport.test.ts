import { describe, expect, it } from 'vitest';
import type { FirmwareReport } from '../../main/firmware/campaign.js';
import { decodeFirmwareReport, encodeFirmwareReport, MAX_FAILURE_REASON_BYTES, MAX_MISSING_BITMAP_BYTES, MAX_NEEDS_BYTES, MAX_REPORTED_VERSION_BYTES } from '../../main/firmware/report.js';
import { fromHex, toHex } from '../../main/grep/index.js';
import { codeOf } from '../support/grepError.js';

const samples: FirmwareReport[] = [
  { meter: 1, campaign: 2, status: 'no-key' },
  { meter: 0xffffffff, campaign: 0, status: 'receiving', missing: new Uint8Array([0xff, 0x01, 0x80]) },
  { meter: 3, campaign: 9, status: 'receiving', missing: new Uint8Array(0) },
  { meter: 4, campaign: 9, status: 'verified' },
  { meter: 5, campaign: 9, status: 'failed', reason: 'digest check failed: image hash differs — ünïcode' },
  { meter: 6, campaign: 9, status: 'activated', version: '2.4.1-gx310' },
  { meter: 7, campaign: 9, status: 'needs', needs: new Uint8Array([0, 3, 64, 1]) },
];

describe('firmware report codec', () => {
  it.each(samples.map((r) => [r.status, r] as const))('%s round-trips', (_, report) => {
    expect(decodeFirmwareReport(encodeFirmwareReport(report))).toEqual(report);
  });

  it('matches hand-made vectors', () => {
    // meter ‖ campaign ‖ status ‖ (u16 length ‖ bytes)
    expect(toHex(encodeFirmwareReport({ meter: 7, campaign: 0x01020304, status: 'receiving', missing: new Uint8Array([0xff, 0x01]) }))).toBe('00000007' + '01020304' + '01' + '0002' + 'ff01');
    expect(toHex(encodeFirmwareReport({ meter: 7, campaign: 1, status: 'no-key' }))).toBe('00000007' + '00000001' + '00');
    expect(toHex(encodeFirmwareReport({ meter: 7, campaign: 1, status: 'verified' }))).toBe('00000007' + '00000001' + '02');
    expect(toHex(encodeFirmwareReport({ meter: 7, campaign: 1, status: 'failed', reason: 'ab' }))).toBe('00000007' + '00000001' + '03' + '0002' + '6162');
    expect(decodeFirmwareReport(fromHex('0000000a' + '00000002' + '04' + '0003' + '312e32'))).toEqual({ meter: 10, campaign: 2, status: 'activated', version: '1.2' });
    // a coded campaign's needs: one count per generation, after the statuses models without erasure support know
    expect(toHex(encodeFirmwareReport({ meter: 7, campaign: 1, status: 'needs', needs: new Uint8Array([0, 5, 2]) }))).toBe('00000007' + '00000001' + '05' + '0003' + '000502');
  });

  it('refuses numbers the wire would wrap, unknown statuses and oversized fields', () => {
    expect(codeOf(() => encodeFirmwareReport({ meter: 2 ** 32, campaign: 1, status: 'verified' }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeFirmwareReport({ meter: 1, campaign: -1, status: 'verified' }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeFirmwareReport({ meter: 1.5, campaign: 1, status: 'verified' }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeFirmwareReport({ meter: 1, campaign: 1, status: 'lost' } as unknown as FirmwareReport))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeFirmwareReport({ meter: 1, campaign: 1, status: 'activated', version: 'v'.repeat(MAX_REPORTED_VERSION_BYTES + 1) }))).toBe('OVERSIZED');
    expect(codeOf(() => encodeFirmwareReport({ meter: 1, campaign: 1, status: 'receiving', missing: new Uint8Array(MAX_MISSING_BITMAP_BYTES + 1) }))).toBe('OVERSIZED');
    expect(encodeFirmwareReport({ meter: 1, campaign: 1, status: 'receiving', missing: new Uint8Array(MAX_MISSING_BITMAP_BYTES) }).length).toBe(0xffff);
    expect(codeOf(() => encodeFirmwareReport({ meter: 1, campaign: 1, status: 'needs', needs: new Uint8Array(MAX_NEEDS_BYTES + 1) }))).toBe('OVERSIZED');
  });

  it('cuts a long failure reason on a character boundary', () => {
    const reason = 'x' + 'é'.repeat(MAX_FAILURE_REASON_BYTES); // 1 + 2n bytes: the cap falls inside an 'é'
    const decoded = decodeFirmwareReport(encodeFirmwareReport({ meter: 1, campaign: 1, status: 'failed', reason }));
    expect(decoded).toMatchObject({ status: 'failed' });
    const cut = (decoded as Extract<FirmwareReport, { status: 'failed' }>).reason;
    expect(new TextEncoder().encode(cut).length).toBe(MAX_FAILURE_REASON_BYTES - 1);
    expect(reason.startsWith(cut)).toBe(true);
  });

  it('rejects truncated, padded and malformed input with typed errors', () => {
    for (const report of samples) {
      const bytes = encodeFirmwareReport(report);
      for (let cut = 0; cut < bytes.length; cut++) expect(codeOf(() => decodeFirmwareReport(bytes.subarray(0, cut)))).toBe('TRUNCATED');
      expect(codeOf(() => decodeFirmwareReport(new Uint8Array([...bytes, 0])))).toBe('OVERSIZED');
    }
    expect(codeOf(() => decodeFirmwareReport(fromHex('00000001' + '00000001' + '06')))).toBe('MALFORMED');
    expect(codeOf(() => decodeFirmwareReport(fromHex('00000001' + '00000001' + 'ff')))).toBe('MALFORMED');
    // invalid UTF-8 (a lone continuation byte) in a reason and in a version
    expect(codeOf(() => decodeFirmwareReport(fromHex('00000001' + '00000001' + '03' + '0001' + '80')))).toBe('MALFORMED');
    expect(codeOf(() => decodeFirmwareReport(fromHex('00000001' + '00000001' + '04' + '0002' + 'c328')))).toBe('MALFORMED');
    // declared lengths over the caps are refused before reading
    const longVersion = new Uint8Array(9 + 2 + 256).fill(0x61);
    longVersion.set(fromHex('00000001' + '00000001' + '04' + '0100'));
    expect(codeOf(() => decodeFirmwareReport(longVersion))).toBe('OVERSIZED');
    expect(codeOf(() => decodeFirmwareReport(fromHex('00000001' + '00000001' + '03' + '0101')))).toBe('OVERSIZED');
    expect(codeOf(() => decodeFirmwareReport(fromHex('00000001' + '00000001' + '01' + 'fffe')))).toBe('OVERSIZED');
  });
});
