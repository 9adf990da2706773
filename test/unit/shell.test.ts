import type { IpcMainInvokeEvent, WebContents, WebFrameMain } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// main/ipc registers through ipcMain.handle; capture the handlers instead of needing Electron.
const handlers = vi.hoisted(() => new Map<string, (event: unknown, ...args: unknown[]) => unknown>());
vi.mock('electron', () => ({
  ipcMain: {
    handle: vi.fn((channel: string, listener: (event: unknown, ...args: unknown[]) => unknown) => {
      if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      handlers.set(channel, listener);
    }),
    removeHandler: vi.fn((channel: string) => handlers.delete(channel)),
  },
}));

const { registerIpc, IpcSenderRefused } = await import('../../main/ipc/index.js');
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
      name: 'GREP Key Manager',
      version: '0.1.0',
      protocolVersion: PROTOCOL_VERSION,
    });
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
    registration = registerIpc({ app: { name: 'x', version: 'y' }, isAppPage: () => true });
  });
});
