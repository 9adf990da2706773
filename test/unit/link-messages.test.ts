import { describe, expect, it } from 'vitest';
import { GrepError } from '../../main/grep/index.js';
import { decodeLinkMessage, encodeLinkMessage, type LinkMessage } from '../../main/link/messages.js';

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
  { kind: 'status', status: { meters: 200, queued: 3, epoch: 12, airtimeSeconds: 1.25 } },
  { kind: 'error', code: 503, message: 'medium busy — retry' },
];

const codeOf = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(GrepError);
    return (error as GrepError).code;
  }
  return 'no error';
};

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
});
