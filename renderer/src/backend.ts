import { type CallName, Channel, type GrepApi } from '../../preload/api.js';

/**
 * The API the screens use, whichever back end serves it: the preload's `window.grep` in the desktop
 * app, or the headless console's HTTP API, authorised by the token the console printed in the URL
 * fragment (a fragment never reaches a server log).
 */
export function connectBackEnd(): GrepApi | undefined {
  if (window.grep) return window.grep;
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (!token) return undefined;
  const call = async (name: CallName, args: unknown[]) => {
    const response = await fetch(`/api/${name}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ args }),
    });
    const result = (await response.json()) as { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };
    if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
    return result.value;
  };
  const names = Object.keys(Channel) as CallName[];
  return Object.fromEntries(names.map((name) => [name, (...args: unknown[]) => call(name, args)])) as unknown as GrepApi;
}
