import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { GrepEvent, Unsubscribe } from '../../preload/api.js';
import { ApiError, type Handlers, invoke, toFailure } from '../api/handlers.js';
import { type ConsoleLog, createConsoleLog } from './log.js';

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
  /** the back end's event stream, served as NDJSON on POST /api/events */
  readonly subscribe?: (listener: (event: GrepEvent) => void) => Unsubscribe;
  /** tests shorten it; 15 s otherwise */
  readonly keepAliveMs?: number;
  /** where the (rate-limited) log lines go; standard error otherwise */
  readonly log?: (line: string) => void;
}

export interface RunningConsole {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/** a 16 MiB firmware package travels as base64 (~21.4 MiB) inside the JSON body */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
const KEEP_ALIVE_MS = 15_000;
/** past this much of a refused body the client is cut off instead */
const DISCARD_LIMIT = 2 * MAX_BODY_BYTES;
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
    /** a refusal the operator should hear of (a probe, not a typo in a call): logged under its code */
    readonly logged = false,
  ) {
    super(message);
  }
}

/**
 * DNS rebinding: a page from evil.example whose name is made to resolve to 127.0.0.1 reaches this
 * port with the browser's blessing, but its requests still say `Host: evil.example`. Only the names
 * of the loopback address this server is bound to are ours; the check runs before auth and routing,
 * so such a page learns nothing, not even whether a path exists.
 */
function hostRefusal(request: IncomingMessage, port: number): HttpError | undefined {
  const hosts = request.headersDistinct.host ?? [];
  if (hosts.length !== 1 || hosts[0] === '') return new HttpError(400, 'HOST', 'exactly one Host header is required', true);
  const host = hosts[0]!.toLowerCase();
  if (host === `${LOOPBACK}:${port}` || host === `localhost:${port}`) return undefined;
  return new HttpError(421, 'MISDIRECTED', `this console answers to ${LOOPBACK}:${port} and localhost:${port} only`, true);
}

/**
 * The decoded path of an origin-form target (`/path?query`); a target of another form or with a
 * malformed % escape anywhere is the client's error (400), not a crash of ours.
 */
function requestPath(target: string): string {
  if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, 'BAD_TARGET', 'the request target must be a path', true);
  try {
    const url = new URL(target, `http://${LOOPBACK}`);
    decodeURIComponent(url.search);
    return decodeURIComponent(url.pathname);
  } catch {
    throw new HttpError(400, 'BAD_TARGET', 'malformed % escape in the request target', true);
  }
}

function send(response: ServerResponse, status: number, body: string | Uint8Array, type: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, JSON.stringify(value), 'application/json');
}

/**
 * The JSON body, up to MAX_BODY_BYTES. A bigger one is refused with 413 as soon as it is known, and
 * the rest of it is read and dropped (up to a bound), so the client gets the answer rather than a reset.
 */
function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new HttpError(413, 'TOO_LARGE', `request body over ${MAX_BODY_BYTES} bytes`);
    if (Number(request.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length <= MAX_BODY_BYTES) return void chunks.push(chunk);
      if (chunks.length > 0) {
        chunks.length = 0;
        reject(tooLarge());
      }
      if (length > DISCARD_LIMIT) request.destroy();
    });
    request.once('error', reject);
    request.once('end', () => {
      if (length > MAX_BODY_BYTES) return reject(tooLarge());
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'BAD_JSON', 'request body is not JSON'));
      }
    });
  });
}

/** Reads and drops what is left of a refused body, then the connection closes. */
function discard(request: IncomingMessage, response: ServerResponse): void {
  response.setHeader('Connection', 'close');
  let dropped = 0;
  request.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_LIMIT) request.destroy();
  });
  request.resume();
}

function tokenMatches(request: IncomingMessage, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `path` is decoded already */
async function serveStatic(staticDir: string, path: string, response: ServerResponse): Promise<void> {
  const relative = normalize(path === '/' ? '/index.html' : path).replace(/^([/\\])+/, '');
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

/**
 * POST /api/events: one GrepEvent as JSON per line (application/x-ndjson), an empty line every 15 s
 * so proxies and the browser keep the response open; the stream ends when the client goes or the
 * console closes. The request body is ignored.
 */
async function streamEvents(options: ConsoleOptions, request: IncomingMessage, response: ServerResponse, streams: Set<() => void>): Promise<void> {
  if (!options.subscribe) throw new HttpError(404, 'UNKNOWN_CALL', 'this console has no event stream');
  request.resume();
  // its own connection, closed with the stream: nothing is left open for close() to wait on
  response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/x-ndjson; charset=utf-8', 'X-Accel-Buffering': 'no', Connection: 'close' });
  response.flushHeaders();
  const unsubscribe = options.subscribe((event) => void response.write(`${JSON.stringify(event)}\n`));
  const keepAlive = setInterval(() => response.write('\n'), options.keepAliveMs ?? KEEP_ALIVE_MS);
  const end = () => {
    if (!streams.delete(end)) return;
    clearInterval(keepAlive);
    unsubscribe();
    response.end();
  };
  streams.add(end);
  response.once('close', end);
}

async function route(options: ConsoleOptions, token: string, request: IncomingMessage, response: ServerResponse, streams: Set<() => void>): Promise<void> {
  const path = requestPath(request.url ?? '');
  const call = /^\/api\/([A-Za-z]+)$/.exec(path)?.[1];
  if (call === undefined) {
    if (request.method !== 'GET') throw new HttpError(405, 'METHOD', 'only GET serves the console page');
    return serveStatic(options.staticDir, path, response);
  }
  if (request.method !== 'POST') throw new HttpError(405, 'METHOD', 'API calls are POST');
  if (!tokenMatches(request, token)) throw new HttpError(401, 'TOKEN', 'missing or wrong session token', true);
  if (call === 'events') return streamEvents(options, request, response, streams);
  const body = await readBody(request);
  const args = (body as { args?: unknown } | null)?.args;
  try {
    sendJson(response, 200, { ok: true, value: await invoke(options.handlers, call, args) });
  } catch (error) {
    if (error instanceof ApiError) throw new HttpError(error.code === 'UNKNOWN_CALL' ? 404 : 400, error.code, error.message);
    sendJson(response, 200, { ok: false, error: toFailure(error) });
  }
}

/** The refusal with what the client sent (escaped by the log); the token is never part of it. */
function logRefusal(log: ConsoleLog, request: IncomingMessage, failure: HttpError, cause?: unknown): void {
  if (!failure.logged) return;
  const from = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
  const host = request.headersDistinct.host?.join(', ') ?? 'none';
  const detail = cause === undefined ? failure.message : cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
  log.line(failure.code, `${failure.status} ${request.method ?? '?'} ${request.url ?? '?'} Host ${host} from ${from}: ${detail}`);
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const staticDir = normalize(options.staticDir);
  /** open event streams, each with its end(): closed before the server so close() does not wait on them */
  const streams = new Set<() => void>();
  const log = createConsoleLog({ write: options.log ?? ((line) => void process.stderr.write(`${line}\n`)) });
  const server: Server = createServer((request, response) => {
    const misdirected = hostRefusal(request, (server.address() as AddressInfo).port);
    if (misdirected !== undefined) {
      logRefusal(log, request, misdirected);
      // plain text: nothing of the API's shape for a page that is not ours to read
      response.writeHead(misdirected.status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      return void response.end(`${misdirected.message}\n`);
    }
    route({ ...options, staticDir }, token, request, response, streams).catch((error: unknown) => {
      const failure = error instanceof HttpError ? error : new HttpError(500, 'INTERNAL', 'internal error', true);
      logRefusal(log, request, failure, error instanceof HttpError ? undefined : error);
      if (failure.status === 413 && !request.complete) discard(request, response);
      // the body says what was refused, never how the server failed: no stack, no internal message
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
    close: () =>
      new Promise((resolve) => {
        for (const end of [...streams]) end();
        server.close(() => {
          log.flush();
          resolve();
        });
        server.closeIdleConnections();
        // a call still being answered gets a moment to finish, then its connection goes too
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}
