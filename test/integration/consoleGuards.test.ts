import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, type Handlers } from '../../main/api/handlers.js';
import { Backend } from '../../main/app/backend.js';
import { type RunningConsole, startConsole } from '../../main/console/server.js';

/*
 * The console's guards in front of the API: the Host check against DNS rebinding, malformed request
 * targets, the rate-limited and escaped log, and the "what held" refusals (CORS, traversal). The
 * handlers count their calls, so a refusal can be shown to reach none of them.
 */

const TOKEN = 'g'.repeat(64);
const staticDir = mkdtempSync(join(tmpdir(), 'grep-guards-'));
writeFileSync(join(tmpdir(), 'grep-guards-secret.txt'), 'outside the renderer');
mkdirSync(join(staticDir, 'assets'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>GREP</title>');
writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');

let running: RunningConsole;
let backend: Backend;
let handlerCalls = 0;
const logLines: string[] = [];

beforeAll(async () => {
  backend = new Backend({ dataDir: mkdtempSync(join(tmpdir(), 'grep-guards-data-')), actor: 'guards test' });
  const real = createHandlers({ app: { name: 'grep-key-manager', version: '9.9.9' }, backend });
  const counted = Object.fromEntries(
    Object.entries(real).map(([name, handler]) => [
      name,
      (...args: unknown[]) => {
        handlerCalls++;
        return (handler as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as Handlers;
  running = await startConsole({
    handlers: counted,
    subscribe: () => {
      // a back-end fault with a message that tries to forge a log line and would leak a stack
      throw new Error('subscribe broke\n[console] TOKEN: forged line');
    },
    staticDir,
    token: TOKEN,
    log: (line) => logLines.push(line),
  });
});
afterAll(async () => {
  await running.close();
  await backend.close();
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with exactly the Host and path given (http.request would normalise neither). */
function send(method: string, path: string, options: { host?: string; token?: string; body?: string; origin?: string; port?: number } = {}): Promise<Answer> {
  const port = options.port ?? running.port;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: options.host ?? `127.0.0.1:${port}`, 'Content-Type': 'application/json' };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    if (options.origin) headers.Origin = options.origin;
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Raw bytes on a socket, for requests http.request will not make (no Host, two Hosts, control bytes). */
function sendRaw(bytes: Buffer, port = running.port): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) }));
  });
}

const appInfo = (host?: string) => send('POST', '/api/appInfo', { host, token: TOKEN, body: '{"args":[]}' });
const STACK = /\bat .*:\d+:\d+|URIError|TypeError|Error:/;

describe('Host check (DNS rebinding)', () => {
  it.each([
    ['127.0.0.1:PORT', (port: number) => `127.0.0.1:${port}`],
    ['localhost:PORT', (port: number) => `localhost:${port}`],
    ['LOCALHOST:PORT (host names are case-insensitive)', (port: number) => `LOCALHOST:${port}`],
  ])('answers %s', async (_, host) => {
    const before = handlerCalls;
    const answer = await appInfo(host(running.port));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true, value: { version: '9.9.9' } });
    expect(handlerCalls).toBe(before + 1);
  });

  it.each([
    ['a rebinding name on our port', (port: number) => `evil.example:${port}`],
    ['our address on another port', (port: number) => `127.0.0.1:${port + 1}`],
    ['localhost on another port', (port: number) => `localhost:${port + 1}`],
    ['our address without a port', () => '127.0.0.1'],
    ['IPv6 loopback (not bound)', (port: number) => `[::1]:${port}`],
    ['a suffix trick', (port: number) => `127.0.0.1:${port}.evil.example`],
  ])('refuses %s with 421 before auth and routing: no API call runs', async (_, host) => {
    const before = handlerCalls;
    const call = await appInfo(host(running.port));
    expect(call.status).toBe(421);
    expect(call.headers['content-type']).toMatch(/^text\/plain/);
    expect(call.body).toBe(`this console answers to 127.0.0.1:${running.port} and localhost:${running.port} only\n`);
    expect(call.headers['access-control-allow-origin']).toBeUndefined();
    // not even whether a path exists: the page and a missing file get the same answer
    expect((await send('GET', '/', { host: host(running.port) })).status).toBe(421);
    expect((await send('GET', '/no-such-file', { host: host(running.port) })).status).toBe(421);
    expect(handlerCalls).toBe(before);
  });

  it('refuses a request without a Host, or with two, with 400', async () => {
    const before = handlerCalls;
    const none = await sendRaw(Buffer.from(`POST /api/appInfo HTTP/1.0\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 11\r\n\r\n{"args":[]}`));
    expect(none.status).toBe(400);
    const two = await sendRaw(Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${running.port}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`));
    expect(two.status).toBe(400);
    expect(two.body).not.toContain('<title>');
    expect(handlerCalls).toBe(before);
  });
});

describe('malformed request targets', () => {
  it.each([
    ['GET', '/%zz'],
    ['GET', '/assets/%E0%A4%A'],
    ['GET', '/index.html?q=%zz'],
    ['POST', '/api/%E0%A4%A'],
    ['POST', '/api/appInfo?x=%E0%A4'],
    ['POST', '/api/appInfo%'],
  ])('%s %s is a 400 with a short message, no stack, no API call', async (method, path) => {
    const before = handlerCalls;
    // a GET has no body: node's client would send it unframed
    const answer = await send(method, path, { token: TOKEN, body: method === 'POST' ? '{"args":[]}' : undefined });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ ok: false, error: { code: 'BAD_TARGET', message: 'malformed % escape in the request target' } });
    expect(answer.body).not.toMatch(STACK);
    expect(handlerCalls).toBe(before);
  });

  it('refuses a target that is not a path (absolute form) with 400', async () => {
    const answer = await sendRaw(Buffer.from(`GET http://127.0.0.1:${running.port}/ HTTP/1.1\r\nHost: 127.0.0.1:${running.port}\r\nConnection: close\r\n\r\n`));
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('BAD_TARGET');
  });

  it('a fault inside the server never reaches the response; its log line cannot be forged by its message', async () => {
    const answer = await send('POST', '/api/events', { token: TOKEN, body: '{}' });
    // the stream's headers were out when subscribe threw: the stream just ends
    expect(answer.body).toBe('');
    const logged = logLines.filter((line) => line.startsWith('[console] INTERNAL:'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('subscribe broke\\x0a[console] TOKEN: forged line');
    expect(logLines.some((line) => line.startsWith('[console] TOKEN: forged'))).toBe(false);
  });
});

describe('what held, kept as regressions', () => {
  it.each([
    ['no token', undefined],
    ['a wrong token', 'x'.repeat(64)],
    ['the token with one character more', `${TOKEN}g`],
  ])('%s is a 401 and reaches no handler', async (_, token) => {
    const before = handlerCalls;
    const answer = await send('POST', '/api/appInfo', { token, body: '{"args":[]}' });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).error.code).toBe('TOKEN');
    expect(handlerCalls).toBe(before);
  });

  it('sends no CORS header to a foreign origin, on a preflight or a call', async () => {
    const origin = 'http://evil.example';
    const preflight = await send('OPTIONS', '/api/appInfo', { origin });
    const call = await send('POST', '/api/appInfo', { origin, token: TOKEN, body: '{"args":[]}' });
    const page = await send('GET', '/', { origin });
    for (const answer of [preflight, call, page]) {
      expect(Object.keys(answer.headers).filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
    expect(preflight.status).toBe(405);
  });

  it.each([
    '/../grep-guards-secret.txt',
    '/%2e%2e/grep-guards-secret.txt',
    '/..%2fgrep-guards-secret.txt',
    '/%2e%2e%2fgrep-guards-secret.txt',
    '/assets/../../grep-guards-secret.txt',
    '/assets/..%2f..%2fgrep-guards-secret.txt',
    '/..%5cgrep-guards-secret.txt',
    `/${'..%2f'.repeat(12)}etc/passwd`,
    '/index.html%00.js',
  ])('keeps %s inside the renderer: 404', async (path) => {
    const answer = await send('GET', path);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('outside the renderer');
    expect(answer.body).not.toContain('root:');
  });
});

describe('the log', () => {
  /** a console of its own, so no other test's lines share its rate windows */
  async function quietConsole() {
    const lines: string[] = [];
    const server = await startConsole({ handlers: createHandlers({ app: { name: 'x', version: 'y' }, backend }), staticDir, token: TOKEN, log: (line) => lines.push(line) });
    return { lines, server };
  }

  it('escapes control characters of the request it quotes', async () => {
    const { lines, server } = await quietConsole();
    // a tab is allowed inside a header value, and obs-text bytes reach the server as latin1 (\x85 is NEL)
    const host = Buffer.concat([Buffer.from('evil\texample'), Buffer.from([0x85]), Buffer.from(':1')]);
    const answer = await sendRaw(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: '), host, Buffer.from('\r\nConnection: close\r\n\r\n')]), server.port);
    await server.close();
    expect(answer.status).toBe(421);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Host evil\\x09example\\x85:1');
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u0085]/);
  });

  it('stays a few lines a second under a flood of 1,000 bad requests, with a count of what it dropped', async () => {
    const { lines, server } = await quietConsole();
    const started = Date.now();
    const FLOOD = 1_000;
    let sent = 0;
    const worker = async () => {
      while (sent < FLOOD) {
        sent++;
        expect((await send('GET', '/', { host: `evil.example:${server.port}`, port: server.port })).status).toBe(421);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const seconds = (Date.now() - started) / 1000;
    // close() writes the summary of the window still open
    await server.close();
    const refusals = lines.filter((line) => /^\[console\] MISDIRECTED: 421 /.test(line));
    const summaries = lines.map((line) => /^\[console\] MISDIRECTED: suppressed (\d+) similar lines?$/.exec(line)).filter((match) => match !== null);
    const suppressed = summaries.reduce((sum, match) => sum + Number(match[1]), 0);
    console.info(`flood: ${FLOOD} requests in ${seconds.toFixed(2)} s -> ${refusals.length} log lines + ${summaries.length} summaries (${suppressed} suppressed)`);
    expect(refusals.length + suppressed).toBe(FLOOD);
    // 5 lines and one summary per started second
    expect(refusals.length).toBeLessThanOrEqual(5 * (Math.ceil(seconds) + 1));
    expect(summaries.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    expect(lines).toHaveLength(refusals.length + summaries.length);
  });
});
