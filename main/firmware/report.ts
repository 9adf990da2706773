import { ByteReader, ByteWriter } from '../grep/bytes.js';
import { fail } from '../grep/errors.js';
import { checkU32 } from '../grep/wire.js';
import type { FirmwareReport } from './campaign.js';

/**
 * A meter's firmware report as it travels meter -> DC -> KM (inside the link's `firmware` message):
 * meter u32 ‖ campaign u32 ‖ status u8 ‖ per status: receiving: u16 n ‖ missing-block bitmap (n);
 * needs (coded campaigns, coding.ts): u16 n ‖ one byte per generation, the symbols it still needs (n);
 * failed: u16 n ‖ UTF-8 reason (n ≤ 256); activated: u16 n ‖ UTF-8 version (n ≤ 255); no-key and
 * verified: nothing. The KM's campaign engine acts on these (a forged `activated` could close a
 * campaign early), so decoding is strict: every length checked before reading, no trailing bytes,
 * no unknown status, no malformed UTF-8.
 */

/** appended, never reordered: the status byte of a meter model without erasure support keeps its meaning */
export const FIRMWARE_REPORT_STATUSES = ['no-key', 'receiving', 'verified', 'failed', 'activated', 'needs'] as const;
/** the reason is operator-facing text: longer ones are cut on a character boundary, not refused */
export const MAX_FAILURE_REASON_BYTES = 256;
/** as long as a manifest's version may be (package.ts), so every genuine version can be reported */
export const MAX_REPORTED_VERSION_BYTES = 255;
const FIXED_BYTES = 4 + 4 + 1;
/** the link prefixes each encoded report with a u16 length, so a whole report must fit 16 bits */
export const MAX_MISSING_BITMAP_BYTES = 0xffff - FIXED_BYTES - 2;
/** one byte per generation, under the same 16-bit bound */
export const MAX_NEEDS_BYTES = MAX_MISSING_BITMAP_BYTES;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Cuts UTF-8 at `max` bytes without splitting a character (continuation bytes are 10xxxxxx). */
function cutUtf8(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** The variable part of a report, already checked against its cap. */
function tail(report: FirmwareReport): Uint8Array | undefined {
  switch (report.status) {
    case 'no-key':
    case 'verified':
      return undefined;
    case 'receiving':
      if (report.missing.length > MAX_MISSING_BITMAP_BYTES) fail('OVERSIZED', `a missing-block bitmap is at most ${MAX_MISSING_BITMAP_BYTES} bytes`);
      return report.missing;
    case 'needs':
      if (report.needs.length > MAX_NEEDS_BYTES) fail('OVERSIZED', `a needs report is at most ${MAX_NEEDS_BYTES} bytes`);
      return report.needs;
    case 'failed':
      return cutUtf8(utf8.encode(report.reason), MAX_FAILURE_REASON_BYTES);
    case 'activated': {
      const version = utf8.encode(report.version);
      // a cut version would name firmware the meter does not run
      if (version.length > MAX_REPORTED_VERSION_BYTES) fail('OVERSIZED', `a firmware version is at most ${MAX_REPORTED_VERSION_BYTES} bytes`);
      return version;
    }
  }
}

export function encodeFirmwareReport(report: FirmwareReport): Uint8Array {
  checkU32(report.meter, 'meter id');
  checkU32(report.campaign, 'campaign id');
  const status = FIRMWARE_REPORT_STATUSES.indexOf(report.status);
  if (status < 0) fail('BAD_ARGUMENT', `unknown firmware report status ${String(report.status)}`);
  const variable = tail(report);
  const writer = new ByteWriter(FIXED_BYTES + (variable ? 2 + variable.length : 0)).u32(report.meter).u32(report.campaign).u8(status);
  if (variable) writer.u16(variable.length).raw(variable);
  return writer.done();
}

function readText(reader: ByteReader, max: number, what: string): string {
  const length = reader.u16(`${what} length`);
  if (length > max) fail('OVERSIZED', `${what} of ${length} bytes exceeds ${max}`);
  try {
    return strictUtf8.decode(reader.raw(length, what));
  } catch (error) {
    if (error instanceof TypeError) fail('MALFORMED', `${what} is not valid UTF-8`);
    throw error;
  }
}

export function decodeFirmwareReport(bytes: Uint8Array): FirmwareReport {
  const reader = new ByteReader(bytes);
  const meter = reader.u32('meter id');
  const campaign = reader.u32('campaign id');
  const code = reader.u8('firmware report status');
  const status = FIRMWARE_REPORT_STATUSES[code];
  if (status === undefined) fail('MALFORMED', `unknown firmware report status ${code}`);
  const base = { meter, campaign };
  let report: FirmwareReport;
  switch (status) {
    case 'no-key':
    case 'verified':
      report = { ...base, status };
      break;
    case 'receiving': {
      const length = reader.u16('bitmap length');
      if (length > MAX_MISSING_BITMAP_BYTES) fail('OVERSIZED', `a missing-block bitmap of ${length} bytes exceeds ${MAX_MISSING_BITMAP_BYTES}`);
      report = { ...base, status, missing: reader.raw(length, 'missing-block bitmap') };
      break;
    }
    case 'needs': {
      const length = reader.u16('needs length');
      if (length > MAX_NEEDS_BYTES) fail('OVERSIZED', `a needs report of ${length} bytes exceeds ${MAX_NEEDS_BYTES}`);
      report = { ...base, status, needs: reader.raw(length, 'per-generation needs') };
      break;
    }
    case 'failed':
      report = { ...base, status, reason: readText(reader, MAX_FAILURE_REASON_BYTES, 'failure reason') };
      break;
    case 'activated':
      report = { ...base, status, version: readText(reader, MAX_REPORTED_VERSION_BYTES, 'firmware version') };
      break;
  }
  reader.end('firmware report');
  return report;
}
