import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers } from '../../main/api/handlers.js';
import { type RunningConsole, startConsole } from '../../main/console/server.js';

let running: RunningConsole;
const staticDir = mkdtempSync(join(tmpdir(), 'grep-console-'));
writeFileSync(join(tmpdir(), 'grep-console-secret.txt'), 'outside the renderer');
mkdirSync(join(staticDir, 'assets'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>GREP</title>');
writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');

beforeAll(async () => {
  running = await startConsole({ handlers: createHandlers({ app: { name: 'grep-key-manager', version: '9.9.9' } }), staticDir, token: 't'.repeat(64) });
});
afterAll(() => running.close());

/** Raw HTTP, so paths are sent exactly as written (fetch would normalise ../). */
function call(method: string, path: string, options: { token?: string; body?: string } = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    const req = request({ host: '127.0.0.1', port: running.port, method, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('headless console server', () => {
  it('prints a loopback URL carrying its token, and serves the renderer with a strict CSP', async () => {
    expect(running.url).toBe(`http://127.0.0.1:${running.port}/#token=${'t'.repeat(64)}`);
    const page = await call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>GREP</title>');
    expect((await call('GET', '/assets/app.js')).type).toMatch(/javascript/);
  });

  it('answers an API call that carries the token', async () => {
    const response = await call('POST', '/api/appInfo', { token: running.token, body: JSON.stringify({ args: [] }) });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true, value: { name: 'grep-key-manager', version: '9.9.9', protocolVersion: 1 } });
  });

  it.each([
    ['no token', 'POST', '/api/appInfo', { body: '{"args":[]}' }, 401, 'TOKEN'],
    ['a wrong token', 'POST', '/api/appInfo', { token: 'x'.repeat(64), body: '{"args":[]}' }, 401, 'TOKEN'],
    ['an unknown call', 'POST', '/api/formatDisk', { token: 't'.repeat(64), body: '{"args":[]}' }, 404, 'UNKNOWN_CALL'],
    ['wrong argument types', 'POST', '/api/appInfo', { token: 't'.repeat(64), body: '{"args":[1,"x"]}' }, 400, 'BAD_ARGUMENTS'],
    ['a body that is not JSON', 'POST', '/api/appInfo', { token: 't'.repeat(64), body: '{args' }, 400, 'BAD_JSON'],
    ['an oversized body', 'POST', '/api/appInfo', { token: 't'.repeat(64), body: `{"args":["${'a'.repeat(1_100_000)}"]}` }, 413, 'TOO_LARGE'],
    ['a GET on the API', 'GET', '/api/appInfo', { token: 't'.repeat(64) }, 405, 'METHOD'],
    ['a path out of the renderer', 'GET', '/../grep-console-secret.txt', {}, 404, 'NOT_FOUND'],
    ['an encoded path out of the renderer', 'GET', '/%2e%2e/grep-console-secret.txt', {}, 404, 'NOT_FOUND'],
  ])('refuses %s with a typed error', async (_, method, path, options, status, code) => {
    const response = await call(method, path, options);
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body).error.code).toBe(code);
    expect(response.body).not.toContain('outside the renderer');
  });
});
