import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { pack } from '../../main/firmware/index.js';
import { toHex } from '../../main/grep/index.js';
import type { Transfer } from '../../main/link/messages.js';
import type { KmStore } from '../../main/store/index.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { type Cleanups, commissionFleet, type FirmwareKm, firmwareDc, MODEL, openFirmwareKm, trustVendorKey } from '../support/firmwareBench.js';
import { waitFor } from '../support/net.js';

/*
 * Campaigns across restarts, over real TCP on 127.0.0.1 to the simulated DC (issues 12 and 15): the Key
 * Manager stopped and reopened mid-round sends each frame of the round once in all (the outbox replay
 * sends what the DC had not accepted, the campaign nothing again), and a DC that reboots while
 * activation is pressed holds the campaign up, visibly, until it is back; then it completes by itself.
 */

const crypto = nodeCrypto;
const METERS = 40;
const vendorKey = nodeRandom(32);
const image = nodeRandom(12 * 1024);
const packageBytes = pack(crypto, image, { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey);

const cleanups: Cleanups = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let store: KmStore;
let sim: RunningSimulator;
let km: FirmwareKm;
let packageId: number;
/** campaign frames the DC handled, by payload: what reached its medium */
const handled = new Map<string, number>();
/** transfer ids the DC handled, in order */
const transfers: number[] = [];

const lastOutboxId = () => (store.db.prepare('SELECT coalesce(max(id), 0) AS id FROM outbox').get() as { id: number }).id;

// a short stall timeout: a DC down for longer must hold the campaign up, not pause it
const connect = () => openFirmwareKm(store, cleanups, { stallTimeout: 1 });

beforeAll(async () => {
  ({ store, sim } = await firmwareDc(cleanups, { meters: METERS, loss: 0, seed: 3, rate: 200_000, vendorKey }));
  const handle = sim.dc.handle.bind(sim.dc);
  sim.dc.handle = (message) => {
    if (message.kind === 'broadcast' || message.kind === 'unicast') {
      const key = toHex(message.payload);
      handled.set(key, (handled.get(key) ?? 0) + 1);
    }
    transfers.push((message as Transfer).transfer);
    handle(message);
  };
  km = await connect();
  expect(await commissionFleet(km, sim)).toBe(true);
  trustVendorKey(km, vendorKey);
  packageId = km.firmware.stage(packageBytes).staged!.id;
}, 60_000);

describe('campaigns across restarts (issues 12 and 15)', () => {
  it('a Key Manager restarted mid-round sends each frame of the round once in all: what the DC had not accepted is replayed once', async () => {
    handled.clear();
    const before = lastOutboxId();
    const pushed = km.firmware.push({ packageId });
    // round 1's rows, committed before push returns
    const roundIds = Array.from({ length: lastOutboxId() - before }, (_, index) => before + 1 + index);
    // stop while round 1 is still on its way to the DC: from the link's own event, since a poll can miss
    // the whole round being accepted between two looks on a loaded machine
    const running = km;
    await new Promise<void>((resolve, reject) => {
      const onAccepted = () => {
        if (running.link.pending().length >= 30) return;
        running.link.off('accepted', onAccepted);
        running.stop().then(resolve, reject);
      };
      running.link.on('accepted', onAccepted);
    });
    const handledBefore = new Set(transfers);
    const unaccepted = roundIds.filter((id) => !handledBefore.has(id));
    expect(unaccepted.length).toBeGreaterThan(0);

    km = await connect();
    expect(await km.firmware.settled(pushed.id, 30)).toMatchObject({ status: 'distributed', counts: { verified: METERS } });
    // no frame reached the medium twice (at 0 % loss no later round repeats one either)
    const counts = [...handled.values()];
    expect(counts.length).toBe(roundIds.length);
    expect(counts.filter((count) => count !== 1)).toEqual([]);
    // the frames the DC had not got went out again under their own ids, once each
    for (const id of unaccepted) expect([id, transfers.filter((handledId) => handledId === id).length]).toEqual([id, 1]);
    km.firmware.cancel(pushed.id);
  }, 60_000);

  it('activation pressed while the DC reboots waits, says so on the campaign, and completes by itself when the DC is back', async () => {
    const pushed = km.firmware.push({ packageId });
    expect(await km.firmware.settled(pushed.id, 30)).toMatchObject({ status: 'distributed', counts: { verified: METERS } });
    // down for three stall timeouts
    const rebooted = sim.reboot(3_000);
    await waitFor('the link down', () => km.link.state.state !== 'up', 5_000);
    km.firmware.activate(pushed.id);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(km.firmware.campaign(pushed.id)).toMatchObject({ status: 'activating', counts: { activated: 0 }, note: { kind: 'waiting', resumesItself: true } });
    await rebooted;
    expect(await km.firmware.settled(pushed.id, 30)).toMatchObject({ status: 'completed', counts: { activated: METERS }, note: undefined });
    expect(sim.fleet.get(1).firmware.running).toEqual({ version: '2.0.0', sequence: 2 });
  }, 60_000);
});
