import type { GrepEvent, Unsubscribe } from '../../preload/api.js';

/** The back end's one event stream: every transport (IPC, the console's NDJSON stream) subscribes here. */
export class EventHub {
  private readonly listeners = new Set<(event: GrepEvent) => void>();

  subscribe(listener: (event: GrepEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: GrepEvent): void {
    for (const listener of [...this.listeners]) {
      // one broken transport must not starve the others, nor fail the operation that emitted
      try {
        listener(event);
      } catch (error) {
        console.error('[events] a listener failed', error);
      }
    }
  }
}

/**
 * At most one call of `fire` per `intervalMs`: the first request fires at once, requests during the
 * quiet interval collapse into one at its end. Meter reports arrive in bursts of hundreds; the screen
 * needs to hear "refetch" twice a second at most.
 */
export function throttle(fire: () => void, intervalMs: number): { request(): void; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let pending = false;
  const quiet = () => {
    timer = setTimeout(() => {
      timer = undefined;
      if (!pending) return;
      pending = false;
      fire();
      quiet();
    }, intervalMs);
  };
  return {
    request() {
      if (timer !== undefined) {
        pending = true;
        return;
      }
      fire();
      quiet();
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
      pending = false;
    },
  };
}
