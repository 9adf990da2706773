import { z } from 'zod';
import type { CallName, GrepApi } from '../../preload/api.js';
import { PROTOCOL_VERSION } from '../grep/wire.js';

/**
 * The back end of every call of preload/api.ts, free of Electron: the desktop shell serves it over
 * IPC (main/ipc), the headless console over HTTP (main/console). Both validate arguments here, so a
 * hostile caller meets the same checks whichever door it knocks on.
 */
export type Handler<C extends CallName> = (...args: Parameters<GrepApi[C]>) => ReturnType<GrepApi[C]>;
export type Handlers = { readonly [C in CallName]: Handler<C> };

/** Argument schemas, one per call: what crosses the boundary is checked before any handler runs. */
const ARGUMENTS: { readonly [C in CallName]: z.ZodType<Parameters<GrepApi[C]>> } = {
  appInfo: z.tuple([]),
};

export class ApiError extends Error {
  constructor(
    readonly code: 'UNKNOWN_CALL' | 'BAD_ARGUMENTS',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function createHandlers(options: { readonly app: { readonly name: string; readonly version: string } }): Handlers {
  return {
    appInfo: async () => ({ name: options.app.name, version: options.app.version, protocolVersion: PROTOCOL_VERSION }),
  };
}

export function isCallName(name: string): name is CallName {
  return Object.hasOwn(ARGUMENTS, name);
}

/** Validates `args` for `call` and runs its handler; unknown calls and bad arguments get an ApiError. */
export function invoke(handlers: Handlers, call: string, args: unknown): Promise<unknown> {
  if (!isCallName(call)) return Promise.reject(new ApiError('UNKNOWN_CALL', `no call named ${JSON.stringify(call.slice(0, 64))}`));
  const parsed = ARGUMENTS[call].safeParse(args);
  if (!parsed.success) return Promise.reject(new ApiError('BAD_ARGUMENTS', `${call}: ${parsed.error.issues.map((i) => i.message).join('; ')}`));
  return (handlers[call] as (...a: unknown[]) => Promise<unknown>)(...(parsed.data as unknown[]));
}
