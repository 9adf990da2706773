/**
 * THE contract between the renderer and the back end (Electron main process, or later the headless
 * console). One function type per call; `Channel` names the IPC channel of each. Both ends are built
 * from `GrepApi`, so a call added here without a channel, a preload binding or a main handler does
 * not compile.
 *
 * This file is types plus one constant and imports nothing: the sandboxed preload bundles it and
 * the renderer sees only its types.
 */

export interface AppInfo {
  readonly name: string;
  readonly version: string;
  /** GREP wire protocol version the back end speaks (main/grep/wire.ts PROTOCOL_VERSION). */
  readonly protocolVersion: number;
}

export type AppInfoCall = () => Promise<AppInfo>;

/** What `window.grep` offers. Every member is a call returning a Promise. */
export interface GrepApi {
  readonly appInfo: AppInfoCall;
}

export type CallName = keyof GrepApi;

export const Channel = {
  appInfo: 'grep:app-info',
} as const satisfies Record<CallName, `grep:${string}`>;

declare global {
  interface Window {
    /** Exposed by preload/index.ts; absent in a plain browser with no back end attached. */
    readonly grep?: GrepApi;
  }
}
