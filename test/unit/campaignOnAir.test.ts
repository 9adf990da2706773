import { afterEach, describe, expect, test, vi } from 'vitest';
import { RoundOnAir } from '../../main/ops/campaignOnAir.js';

afterEach(() => {
  vi.useRealTimers();
});

describe("a campaign round's frames on the air", () => {
  test("counts only this round's transfers, each once, and starts again at zero with the next round", () => {
    const onAir = new RoundOnAir([10, 11, 12], () => {});
    expect(onAir.counts(undefined)).toEqual({ frames: 3, aired: 0, dcQueueSeconds: undefined });
    onAir.onAired([10, 11, 99]);
    onAir.onAired([11, 12]);
    expect(onAir.counts(2.5)).toEqual({ frames: 3, aired: 3, dcQueueSeconds: 2.5 });
    onAir.newRound([20, 21]);
    onAir.onAired([12]);
    expect(onAir.counts(0)).toEqual({ frames: 2, aired: 0, dcQueueSeconds: 0 });
    onAir.close();
  });

  test('a round stored without its transfer ids counts nothing', () => {
    const onAir = new RoundOnAir(undefined, () => {});
    onAir.onAired([1, 2]);
    expect(onAir.counts(undefined)).toEqual({ frames: 0, aired: 0, dcQueueSeconds: undefined });
  });

  test('the screen is told once per burst of reports, and only of news', () => {
    vi.useFakeTimers();
    const emit = vi.fn();
    const onAir = new RoundOnAir([1, 2, 3], emit);
    onAir.onAired([1]);
    onAir.onAired([2]);
    expect(emit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(250);
    expect(emit).toHaveBeenCalledTimes(1);
    onAir.onAired([1, 2, 99]);
    vi.advanceTimersByTime(1_000);
    expect(emit).toHaveBeenCalledTimes(1);
    onAir.onAired([3]);
    vi.advanceTimersByTime(250);
    expect(emit).toHaveBeenCalledTimes(2);
    onAir.close();
  });

  test('a closed count tells the screen nothing more: neither a burst under way nor a later report', () => {
    vi.useFakeTimers();
    const pending = vi.fn();
    const underWay = new RoundOnAir([1, 2], pending);
    underWay.onAired([1]);
    underWay.close();
    vi.advanceTimersByTime(1_000);
    expect(pending).not.toHaveBeenCalled();

    const later = vi.fn();
    const idle = new RoundOnAir([1, 2], later);
    idle.close();
    idle.onAired([1]);
    vi.advanceTimersByTime(1_000);
    expect(later).not.toHaveBeenCalled();
  });
});
