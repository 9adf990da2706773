import { describe, expect, it } from 'vitest';
import { escapeControl } from '../../main/text/escape.js';

describe('escapeControl', () => {
  it('leaves ordinary text, including backslashes and non-Latin letters, as written', () => {
    const ordinary = 'meter SN-0042 "ok", C:\\keys\\dc.csv — Zähler 電表 🔑';
    expect(escapeControl(ordinary)).toBe(ordinary);
    expect(escapeControl('')).toBe('');
  });

  it('makes a forged terminal repaint and log line visible instead of acting', () => {
    expect(escapeControl('\x1b[2J link up\n')).toBe('\\x1b[2J link up\\x0a');
    expect(escapeControl('bad\r\n2024-01-01 link up')).toBe('bad\\x0d\\x0a2024-01-01 link up');
  });

  it('escapes every C0 control, DEL and every C1 control', () => {
    for (let code = 0; code <= 0x9f; code += 1) {
      if (code >= 0x20 && code < 0x7f) continue;
      const escaped = escapeControl(`a${String.fromCharCode(code)}b`);
      expect(escaped).toBe(`a\\x${code.toString(16).padStart(2, '0')}b`);
    }
    expect(escapeControl('\u00a0')).toBe('\u00a0');
  });

  it('escapes bidi controls and the Unicode line separators', () => {
    const bidi = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
    for (const code of [...bidi, 0x2028, 0x2029]) {
      expect(escapeControl(`x${String.fromCharCode(code)}y`)).toBe(`x\\u${code.toString(16).padStart(4, '0')}y`);
    }
    // "Trojan Source": RLO would display "txt.exe" as "exe.txt".
    expect(escapeControl('invoice\u202etxt.exe')).toBe('invoice\\u202etxt.exe');
  });

  it('leaves no control character in its output for any input', () => {
    let all = '';
    for (let code = 0; code < 0x2100; code += 1) all += String.fromCharCode(code);
    const escaped = escapeControl(all);
    expect(escaped).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  });
});
