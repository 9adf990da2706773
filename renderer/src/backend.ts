import { type CallName, Channel, type GrepApi } from '../../preload/api.js';
import { createEventStream, reconnectDelay } from './logic/eventStream.js';
import { Reachability } from './logic/reachability.js';
import { takeSessionToken } from './logic/sessionToken.js';

/** The API the screens use, and whether its back end is still there. */
export interface BackEnd {
  readonly api: GrepApi;
  readonly reachability: Reachability;
}

/** a console back in a few seconds is noticed within this much */
const RECONNECT_CAP_MS = 3000;

/**
 * The API the screens use, whichever back end serves it: the preload's `window.grep` in the desktop
 * app (in the same process: always reachable), or the headless console's HTTP API, authorised by the
 * token the console printed in the URL fragment (a fragment never reaches a server log;
 * takeSessionToken drops it from the history). Calls are POST /api/<call>; events arrive on one NDJSON
 * stream, POST /api/events, reopened with backoff when it ends. A call that cannot reach the console
 * fails with code UNREACHABLE, one whose token is refused with TOKEN, and both tell `reachability`.
 */
export function connectBackEnd(): BackEnd | undefined {
  const reachability = new Reachability();
  if (window.grep) return { api: window.grep, reachability };
  const token = takeSessionToken(window);
  // the console's new address pasted into this tab changes only the fragment, which loads nothing: load the page for it
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(window.location.hash.slice(1)).has('token')) window.location.reload();
  });
  if (!token) return undefined;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const call = async (name: CallName, args: unknown[]) => {
    let response: Response;
    try {
      response = await fetch(`/api/${name}`, { method: 'POST', headers, body: JSON.stringify({ args }) });
    } catch (error) {
      // fetch rejects only when no answer came: the console process is gone or the port is closed
      const detail = error instanceof Error ? error.message : String(error);
      reachability.lost(detail);
      throw Object.assign(new Error(`${name}: the console back end is unreachable (${detail})`), { code: 'UNREACHABLE' });
    }
    if (response.status === 401) {
      reachability.refused();
      throw Object.assign(new Error(`${name}: the console refused this page's session token; if it restarted, reopen the address it printed`), { code: 'TOKEN' });
    }
    reachability.reached();
    let result: { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };
    try {
      result = (await response.json()) as typeof result;
    } catch {
      throw Object.assign(new Error(`${name}: the console answered HTTP ${response.status} without a JSON body`), { code: `HTTP_${response.status}` });
    }
    if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
    return result.value;
  };
  const names = Object.keys(Channel) as CallName[];
  const calls = Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => call(name, args)]));
  const subscribe = createEventStream({
    open: (signal) => fetch('/api/events', { method: 'POST', headers, body: '{}', signal }),
    delay: (failures) => reconnectDelay(failures, RECONNECT_CAP_MS),
    reachability,
  });
  return { api: { ...calls, subscribe } as unknown as GrepApi, reachability };
}
