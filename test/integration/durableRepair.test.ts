import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { equalBytes, seededRandom, toHex } from '../../main/grep/index.js';
import { KeyManagerService, type ServiceOptions } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { Channel } from '../../sim/channel.js';
import { DataConcentrator } from '../../sim/dc.js';
import { Fleet } from '../../sim/fleet.js';
import { InProcessPort } from '../../sim/inProcessPort.js';

/**
 * The outbox as the replay log (GREP.md §7, §11), through the whole service on simulated time: a Key
 * Manager rebuilt from the store after a crash repairs by replay from the stored messages, and the
 * outbox keeps only what replay can still need.
 */
const PASSPHRASE = 'durable repair passphrase';
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function group(meters: number, medium: { loss: number; rate: number; seed: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'grep-durable-'));
  dirs.push(dir);
  const store = KmStore.create(join(dir, 'km.db'), PASSPHRASE, { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  const random = seededRandom(medium.seed);
  const record = KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: meters }, 'operator', random);
  const fleet = new Fleet({ seed: medium.seed, meters, groupId: 1, kmPublicKey: record.publicKey, crypto: nodeCrypto });
  const channel = new Channel({ bitRate: medium.rate, latency: 0.02, loss: medium.loss, seed: medium.seed, clock: 'simulated' });
  const port = new InProcessPort(channel);
  const dc = () => new DataConcentrator({ channel, meters: fleet.meters, send: port.fromDc });
  port.attach(dc());
  const open = (options: Partial<ServiceOptions> = {}) => KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link: port, clock: port.clock, random, ackTimeout: 0.15, maxRounds: 20, ...options });
  const everyoneHolds = (service: KeyManagerService) => {
    const { kg } = service.groupKey();
    return service.status().meters.filter((meter) => meter.status === 'member').every((meter) => equalBytes(fleet.get(meter.meterId).member.groupKey ?? new Uint8Array(), kg));
  };
  const profiles = fleet.profiles.map(({ id, serial, model, nodeKey }) => ({ id, serial, model, nodeKey: toHex(nodeKey) }));
  return { store, fleet, channel, port, dc, open, everyoneHolds, profiles };
}

describe('repair from the durable log', () => {
  test('a Key Manager rebuilt from the store right after a leave commits repairs meters two epochs behind by replay, never by resync', async () => {
    const setup = group(120, { loss: 0.05, rate: 20_000, seed: 3 });
    const first = setup.open();
    expect((await first.execute((await first.planCommission(setup.profiles)).id)).converged).toBe(true);
    // meters 7 and 8 are out of reach for a periodic rekey and a leave: they fall two epochs behind
    setup.channel.setReachable(7, false);
    setup.channel.setReachable(8, false);
    const missed = await first.execute(first.planPeriodicRekey().id);
    expect(missed.unreachable).toEqual([7, 8]);
    const crash = new Error('killed right after the commit');
    first.close();
    const dying = setup.open({ afterCommit: () => { throw crash; } });
    await expect(dying.execute(dying.planLeave([50]).id)).rejects.toBe(crash);
    dying.close();
    setup.channel.setReachable(7, true);
    setup.channel.setReachable(8, true);

    // a new process: its KM, its replay log and what each meter last acked come from the store alone
    const restarted = setup.open();
    const result = await restarted.catchUp();
    expect(result).toMatchObject({ converged: true, resyncs: 0, unreachable: [] });
    expect(result.replays + result.rebroadcasts).toBeGreaterThan(0);
    expect(setup.everyoneHolds(restarted)).toBe(true);
    restarted.close();
  });

  test('the outbox keeps the operations of the replay window and nothing else once the DC accepted it', async () => {
    const setup = group(40, { loss: 0.1, rate: 50_000, seed: 4 });
    const service = setup.open();
    await service.execute((await service.planCommission(setup.profiles)).id);
    for (let rekey = 0; rekey < 30; rekey++) expect((await service.execute(service.planPeriodicRekey().id)).converged).toBe(true);
    // the last acceptances are marked a tick later (KeyManagerService), then the next open prunes
    await new Promise((resolve) => setImmediate(resolve));
    service.close();
    const reopened = setup.open();
    const kept = setup.store.db.prepare('SELECT purpose, min(epoch) AS oldest, count(*) AS rows FROM outbox GROUP BY purpose').all() as { purpose: string; oldest: number; rows: number }[];
    const epoch = reopened.epoch;
    expect(epoch).toBe(31);
    // 16 epochs of one PERIODIC each, and their 16 keys; no repair row survives its acceptance
    expect(kept).toEqual([{ purpose: 'key', oldest: epoch - 15, rows: 16 }, { purpose: 'rekey', oldest: epoch - 15, rows: 16 }]);
    const { written } = setup.store.db.prepare('SELECT seq AS written FROM sqlite_sequence WHERE name = \'outbox\'').get() as { written: number };
    expect(written).toBeGreaterThan(100);
    reopened.close();
  });

  test('a DC that restarted without its copy of KG gets it again, and a group command then reaches every meter', async () => {
    const setup = group(12, { loss: 0, rate: 50_000, seed: 5 });
    const service = setup.open();
    await service.execute((await service.planCommission(setup.profiles)).id);
    await service.execute(service.planPeriodicRekey().id);
    const restarted = setup.dc();
    setup.port.restart(restarted);
    expect(restarted.groupKey).toBeUndefined();
    restarted.requestStatus();
    expect(restarted.epoch).toBe(service.epoch);
    expect(equalBytes(restarted.groupKey!, service.groupKey().kg)).toBe(true);
    const command = await service.executeCommand(service.planCommand({ action: 'open', meters: 'all' }).id);
    expect(command.missing).toEqual([]);
    service.close();
  });

  test('after the DC link comes back the sync table says unknown until the meters answer, and a meter left behind is repaired by itself', async () => {
    const setup = group(12, { loss: 0, rate: 50_000, seed: 6 });
    const service = setup.open();
    await service.execute((await service.planCommission(setup.profiles)).id);
    setup.channel.setReachable(5, false);
    expect((await service.execute(service.planPeriodicRekey().id)).unreachable).toEqual([5]);
    setup.channel.setReachable(5, true);

    setup.port.restart(setup.dc());
    expect(new Set(setup.store.syncStates(1).map((sync) => sync.status))).toEqual(new Set(['unknown']));
    // the re-check runs on the simulated clock as soon as this test yields
    await new Promise((resolve) => setImmediate(resolve));
    expect(setup.store.syncStates(1).filter((sync) => sync.status !== 'in sync')).toEqual([]);
    expect(setup.everyoneHolds(service)).toBe(true);
    service.close();
  });

  test('an eviction during a commissioning goes out at once, before the commissioning\'s unsent frames, which follow it; nothing is left unsent', async () => {
    const setup = group(120, { loss: 0.02, rate: 5_000, seed: 7 });
    const service = setup.open();
    const handed: number[] = [];
    setup.port.on('accepted', (transfer) => handed.push(transfer));
    const commissioning = service.execute((await service.planCommission(setup.profiles)).id);
    // the commissioning has committed and its first frames are at the DC: minutes of airtime at 5 kbit/s
    const lastCommissioningRow = Math.max(...setup.store.pendingOutbox(1).map((row) => row.id));
    const sentBefore = handed.length;
    const eviction = service.execute(service.planLeave([5]).id);
    const [commissioned, evicted] = await Promise.all([commissioning, eviction]);
    expect(commissioned).toMatchObject({ superseded: true });
    expect(evicted).toMatchObject({ converged: true, superseded: false });
    // the frame after the eviction's commit was the eviction's own, and the commissioning's rows went on after it
    expect(handed[sentBefore]).toBeGreaterThan(lastCommissioningRow);
    expect(handed.slice(sentBefore).some((transfer) => transfer <= lastCommissioningRow)).toBe(true);
    expect(setup.everyoneHolds(service)).toBe(true);
    expect(setup.fleet.get(5).member.groupKey).not.toEqual(service.groupKey().kg);
    await new Promise((resolve) => setImmediate(resolve));
    expect(setup.store.pendingOutbox(1)).toEqual([]);
    service.close();
  });
});
