import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { pack } from '../../main/firmware/index.js';
import { toHex } from '../../main/grep/index.js';
import type { DcLink } from '../../main/link/client.js';
import type { Transfer } from '../../main/link/messages.js';
import { FirmwareService } from '../../main/ops/firmware.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { startKmLink } from '../support/kmBench.js';
import { waitFor } from '../support/net.js';

/*
 * Campaigns across restarts, over real TCP on 127.0.0.1 to the simulated DC (issues 12 and 15): the Key
 * Manager stopped and reopened mid-round sends each frame of the round once in all (the outbox replay
 * sends what the DC had not accepted, the campaign nothing again), and a DC that reboots while
 * activation is pressed holds the campaign up, visibly, until it is back; then it completes by itself.
 */

const crypto = nodeCrypto;
const MODEL = 'GX-110 single-phase';
const METERS = 40;
const vendorKey = nodeRandom(32);
const image = nodeRandom(12 * 1024);
const packageBytes = pack(crypto, image, { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Km {
  readonly link: DcLink;
  readonly kms: KeyManagerService;
  readonly firmware: FirmwareService;
  stop(): Promise<void>;
}

let store: KmStore;
let sim: RunningSimulator;
let km: Km;
let packageId: number;
/** campaign frames the DC handled, by payload: what reached its medium */
const handled = new Map<string, number>();
/** transfer ids the DC handled, in order */
const transfers: number[] = [];

const lastOutboxId = () => (store.db.prepare('SELECT coalesce(max(id), 0) AS id FROM outbox').get() as { id: number }).id;

async function connect(): Promise<Km> {
  const link = await startKmLink(store);
  let firmware: FirmwareService | undefined;
  const kms = KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link, ackTimeout: 2, onRemoved: (meters) => firmware!.removeMeters(meters) });
  // a short stall timeout: a DC down for longer must hold the campaign up, not pause it
  firmware = FirmwareService.open({ store, group: 'dc-1', actor: 'operator', link, groupKey: () => kms.groupKey(), roundTimeout: 0.4, drainTimeout: 5, stallTimeout: 1 });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    firmware!.close();
    kms.close();
    await link.stop();
  };
  cleanups.push(stop);
  return { link, kms, firmware, stop };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grep-campaign-restart-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  store = KmStore.create(join(dir, 'km.db'), 'passphrase', { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  cleanups.push(() => store.close());
  const group = KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: METERS }, 'operator');
  const pairingKey = nodeRandom(16);
  sim = await startSimulator({
    meters: METERS, loss: 0, seed: 3, tcp: { host: '127.0.0.1', port: 0 }, baud: 115_200, 'pairing-key': pairingKey, 'km-public-key': group.publicKey,
    group: 1, rate: 200_000, latency: 5, model: MODEL, 'vendor-key': crypto.publicKey(vendorKey),
  });
  cleanups.push(() => sim.close());
  const status = setInterval(() => sim.dc.requestStatus(), 100);
  cleanups.push(() => clearInterval(status));
  store.saveDcProfile({ name: 'dc-1', transport: 'tcp', host: '127.0.0.1', port: sim.endpoint.tcpPort!, pairingKey });
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
  const commission = await km.kms.execute((await km.kms.planCommissionCsv(sim.fleet.toCsv())).id);
  // a campaign's key frame opens only under the current KG: every meter must hold it
  if (!commission.converged) expect((await km.kms.catchUp()).converged).toBe(true);
  await waitFor('the DC idle', () => sim.dc.idle, 30_000);
  // the meters were started with this vendor key: recorded for their model, and trusted for staging
  km.firmware.trustKeyForModel(MODEL, crypto.publicKey(vendorKey), 'acme');
  packageId = km.firmware.stage(packageBytes).staged!.id;
}, 60_000);

describe('campaigns across restarts (issues 12 and 15)', () => {
  it('a Key Manager restarted mid-round sends each frame of the round once in all: what the DC had not accepted is replayed once', async () => {
    handled.clear();
    const before = lastOutboxId();
    const pushed = km.firmware.push({ packageId });
    // round 1's rows, committed before push returns
    const roundIds = Array.from({ length: lastOutboxId() - before }, (_, index) => before + 1 + index);
    // stop while round 1 is still on its way to the DC
    await waitFor('round 1 partly accepted', () => km.link.pending().length < 30, 10_000);
    await km.stop();
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
