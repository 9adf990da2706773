import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandlers, type Handlers, invoke, MAX_CSV_CHARS } from '../../main/api/handlers.js';
import { Backend } from '../../main/app/backend.js';
import { throttle } from '../../main/app/events.js';
import type { GrepEvent, LinkView, PlanView } from '../../preload/api.js';

/*
 * Hostile calls through the one door both transports use: every refusal is typed, and none of them
 * changes the group, its history or the audit log.
 */

const PASSPHRASE = 'correct horse battery';
const CHEAP = { scrypt: { cost: 1024, blockSize: 8, parallelism: 1 }, ackTimeout: 2, failureDelayMs: 20 } as const;
const app = { name: 'grep-key-manager', version: '0.0.0-test' };
const dataDir = mkdtempSync(join(tmpdir(), 'grep-api-'));

function open(): { backend: Backend; handlers: Handlers } {
  const backend = new Backend({ dataDir, actor: 'api test', simulated: { meters: 6, loss: 0 }, ...CHEAP });
  return { backend, handlers: createHandlers({ app, backend }) };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

/** What a refused call must leave alone; sync timestamps move with every report, so they are left out. */
async function snapshot(handlers: Handlers) {
  const group = await handlers.group();
  return {
    group: group.group,
    members: group.members.map(({ meterId, status, subgroup, position, joinedEpoch, removedEpoch }) => ({ meterId, status, subgroup, position, joinedEpoch, removedEpoch })),
    history: await handlers.history(),
    audit: (await handlers.auditLog()).length,
    profiles: await handlers.dcProfiles(),
  };
}

describe('a locked back end', () => {
  it('refuses a short passphrase for a new store and creates nothing', async () => {
    const { backend, handlers } = open();
    expect((await handlers.session()).state).toBe('new');
    expect(await failure(invoke(handlers, 'unlock', ['short']))).toMatchObject({ code: 'BAD_ARGUMENTS' });
    expect(existsSync(join(dataDir, 'km.sqlite'))).toBe(false);
    await backend.close();
  });

  it.each([
    ['group', []],
    ['history', []],
    ['dcProfiles', []],
    ['serialPorts', []],
    ['linkState', []],
    ['connect', ['simulated DC']],
    ['planLeave', [[1]]],
    ['execute', [randomUUID(), { confirmation: '1' }]],
    ['simulatedFleetCsv', []],
    ['auditLog', []],
    ['trustedKeys', []],
  ])('answers %s with LOCKED before unlock', async (call, args) => {
    const { backend, handlers } = open();
    expect(await failure(invoke(handlers, call, args))).toMatchObject({ code: 'LOCKED' });
    await backend.close();
  });
});

describe('hostile calls through invoke()', () => {
  let backend: Backend;
  let handlers: Handlers;
  const events: GrepEvent[] = [];

  beforeAll(async () => {
    ({ backend, handlers } = open());
    backend.subscribe((event) => events.push(event));
    await handlers.unlock(PASSPHRASE);
    const plan = await handlers.planCommissionCsv((await handlers.simulatedFleetCsv())!);
    const result = await handlers.execute(plan.id, {});
    expect(result.converged).toBe(true);
  });
  afterAll(() => backend.close());

  it.each([
    ['an unknown call', 'formatDisk', [], 'UNKNOWN_CALL'],
    ['a prototype name as call', '__proto__', [], 'UNKNOWN_CALL'],
    ['a call named constructor', 'constructor', [], 'UNKNOWN_CALL'],
    ['arguments that are not a list', 'group', {}, 'BAD_ARGUMENTS'],
    ['missing arguments', 'planLeave', undefined, 'BAD_ARGUMENTS'],
    ['an extra argument', 'planLeave', [[1], 'and more'], 'BAD_ARGUMENTS'],
    ['an extra argument to a call without any', 'history', ['x'], 'BAD_ARGUMENTS'],
    ['a string for meter ids', 'planLeave', ['1 2'], 'BAD_ARGUMENTS'],
    ['a non-integer meter id', 'planLeave', [[1.5]], 'BAD_ARGUMENTS'],
    ['meter id 0', 'planLeave', [[0]], 'BAD_ARGUMENTS'],
    ['a meter id above 2^32-1', 'planLeave', [[2 ** 32]], 'BAD_ARGUMENTS'],
    ['an empty meter list', 'planRecover', [[]], 'BAD_ARGUMENTS'],
    ['an unknown meter', 'planLeave', [[999]], 'UNKNOWN_METER'],
    ['a meter named twice', 'planLeave', [[2, 2]], 'DUPLICATE_METER'],
    ['removing every member', 'planLeave', [[1, 2, 3, 4, 5, 6]], 'WOULD_EMPTY_GROUP'],
    ['a commissioned meter again', 'planCommission', [[{ id: 1, serial: 's', model: 'm', nodeKey: '00'.repeat(16) }]], 'DUPLICATE_METER'],
    ['a node key that is not hex', 'planCommission', [[{ id: 77, serial: 's', model: 'm', nodeKey: 'zz'.repeat(16) }]], 'BAD_ARGUMENTS'],
    ['a short node key', 'planCommission', [[{ id: 77, serial: 's', model: 'm', nodeKey: '00'.repeat(15) }]], 'BAD_ARGUMENTS'],
    ['an extra field on a meter', 'planCommission', [[{ id: 77, serial: 's', model: 'm', nodeKey: '00'.repeat(16), admin: true }]], 'BAD_ARGUMENTS'],
    ['a CSV over 16 MiB', 'planCommissionCsv', ['x'.repeat(MAX_CSV_CHARS + 1)], 'BAD_ARGUMENTS'],
    ['a CSV without one valid line', 'planCommissionCsv', ['id,serial,model,nodeKey\n1,a,b,c\n'], 'EMPTY_SET'],
    ['a command with an unknown action', 'planCommand', [{ action: 'explode', meters: 'all' }], 'BAD_ARGUMENTS'],
    ['an oversized profile name', 'connect', ['p'.repeat(65)], 'BAD_ARGUMENTS'],
    ['an unknown profile', 'connect', ['nowhere'], 'BAD_ARGUMENTS'],
    ['an oversized passphrase', 'unlock', ['x'.repeat(1025)], 'BAD_ARGUMENTS'],
    ['a pairing key that is not hex', 'saveDcProfile', [{ name: 'dc2', transport: 'tcp', host: '10.0.0.1', port: 4059, pairingKey: 'xy'.repeat(16) }], 'BAD_ARGUMENTS'],
    ['a pairing key of 20 bytes', 'saveDcProfile', [{ name: 'dc2', transport: 'tcp', host: '10.0.0.1', port: 4059, pairingKey: 'ab'.repeat(20) }], 'BAD_ARGUMENTS'],
    ['a profile with an extra field', 'saveDcProfile', [{ name: 'dc2', transport: 'tcp', host: '10.0.0.1', port: 4059, pairingKey: 'ab'.repeat(16), shell: 'rm' }], 'BAD_ARGUMENTS'],
    ['a host with a space', 'saveDcProfile', [{ name: 'dc2', transport: 'tcp', host: 'a b', port: 4059, pairingKey: 'ab'.repeat(16) }], 'BAD_ARGUMENTS'],
    ['port 70000', 'saveDcProfile', [{ name: 'dc2', transport: 'tcp', host: '10.0.0.1', port: 70_000, pairingKey: 'ab'.repeat(16) }], 'BAD_ARGUMENTS'],
    ['a vendor key that is not hex', 'trustKey', ['vendor', 'g'.repeat(64)], 'BAD_ARGUMENTS'],
    ['a firmware package that is not base64', 'stageFirmware', ['not base64!'], 'BAD_ARGUMENTS'],
    ['a non-integer campaign id', 'campaign', [1.5], 'BAD_ARGUMENTS'],
    ['a negative campaign id', 'pauseCampaign', [-1], 'BAD_ARGUMENTS'],
    ['a campaign id as text', 'cancelCampaign', ['1'], 'BAD_ARGUMENTS'],
    ['a plan id that is not a UUID', 'execute', ['../../etc/passwd', {}], 'BAD_ARGUMENTS'],
    ['execute options with an extra field', 'execute', [randomUUID(), { force: true }], 'BAD_ARGUMENTS'],
    ['a confirmation that is not text', 'execute', [randomUUID(), { confirmation: 3 }], 'BAD_ARGUMENTS'],
    ['an unknown plan', 'execute', [randomUUID(), {}], 'UNKNOWN_PLAN'],
    ['an unknown command plan', 'executeCommand', [randomUUID()], 'UNKNOWN_PLAN'],
  ])('refuses %s with a typed error and changes nothing', async (_, call, args, code) => {
    const before = await snapshot(handlers);
    const refused = await failure(invoke(handlers, call, args));
    expect(refused.code).toBe(code);
    expect(refused.message.length).toBeGreaterThan(0);
    expect(await snapshot(handlers)).toEqual(before);
  });

  it('refuses a leave whose typed confirmation differs, in the back end, and runs it with the right one', async () => {
    const plan = (await invoke(handlers, 'planLeave', [[4, 2]])) as PlanView;
    expect(plan.confirmation).toBe('4 2');
    const before = await snapshot(handlers);
    for (const typed of [undefined, '', '4', '2 4', '4  2', '4 2 ']) {
      expect((await failure(invoke(handlers, 'execute', [plan.id, typed === undefined ? {} : { confirmation: typed }]))).code).toBe('CONFIRMATION');
    }
    expect(await snapshot(handlers)).toEqual(before);
    await invoke(handlers, 'execute', [plan.id, { confirmation: '4 2' }]);
    const after = await handlers.group();
    expect(after.members.filter((meter) => meter.status === 'left').map((meter) => meter.meterId)).toEqual([2, 4]);
    // the plan is spent: a second run is the service's refusal
    expect((await failure(invoke(handlers, 'execute', [plan.id, { confirmation: '4 2' }]))).code).toBe('PLAN_CONSUMED');
  });

  it('asks for the group name to run a recovery', async () => {
    const plan = (await invoke(handlers, 'planRecover', [[5]])) as PlanView;
    expect(plan.confirmation).toBe('substation-1');
    const before = await snapshot(handlers);
    expect((await failure(invoke(handlers, 'execute', [plan.id, { confirmation: '5' }]))).code).toBe('CONFIRMATION');
    expect(await snapshot(handlers)).toEqual(before);
  });

  it('never returns a node key or a pairing key', async () => {
    const csv = (await handlers.simulatedFleetCsv())!;
    const nodeKeys = csv.trim().split('\n').slice(1).map((line) => line.split(',')[3]!.toLowerCase());
    const { store } = backend as unknown as { store: { dcProfile(name: string): { pairingKey: Uint8Array } } };
    const pairingKey = Buffer.from(store.dcProfile('simulated DC').pairingKey).toString('hex');
    const seen = JSON.stringify([
      await handlers.session(),
      await handlers.group(),
      await handlers.history(),
      await handlers.auditLog(),
      await handlers.dcProfiles(),
      await handlers.linkState(),
      await handlers.costChart(),
      events,
    ]).toLowerCase();
    for (const key of [...nodeKeys, pairingKey]) expect(seen).not.toContain(key);
    expect(await handlers.dcProfiles()).toEqual([{ name: 'simulated DC', transport: 'tcp', host: '127.0.0.1', port: expect.any(Number) }]);
  });

  it('shows why a serial DC cannot be reached in the link detail, and refuses actions while no DC is connected', async () => {
    const path = join(dataDir, 'no-such-tty');
    await handlers.saveDcProfile({ name: 'field DC', transport: 'serial', path, baud: 115_200, pairingKey: 'ab'.repeat(16) });
    await handlers.connect('field DC');
    let link: LinkView | undefined;
    const deadline = Date.now() + 10_000;
    while (!(link = await handlers.linkState()).detail && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(link).toMatchObject({ profile: 'field DC', state: 'reconnecting', detail: expect.stringContaining('no such serial port') });
    expect(events).toContainEqual({ type: 'link', link: expect.objectContaining({ profile: 'field DC', state: 'reconnecting' }) });
    await handlers.disconnect();
    expect(await handlers.linkState()).toMatchObject({ state: 'disconnected' });
    expect((await failure(invoke(handlers, 'planLeave', [[1]]))).code).toBe('NOT_CONNECTED');
    expect((await failure(invoke(handlers, 'trustedKeys', []))).code).toBe('NOT_CONNECTED');
    // the views need no DC
    expect((await handlers.group()).group.members).toBe(4);
    await handlers.connect('simulated DC');
  });

  it('keeps the audit chain intact through all of it', async () => {
    expect(await handlers.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('a store reopened after the session', () => {
  it('refuses a wrong passphrase with WRONG_PASSPHRASE, slower each time, and stays locked', async () => {
    const { backend, handlers } = open();
    expect((await handlers.session()).state).toBe('locked');
    const started = Date.now();
    expect((await failure(invoke(handlers, 'unlock', ['not the passphrase']))).code).toBe('WRONG_PASSPHRASE');
    expect((await failure(invoke(handlers, 'unlock', ['still not it']))).code).toBe('WRONG_PASSPHRASE');
    // 20 ms then 40 ms of delay, on top of the key derivations
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect((await handlers.session()).state).toBe('locked');
    expect((await failure(invoke(handlers, 'group', []))).code).toBe('LOCKED');
    const session = await handlers.unlock(PASSPHRASE);
    expect(session).toMatchObject({ state: 'ready', simulated: true, group: { name: 'substation-1', members: 4 } });
    await backend.close();
  });
});

describe('event throttle', () => {
  it('fires at once, then at most once per interval however many requests come', () => {
    vi.useFakeTimers();
    try {
      let fired = 0;
      const gate = throttle(() => fired++, 500);
      for (let i = 0; i < 50; i++) gate.request();
      expect(fired).toBe(1);
      vi.advanceTimersByTime(499);
      expect(fired).toBe(1);
      vi.advanceTimersByTime(1);
      expect(fired).toBe(2);
      vi.advanceTimersByTime(5_000);
      expect(fired).toBe(2);
      gate.request();
      expect(fired).toBe(3);
      gate.request();
      gate.cancel();
      vi.advanceTimersByTime(5_000);
      expect(fired).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
