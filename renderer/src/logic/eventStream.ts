import type { GrepEvent } from '../../../preload/api.js';
import type { Reachability } from './reachability.js';

/**
 * The console's event stream is NDJSON: one GrepEvent per line, empty lines are keep-alives. Reads
 * arrive in arbitrary chunks, so a line may be split across reads (and a UTF-8 character across
 * chunks: the caller decodes with a streaming TextDecoder). `push` returns the complete events.
 */
export class NdjsonLineParser {
  private rest = '';

  push(text: string): { readonly events: GrepEvent[]; readonly errors: string[] } {
    const events: GrepEvent[] = [];
    const errors: string[] = [];
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.trim();
      if (line === '') continue;
      try {
        const value = JSON.parse(line) as unknown;
        if (isEvent(value)) events.push(value);
        else errors.push(`not an event: ${line.slice(0, 80)}`);
      } catch {
        errors.push(`not JSON: ${line.slice(0, 80)}`);
      }
    }
    return { events, errors };
  }

  /** what is buffered of an unfinished line */
  get pending(): string {
    return this.rest;
  }
}

const TYPES = new Set(['link', 'group', 'history', 'campaign', 'progress', 'operations']);

function isEvent(value: unknown): value is GrepEvent {
  return typeof value === 'object' && value !== null && TYPES.has((value as { type?: unknown }).type as string);
}

/** Reconnect delay after `failures` consecutive failed or ended streams: 0.5 s doubling, capped. */
export function reconnectDelay(failures: number, capMs = 10_000): number {
  return Math.min(capMs, 500 * 2 ** Math.max(0, failures));
}

export interface EventStreamOptions {
  /** opens one stream: the console's POST /api/events */
  readonly open: (signal: AbortSignal) => Promise<Response>;
  readonly delay?: (failures: number) => number;
  readonly warn?: (message: string, error?: unknown) => void;
  /** what the stream learns of the back end: opened, lost (ended or failed), or its token refused (401: it stops retrying) */
  readonly reachability?: Pick<Reachability, 'reached' | 'resumed' | 'lost' | 'refused'>;
}

/**
 * One shared stream for every listener: opened with the first listener, aborted with the last,
 * reopened with backoff whenever it ends or fails (the console died, the laptop slept). A refused
 * token is final: a console that restarted has a new one, and retrying cannot get it.
 */
export function createEventStream({ open, delay = reconnectDelay, warn = console.warn, reachability }: EventStreamOptions): (listener: (event: GrepEvent) => void) => () => void {
  const listeners = new Set<(event: GrepEvent) => void>();
  let abort: AbortController | undefined;

  const dispatch = (event: GrepEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (error) {
        warn('[events] a listener failed', error);
      }
    }
  };

  const run = async (controller: AbortController) => {
    let failures = 0;
    /** a stream was lost since the last one opened: its events are gone */
    let lostOne = false;
    while (!controller.signal.aborted) {
      try {
        const response = await open(controller.signal);
        if (response.status === 401) {
          reachability?.refused();
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`event stream: HTTP ${response.status}`);
        if (lostOne) reachability?.resumed();
        else reachability?.reached();
        lostOne = false;
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        const parser = new NdjsonLineParser();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          failures = 0;
          const { events, errors } = parser.push(decoder.decode(value, { stream: true }));
          for (const error of errors) warn(`[events] ${error}`);
          events.forEach(dispatch);
        }
        // the console ends its streams only when it shuts down
        if (!controller.signal.aborted) {
          lostOne = true;
          reachability?.lost('its event stream ended');
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        warn('[events] stream failed, reconnecting', error);
        lostOne = true;
        reachability?.lost(error instanceof Error ? error.message : String(error));
      }
      if (controller.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, delay(failures++)));
    }
  };

  return (listener) => {
    listeners.add(listener);
    if (abort === undefined) {
      abort = new AbortController();
      void run(abort);
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && abort !== undefined) {
        abort.abort();
        abort = undefined;
      }
    };
  };
}
