import type { IpcMainInvokeEvent, WebContents, WebFrameMain } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// main/ipc registers through ipcMain.handle; capture the handlers instead of needing Electron.
const handlers = vi.hoisted(() => new Map<string, (event: unknown, ...args: unknown[]) => unknown>());
// the preload's side: what it exposes, and what it asks of ipcRenderer
const exposed = vi.hoisted(() => new Map<string, unknown>());
const rendererListeners = vi.hoisted(() => new Map<string, Set<(...args: unknown[]) => void>>());
const invoked = vi.hoisted(() => ({ next: undefined as unknown, calls: [] as unknown[][] }));
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: vi.fn((key: string, api: unknown) => exposed.set(key, api)) },
  ipcRenderer: {
    invoke: vi.fn(async (...args: unknown[]) => {
      invoked.calls.push(args);
      return invoked.next;
    }),
    on: vi.fn((channel: string, listener: (...args: unknown[]) => void) => {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(listener);
    }),
    removeListener: vi.fn((channel: string, listener: (...args: unknown[]) => void) => rendererListeners.get(channel)?.delete(listener)),
  },
  ipcMain: {
    handle: vi.fn((channel: string, listener: (event: unknown, ...args: unknown[]) => unknown) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    }),
    removeHandler: vi.fn((channel: string) => handlers.delete(channel)),
  },
}));

const { registerIpc, IpcSenderRefused } = await import('../../main/ipc/index.js');
const { Backend } = await import('../../main/app/backend.js');
const { mkdtempSync, writeFileSync } = await import('node:fs');
const { spawnSync } = await import('node:child_process');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { Channel } = await import('../../preload/api.js');
const { PROTOCOL_VERSION } = await import('../../main/grep/wire.js');
const { appPage, isSamePage } = await import('../../main/shell/appPage.js');
const { FUSES, afterPack, packagedBinary } = await import('../../build/afterPack.mjs');
const { FuseState, FuseV1Options, getCurrentFuseWire } = await import('@electron/fuses');

const APP_PAGE = 'file:///opt/grep/out/renderer/index.html';

interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
  detached: boolean;
}
const frame = (url: string, parent: FakeFrame | null = null): FakeFrame => ({ url, parent, detached: false });
const contents = (): WebContents => ({}) as WebContents;
const event = (sender: WebContents, senderFrame: FakeFrame | null): IpcMainInvokeEvent =>
  ({ sender, senderFrame: senderFrame as WebFrameMain | null, frameId: 1, processId: 1, type: 'frame' }) as IpcMainInvokeEvent;

function call(channel: string, e: IpcMainInvokeEvent, ...args: unknown[]): Promise<unknown> {
  const handler = handlers.get(channel);
  if (handler === undefined) throw new Error(`no handler for ${channel}`);
  return Promise.resolve().then(() => handler(e, ...args));
}

/** The IPC handlers registered with `isAppPage`, and the app's own window trusted. */
function registerTrusted(isAppPage: (url: string) => boolean): { registration: ReturnType<typeof registerIpc>; appWindow: WebContents } {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const registration = registerIpc({
    app: { name: 'GREP Key Manager', version: '0.1.0' },
    isAppPage,
    backend: new Backend({ dataDir: mkdtempSync(join(tmpdir(), 'grep-shell-')), actor: 'shell test' }),
  });
  const appWindow = contents();
  registration.trust(appWindow);
  return { registration, appWindow };
}

describe('main/ipc sender check', () => {
  let registration: ReturnType<typeof registerIpc>;
  let appWindow: WebContents;

  beforeEach(() => {
    ({ registration, appWindow } = registerTrusted((url) => url.split('#')[0] === APP_PAGE));
  });

  afterEach(() => {
    registration.dispose();
    vi.restoreAllMocks();
  });

  it('registers a handler for every channel of the contract', () => {
    expect([...handlers.keys()].sort()).toEqual(Object.values(Channel).sort());
  });

  it("answers the app's own window", async () => {
    await expect(call(Channel.appInfo, event(appWindow, frame(APP_PAGE)))).resolves.toEqual({
      ok: true,
      value: { name: 'GREP Key Manager', version: '0.1.0', protocolVersion: PROTOCOL_VERSION },
    });
  });

  it('returns refusals as typed results, with the same checks as the console', async () => {
    const own = event(appWindow, frame(APP_PAGE));
    await expect(call(Channel.group, own)).resolves.toEqual({ ok: false, error: { code: 'LOCKED', message: expect.any(String) } });
    await expect(call(Channel.planLeave, own, [1.5])).resolves.toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENTS' } });
    await expect(call(Channel.session, own, 'extra')).resolves.toMatchObject({ ok: false, error: { code: 'BAD_ARGUMENTS' } });
    await expect(call(Channel.session, own)).resolves.toMatchObject({ ok: true, value: { state: 'new', simulated: false } });
  });

  it('refuses a window the app did not create', async () => {
    const stranger = contents();
    await expect(call(Channel.appInfo, event(stranger, frame(APP_PAGE)))).rejects.toBeInstanceOf(IpcSenderRefused);
  });

  it("refuses a subframe inside the app's window", async () => {
    const top = frame(APP_PAGE);
    await expect(call(Channel.appInfo, event(appWindow, frame(APP_PAGE, top)))).rejects.toBeInstanceOf(
      IpcSenderRefused,
    );
  });

  it("refuses the app's window once it shows a foreign page", async () => {
    await expect(call(Channel.appInfo, event(appWindow, frame('https://evil.example/')))).rejects.toBeInstanceOf(
      IpcSenderRefused,
    );
  });

  it('refuses a sender whose frame is gone', async () => {
    await expect(call(Channel.appInfo, event(appWindow, null))).rejects.toBeInstanceOf(IpcSenderRefused);
    const detached = { ...frame(APP_PAGE), detached: true };
    await expect(call(Channel.appInfo, event(appWindow, detached))).rejects.toBeInstanceOf(IpcSenderRefused);
  });

  it('dispose removes every handler', () => {
    registration.dispose();
    expect(handlers.size).toBe(0);
    registration = registerIpc({ app: { name: 'x', version: 'y' }, isAppPage: () => true, backend: new Backend({ dataDir: tmpdir(), actor: 'x' }) });
  });
});

describe("the app's page", () => {
  const RENDERER_FILE = '/opt/grep/out/renderer/index.html';
  const built = appPage({ packaged: true, env: {}, rendererFile: RENDERER_FILE });
  let registration: ReturnType<typeof registerIpc>;
  let appWindow: WebContents;

  beforeEach(() => {
    ({ registration, appWindow } = registerTrusted((url) => isSamePage(built.url, url)));
  });

  afterEach(() => {
    registration.dispose();
    vi.restoreAllMocks();
  });

  it('is the file URL the window loads, whatever its query or fragment', async () => {
    expect(built).toEqual({ url: new URL(`file://${RENDERER_FILE}`), devServer: false });
    for (const url of [APP_PAGE, `${APP_PAGE}#token=x`, `${APP_PAGE}?a=1`]) {
      await expect(call(Channel.appInfo, event(appWindow, frame(url)))).resolves.toMatchObject({ ok: true });
    }
  });

  it.each([
    ['the same path on a file host (a UNC share)', 'file://evil.example/opt/grep/out/renderer/index.html'],
    ['the same path over http', 'http://127.0.0.1/opt/grep/out/renderer/index.html'],
    ['the same path over https on another host', 'https://evil.example/opt/grep/out/renderer/index.html'],
    ['the same path on a custom scheme', 'app://-/opt/grep/out/renderer/index.html'],
    ['another file beside it', 'file:///opt/grep/out/renderer/evil.html'],
    ['not a URL', 'index.html'],
  ])('refuses a sender showing %s', async (_, url) => {
    expect(isSamePage(built.url, url)).toBe(false);
    await expect(call(Channel.appInfo, event(appWindow, frame(url)))).rejects.toBeInstanceOf(IpcSenderRefused);
  });

  it('is the dev server only under electron-vite dev, unpackaged; there, only its page is the app', () => {
    const dev = { ELECTRON_RENDERER_URL: 'http://localhost:5173', NODE_ENV_ELECTRON_VITE: 'development' };
    const served = appPage({ packaged: false, env: dev, rendererFile: RENDERER_FILE });
    expect(served).toEqual({ url: new URL('http://localhost:5173/'), devServer: true });
    expect(isSamePage(served.url, 'http://localhost:5173/#token=x')).toBe(true);
    expect(isSamePage(served.url, 'http://localhost:5174/')).toBe(false);
    expect(isSamePage(served.url, 'http://localhost:5173/@fs/etc/passwd')).toBe(false);
    expect(isSamePage(served.url, 'https://localhost:5173/')).toBe(false);
  });

  it.each([
    ['a packaged app, even with the dev variables set', true, { ELECTRON_RENDERER_URL: 'https://evil.example/', NODE_ENV_ELECTRON_VITE: 'development' }],
    ['an unpackaged build not started by electron-vite dev', false, { ELECTRON_RENDERER_URL: 'https://evil.example/' }],
    ['an unpackaged build after electron-vite build', false, { ELECTRON_RENDERER_URL: 'https://evil.example/', NODE_ENV_ELECTRON_VITE: 'production' }],
  ])('ignores ELECTRON_RENDERER_URL in %s', (_, packaged, env) => {
    expect(appPage({ packaged, env, rendererFile: RENDERER_FILE })).toEqual(built);
  });
});

describe('packaging: the afterPack fuses', () => {
  it('turns off RunAsNode, NODE_OPTIONS and --inspect, and turns on asar integrity, asar-only loading and cookie encryption', () => {
    expect(FUSES).toEqual({
      version: '1',
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
      [FuseV1Options.EnableCookieEncryption]: true,
    });
  });

  /** A stand-in Electron binary: filler, the fuse sentinel, wire version 1 and Electron's default wire. */
  function fakeElectron(path: string, wire: string): void {
    writeFileSync(path, Buffer.concat([Buffer.alloc(4096, 0xcc), Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'), Buffer.from([1, wire.length]), Buffer.from(wire), Buffer.alloc(4096, 0xcc)]));
  }

  it('flips them in the binary electron-builder packed, and reads them back', async () => {
    const appOutDir = mkdtempSync(join(tmpdir(), 'grep-pack-'));
    const context = { appOutDir, electronPlatformName: 'linux', packager: { executableName: 'grep-key-manager', appInfo: { productFilename: 'GREP Key Manager' } } };
    expect(packagedBinary(context)).toBe(join(appOutDir, 'grep-key-manager'));
    expect(packagedBinary({ ...context, electronPlatformName: 'win32' })).toBe(join(appOutDir, 'GREP Key Manager.exe'));
    // Electron's defaults: RunAsNode, NODE_OPTIONS, --inspect, file:// privileges and wasm trap handlers on
    fakeElectron(packagedBinary(context), '101100011');
    await afterPack(context);
    const wire = await getCurrentFuseWire(packagedBinary(context));
    const { ENABLE: on, DISABLE: off } = FuseState;
    expect(wire).toMatchObject({ [FuseV1Options.RunAsNode]: off, [FuseV1Options.EnableCookieEncryption]: on, [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: off, [FuseV1Options.EnableNodeCliInspectArguments]: off, [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: on, [FuseV1Options.OnlyLoadAppFromAsar]: on, [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: off, [FuseV1Options.GrantFileProtocolExtraPrivileges]: on, [FuseV1Options.WasmTrapHandlers]: on });
  });
});

describe('without the Electron binary', () => {
  // an empty binary folder, an empty download cache and a download mirror on a closed loopback port:
  // the binary is missing and cannot be fetched here, on any machine
  const offline = () => ({ ...process.env, ELECTRON_OVERRIDE_DIST_PATH: mkdtempSync(join(tmpdir(), 'grep-no-electron-')), electron_config_cache: mkdtempSync(join(tmpdir(), 'grep-no-cache-')), ELECTRON_MIRROR: 'http://127.0.0.1:1/' });
  const ROOT = join(import.meta.dirname, '../..');

  it.each([
    ['npm run dist', 'bin/dist.mjs', 'npm run dist: the Electron binary is not installed (no network to fetch it): packaging needs it; run on a machine with internet'],
    ['npm start', 'bin/start.mjs', "Electron's binary is not installed on this machine (it is fetched on first run and needs internet); run `npm run console` for the same app in a browser."],
  ])('%s says so in one line and exits 1', (_, script, line) => {
    const result = spawnSync(process.execPath, [script], { cwd: ROOT, env: offline(), encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`${line}\n`);
    expect(result.stdout).toBe('');
  });
});

describe('preload bridge', () => {
  it('exposes one binding per channel and subscribe, nothing else', async () => {
    await import('../../preload/index.js');
    const api = exposed.get('grep') as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...Object.keys(Channel), 'subscribe'].sort());
    expect([...exposed.keys()]).toEqual(['grep']);
  });

  it('resolves a typed result to its value and rejects a failure with its code', async () => {
    const api = exposed.get('grep') as import('../../preload/api.js').GrepApi;
    invoked.next = { ok: true, value: { state: 'new' } };
    await expect(api.session()).resolves.toEqual({ state: 'new' });
    expect(invoked.calls.at(-1)).toEqual([Channel.session]);
    invoked.next = { ok: false, error: { code: 'CONFIRMATION', message: 'type it exactly' } };
    const refused = await api.execute('p', { confirmation: 'x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    // the code rides in the message too: the contextBridge keeps nothing else of an Error
    expect(refused).toMatchObject({ code: 'CONFIRMATION', message: '[CONFIRMATION] type it exactly' });
    expect(invoked.calls.at(-1)).toEqual([Channel.execute, 'p', { confirmation: 'x' }]);
  });

  it('subscribe hands the listener the event only, and its unsubscribe removes exactly that listener', async () => {
    const { EVENT_CHANNEL } = await import('../../preload/api.js');
    const api = exposed.get('grep') as import('../../preload/api.js').GrepApi;
    const seen: unknown[][] = [];
    const unsubscribe = api.subscribe((...args: unknown[]) => seen.push(args));
    const ipcEvent = { sender: 'the ipcRenderer itself', senderId: 0 };
    for (const listener of rendererListeners.get(EVENT_CHANNEL) ?? []) listener(ipcEvent, { type: 'history' });
    expect(seen).toEqual([[{ type: 'history' }]]);
    unsubscribe();
    expect(rendererListeners.get(EVENT_CHANNEL)?.size).toBe(0);
  });
});
