import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandlers, type Handlers, invoke } from '../../main/api/handlers.js';
import { Backend } from '../../main/app/backend.js';
import { throttle } from '../../main/app/events.js';
import { SIMULATED_DEFAULTS } from '../../main/app/simulated.js';
import { nodeCrypto } from '../../main/crypto/node.js';
import { pack } from '../../main/firmware/index.js';
import { readSigningKey } from '../../main/firmware/keys.js';
import { COMMISSION_LIMIT } from '../../main/ops/planning.js';
import type { KeyManagerService } from '../../main/ops/service.js';
import type { KmStore } from '../../main/store/index.js';
import type { CampaignSummary, CommandResultView, GrepEvent, LeaveCostView, LinkView, PlanView, StagingView, SuspectView } from '../../preload/api.js';
import { METER_MODELS } from '../../sim/fleet.js';
import { failure } from '../support/grepError.js';

/*
 * Hostile calls through the one door both transports use: every refusal is typed, and none of them
 * changes the group, its history or the audit log.
 */

const PASSPHRASE = 'correct horse battery';
const CHEAP = { scrypt: { cost: 1024, blockSize: 8, parallelism: 1 }, ackTimeout: 2, failureDelayMs: 20 } as const;
const app = { name: 'grep-key-manager', version: '0.0.0-test' };
const dataDir = mkdtempSync(join(tmpdir(), 'grep-api-'));

function open(dir = dataDir, meters = 6): { backend: Backend; handlers: Handlers } {
  const backend = new Backend({ dataDir: dir, actor: 'api test', simulated: { meters, loss: 0 }, ...CHEAP });
  return { backend, handlers: createHandlers({ app, backend }) };
}

/** What a refused call must leave alone; sync timestamps move with every report, so they are left out. */
async function snapshot(handlers: Handlers, backend: Backend) {
  const group = await handlers.group();
  const { store } = backend as unknown as { store: KmStore };
  return {
    group: group.group,
    members: group.members.map(({ meterId, status, subgroup, position, joinedEpoch, removedEpoch }) => ({ meterId, status, subgroup, position, joinedEpoch, removedEpoch })),
    history: await handlers.history(),
    audit: (await handlers.auditLog()).length,
    // every frame the KM sends is committed here first: no new row, nothing sent
    outbox: (store.db.prepare('SELECT count(*) AS rows FROM outbox').get() as { rows: number }).rows,
    profiles: await handlers.dcProfiles(),
    // the suspicion record lives in the KM state: what a leave costs shows it
    leaveCost: await handlers.leaveCost(),
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
    ['a CSV over 16 MiB', 'planCommissionCsv', ['x'.repeat(COMMISSION_LIMIT.csvBytes + 1)], 'TOO_LARGE'],
    ['a CSV of 16 MiB in multi-byte characters', 'planCommissionCsv', ['é'.repeat(COMMISSION_LIMIT.csvBytes / 2 + 1)], 'TOO_LARGE'],
    ['a CSV of one line over the limit', 'planCommissionCsv', [`id,serial,model,nodeKey\n${'7,s,m,k\n'.repeat(COMMISSION_LIMIT.csvMeters + 1)}`], 'TOO_LARGE'],
    ['a list of meters over the limit', 'planCommission', [Array.from({ length: COMMISSION_LIMIT.listMeters + 1 }, (_, index) => ({ id: index + 100, serial: 's', model: 'm', nodeKey: '00'.repeat(16) }))], 'BAD_ARGUMENTS'],
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
    ['an unknown command plan', 'executeCommand', [randomUUID(), {}], 'UNKNOWN_PLAN'],
    ['a command without its options', 'executeCommand', [randomUUID()], 'BAD_ARGUMENTS'],
    ['command options with an extra field', 'executeCommand', [randomUUID(), { acceptRejected: true }], 'BAD_ARGUMENTS'],
    ['an activation without its options', 'activateCampaign', [1], 'BAD_ARGUMENTS'],
    ['an activation confirmation that is not text', 'activateCampaign', [1, { confirmation: 1 }], 'BAD_ARGUMENTS'],
    ['an argument to a re-seed plan', 'planReseed', [{ force: true }], 'BAD_ARGUMENTS'],
    ['departed ids as text', 'leaveCost', ['2 4'], 'BAD_ARGUMENTS'],
    ['an explicit null for the departed list', 'leaveCost', [null], 'BAD_ARGUMENTS'],
    ['an empty departed list', 'leaveCost', [[]], 'BAD_ARGUMENTS'],
    ['an extra argument to leaveCost', 'leaveCost', [[2], [4]], 'BAD_ARGUMENTS'],
    ['a departed meter that never was', 'leaveCost', [[999]], 'UNKNOWN_METER'],
    ['a present member as departed', 'leaveCost', [[1]], 'BAD_INPUT'],
    ['a suspicion without its options', 'suspectDeparted', [[2]], 'BAD_ARGUMENTS'],
    ['suspicion options with an extra field', 'suspectDeparted', [[2], { confirmation: '2', acceptRejected: true }], 'BAD_ARGUMENTS'],
    ['a suspicion confirmation that is not text', 'suspectDeparted', [[2], { confirmation: 2 }], 'BAD_ARGUMENTS'],
    ['a suspicion of meter id 0', 'suspectDeparted', [[0], { confirmation: '0' }], 'BAD_ARGUMENTS'],
    ['a suspicion of no meter', 'suspectDeparted', [[], { confirmation: '' }], 'BAD_ARGUMENTS'],
    ['a suspicion whose ids are not typed', 'suspectDeparted', [[999], {}], 'CONFIRMATION'],
    ['a suspicion of an unknown meter', 'suspectDeparted', [[999], { confirmation: '999' }], 'UNKNOWN_METER'],
    ['a suspicion of a present member', 'suspectDeparted', [[1], { confirmation: '1' }], 'BAD_INPUT'],
  ])('refuses %s with a typed error and changes nothing', async (_, call, args, code) => {
    const before = await snapshot(handlers, backend);
    const refused = await failure(invoke(handlers, call, args));
    expect(refused.code).toBe(code);
    expect(refused.message.length).toBeGreaterThan(0);
    expect(await snapshot(handlers, backend)).toEqual(before);
  });

  it('refuses a leave whose typed confirmation differs, in the back end, and runs it with the right one', async () => {
    const plan = (await invoke(handlers, 'planLeave', [[4, 2]])) as PlanView;
    expect(plan.confirmation).toBe('4 2');
    const before = await snapshot(handlers, backend);
    for (const typed of [undefined, '', '4', '2 4', '4  2', '4 2 ']) {
      expect((await failure(invoke(handlers, 'execute', [plan.id, typed === undefined ? {} : { confirmation: typed }]))).code).toBe('CONFIRMATION');
    }
    expect(await snapshot(handlers, backend)).toEqual(before);
    await invoke(handlers, 'execute', [plan.id, { confirmation: '4 2' }]);
    const after = await handlers.group();
    expect(after.members.filter((meter) => meter.status === 'left').map((meter) => meter.meterId)).toEqual([2, 4]);
    // the plan is spent: a second run is the service's refusal
    expect((await failure(invoke(handlers, 'execute', [plan.id, { confirmation: '4 2' }]))).code).toBe('PLAN_CONSUMED');
  });

  it('asks for the group name to run a recovery', async () => {
    const plan = (await invoke(handlers, 'planRecover', [[5]])) as PlanView;
    expect(plan.confirmation).toBe('substation-1');
    const before = await snapshot(handlers, backend);
    expect((await failure(invoke(handlers, 'execute', [plan.id, { confirmation: '5' }]))).code).toBe('CONFIRMATION');
    expect(await snapshot(handlers, backend)).toEqual(before);
  });

  it('asks for the group name to switch the disconnector of every member, and names each member in the plan', async () => {
    const members = (await handlers.group()).members.filter((meter) => meter.status === 'member').map((meter) => meter.meterId);
    expect(members).toEqual([1, 3, 5, 6]);
    const plan = (await invoke(handlers, 'planCommand', [{ action: 'open', meters: 'all' }])) as PlanView;
    expect(plan).toMatchObject({ operation: 'command', affected: members, confirmation: 'substation-1' });
    const before = await snapshot(handlers, backend);
    for (const typed of [undefined, '', 'substation', 'Substation-1', 'substation-1 ', '1 3 5 6']) {
      expect((await failure(invoke(handlers, 'executeCommand', [plan.id, typed === undefined ? {} : { confirmation: typed }]))).code, JSON.stringify(typed)).toBe('CONFIRMATION');
    }
    // a confirmation cannot be carried over from the wrong call either
    expect((await failure(invoke(handlers, 'execute', [plan.id, { confirmation: 'substation' }]))).code).toBe('CONFIRMATION');
    expect(await snapshot(handlers, backend)).toEqual(before);

    const result = (await invoke(handlers, 'executeCommand', [plan.id, { confirmation: 'substation-1' }])) as CommandResultView;
    expect(result).toMatchObject({ action: 'open', confirmed: members, missing: [] });
    const { simulator } = backend as unknown as { simulator: { fleet: { get(id: number): { disconnector: string } } } };
    for (const meter of members) expect(simulator.fleet.get(meter).disconnector).toBe('open');
    expect((await failure(invoke(handlers, 'executeCommand', [plan.id, { confirmation: 'substation-1' }]))).code).toBe('PLAN_CONSUMED');
  });

  it('asks for the group name of a command to every member planned outside this session (grepctl), and for nothing to listed meters', async () => {
    const { service } = backend as unknown as { service(): KeyManagerService };
    const elsewhere = service.call(backend).planCommand({ action: 'close', meters: 'all' });
    const before = await snapshot(handlers, backend);
    expect((await failure(invoke(handlers, 'executeCommand', [elsewhere.id, {}]))).code).toBe('CONFIRMATION');
    expect(await snapshot(handlers, backend)).toEqual(before);
    expect(await invoke(handlers, 'executeCommand', [elsewhere.id, { confirmation: 'substation-1' }])).toMatchObject({ action: 'close', confirmed: [1, 3, 5, 6] });

    const listed = (await invoke(handlers, 'planCommand', [{ action: 'close', meters: [3, 5] }])) as PlanView;
    expect(listed).toMatchObject({ affected: [3, 5], confirmation: undefined });
    expect(await invoke(handlers, 'executeCommand', [listed.id, {}])).toMatchObject({ action: 'close', confirmed: [3, 5], missing: [] });
  });

  it('asks for the campaign id to activate firmware, and activates nothing until it is typed', async () => {
    const image = Uint8Array.from({ length: 1500 }, (_, i) => (i * 7) % 251);
    const signingKey = readSigningKey(join(import.meta.dirname, '../../resources/firmware/demo-vendor.key'));
    const firmware = pack(nodeCrypto, image, { vendor: 'Demo', model: METER_MODELS[0], version: '2.0.0', sequence: 2 }, signingKey);
    const staging = (await invoke(handlers, 'stageFirmware', [Buffer.from(firmware).toString('base64')])) as StagingView;
    expect(staging.staged).toBeDefined();
    const pushed = (await invoke(handlers, 'pushFirmware', [{ packageId: staging.staged!.id }])) as CampaignSummary;
    const deadline = Date.now() + 30_000;
    while ((await handlers.campaign(pushed.id)).status !== 'distributed' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const distributed = await handlers.campaign(pushed.id);
    expect(distributed).toMatchObject({ status: 'distributed', counts: { verified: 4 } });

    const before = { state: await snapshot(handlers, backend), campaigns: await handlers.campaigns() };
    const other = String(pushed.id + 1);
    for (const typed of [undefined, '', other, `${pushed.id} `, `0${pushed.id}`, `#${pushed.id}`, 'substation-1']) {
      expect((await failure(invoke(handlers, 'activateCampaign', [pushed.id, typed === undefined ? {} : { confirmation: typed }]))).code, JSON.stringify(typed)).toBe('CONFIRMATION');
    }
    expect({ state: await snapshot(handlers, backend), campaigns: await handlers.campaigns() }).toEqual(before);
    expect(await handlers.campaign(pushed.id)).toEqual(distributed);

    const activating = (await invoke(handlers, 'activateCampaign', [pushed.id, { confirmation: String(pushed.id) }])) as CampaignSummary;
    expect(activating).toMatchObject({ id: pushed.id, status: 'activating' });
    expect(events).toContainEqual({ type: 'campaign', campaign: expect.objectContaining({ id: pushed.id, status: 'activating' }) });
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
    // a real DC does not report its medium's rate: the screens say the airtime is unknown
    expect(link.bitRate).toBeUndefined();
    expect(events).toContainEqual({ type: 'link', link: expect.objectContaining({ profile: 'field DC', state: 'reconnecting' }) });
    await handlers.disconnect();
    expect(await handlers.linkState()).toMatchObject({ state: 'disconnected' });
    expect((await failure(invoke(handlers, 'planLeave', [[1]]))).code).toBe('NOT_CONNECTED');
    expect((await failure(invoke(handlers, 'trustedKeys', []))).code).toBe('NOT_CONNECTED');
    // the views need no DC
    expect((await handlers.group()).group.members).toBe(4);
    await handlers.connect('simulated DC');
    expect((await handlers.linkState()).bitRate).toBe(SIMULATED_DEFAULTS.rate);
  });

  it('keeps the audit chain intact through all of it', async () => {
    expect(await handlers.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('the suspicion record and the re-seed through the API', () => {
  const METERS = 12;
  let backend: Backend;
  let handlers: Handlers;
  let commissioning: PlanView;

  const leaveCost = async () => (await invoke(handlers, 'leaveCost', [])) as LeaveCostView;
  const execute = async (plan: PlanView) => {
    const result = await handlers.execute(plan.id, { confirmation: plan.confirmation });
    expect(result.converged).toBe(true);
  };

  beforeAll(async () => {
    ({ backend, handlers } = open(mkdtempSync(join(tmpdir(), 'grep-api-record-')), METERS));
    await handlers.unlock(PASSPHRASE);
    commissioning = await handlers.planCommissionCsv((await handlers.simulatedFleetCsv())!);
    await execute(commissioning);
  });
  afterAll(() => backend.close());

  it('commissions a fleet into the empty group by the compact re-seed, sized against one join each', () => {
    expect(commissioning).toMatchObject({ operation: 'commission', confirmation: undefined, messages: { ROSTER: 1, SEED: METERS }, commissioning: { method: 'reseed' } });
    const [chosen, ...others] = commissioning.commissioning!.options;
    expect(chosen).toEqual({ method: 'reseed', broadcasts: commissioning.broadcasts, unicasts: commissioning.unicasts, bytes: commissioning.bytes });
    const joins = others.find((option) => option.method === 'joins');
    expect(joins!.bytes).toBeGreaterThan(chosen!.bytes);
  });

  it('knows the simulated medium bit rate for airtime', async () => {
    expect((await handlers.linkState()).bitRate).toBe(SIMULATED_DEFAULTS.rate);
  });

  it('prices a leave at the plain 2 broadcasts while the record is empty', async () => {
    const cost = await leaveCost();
    expect(cost.record).toBe(0);
    expect(cost.plain).toMatchObject({ broadcasts: 2, unicasts: 0 });
    expect(cost.now).toEqual(cost.plain);
  });

  it('takes a departed meter in a recovery, marked as departed in the plan; the record then makes every leave dearer', async () => {
    const leave = (await invoke(handlers, 'planLeave', [[1]])) as PlanView;
    await execute(leave);
    const recovery = (await invoke(handlers, 'planRecover', [[12, 1]])) as PlanView;
    expect(recovery).toMatchObject({ operation: 'recover', affected: [12], departed: [1], confirmation: 'substation-1' });
    await execute(recovery);
    const cost = await leaveCost();
    expect(cost.record).toBe(2);
    expect(cost.plain).toMatchObject({ broadcasts: 2, unicasts: 0 });
    expect(cost.now.bytes).toBeGreaterThan(cost.plain.bytes);
    // a leave planned now says the same from its own messages
    const later = (await invoke(handlers, 'planLeave', [[cost.meter]])) as PlanView;
    expect(later.recordAdds).toMatchObject({ entries: 2, bytes: cost.now.bytes - cost.plain.bytes });
    expect(later.bytes).toBe(cost.now.bytes);
    // the cost chart sizes its operations on the same state, record included
    expect((await handlers.costChart()).leave).toBeDefined();
  });

  it('suspects a departed meter only with its id typed; a refusal changes nothing', async () => {
    await execute((await invoke(handlers, 'planLeave', [[2]])) as PlanView);
    const preview = (await invoke(handlers, 'leaveCost', [[2]])) as LeaveCostView;
    expect(preview.record).toBe(2);
    expect(preview.withSuspects.bytes).toBeGreaterThanOrEqual(preview.now.bytes);
    const before = await snapshot(handlers, backend);
    for (const typed of [undefined, '', '2 ', ' 2', '02', 'substation-1']) {
      expect((await failure(invoke(handlers, 'suspectDeparted', [[2], typed === undefined ? {} : { confirmation: typed }]))).code, JSON.stringify(typed)).toBe('CONFIRMATION');
    }
    expect(await snapshot(handlers, backend)).toEqual(before);

    const events: GrepEvent[] = [];
    const unsubscribe = backend.subscribe((event) => events.push(event));
    const suspected = (await invoke(handlers, 'suspectDeparted', [[2], { confirmation: '2' }])) as SuspectView;
    unsubscribe();
    expect(suspected).toEqual({ suspected: [2], record: 3 });
    // the screens refetch what a leave costs
    expect(events).toContainEqual({ type: 'history' });
    const cost = await leaveCost();
    expect(cost.record).toBe(3);
    expect(cost.now).toEqual(preview.withSuspects);
    expect((await handlers.auditLog()).at(-1)).toMatchObject({ action: 'suspect departed' });
    // nothing was sent and no epoch passed
    expect((await handlers.group()).group.epoch).toBe(before.group.epoch);
    expect((await failure(invoke(handlers, 'suspectDeparted', [[2], { confirmation: '2' }]))).code).toBe('BAD_INPUT');
  });

  it('asks for the group name to re-seed, also for a plan made outside this session, and empties the record: a leave is 2 broadcasts again', async () => {
    const { service } = backend as unknown as { service(): KeyManagerService };
    const elsewhere = service.call(backend).planReseed();
    const plan = (await invoke(handlers, 'planReseed', [])) as PlanView;
    const members = METERS - 3;
    expect(plan).toMatchObject({ operation: 'reseed', affected: [], confirmation: 'substation-1', messages: { ROSTER: 1, SEED: members }, recordAdds: undefined, departed: [], commissioning: undefined });
    const before = await snapshot(handlers, backend);
    for (const typed of [undefined, '', 'substation', 'Substation-1', 'substation-1 ']) {
      expect((await failure(invoke(handlers, 'execute', [plan.id, typed === undefined ? {} : { confirmation: typed }]))).code, JSON.stringify(typed)).toBe('CONFIRMATION');
    }
    expect((await failure(invoke(handlers, 'execute', [elsewhere.id, {}]))).code).toBe('CONFIRMATION');
    expect(await snapshot(handlers, backend)).toEqual(before);

    await execute(plan);
    const cost = await leaveCost();
    expect(cost.record).toBe(0);
    expect(cost.now).toEqual(cost.plain);
    const leave = (await invoke(handlers, 'planLeave', [[cost.meter]])) as PlanView;
    expect(leave).toMatchObject({ broadcasts: 2, unicasts: 0, bytes: cost.plain.bytes, recordAdds: undefined });
    const history = await handlers.history();
    expect(history.find((row) => row.planId === plan.id)).toMatchObject({ operation: 'reseed', messages: { ROSTER: 1, SEED: members }, bytes: plan.bytes, result: 'converged' });
    expect((await handlers.costChart()).leave?.grep).toMatchObject({ broadcasts: 2, unicasts: 0 });
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
