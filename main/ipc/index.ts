import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { type CallName, Channel } from '../../preload/api.js';
import { createHandlers, invoke, toFailure } from '../api/handlers.js';
import type { Backend } from '../app/backend.js';
import { escapeControl } from '../text/escape.js';

export interface IpcOptions {
  /** Name and version reported by `appInfo` (the shell reads them from Electron's `app`). */
  readonly app: { readonly name: string; readonly version: string };
  /** True for a URL of the app's own page; anything else has navigated away and is not the app. */
  readonly isAppPage: (url: string) => boolean;
  /** the operator session every call runs against */
  readonly backend: Backend;
}

/**
 * What each channel answers: Electron would reduce a thrown error to its message, so a failure comes
 * back as data with its code, and preload/index.ts turns it into a rejected Error again.
 */
export type IpcResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

export interface IpcRegistration {
  /** Accept calls from the top frame of these web contents (the windows the app created). */
  trust(contents: WebContents): void;
  /** Remove every handler registered here. */
  dispose(): void;
}

export class IpcSenderRefused extends Error {
  readonly code = 'IPC_SENDER_REFUSED';
  constructor(channel: string) {
    super(`${channel}: refused, the caller is not the app's own window`);
    this.name = 'IpcSenderRefused';
  }
}

/**
 * Registers one `ipcMain.handle` per call of the contract. Every handler first checks the sender,
 * as electron/fiddle does: a frame we did not create (another window, a subframe, a page the window
 * was navigated to, a frame already gone) gets a rejection and reaches no handler logic.
 */
export function registerIpc(options: IpcOptions): IpcRegistration {
  const trusted = new WeakSet<WebContents>();

  const isAppFrame = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame; // null once the frame navigated or was destroyed
    return (
      frame !== null &&
      !frame.detached &&
      frame.parent === null &&
      trusted.has(event.sender) &&
      options.isAppPage(frame.url)
    );
  };

  const handlers = createHandlers({ app: options.app, backend: options.backend });
  const channels = Object.keys(Channel) as CallName[];
  for (const call of channels) {
    const channel = Channel[call];
    ipcMain.handle(channel, (event, ...args: unknown[]) => {
      if (!isAppFrame(event)) {
        console.warn(`[ipc] ${new IpcSenderRefused(channel).message} (${escapeControl(event.senderFrame?.url ?? 'no frame')})`);
        throw new IpcSenderRefused(channel);
      }
      return invoke(handlers, call, args).then(
        (value): IpcResult => ({ ok: true, value }),
        (error: unknown): IpcResult => ({ ok: false, error: toFailure(error) }),
      );
    });
  }

  return {
    trust: (contents) => void trusted.add(contents),
    dispose: () => {
      for (const call of channels) ipcMain.removeHandler(Channel[call]);
    },
  };
}
