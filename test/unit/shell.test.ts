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
const { mkdtempSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const { Channel } = await import('../../preload/api.js');
const { PROTOCOL_VERSION } = await import('../../main/grep/wire.js');

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

describe('main/ipc sender check', () => {
  let registration: ReturnType<typeof registerIpc>;
  let appWindow: WebContents;

  beforeEach(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    registration = registerIpc({
      app: { name: 'GREP Key Manager', version: '0.1.0' },
      isAppPage: (url) => url.split('#')[0] === APP_PAGE,
      backend: new Backend({ dataDir: mkdtempSync(join(tmpdir(), 'grep-shell-')), actor: 'shell test' }),
    });
    appWindow = contents();
    registration.trust(appWindow);
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
