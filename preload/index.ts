import { contextBridge, type IpcRendererEvent, ipcRenderer } from 'electron';
import { type CallName, Channel, EVENT_CHANNEL, type GrepApi, type GrepEvent } from './api.js';

/**
 * Runs sandboxed (emitted as CommonJS, see electron.vite.config.ts), so the only module it may
 * require is 'electron'. It hands the page nothing but thin wrappers: never ipcRenderer itself,
 * whose `on`/`send` would let the page reach any channel, and never an IpcRendererEvent, which
 * carries the sender.
 */

type IpcResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/**
 * A failure rejects with an Error carrying the back end's `code`, as over the console transport. The
 * contextBridge copies only an Error's message into the page (electron/electron#25596), so the code
 * also leads the message as "[CODE] " for the page to read back; the renderer can match /^\[([A-Z_]+)\] /.
 */
const call =
  (channel: string) =>
  async (...args: unknown[]): Promise<unknown> => {
    const result = (await ipcRenderer.invoke(channel, ...args)) as IpcResult;
    if (result.ok) return result.value;
    throw Object.assign(new Error(`[${result.error.code}] ${result.error.message}`), { code: result.error.code });
  };

const subscribe: GrepApi['subscribe'] = (listener) => {
  const relay = (_event: IpcRendererEvent, event: GrepEvent) => listener(event);
  ipcRenderer.on(EVENT_CHANNEL, relay);
  return () => void ipcRenderer.removeListener(EVENT_CHANNEL, relay);
};

// Channel has an entry for every call (preload/api.ts), so every call gets its binding here
const names = Object.keys(Channel) as CallName[];
const calls = Object.fromEntries(names.map((name) => [name, call(Channel[name])])) as { [C in CallName]: GrepApi[C] };
const api: GrepApi = { ...calls, subscribe };

contextBridge.exposeInMainWorld('grep', api);
