import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, type Handlers, invoke } from '../../main/api/handlers.js';
import { Backend } from '../../main/app/backend.js';
import { DisconnectorStates } from '../../main/app/disconnectors.js';
import { resultFor } from '../../main/app/memberDetail.js';
import { nodeCrypto } from '../../main/crypto/node.js';
import { pack } from '../../main/firmware/index.js';
import { readSigningKey } from '../../main/firmware/keys.js';
import { commandDetail } from '../../main/grep/index.js';
import type { MeterReport } from '../../main/link/messages.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import type { CampaignSummary, MemberDetailView, PlanView } from '../../preload/api.js';
import { failure } from '../support/grepError.js';

/*
 * One member's detail through the API door both transports use: what it says of a member, of a meter
 * that left and of one never commissioned, its paging, and the hostile arguments it refuses.
 */

const PASSPHRASE = 'correct horse battery';
const CHEAP = { scrypt: { cost: 1024, blockSize: 8, parallelism: 1 }, ackTimeout: 2, failureDelayMs: 20 } as const;
const METERS = 6;

async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('memberDetail through the API', () => {
  let backend: Backend;
  let handlers: Handlers;
  const detail = async (meterId: number, offset?: number) => (await invoke(handlers, 'memberDetail', offset === undefined ? [meterId] : [meterId, { offset }])) as MemberDetailView;
  const run = async (plan: PlanView) => expect((await handlers.execute(plan.id, { confirmation: plan.confirmation })).converged).toBe(true);

  beforeAll(async () => {
    backend = new Backend({ dataDir: mkdtempSync(join(tmpdir(), 'grep-member-')), actor: 'member test', simulated: { meters: METERS, loss: 0 }, ...CHEAP });
    handlers = createHandlers({ app: { name: 'grep-key-manager', version: '0.0.0-test' }, backend });
    await handlers.unlock(PASSPHRASE);
    await run(await handlers.planCommissionCsv((await handlers.simulatedFleetCsv())!));
  });
  afterAll(() => backend.close());

  it('shows a member in sync, where it sits and its commissioning', async () => {
    const group = await handlers.group();
    const row = group.members.find((member) => member.meterId === 1)!;
    const one = await detail(1);
    expect(one.member).toEqual(row);
    expect(one).toMatchObject({ groupEpoch: group.group.epoch, sync: 'in sync', epochsBehind: 0, firmware: undefined, disconnector: undefined, operationsOffset: 0, operationsTotal: 1 });
    expect(one.operations).toEqual([expect.objectContaining({ operation: 'commission', relation: 'named', epochTo: group.group.epoch, result: 'converged' })]);
  });

  it('lists a resync only for the meter it named, and a leave for every member as a group rekey', async () => {
    const resync = (await invoke(handlers, 'planResync', [[3]])) as PlanView;
    expect(resync).toMatchObject({ operation: 'resync', affected: [3], confirmation: undefined });
    await run(resync);
    expect((await detail(3)).operations[0]).toMatchObject({ operation: 'resync', relation: 'named' });
    expect((await detail(1)).operations.map((operation) => operation.operation)).toEqual(['commission']);

    await run((await invoke(handlers, 'planLeave', [[2]])) as PlanView);
    const one = await detail(1);
    expect(one.operations.map((operation) => [operation.operation, operation.relation])).toEqual([['leave', 'group'], ['commission', 'named']]);
  });

  it('shows a meter that left with the operations up to its removal', async () => {
    await run((await invoke(handlers, 'planLeave', [[4]])) as PlanView);
    const left = await detail(2);
    expect(left.member).toMatchObject({ meterId: 2, status: 'left', removedEpoch: expect.any(Number) });
    expect(left).toMatchObject({ sync: 'removed', epochsBehind: null });
    // the leave of 4 came after: it is not 2's
    expect(left.operations.map((operation) => [operation.operation, operation.relation, operation.epochTo])).toEqual([
      ['leave', 'named', left.member.removedEpoch],
      ['commission', 'named', left.member.joinedEpoch],
    ]);
    expect((await detail(1)).operations.map((operation) => operation.operation)).toEqual(['leave', 'leave', 'commission']);
  });

  it('records the disconnector each meter confirmed, in the detail and the group table', async () => {
    const plan = (await invoke(handlers, 'planCommand', [{ action: 'open', meters: [3, 5] }])) as PlanView;
    expect(await handlers.executeCommand(plan.id, {})).toMatchObject({ confirmed: [3, 5], missing: [] });
    const opened = await until(() => detail(3), (value) => value.disconnector !== undefined);
    expect(opened.disconnector).toEqual({ state: 'open', seq: expect.any(Number), at: expect.any(String) });
    expect(opened.member.disconnector).toBe('open');
    expect(opened.operations[0]).toMatchObject({ operation: 'command', relation: 'named', result: 'confirmed' });
    expect((await detail(1)).disconnector).toBeUndefined();
    const rows = (await handlers.group()).members;
    expect(rows.filter((member) => member.disconnector === 'open').map((member) => member.meterId)).toEqual([3, 5]);
  });

  it('shows the firmware version a meter reported after activation, and unknown for the others', async () => {
    const { simulator } = backend as unknown as { simulator: { fleet: { get(id: number): { model: string } } } };
    const model = simulator.fleet.get(1).model;
    const signingKey = readSigningKey(join(import.meta.dirname, '../../resources/firmware/demo-vendor.key'));
    const image = Uint8Array.from({ length: 1200 }, (_, i) => (i * 13) % 251);
    const staging = await handlers.stageFirmware(Buffer.from(pack(nodeCrypto, image, { vendor: 'Demo', model, version: '3.1.4', sequence: 2 }, signingKey)).toString('base64'));
    const pushed = (await invoke(handlers, 'pushFirmware', [{ packageId: staging.staged!.id, meters: [1] }])) as CampaignSummary;
    await until(() => handlers.campaign(pushed.id), (campaign) => campaign.status === 'distributed');
    await handlers.activateCampaign(pushed.id, { confirmation: String(pushed.id) });
    const activated = await until(() => detail(1), (value) => value.firmware !== undefined);
    expect(activated.firmware).toEqual({ version: '3.1.4', campaignId: pushed.id });
    expect(activated.member.firmware).toBe('3.1.4');
    expect((await detail(3)).firmware).toBeUndefined();
    expect((await handlers.group()).members.map((member) => member.firmware)).toEqual(['3.1.4', null, null, null, null, null]);
  });

  it('pages the operations, newest first', async () => {
    const all = await detail(1);
    expect(all.operationsTotal).toBe(all.operations.length);
    const second = await detail(1, 1);
    expect(second).toMatchObject({ operationsOffset: 1, operationsTotal: all.operationsTotal });
    expect(second.operations).toEqual(all.operations.slice(1));
    expect((await detail(1, 10_000)).operations).toEqual([]);
  });

  it.each([
    ['a meter never commissioned', [999], 'UNKNOWN_METER'],
    ['the largest meter id, never commissioned', [0xffffffff], 'UNKNOWN_METER'],
    ['a meter id as text', ['1'], 'BAD_ARGUMENTS'],
    ['an SQL fragment', ['1 OR 1=1'], 'BAD_ARGUMENTS'],
    ['a negative meter id', [-1], 'BAD_ARGUMENTS'],
    ['meter id 0', [0], 'BAD_ARGUMENTS'],
    ['a meter id of 2^53', [2 ** 53], 'BAD_ARGUMENTS'],
    ['a meter id of 2^32', [2 ** 32], 'BAD_ARGUMENTS'],
    ['a fractional meter id', [1.5], 'BAD_ARGUMENTS'],
    ['NaN as null', [null], 'BAD_ARGUMENTS'],
    ['no meter id', [], 'BAD_ARGUMENTS'],
    ['a list of meter ids', [[1, 3]], 'BAD_ARGUMENTS'],
    ['a negative offset', [1, { offset: -1 }], 'BAD_ARGUMENTS'],
    ['an offset of 2^53', [1, { offset: 2 ** 53 }], 'BAD_ARGUMENTS'],
    ['an offset as text', [1, { offset: '5' }], 'BAD_ARGUMENTS'],
    ['options with an extra field', [1, { offset: 0, limit: 1e9 }], 'BAD_ARGUMENTS'],
    ['an extra argument', [1, {}, 'more'], 'BAD_ARGUMENTS'],
    ['a resync of a meter that left', [[2]], 'UNKNOWN_METER', 'planResync'],
    ['a resync of meter id 2^53', [[2 ** 53]], 'BAD_ARGUMENTS', 'planResync'],
    ['a resync of no meter', [[]], 'BAD_ARGUMENTS', 'planResync'],
  ])('refuses %s with a typed error and changes nothing', async (_, args, code, call = 'memberDetail') => {
    const before = { group: await handlers.group(), history: await handlers.history(), audit: (await handlers.auditLog()).length };
    const refused = await failure(invoke(handlers, call, args));
    expect(refused.code).toBe(code);
    if (code === 'UNKNOWN_METER' && call === 'memberDetail') expect(refused.message).toMatch(/^meter \d+ was never commissioned into group substation-1$/);
    expect({ group: await handlers.group(), history: await handlers.history(), audit: (await handlers.auditLog()).length }).toEqual(before);
  });
});

describe('a history result as it concerns one meter', () => {
  it.each([
    ['converged', 'converged'],
    ['unreachable: 7', 'unreachable: this meter'],
    ['unreachable: 3 7 9', 'unreachable: this meter and 2 other meters'],
    ['unreachable: 3 9', 'unreachable: 2 other meters, not this one'],
    ['unconfirmed: 70', 'unconfirmed: 1 other meter, not this one'],
    ['not a list: 1 2 x', 'not a list: 1 2 x'],
  ])('%s, for meter 7', (result, expected) => {
    expect(resultFor(result, 7)).toBe(expected);
  });

  it('counts the 1,999 others of a 2,000-meter list instead of listing them', () => {
    expect(resultFor(`unreachable: ${Array.from({ length: 2000 }, (_, i) => i + 1).join(' ')}`, 7)).toBe('unreachable: this meter and 1999 other meters');
  });
});

describe('disconnector states from command confirmations', () => {
  const report = (member: number, seq: number, closed: boolean, event: MeterReport['event'] = 'command'): MeterReport => ({ member, epoch: 1, fingerprint: new Uint8Array(4), event, detail: commandDetail(seq, closed) });
  let store: KmStore;
  const path = () => join(mkdtempSync(join(tmpdir(), 'grep-disconnectors-')), 'km.db');

  beforeAll(() => {
    store = KmStore.create(path(), PASSPHRASE, CHEAP.scrypt);
    const group = KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: 8 }, 'test');
    store.transaction(() => {
      for (const meterId of [1, 2, 3]) store.saveMember(group.id, { meterId, serial: `S${meterId}`, model: 'm', subgroup: 0, position: meterId, joinedEpoch: 1, removedEpoch: null, status: 'member' });
    });
  });
  afterAll(() => store.close());

  it('keeps the state of the newest command each meter confirmed, across a reopen of the store', () => {
    const states = new DisconnectorStates(store, 1);
    const at = new Date('2026-01-02T03:04:05Z');
    states.observe([report(1, 4, false), report(2, 4, true)], at);
    // a late confirmation of an older command arrives after the newer one
    states.observe([report(1, 3, true), report(2, 4, false)], new Date());
    expect(states.of(1)).toEqual({ state: 'open', seq: 4, at: at.toISOString() });
    expect(states.of(2)).toEqual({ state: 'closed', seq: 4, at: at.toISOString() });
    states.observe([report(1, 5, true)], at);
    expect(new DisconnectorStates(store, 1).all().get(1)).toMatchObject({ state: 'closed', seq: 5 });
  });

  it('ignores acks and gap reports, whatever their detail', () => {
    const states = new DisconnectorStates(store, 1);
    states.observe([report(3, 9, true, 'ack'), report(3, 9, true, 'gap')]);
    expect(states.of(3)).toBeUndefined();
  });

  it('records members only: a DC inventing meter ids adds nothing', () => {
    const states = new DisconnectorStates(store, 1);
    states.observe(Array.from({ length: 1000 }, (_, i) => report(i + 100, 1, false)));
    expect([...states.all().keys()].every((meter) => meter <= 3)).toBe(true);
  });
});
