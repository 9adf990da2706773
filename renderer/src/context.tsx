import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { GrepApi, GrepEvent, SessionInfo } from '../../preload/api.js';
import { errorText } from './logic/format.js';
import { throttle } from './logic/throttle.js';

export interface StatusMessage {
  readonly kind: 'error' | 'info';
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface AppContextValue {
  readonly api: GrepApi;
  readonly session: SessionInfo;
  /** shows the error's code and message in the status line; nothing is swallowed */
  readonly report: (error: unknown, what?: string) => void;
  readonly inform: (message: string) => void;
}

export const AppContext = createContext<AppContextValue | undefined>(undefined);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === undefined) throw new Error('useApp outside the AppContext provider');
  return value;
}

export function statusFromError(error: unknown, what?: string): StatusMessage {
  const { code, message } = errorText(error);
  return { kind: 'error', code, message: what ? `${what}: ${message}` : message, at: new Date().toISOString() };
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
 * Fetches once on mount and again (throttled) on each event of `refetchOn`; failures go to the status
 * line and keep the last good data on screen.
 */
export function useResource<T>(fetch: (api: GrepApi) => Promise<T>, refetchOn: readonly GrepEvent['type'][], deps: readonly unknown[] = [], throttleMs = 400): Resource<T> {
  const { api, report } = useApp();
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
  }, [api, report, ...deps]);

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

/** Runs an async action with a busy flag; errors go to the status line and come back as undefined. */
export function useAction() {
  const { report } = useApp();
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async <T,>(action: () => Promise<T>, what?: string): Promise<T | undefined> => {
      setBusy(true);
      try {
        return await action();
      } catch (error) {
        report(error, what);
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [report],
  );
  return { busy, run };
}
