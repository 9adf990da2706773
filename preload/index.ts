import { contextBridge, ipcRenderer } from 'electron';
import { Channel, type GrepApi } from './api.js';

/**
 * Runs sandboxed (emitted as CommonJS, see electron.vite.config.ts), so the only module it may
 * require is 'electron'. It hands the page nothing but thin invoke wrappers: never ipcRenderer
 * itself, whose `on`/`send` would let the page reach any channel.
 */
const invoke =
  <C extends (...args: never[]) => Promise<unknown>>(channel: string) =>
  (...args: Parameters<C>): ReturnType<C> =>
    ipcRenderer.invoke(channel, ...args) as ReturnType<C>;

const api: GrepApi = {
  appInfo: invoke<GrepApi['appInfo']>(Channel.appInfo),
};

contextBridge.exposeInMainWorld('grep', api);
