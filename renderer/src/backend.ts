import { type CallName, Channel, type GrepApi } from '../../preload/api.js';
import { createEventStream } from './logic/eventStream.js';
import { takeSessionToken } from './logic/sessionToken.js';

/**
 * The API the screens use, whichever back end serves it: the preload's `window.grep` in the desktop
 * app, or the headless console's HTTP API, authorised by the token the console printed in the URL
 * fragment (a fragment never reaches a server log; takeSessionToken drops it from the history). Calls are POST /api/<call>; events arrive on one
 * NDJSON stream, POST /api/events, reopened with backoff when it ends.
 */
export function connectBackEnd(): GrepApi | undefined {
  if (window.grep) return window.grep;
  const token = takeSessionToken(window);
  if (!token) return undefined;
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const call = async (name: CallName, args: unknown[]) => {
    const response = await fetch(`/api/${name}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ args }),
    });
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
  });
  return { ...calls, subscribe } as unknown as GrepApi;
}
