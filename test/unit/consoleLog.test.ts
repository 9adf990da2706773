import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createConsoleLog } from '../../main/console/log.js';

describe('console log rate limit', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('writes 5 lines a second per kind, then one summary when the second ends', () => {
    const lines: string[] = [];
    const log = createConsoleLog({ write: (line) => lines.push(line) });
    for (let i = 0; i < 1_000; i++) log.line('MISDIRECTED', `request ${i}`);
    expect(lines).toEqual([0, 1, 2, 3, 4].map((i) => `[console] MISDIRECTED: request ${i}`));
    vi.advanceTimersByTime(999);
    expect(lines).toHaveLength(5);
    vi.advanceTimersByTime(1);
    expect(lines.slice(5)).toEqual(['[console] MISDIRECTED: suppressed 995 similar lines']);
    // a new second, a new allowance
    log.line('MISDIRECTED', 'later');
    expect(lines.at(-1)).toBe('[console] MISDIRECTED: later');
  });

  it('counts each kind apart, so a flood of one does not hide another', () => {
    const lines: string[] = [];
    const log = createConsoleLog({ write: (line) => lines.push(line), perWindow: 2 });
    for (let i = 0; i < 10; i++) log.line('TOKEN', 't');
    log.line('INTERNAL', 'the one that matters');
    log.line('TOKEN', 't');
    expect(lines).toEqual(['[console] TOKEN: t', '[console] TOKEN: t', '[console] INTERNAL: the one that matters']);
    vi.advanceTimersByTime(1_000);
    expect(lines.slice(3)).toEqual(['[console] TOKEN: suppressed 9 similar lines']);
  });

  it('writes no summary for a quiet second, and flush writes the pending ones at once', () => {
    const lines: string[] = [];
    const log = createConsoleLog({ write: (line) => lines.push(line), perWindow: 1 });
    log.line('HOST', 'a');
    vi.advanceTimersByTime(5_000);
    expect(lines).toEqual(['[console] HOST: a']);
    log.line('HOST', 'b');
    log.line('HOST', 'c');
    log.flush();
    expect(lines).toEqual(['[console] HOST: a', '[console] HOST: b', '[console] HOST: suppressed 1 similar line']);
    vi.advanceTimersByTime(5_000);
    expect(lines).toHaveLength(3);
  });

  it('escapes control characters and cuts a long line', () => {
    const lines: string[] = [];
    const log = createConsoleLog({ write: (line) => lines.push(line) });
    log.line('BAD_TARGET', 'GET /\x1b[2J\r\n[console] TOKEN: forged');
    log.line('MISDIRECTED', `Host ${'a'.repeat(16_384)}`);
    expect(lines[0]).toBe('[console] BAD_TARGET: GET /\\x1b[2J\\x0d\\x0a[console] TOKEN: forged');
    expect(lines[1]!.length).toBeLessThan(450);
    expect(lines[1]!.endsWith('…')).toBe(true);
  });
});
