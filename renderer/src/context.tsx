import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { GrepApi, GrepEvent, SessionInfo } from '../../preload/api.js';
import { errorText } from './logic/format.js';
import type { StatusMessage } from './logic/statusLine.js';
import { throttle } from './logic/throttle.js';

export type { StatusMessage } from './logic/statusLine.js';

export interface AppContextValue {
  readonly api: GrepApi;
  readonly session: SessionInfo;
  /** shows the error's code and message in the status line; nothing is swallowed */
  readonly report: (error: unknown, what?: string) => void;
  /** an outcome on the status line under `code` ('OK' unless said otherwise: a result that is not OK says so) */
  readonly inform: (message: string, code?: string) => void;
  /** the action `what` succeeded: an error it left on the status line is stale */
  readonly settle: (what: string) => void;
  /** times the back end came back after being unreachable: what was fetched before may be stale */
  readonly reconnects: number;
}

export const AppContext = createContext<AppContextValue | undefined>(undefined);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === undefined) throw new Error('useApp outside the AppContext provider');
  return value;
}

/** `world`: statusWorld() now, so the error goes when the state it describes changes */
export function statusFromError(error: unknown, what: string | undefined, world: string): StatusMessage {
  const { code, message } = errorText(error);
  return { kind: 'error', code, message: what ? `${what}: ${message}` : message, at: new Date().toISOString(), what, world };
}

/** Calls `listener` for each event of the given types while mounted. */
export function useEvents(types: readonly GrepEvent['type'][], listener: (event: GrepEvent) => void): void {
  const { api } = useApp();
  const latest = useRef(listener);
  latest.current = listener;
  const key = types.join(',');
  useEffect(() => {
    const wanted = new Set(key.split(','));
    return api.subscribe((event) => {
      if (wanted.has(event.type)) latest.current(event);
    });
  }, [api, key]);
}

export interface Resource<T> {
  readonly data: T | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * Fetches once on mount, again (throttled) on each event of `refetchOn`, and again when the back end
 * comes back after being unreachable (the events of the gap are lost); failures go to the status line
 * and keep the last good data on screen.
 */
export function useResource<T>(fetch: (api: GrepApi) => Promise<T>, refetchOn: readonly GrepEvent['type'][], deps: readonly unknown[] = [], throttleMs = 400): Resource<T> {
  const { api, report, reconnects } = useApp();
  const [data, setData] = useState<T | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const fetchRef = useRef(fetch);
  fetchRef.current = fetch;
  const generation = useRef(0);

  const load = useCallback(() => {
    const mine = ++generation.current;
    setLoading(true);
    fetchRef.current(api).then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setLoading(false);
      },
      (error: unknown) => {
        if (mine !== generation.current) return;
        setLoading(false);
        report(error);
      },
    );
  }, [api, report, reconnects, ...deps]);

  useEffect(() => {
    load();
  }, [load]);

  const throttled = useRef<ReturnType<typeof throttle> | undefined>(undefined);
  useEffect(() => {
    const t = throttle(load, throttleMs);
    throttled.current = t;
    return () => t.cancel();
  }, [load, throttleMs]);

  useEvents(refetchOn, () => throttled.current?.());
  return { data, loading, reload: load };
}

/**
 * Runs an async action with a busy flag; errors go to the status line and come back as undefined, and
 * a success clears the error an earlier attempt of the same `what` left there.
 */
export function useAction() {
  const { report, settle } = useApp();
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async <T,>(action: () => Promise<T>, what?: string): Promise<T | undefined> => {
      setBusy(true);
      try {
        const result = await action();
        if (what !== undefined) settle(what);
        return result;
      } catch (error) {
        report(error, what);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [report, settle],
  );
  return { busy, run };
}
