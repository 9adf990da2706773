import { describe, expect, test } from 'vitest';
import { bytesToBase64, errorText, formatDuration, formatMessages, isHex } from '../../../renderer/src/logic/format.js';

describe('display helpers', () => {
  test('base64 of a package matches Node, across the chunk boundary', () => {
    for (const size of [0, 1, 2, 3, 0x8000 - 1, 0x8000, 0x8000 + 1, 100_003]) {
      const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 131 + 7) & 0xff);
      expect(bytesToBase64(bytes), `size ${size}`).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  test('messages by kind, zero counts left out', () => {
    expect(formatMessages({ J1: 3, J2: 0, keyUpdate: 1 })).toBe('J1 ×3, keyUpdate ×1');
    expect(formatMessages({})).toBe('—');
  });

  test('durations', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(420)).toBe('420 ms');
    expect(formatDuration(5100)).toBe('5.1 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
  });

  test('hex fields', () => {
    expect(isHex('00ff', 4)).toBe(true);
    expect(isHex('00fg')).toBe(false);
    expect(isHex('abc')).toBe(false);
    expect(isHex('')).toBe(false);
    expect(isHex('00ff', 32)).toBe(false);
  });

  test('an error keeps its code; one without a code shows its name', () => {
    expect(errorText(Object.assign(new Error('stale'), { code: 'STALE_PLAN' }))).toEqual({ code: 'STALE_PLAN', message: 'stale' });
    expect(errorText(new TypeError('x'))).toEqual({ code: 'TypeError', message: 'x' });
    expect(errorText('plain')).toEqual({ code: 'ERROR', message: 'plain' });
  });

  test('through the Electron bridge only the message survives: the code is read back from its "[CODE] " lead', () => {
    expect(errorText(new Error('[UNKNOWN_METER] meter 9 is not a member of the group'))).toEqual({ code: 'UNKNOWN_METER', message: 'meter 9 is not a member of the group' });
    expect(errorText(Object.assign(new Error('[BUSY] wait'), { code: 'BUSY' }))).toEqual({ code: 'BUSY', message: 'wait' });
    expect(errorText(new Error('[not a code] x'))).toEqual({ code: 'Error', message: '[not a code] x' });
  });
});
