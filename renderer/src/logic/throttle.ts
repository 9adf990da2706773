/**
 * Leading + trailing throttle: the first call runs at once, calls within `ms` collapse into one run
 * at the end of the window. Events can arrive by the hundred during a rekey; the views refetch at
 * most once per window and never miss the last change.
 */
export function throttle(run: () => void, ms: number, timers: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'> = globalThis) {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fire = () => {
    timer = undefined;
    last = Date.now();
    run();
  };
  const call = () => {
    if (timer !== undefined) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) fire();
    else timer = timers.setTimeout(fire, wait);
  };
  call.cancel = () => {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
  };
  return call;
}
