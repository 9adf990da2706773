import { escapeControl } from '../text/escape.js';

/**
 * The console's log, rate-limited per kind of line: a flood of bad requests (a rebinding page
 * hammering the port, a scanner) costs at most `perWindow` lines a second per kind plus one
 * "suppressed" summary, so it can neither fill the disk a terminal is redirected to nor scroll the
 * one line that matters off the operator's screen. The kinds are the server's own words, never
 * request text, so the number of kinds (and of summaries) is bounded too.
 */
export interface ConsoleLog {
  /** `text` may carry request-derived parts: control characters are escaped before it is written. */
  line(kind: string, text: string): void;
  /** writes the pending summaries now (on close) */
  flush(): void;
}

export interface ConsoleLogOptions {
  readonly write: (line: string) => void;
  /** lines per kind per second; 5 unless told */
  readonly perWindow?: number;
}

const WINDOW_MS = 1_000;

/** a line is cut here: a 16 KiB Host header must not make a 16 KiB log line */
const MAX_LINE_CHARS = 400;

interface Window {
  written: number;
  suppressed: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

export function createConsoleLog(options: ConsoleLogOptions): ConsoleLog {
  const perWindow = options.perWindow ?? 5;
  const windows = new Map<string, Window>();

  const close = (kind: string) => {
    const window = windows.get(kind);
    if (window === undefined) return;
    clearTimeout(window.timer);
    windows.delete(kind);
    if (window.suppressed > 0) options.write(`[console] ${kind}: suppressed ${window.suppressed} similar line${window.suppressed === 1 ? '' : 's'}`);
  };

  return {
    line(kind, text) {
      let window = windows.get(kind);
      if (window === undefined) {
        // the summary comes when the window ends, even if the flood stopped inside it
        const timer = setTimeout(() => close(kind), WINDOW_MS);
        timer.unref();
        window = { written: 0, suppressed: 0, timer };
        windows.set(kind, window);
      }
      if (window.written >= perWindow) {
        window.suppressed++;
        return;
      }
      window.written++;
      const escaped = escapeControl(text);
      options.write(`[console] ${kind}: ${escaped.length > MAX_LINE_CHARS ? `${escaped.slice(0, MAX_LINE_CHARS)}…` : escaped}`);
    },
    flush() {
      for (const kind of [...windows.keys()]) close(kind);
    },
  };
}
