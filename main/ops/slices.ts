/**
 * Long loops of the main process (planning a commissioning of 10^5 meters) in slices: back to the event
 * loop after every SLICE_MS of work, so the DC link's keep-alives and acks and the console's requests
 * run in between. The DC drops a session it has not heard from for a few seconds (LinkTiming).
 */
const SLICE_MS = 20;

/** `each` over `items` in order, returning to the event loop every SLICE_MS. */
export async function inSlices<T>(items: Iterable<T>, each: (item: T, index: number) => void): Promise<void> {
  let sliceStart = performance.now();
  let index = 0;
  for (const item of items) {
    each(item, index++);
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise(setImmediate);
      sliceStart = performance.now();
    }
  }
}
