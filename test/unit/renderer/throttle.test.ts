import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { throttle } from '../../../renderer/src/logic/throttle.js';

describe('refetch throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test('first call runs at once, a burst collapses into one trailing run', () => {
    let runs = 0;
    const t = throttle(() => runs++, 300);
    t();
    expect(runs).toBe(1);
    for (let i = 0; i < 50; i++) t();
    expect(runs).toBe(1);
    vi.advanceTimersByTime(300);
    expect(runs).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(runs).toBe(2);
  });

  test('cancel drops the pending run', () => {
    let runs = 0;
    const t = throttle(() => runs++, 300);
    t();
    t();
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(runs).toBe(1);
  });
});
