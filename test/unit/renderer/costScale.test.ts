import { describe, expect, test } from 'vitest';
import { formatBytes, logScale } from '../../../renderer/src/logic/costScale.js';

describe('cost chart log scale', () => {
  test('the top is the decade at or above the largest value', () => {
    expect(logScale([120, 45_000, 3], 400).top).toBe(100_000);
    expect(logScale([1000], 400).top).toBe(1000);
    expect(logScale([1001], 400).top).toBe(10_000);
  });

  test('each decade takes the same length; the top decade ends at the width', () => {
    const scale = logScale([100, 10_000], 400);
    expect(scale.length(10_000)).toBeCloseTo(400);
    expect(scale.length(100)).toBeCloseTo(200);
    expect(scale.length(1000)).toBeCloseTo(300);
    expect(scale.ticks.map((t) => t.value)).toEqual([1, 10, 100, 1000, 10_000]);
    expect(scale.ticks.map((t) => t.at)).toEqual([0, 100, 200, 300, 400]);
  });

  test('a bigger value always gets a longer bar, 0 and 1 get none', () => {
    const scale = logScale([50, 5000, 500_000], 300);
    expect(scale.length(50)).toBeLessThan(scale.length(5000));
    expect(scale.length(5000)).toBeLessThan(scale.length(500_000));
    expect(scale.length(0)).toBe(0);
    expect(scale.length(1)).toBe(0);
  });

  test('no values or only tiny ones still give a usable one-decade axis', () => {
    const scale = logScale([], 100);
    expect(scale.top).toBe(10);
    expect(scale.ticks).toHaveLength(2);
    expect(Number.isFinite(scale.length(5))).toBe(true);
  });

  test('labels', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1234)).toBe('1.2 kB');
    expect(formatBytes(456_000)).toBe('456 kB');
    expect(formatBytes(12_300_000)).toBe('12.3 MB');
  });
});
