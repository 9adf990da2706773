import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../main/grep/index.js';
import type { DcLink } from '../../main/link/client.js';
import { ServiceError } from '../../main/ops/errors.js';
import { KeyManagerService, type ServiceOptions } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { commissioningCsv } from '../../sim/fleet.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { committedFingerprint, startKmLink, storeWithSimulatedDc } from '../support/kmBench.js';
import { waitFor } from '../support/net.js';

const PASSPHRASE = 'operator passphrase';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Bench {
  readonly path: string;
  readonly sim: RunningSimulator;
  store: KmStore;
  connect(options?: Partial<ServiceOptions>): Promise<{ service: KeyManagerService; link: DcLink }>;
}

/** A store with one group, the simulated DC over real TCP on 127.0.0.1, and its profile in the store. */
async function bench(meters: number, loss = 0): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), 'grep-service-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'km.db');
  const { store, sim } = await storeWithSimulatedDc(path, PASSPHRASE, { meters, loss, seed: 11 });
  cleanups.push(() => sim.close());
  const result: Bench = {
    path,
    sim,
    store,
    async connect(options = {}) {
      const link = await startKmLink(result.store);
      const service = KeyManagerService.open({ store: result.store, group: 'dc-1', actor: 'operator', link, ackTimeout: 0.5, maxRounds: 20, ...options });
      cleanups.push(() => link.stop(), () => service.close());
      return { service, link };
    },
  };
  cleanups.push(() => result.store.close());
  return result;
}

async function refusal(work: () => unknown): Promise<string | undefined> {
  try {
    await work();
  } catch (error) {
    if (error instanceof ServiceError) return error.code;
    throw error;
  }
  return undefined;
}

function expectConverged(setup: Bench, members: readonly number[], removed: readonly number[]): void {
  const fingerprint = committedFingerprint(setup.store);
  for (const id of members) expect([id, toHex(setup.sim.fleet.get(id).fingerprint)]).toEqual([id, fingerprint]);
  for (const id of removed) expect(toHex(setup.sim.fleet.get(id).fingerprint)).not.toBe(fingerprint);
  const sync = setup.store.syncStates(1);
  expect(sync.filter((row) => members.includes(row.meterId)).map((row) => [row.meterId, row.status, row.fingerprint])).toEqual(members.map((id) => [id, 'in sync', fingerprint]));
  expect(sync.filter((row) => removed.includes(row.meterId)).map((row) => row.status)).toEqual(removed.map(() => 'removed'));
}

describe('Key Manager service against the simulated DC (GREP.md §7, §11)', () => {
  it('commissions 30 meters from a CSV with two bad lines, a leave and a recovery converge; records history and a verifying audit', async () => {
    const setup = await bench(30);
    const { service } = await setup.connect();
    const lines = commissioningCsv(setup.sim.fleet.profiles).trim().split('\n');
    lines.splice(5, 0, '900,SERIAL-X,GX-110,not-hex');
    lines.splice(12, 0, '901,SERIAL-Y');
    const plan = await service.planCommissionCsv(`${lines.join('\n')}\n`);
    expect(plan.rejected.map((row) => row.line)).toEqual([6, 13]);
    expect(plan.rejected[0]!.reason).toMatch(/nodeKey/);
    expect(plan.affected).toHaveLength(30);
    // into an empty group the compact re-seed (§7) is the cheapest: one roster and a short SEED each
    expect(plan.messages).toEqual({ ROSTER: 1, SEED: 30, keyUpdate: 1 });
    expect(plan.commissioning?.method).toBe('reseed');
    const joins = plan.commissioning!.options.find((option) => option.method === 'joins')!;
    expect(joins.bytes).toBeGreaterThan(2 * plan.bytes);
    expect(plan.costs.basic.unicasts).toBe((30 * 31) / 2);

    expect(await refusal(() => service.execute(plan.id))).toBe('REJECTED_ROWS');
    expect(setup.store.members(1)).toEqual([]);
    expect(setup.store.pendingOutbox(1)).toEqual([]);
    expect(service.epoch).toBe(0);

    const commissioned = await service.execute(plan.id, { acceptRejected: true });
    expect(commissioned).toMatchObject({ converged: true, epoch: 1, epochFrom: 0 });
    const everyone = setup.sim.fleet.profiles.map((profile) => profile.id);
    expectConverged(setup, everyone, []);

    const leave = service.planLeave([5]);
    expect(leave.costs.basic).toEqual({ broadcasts: 0, unicasts: 29, bytes: 29 * 48 });
    expect((await service.execute(leave.id)).converged).toBe(true);
    const recover = service.planRecover([7, 19, 26]);
    expect((await service.execute(recover.id)).converged).toBe(true);
    expectConverged(setup, everyone.filter((id) => ![5, 7, 19, 26].includes(id)), [5, 7, 19, 26]);
    expect(setup.store.members(1).filter((m) => m.status !== 'member').map((m) => [m.meterId, m.status])).toEqual([[5, 'left'], [7, 'recovered'], [19, 'recovered'], [26, 'recovered']]);

    const history = setup.store.history(1);
    expect(history.map((row) => [row.operation, row.epochFrom, row.epochTo, row.result])).toEqual([
      ['commission', 0, 1, 'converged'],
      ['leave', 1, 2, 'converged'],
      ['recover', 2, 3, 'converged'],
    ]);
    expect(history[0]!.messages).toEqual({ ROSTER: 1, SEED: 30, keyUpdate: 1 });
    expect(history.every((row) => row.durationMs !== null && row.bytes > 0)).toBe(true);
    const actions = setup.store.auditEntries().map((entry) => entry.action);
    expect(actions).toEqual(['create group', 'plan', 'execute', 'result', 'plan', 'execute', 'result', 'plan', 'execute', 'result']);
    expect(setup.store.verifyAudit()).toEqual({ ok: true, rows: actions.length });
    // no secret in the audit log: node keys of the CSV never appear
    const audit = JSON.stringify(setup.store.auditEntries());
    for (const profile of setup.sim.fleet.profiles) expect(audit).not.toContain(toHex(profile.nodeKey));
    await waitFor('the outbox accepted', () => setup.store.pendingOutbox(1).length === 0);
    // the suspects stay in the record: a plain leave now costs more, and the plan says how much
    expect(leave.recordAdds).toBeUndefined();
    const later = service.planLeave([2]).recordAdds;
    expect(later?.entries).toBe(3);
    expect(later!.broadcasts + later!.unicasts).toBeGreaterThan(0);
  }, 120_000);

  it('refuses unsafe input and stale, consumed or unknown plans without changing anything', async () => {
    const setup = await bench(6);
    const { service } = await setup.connect();
    const meters = setup.sim.fleet.profiles.map((p) => ({ id: p.id, serial: p.serial, model: p.model, nodeKey: toHex(p.nodeKey) }));
    await service.execute((await service.planCommission(meters)).id);

    expect(await refusal(() => service.planLeave([99]))).toBe('UNKNOWN_METER');
    expect(await refusal(() => service.planCommission([meters[0]!]))).toBe('DUPLICATE_METER');
    // a CSV naming members already in the group lists every such line with the other bad ones, and needs the opt-in
    const again = await service.planCommissionCsv(`id,serial,model,nodeKey\n${meters.map((m) => `${m.id},${m.serial},${m.model},${m.nodeKey}`).join('\n')}\n99,S-99,GX-110,${'ab'.repeat(16)}\n`);
    expect(again.affected).toEqual([99]);
    expect(again.rejected.map((row) => [row.line, row.reason])).toEqual(meters.map((m, index) => [index + 2, `meter ${m.id} is already a member of the group`]));
    expect(await refusal(() => service.execute(again.id))).toBe('REJECTED_ROWS');
    expect(await refusal(() => service.planLeave([1, 1]))).toBe('DUPLICATE_METER');
    expect(await refusal(() => service.planLeave([1, 2, 3, 4, 5, 6]))).toBe('WOULD_EMPTY_GROUP');
    expect(await refusal(() => service.planRecover([]))).toBe('EMPTY_SET');
    expect(await refusal(() => service.planLeave([-1]))).toBe('BAD_INPUT');
    expect(await refusal(() => service.planCommission([{ ...meters[0]!, id: 77, nodeKey: 'zz' }]))).toBe('BAD_INPUT');

    const periodic = service.planPeriodicRekey();
    const leave = service.planLeave([2]);
    const leaving = service.execute(leave.id);
    // the leave has committed: a plan made before it is stale, and an eviction planned now runs at once
    // (it never waits for the leave's acks), taking over the leave's convergence
    expect(await refusal(() => service.execute(periodic.id))).toBe('STALE_PLAN');
    const [left, evicted] = await Promise.all([leaving, service.execute(service.planLeave([3]).id)]);
    expect(left).toMatchObject({ superseded: true, converged: false });
    expect(evicted).toMatchObject({ superseded: false, converged: true });
    expect(setup.store.history(1).at(-2)!.result).toMatch(/^continued by the operation to epoch/);
    const epoch = service.epoch;
    expect(await refusal(() => service.execute(leave.id))).toBe('PLAN_CONSUMED');
    expect(await refusal(() => service.execute('6f1c1a5e-0000-4000-8000-000000000000'))).toBe('UNKNOWN_PLAN');
    expect(service.epoch).toBe(epoch);
    expect(setup.store.history(1)).toHaveLength(3);
    expect((await service.execute(service.planPeriodicRekey().id)).converged).toBe(true);
    expectConverged(setup, [1, 4, 5, 6], [2, 3]);
  }, 60_000);

  it('switches disconnectors by group command, to a list or to all, and records who confirmed', async () => {
    const setup = await bench(6);
    const { service } = await setup.connect();
    await service.execute((await service.planCommissionCsv(commissioningCsv(setup.sim.fleet.profiles))).id);
    expect(await refusal(() => service.planCommand({ action: 'open', meters: [42] }))).toBe('UNKNOWN_METER');
    expect(await refusal(() => service.planCommand({ action: 'open', meters: [] }))).toBe('EMPTY_SET');
    const open = service.planCommand({ action: 'open', meters: [2, 3] });
    expect(await refusal(() => service.execute(open.id))).toBe('BAD_INPUT');
    const opened = await service.executeCommand(open.id);
    expect(opened).toMatchObject({ seq: 1, confirmed: [2, 3], missing: [] });
    const disconnectors = () => setup.sim.fleet.profiles.map((p) => setup.sim.fleet.get(p.id).disconnector);
    expect(disconnectors()).toEqual(['closed', 'open', 'open', 'closed', 'closed', 'closed']);
    const { payload } = setup.store.db.prepare("SELECT payload FROM outbox WHERE kind = 'broadcast' ORDER BY id DESC LIMIT 1").get() as { payload: Buffer };
    expect(payload.length).toBe(open.bytes);

    const close = await service.executeCommand(service.planCommand({ action: 'close', meters: 'all' }).id);
    expect(close).toMatchObject({ seq: 2, confirmed: [1, 2, 3, 4, 5, 6], missing: [] });
    expect(disconnectors()).toEqual(Array(6).fill('closed'));
    expect(setup.store.history(1).map((row) => [row.operation, row.result])).toEqual([['commission', 'converged'], ['command', 'confirmed'], ['command', 'confirmed']]);
    expect(setup.store.verifyAudit().ok).toBe(true);
  }, 60_000);

  it('a commit that fails changes nothing, in the store or in the running KM', async () => {
    const setup = await bench(6);
    const { service } = await setup.connect();
    await service.execute((await service.planCommissionCsv(commissioningCsv(setup.sim.fleet.profiles))).id);
    const before = { epoch: service.epoch, fingerprint: committedFingerprint(setup.store), members: setup.store.members(1), audit: setup.store.auditEntries().length };
    const outbox = () => (setup.store.db.prepare('SELECT count(*) AS rows FROM outbox').get() as { rows: number }).rows;
    const rows = outbox();
    // the last write of the transaction fails, as a full disk would
    setup.store.db.exec("CREATE TRIGGER full_disk BEFORE UPDATE OF consumed_at ON plans BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    const leave = service.planLeave([4]);
    await expect(service.execute(leave.id)).rejects.toThrow(/disk is full/);
    expect(service.epoch).toBe(before.epoch);
    expect(committedFingerprint(setup.store)).toBe(before.fingerprint);
    expect(setup.store.members(1)).toEqual(before.members);
    expect(outbox()).toBe(rows);
    expect(setup.store.history(1)).toHaveLength(1);
    setup.store.db.exec('DROP TRIGGER full_disk');
    // the same plan runs once the fault is gone, from the state the KM had before
    expect((await service.execute(leave.id)).converged).toBe(true);
    expectConverged(setup, [1, 2, 3, 5, 6], [4]);
    expect(setup.store.auditEntries().length).toBe(before.audit + 3);
  }, 60_000);

  it('over a lossy medium, every repair message goes through the outbox before the link', async () => {
    const setup = await bench(20, 0.05);
    const { service } = await setup.connect();
    const results = [await service.execute((await service.planCommissionCsv(commissioningCsv(setup.sim.fleet.profiles))).id)];
    for (let round = 0; round < 3; round++) results.push(await service.execute(service.planPeriodicRekey().id));
    expect(results.map((result) => result.converged)).toEqual([true, true, true, true]);
    const repairs = results.reduce((sum, result) => sum + result.replays + result.rebroadcasts + result.resyncs, 0);
    expect(repairs).toBeGreaterThan(0);
    const committed = setup.store.history(1).reduce((sum, row) => sum + Object.values(row.messages).reduce((a, b) => a + b, 0), 0);
    // every transfer ever written has an id (AUTOINCREMENT): accepted repairs are pruned, their ids stay spent
    const { written } = setup.store.db.prepare('SELECT seq AS written FROM sqlite_sequence WHERE name = \'outbox\'').get() as { written: number };
    expect(written).toBe(committed + repairs);
    const kept = setup.store.outboxCounts(1);
    expect(kept.repair).toBeLessThan(repairs);
    expectConverged(setup, setup.sim.fleet.profiles.map((p) => p.id), []);
    await waitFor('the outbox accepted', () => setup.store.pendingOutbox(1).length === 0);
  }, 120_000);

  it('after a crash between commit and send, reopening resends the outbox and every meter converges once', async () => {
    const setup = await bench(12);
    const first = await setup.connect();
    const { epoch: commissioned } = await first.service.execute((await first.service.planCommissionCsv(commissioningCsv(setup.sim.fleet.profiles))).id);
    const crash = new Error('crash after commit');
    const crashing = await setup.connect({ afterCommit: () => { throw crash; } });
    first.service.close();
    await first.link.stop();
    await expect(crashing.service.execute(crashing.service.planRecover([3, 8]).id)).rejects.toBe(crash);
    // the process dies here: nothing was handed to the link, the store is closed as a kill leaves it
    crashing.service.close();
    await crashing.link.stop();
    expect(crashing.link.pending()).toEqual([]);
    setup.store.close();

    setup.store = KmStore.open(setup.path, PASSPHRASE);
    const pending = setup.store.pendingOutbox(1);
    expect(pending.map((entry) => entry.kind)[0]).toBe('keyUpdate');
    expect(pending.every((entry) => entry.epoch === commissioned + 1)).toBe(true);
    const { service } = await setup.connect();
    expect(service.epoch).toBe(commissioned + 1);
    const caughtUp = await service.catchUp();
    // the resent outbox alone brought every meter up: no repair was needed
    expect(caughtUp).toMatchObject({ converged: true, replays: 0, rebroadcasts: 0, resyncs: 0 });
    const remaining = setup.sim.fleet.profiles.map((p) => p.id).filter((id) => id !== 3 && id !== 8);
    expectConverged(setup, remaining, [3, 8]);
    for (const id of remaining) expect(setup.sim.fleet.get(id).member.epoch).toBe(commissioned + 1);
    await waitFor('the outbox accepted', () => setup.store.pendingOutbox(1).length === 0);
    // nothing lost, nothing duplicated: one row per meter, one recovery in the history, one transfer per outbox id
    expect(setup.store.members(1).map((m) => [m.meterId, m.status])).toEqual(setup.sim.fleet.profiles.map((p) => [p.id, [3, 8].includes(p.id) ? 'recovered' : 'member']));
    expect(setup.store.history(1).map((row) => [row.operation, row.epochTo])).toEqual([['commission', commissioned], ['recover', commissioned + 1]]);
    expect(setup.store.verifyAudit().ok).toBe(true);
  }, 60_000);
});
