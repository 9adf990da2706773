import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers } from '../../main/api/handlers.js';
import { nodeCrypto } from '../../main/crypto/node.js';
import { pack, readPublicKey, readSigningKey } from '../../main/firmware/index.js';
import { toHex } from '../../main/grep/index.js';
import { METER_MODELS } from '../../sim/fleet.js';
import { Backend } from '../../main/app/backend.js';
import { MAX_BODY_BYTES, type RunningConsole, startConsole } from '../../main/console/server.js';
import type { CampaignSummary, ExecutionView, GroupView, GrepEvent, PlanView, StagingView, TrustedKeyView } from '../../preload/api.js';

let running: RunningConsole;
let backend: Backend;
const TOKEN = 't'.repeat(64);
const staticDir = mkdtempSync(join(tmpdir(), 'grep-console-'));
writeFileSync(join(tmpdir(), 'grep-console-secret.txt'), 'outside the renderer');
mkdirSync(join(staticDir, 'assets'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>GREP</title>');
writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');

beforeAll(async () => {
  backend = new Backend({
    dataDir: mkdtempSync(join(tmpdir(), 'grep-console-data-')),
    actor: 'console test',
    simulated: { meters: 20 },
    scrypt: { cost: 1024, blockSize: 8, parallelism: 1 },
    ackTimeout: 3,
  });
  running = await startConsole({
    handlers: createHandlers({ app: { name: 'grep-key-manager', version: '9.9.9' }, backend }),
    subscribe: (listener) => backend.subscribe(listener),
    staticDir,
    token: TOKEN,
    keepAliveMs: 100,
  });
});
afterAll(async () => {
  await running.close();
  await backend.close();
});

/** Raw HTTP, so paths are sent exactly as written (fetch would normalise ../). */
function call(method: string, path: string, options: { token?: string; body?: string | Buffer } = {}): Promise<{ status: number; type: string; body: string }> {
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

/** One API call as the renderer makes it; a refusal comes back as { code, message }. */
async function api<T>(name: string, ...args: unknown[]): Promise<T> {
  const response = await call('POST', `/api/${name}`, { token: TOKEN, body: JSON.stringify({ args }) });
  const parsed = JSON.parse(response.body) as { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
  if (!parsed.ok) throw Object.assign(new Error(parsed.error.message), { code: parsed.error.code });
  return parsed.value;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code: string }).code;
  }
  throw new Error('expected a refusal');
}

/** POST /api/events, read line by line. */
function openEvents(token = TOKEN): Promise<{ response: IncomingMessage; events: GrepEvent[]; blankLines: () => number; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: running.port, method: 'POST', path: '/api/events', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (response) => {
      const events: GrepEvent[] = [];
      let blank = 0;
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          if (line === '') blank++;
          else events.push(JSON.parse(line) as GrepEvent);
        }
      });
      const ended = new Promise<void>((done) => response.on('end', done));
      resolve({ response, events, blankLines: () => blank, ended });
    });
    req.on('error', reject);
    req.end('{}');
  });
}

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('headless console server', () => {
  it('prints a loopback URL carrying its token, and serves the renderer with a strict CSP', async () => {
    expect(running.url).toBe(`http://127.0.0.1:${running.port}/#token=${TOKEN}`);
    const page = await call('GET', '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>GREP</title>');
    expect((await call('GET', '/assets/app.js')).type).toMatch(/javascript/);
  });

  it('answers an API call that carries the token', async () => {
    const response = await call('POST', '/api/appInfo', { token: TOKEN, body: JSON.stringify({ args: [] }) });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true, value: { name: 'grep-key-manager', version: '9.9.9', protocolVersion: 1 } });
  });

  it.each([
    ['no token', 'POST', '/api/appInfo', { body: '{"args":[]}' }, 401, 'TOKEN'],
    ['a wrong token', 'POST', '/api/appInfo', { token: 'x'.repeat(64), body: '{"args":[]}' }, 401, 'TOKEN'],
    ['no token on the event stream', 'POST', '/api/events', { body: '{}' }, 401, 'TOKEN'],
    ['an unknown call', 'POST', '/api/formatDisk', { token: TOKEN, body: '{"args":[]}' }, 404, 'UNKNOWN_CALL'],
    ['wrong argument types', 'POST', '/api/appInfo', { token: TOKEN, body: '{"args":[1,"x"]}' }, 400, 'BAD_ARGUMENTS'],
    ['a body that is not JSON', 'POST', '/api/appInfo', { token: TOKEN, body: '{args' }, 400, 'BAD_JSON'],
    ['a GET on the API', 'GET', '/api/appInfo', { token: TOKEN }, 405, 'METHOD'],
    ['a path out of the renderer', 'GET', '/../grep-console-secret.txt', {}, 404, 'NOT_FOUND'],
    ['an encoded path out of the renderer', 'GET', '/%2e%2e/grep-console-secret.txt', {}, 404, 'NOT_FOUND'],
  ])('refuses %s with a typed error', async (_, method, path, options, status, code) => {
    const response = await call(method, path, options);
    expect(response.status).toBe(status);
    expect(JSON.parse(response.body).error.code).toBe(code);
    expect(response.body).not.toContain('outside the renderer');
  });

  it('refuses a body over 32 MiB with 413 TOO_LARGE, but lets a 16 MiB firmware package through to the checks', async () => {
    const oversized = await call('POST', '/api/stageFirmware', { token: TOKEN, body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20) });
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body).error.code).toBe('TOO_LARGE');
    const sixteenMiB = Buffer.alloc(16 * 1024 * 1024, 7).toString('base64');
    const staged = await call('POST', '/api/stageFirmware', { token: TOKEN, body: JSON.stringify({ args: [sixteenMiB] }) });
    expect(staged.status).toBe(200);
    // the store is still locked: the body was read and the call reached the back end
    expect(JSON.parse(staged.body).error.code).toBe('LOCKED');
  });

  it('answers every call but the session ones with LOCKED before unlock', async () => {
    expect(await api('session')).toMatchObject({ state: 'new', simulated: true });
    expect(await refusal(api('group'))).toBe('LOCKED');
    expect(await refusal(api('linkState'))).toBe('LOCKED');
  });
});

describe('the console with the embedded simulated DC', () => {
  it('streams events as NDJSON with keep-alive lines, starting with the link coming up on unlock', async () => {
    const stream = await openEvents();
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const session = await api<{ state: string }>('unlock', 'correct horse battery');
    expect(session.state).toBe('ready');
    await until('a connected link event', () => stream.events.some((event) => event.type === 'link' && event.link.state === 'connected'));
    const link = stream.events.find((event) => event.type === 'link')!;
    expect(link).toMatchObject({ type: 'link', link: { profile: 'simulated DC', state: 'connecting' } });
    await until('a keep-alive line', () => stream.blankLines() > 0);
    stream.response.destroy();
  });

  it('commissions the simulated fleet from its CSV, then refuses a leave with a wrong confirmation and runs it with the right one', async () => {
    const stream = await openEvents();
    const csv = await api<string>('simulatedFleetCsv');
    expect(csv.trim().split('\n')).toHaveLength(21);
    const plan = await api<PlanView>('planCommissionCsv', csv);
    expect(plan).toMatchObject({ operation: 'commission', affected: Array.from({ length: 20 }, (_, i) => i + 1), rejected: [] });
    expect(plan.confirmation).toBeUndefined();
    // into an empty group the compact re-seed is the cheapest: one epoch for the whole fleet
    expect(plan.messages).toMatchObject({ ROSTER: 1, SEED: 20 });
    const result = await api<ExecutionView>('execute', plan.id, {});
    expect(result).toMatchObject({ planId: plan.id, epochFrom: 0, epoch: 1, converged: true, unreachable: [] });
    await until('every member in sync', async () => (await api<GroupView>('group')).members.filter((m) => m.sync === 'in sync').length === 20);
    const group = await api<GroupView>('group');
    expect(group.group).toMatchObject({ name: 'substation-1', epoch: 1, members: 20 });
    expect(stream.events.some((event) => event.type === 'progress' && event.planId === plan.id)).toBe(true);
    expect(stream.events.some((event) => event.type === 'history')).toBe(true);
    expect(stream.events.some((event) => event.type === 'group' && event.epoch === 1)).toBe(true);

    const leave = await api<PlanView>('planLeave', [7]);
    expect(leave.confirmation).toBe('7');
    const historyBefore = await api<unknown[]>('history');
    expect(await refusal(api('execute', leave.id, { confirmation: '8' }))).toBe('CONFIRMATION');
    expect(await refusal(api('execute', leave.id, {}))).toBe('CONFIRMATION');
    const unchanged = await api<GroupView>('group');
    expect(unchanged.group).toMatchObject({ epoch: 1, members: 20 });
    expect(unchanged.members.find((m) => m.meterId === 7)).toMatchObject({ status: 'member' });
    expect(await api('history')).toEqual(historyBefore);

    const removed = await api<ExecutionView>('execute', leave.id, { confirmation: '7' });
    expect(removed).toMatchObject({ epochFrom: 1, converged: true });
    const after = await api<GroupView>('group');
    expect(after.group.members).toBe(19);
    expect(after.members.find((m) => m.meterId === 7)).toMatchObject({ status: 'left', sync: 'removed', removedEpoch: removed.epoch });
    expect(await api('verifyAudit')).toMatchObject({ ok: true });
    stream.response.destroy();
  });

  it('trusts the demo vendor key, stages a package signed with it and distributes it to the members, with campaign events', async () => {
    const stream = await openEvents();
    const demoPublic = toHex(readPublicKey(join(import.meta.dirname, '../../resources/firmware/demo-vendor.pub')));
    expect((await api<TrustedKeyView[]>('trustedKeys')).map((key) => key.publicKey)).toEqual([demoPublic]);
    const signingKey = readSigningKey(join(import.meta.dirname, '../../resources/firmware/demo-vendor.key'));
    const image = Uint8Array.from({ length: 3000 }, (_, i) => i % 251);
    const firmware = pack(nodeCrypto, image, { vendor: 'Demo', model: METER_MODELS[0], version: '2.0.0', sequence: 2 }, signingKey);
    const staging = await api<StagingView>('stageFirmware', Buffer.from(firmware).toString('base64'));
    expect(staging.checks.every((check) => check.status !== 'failed')).toBe(true);
    expect(staging.staged).toBeDefined();
    const pushed = await api<CampaignSummary>('pushFirmware', { packageId: staging.staged!.id });
    expect(pushed.meters).toBe(19);
    await until('the campaign distributed', async () => (await api<CampaignSummary>('campaign', pushed.id)).status === 'distributed', 30_000);
    expect(stream.events.some((event) => event.type === 'campaign' && event.campaign.id === pushed.id)).toBe(true);
    stream.response.destroy();
  });

  it('reports the link going down and up again, and ends open streams cleanly on close', async () => {
    const stream = await openEvents();
    const down = await api<{ state: string }>('disconnect');
    expect(down.state).toBe('disconnected');
    expect(await refusal(api('planLeave', [1]))).toBe('NOT_CONNECTED');
    await api('connect', 'simulated DC');
    await until('connected again', () => stream.events.some((event) => event.type === 'link' && event.link.state === 'connected'));
    expect(stream.events.map((event) => event.type === 'link' && event.link.state).filter(Boolean)).toEqual(expect.arrayContaining(['disconnected', 'connecting', 'connected']));
    await running.close();
    await stream.ended;
  });
});
