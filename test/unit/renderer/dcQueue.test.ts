import { describe, expect, test } from 'vitest';
import { dcQueueText, timeLeftText } from '../../../renderer/src/logic/dcQueue.js';

const dc = (queued: number, queuedSeconds: number) => ({ meters: 2000, queued, epoch: 3, airtimeSeconds: 120, queuedSeconds });

describe("the DC's queue, outside the Connection screen", () => {
  test('the header line counts frames and their airtime', () => {
    expect(dcQueueText(undefined)).toBeUndefined();
    expect(dcQueueText(dc(0, 0))).toBe('DC queue: empty');
    expect(dcQueueText(dc(1, 0.25))).toBe('DC queue: 1 frame, about 0.25 s of airtime');
    expect(dcQueueText(dc(23_500, 4605))).toBe('DC queue: 23500 frames, about 76 min 45 s of airtime');
  });

  test("a long action's time left is the DC's backlog", () => {
    expect(timeLeftText(undefined)).toMatch(/unknown/);
    expect(timeLeftText(dc(0, 0))).toMatch(/nothing waits in the DC's queue/);
    expect(timeLeftText(dc(140, 42.4))).toBe("about 42.4 s left on the DC's queue (140 frames)");
  });
});
