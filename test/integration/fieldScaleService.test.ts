import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../main/grep/index.js';
import { ServiceError } from '../../main/ops/errors.js';
import { KeyManagerService } from '../../main/ops/service.js';
import type { KmStore } from '../../main/store/index.js';
import { commissioningCsv } from '../../sim/fleet.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { committedFingerprint, startKmLink, storeWithSimulatedDc } from '../support/kmBench.js';

/*
 * Issue 11 through the service, against the simulated DC over real TCP: commissioning picks the
 * cheaper of batch join and compact re-seed, a re-seed after a recovery brings a leave back to 320 B,
 * and a departed meter suspected later is counted by the next removal. Each is durable like any
 * operation (one transaction, outbox, convergence).
 */

const PASSPHRASE = 'field scale passphrase';
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function running(meters: number): Promise<{ store: KmStore; sim: RunningSimulator; service: KeyManagerService }> {
  const dir = mkdtempSync(join(tmpdir(), 'grep-field-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { store, sim } = await storeWithSimulatedDc(join(dir, 'km.db'), PASSPHRASE, { meters, loss: 0.02, seed: 17 });
  cleanups.push(() => sim.close(), () => store.close());
  const link = await startKmLink(store);
  const service = KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link, ackTimeout: 0.5, maxRounds: 20 });
  cleanups.push(() => link.stop(), () => service.close());
  return { store, sim, service };
}

const holders = (sim: RunningSimulator, fingerprint: string) => sim.fleet.profiles.filter((p) => toHex(sim.fleet.get(p.id).fingerprint) === fingerprint).map((p) => p.id);

/** A member of a middle subgroup with neighbours on both sides: its plain leave is M1 + M2 with two items each, 320 B. */
function middleMember(service: KeyManagerService): number {
  const cost = service.leaveCost();
  if (!cost) throw new Error('no member to size a leave on');
  return cost.meter;
}

describe('field-scale key operations through the service', () => {
  it('commissions the fleet by compact re-seed, then a batch into the running group by batch join; every meter converges', async () => {
    const { store, sim, service } = await running(60);
    const [first, later] = [sim.fleet.profiles.slice(0, 40), sim.fleet.profiles.slice(40)];
    const bulk = await service.planCommissionCsv(commissioningCsv(first));
    expect(bulk.commissioning).toMatchObject({ method: 'reseed' });
    expect(bulk.commissioning!.options.map((option) => option.method)).toEqual(expect.arrayContaining(['reseed', 'batch', 'joins']));
    expect((await service.execute(bulk.id)).converged).toBe(true);

    const batch = await service.planCommissionCsv(commissioningCsv(later));
    expect(batch.commissioning?.method).toBe('batch');
    expect(batch.messages).toMatchObject({ J2: 1, BUNDLE: 1, SEED: 20 });
    const epoch = service.epoch;
    expect(await service.execute(batch.id)).toMatchObject({ converged: true, epoch: epoch + 1 });
    expect(holders(sim, committedFingerprint(store)).sort((a, b) => a - b)).toEqual(sim.fleet.profiles.map((p) => p.id));
    expect(store.members(1).filter((m) => m.status === 'member')).toHaveLength(60);
    expect(store.verifyAudit().ok).toBe(true);
  }, 90_000);

  it('after a recovery a re-seed converges, empties the suspicion record, and a leave costs 320 B again', async () => {
    const { store, sim, service } = await running(40);
    await service.execute((await service.planCommissionCsv(commissioningCsv(sim.fleet.profiles))).id);
    expect((await service.execute(service.planRecover([2, 19, 33]).id)).converged).toBe(true);
    const burdened = service.planLeave([middleMember(service)]);
    expect(burdened.recordAdds?.entries).toBe(3);
    expect(burdened.bytes).toBeGreaterThan(320);

    const reseed = service.planReseed();
    expect(reseed.messages).toMatchObject({ ROSTER: 1, SEED: 37 });
    expect(reseed.bytes).toBeLessThan(37 * 160);
    expect((await service.execute(reseed.id)).converged).toBe(true);
    const plain = service.planLeave([middleMember(service)]);
    expect([plain.bytes, plain.broadcasts, plain.recordAdds]).toEqual([320, 2, undefined]);
    const fingerprint = committedFingerprint(store);
    expect(holders(sim, fingerprint).filter((id) => [2, 19, 33].includes(id))).toEqual([]);
    expect(holders(sim, fingerprint)).toHaveLength(37);
    expect(store.history(1).map((row) => row.operation)).toEqual(['commission', 'recover', 'reseed']);
  }, 90_000);

  it('a departed meter suspected later is counted by the next removal, alone by suspect() or named in a recovery', async () => {
    const { store, sim, service } = await running(30);
    await service.execute((await service.planCommissionCsv(commissioningCsv(sim.fleet.profiles))).id);
    await service.execute(service.planLeave([4]).id);
    await service.execute(service.planLeave([9]).id);

    // named with a present suspect, 9 is taken as departed: no message for it, its place joins the record
    const recovery = service.planRecover([9, 21]);
    expect([recovery.affected, recovery.departed]).toEqual([[21], [9]]);
    expect(recovery.recordAdds?.entries).toBe(1);
    expect((await service.execute(recovery.id)).converged).toBe(true);

    const before = service.leaveCost([4])!;
    expect(before.withSuspects.bytes).toBeGreaterThan(before.now.bytes);
    expect(service.suspect([4])).toEqual({ suspected: [4], record: 3 });
    expect(() => service.suspect([4])).toThrow(ServiceError);
    expect(() => service.suspect([12])).toThrow(/is a member/);
    expect(store.auditEntries().at(-1)).toMatchObject({ action: 'suspect departed', detail: { meters: [4], record: 3 } });
    const leave = service.planLeave([middleMember(service)]);
    expect(leave.recordAdds?.entries).toBe(3);
  }, 90_000);
});
