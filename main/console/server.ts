import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { ApiError, type Handlers, invoke } from '../api/handlers.js';

/**
 * The headless console (ARCHITECTURE.md "Why a headless console"): the built renderer and the same API
 * as the desktop app, over HTTP on the loopback interface only, each API call guarded by a random
 * session token the operator gets on the terminal. The renderer does not know which transport it has.
 */
export interface ConsoleOptions {
  readonly handlers: Handlers;
  /** the built renderer (out/renderer) */
  readonly staticDir: string;
  /** 0 picks a free port */
  readonly port?: number;
  /** tests pass their own; otherwise 32 random bytes */
  readonly token?: string;
}

export interface RunningConsole {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const LOOPBACK = '127.0.0.1';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};
// the same policy as the desktop window: nothing but the console's own origin
const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(response: ServerResponse, status: number, body: string | Uint8Array, type: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, JSON.stringify(value), 'application/json');
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'request body is not JSON');
  }
}

function tokenMatches(request: IncomingMessage, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function serveStatic(staticDir: string, path: string, response: ServerResponse): Promise<void> {
  const relative = normalize(decodeURIComponent(path === '/' ? '/index.html' : path)).replace(/^([/\\])+/, '');
  const file = join(staticDir, relative);
  if (!file.startsWith(staticDir + sep)) throw new HttpError(404, 'NOT_FOUND', 'not found');
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    throw new HttpError(404, 'NOT_FOUND', 'not found');
  }
  send(response, 200, body, TYPES[extname(file)] ?? 'application/octet-stream');
}

async function route(options: ConsoleOptions, token: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', `http://${LOOPBACK}`);
  const call = /^\/api\/([A-Za-z]+)$/.exec(url.pathname)?.[1];
  if (call === undefined) {
    if (request.method !== 'GET') throw new HttpError(405, 'METHOD', 'only GET serves the console page');
    return serveStatic(options.staticDir, url.pathname, response);
  }
  if (request.method !== 'POST') throw new HttpError(405, 'METHOD', 'API calls are POST');
  if (!tokenMatches(request, token)) throw new HttpError(401, 'TOKEN', 'missing or wrong session token');
  const body = await readBody(request);
  const args = (body as { args?: unknown } | null)?.args;
  try {
    sendJson(response, 200, { ok: true, value: await invoke(options.handlers, call, args) });
  } catch (error) {
    if (error instanceof ApiError) throw new HttpError(error.code === 'UNKNOWN_CALL' ? 404 : 400, error.code, error.message);
    const { code, message } = error as { code?: unknown; message?: unknown };
    sendJson(response, 200, { ok: false, error: { code: typeof code === 'string' ? code : 'FAILED', message: String(message ?? error) } });
  }
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const staticDir = normalize(options.staticDir);
  const server: Server = createServer((request, response) => {
    route({ ...options, staticDir }, token, request, response).catch((error: unknown) => {
      const failure = error instanceof HttpError ? error : new HttpError(500, 'INTERNAL', 'internal error');
      if (!(error instanceof HttpError)) console.error('[console]', error);
      if (!response.headersSent) sendJson(response, failure.status, { ok: false, error: { code: failure.code, message: failure.message } });
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port ?? 0, LOOPBACK, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${LOOPBACK}:${port}/#token=${token}`,
    port,
    token,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
