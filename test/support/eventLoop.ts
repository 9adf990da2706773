/**
 * Watches the event loop while `work` runs: how often a 10 ms timer got to fire, and the longest wait
 * between two firings (the wait until `work` ended included). A main process whose work holds the loop
 * starves the DC link's keep-alives just as it starves this timer.
 */
export async function watchEventLoop<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; ticks: number; maxGapMs: number }> {
  const start = performance.now();
  let last = start;
  let ticks = 0;
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks++;
  }, 10);
  try {
    const result = await work();
    const end = performance.now();
    return { result, ms: end - start, ticks, maxGapMs: Math.max(maxGapMs, end - last) };
  } finally {
    clearInterval(timer);
  }
}
