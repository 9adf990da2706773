import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { pack } from '../../main/firmware/index.js';
import { equalBytes, toHex } from '../../main/grep/index.js';
import { readRound } from '../../main/ops/campaignFrames.js';
import type { KmStore } from '../../main/store/index.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import { type Cleanups, commissionFleet, firmwareDc, MODEL, openFirmwareKm, trustVendorKey } from '../support/firmwareBench.js';
import { waitFor } from '../support/net.js';

/*
 * Firmware campaigns (GREP.md §10) driven by the FirmwareService over real TCP on 127.0.0.1 to the
 * simulated DC: 200 meters of one model, 5 % loss, 200 kbit/s, a 12 KiB image; erasure-coded
 * campaigns (issue 13) at 5 % and, on a second simulated DC, at 10 % loss.
 */

const crypto = nodeCrypto;
const METERS = 200;
const vendorKey = nodeRandom(32);
const image = nodeRandom(12 * 1024);
const digest = crypto.sha256(image);
const packageV2 = pack(crypto, image, { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey);
const packageV3 = pack(crypto, image, { vendor: 'Acme', model: MODEL, version: '3.0.0', sequence: 3 }, vendorKey);
const everyone = Array.from({ length: METERS }, (_, index) => index + 1);

const cleanups: Cleanups = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * One store with group dc-1, the simulator behind TCP and the group commissioned from the fleet's CSV,
 * shared by the tests below in order (commissioning 200 meters at 5 % loss is most of the time):
 * each test leaves no campaign open.
 */
async function bench(loss = 0.05) {
  const { store, sim } = await firmwareDc(cleanups, { meters: METERS, loss, seed: 7, rate: 200_000, vendorKey });
  const connect = () => openFirmwareKm(store, cleanups, { maxRounds: 20 });
  const km = await connect();
  expect(await commissionFleet(km, sim)).toBe(true);
  trustVendorKey(km, vendorKey);
  const [v2, v3] = [packageV2, packageV3].map((bytes) => km.firmware.stage(bytes).staged!.id);
  return { store, sim, km, connect, v2: v2!, v3: v3! };
}

/** Meters whose inactive slot holds campaign `id`'s exact image, verified (or activated). */
function holding(sim: RunningSimulator, id: number, state: 'verified' | 'activated'): number[] {
  return everyone.filter((meter) => {
    const slot = sim.fleet.get(meter).firmware.slot;
    return slot?.campaign === id && slot.state === state && slot.image !== undefined && equalBytes(crypto.sha256(slot.image), digest);
  });
}

/** Outbox rows written for a campaign frame addressed to `meter` after row `after`. */
function unicastsTo(store: KmStore, meter: number, after: number): number {
  return (store.db.prepare('SELECT count(*) AS n FROM outbox WHERE id > ? AND kind = \'unicast\' AND member = ?').get(after, meter) as { n: number }).n;
}

/** A coded push to every meter: each one verifies the exact image, for about one pass plus the loss. */
async function codedCampaign(setup: Awaited<ReturnType<typeof bench>>, packageId: number): Promise<void> {
  const { sim, km } = setup;
  const started = Date.now();
  // 48 blocks in generations of 16: a meter decodes any 16 symbols of a generation
  const pushed = km.firmware.push({ packageId, generationSize: 16 });
  const distributed = await km.firmware.settled(pushed.id, 60);
  expect(distributed).toMatchObject({ status: 'distributed', counts: { verified: METERS, failed: 0 } });
  expect(holding(sim, pushed.id, 'verified')).toEqual(everyone);
  const onePass = 48 * (256 + 40);
  expect(distributed.sentBytes).toBeLessThan(2 * onePass);
  console.log(`coded firmware: distributed in ${Date.now() - started} ms over ${distributed.round} rounds, ${distributed.sentBytes} bytes (${(distributed.sentBytes / onePass).toFixed(2)} passes)`);
  km.firmware.cancel(pushed.id);
}

const lastOutboxId = (store: KmStore) => (store.db.prepare('SELECT coalesce(max(id), 0) AS id FROM outbox').get() as { id: number }).id;

describe('firmware campaigns over the DC link (GREP.md §10)', () => {
  let setup: Awaited<ReturnType<typeof bench>>;
  beforeAll(async () => {
    const started = Date.now();
    setup = await bench();
    console.log(`firmware bench: commissioned ${METERS} meters in ${Date.now() - started} ms`);
  }, 60_000);
  // a failed test must not leave its campaign holding the meters for the next one
  afterEach(() => {
    for (const campaign of setup.km.firmware.campaigns()) if (campaign.status !== 'completed' && campaign.status !== 'cancelled') setup.km.firmware.cancel(campaign.id);
  });

  it('distributes to 200 meters at 5 % loss, every meter verifies the exact image, then activates the new version', async () => {
    const { store, sim, km, v2 } = setup;
    const started = Date.now();
    const pushed = km.firmware.push({ packageId: v2 });
    expect(pushed).toMatchObject({ meters: METERS, totalBlocks: 48, blockSize: 256 });
    const distributed = await km.firmware.settled(pushed.id, 30);
    expect(distributed).toMatchObject({ status: 'distributed', counts: { verified: METERS, failed: 0 } });
    expect(holding(sim, pushed.id, 'verified')).toEqual(everyone);
    // lost blocks were repaired in later rounds, each resending only what some meter reported missing
    // (at 5 % loss nearly every block has several missers after round 1, so round 2 is almost a pass)
    const onePass = 48 * (256 + 40);
    expect(distributed.round).toBeGreaterThan(2);
    expect(distributed.sentBytes).toBeLessThan(4 * onePass);
    const distributedIn = Date.now() - started;

    km.firmware.activate(pushed.id);
    const completed = await km.firmware.settled(pushed.id, 30);
    expect(completed).toMatchObject({ status: 'completed', counts: { activated: METERS } });
    for (const meter of everyone) {
      const firmware = sim.fleet.get(meter).firmware;
      expect([meter, firmware.running]).toEqual([meter, { version: '2.0.0', sequence: 2 }]);
      expect(toHex(crypto.sha256(firmware.runningImage!))).toBe(toHex(digest));
    }
    expect(km.firmware.campaign(pushed.id).perMeter.every((meter) => meter.state === 'activated' && meter.version === '2.0.0')).toBe(true);
    // anti-rollback: the version the meters now run cannot be staged again
    expect(km.firmware.stage(packageV2).checks.find((check) => check.status === 'failed')?.check).toBe('sequence');
    expect(store.verifyAudit().ok).toBe(true);
    console.log(`firmware: distributed in ${distributedIn} ms over ${distributed.round} rounds, ${distributed.sentBytes} bytes; activated in ${Date.now() - started - distributedIn} ms`);
  }, 60_000);

  it('an erasure-coded campaign at 5 % loss: every meter verifies the exact image', async () => {
    await codedCampaign(setup, setup.v3);
  }, 90_000);

  it('resumes after a KM restart mid-campaign: the stored round is not sent again, later rounds go under fresh transfer ids', async () => {
    const { store, sim, v3 } = setup;
    const pushed = setup.km.firmware.push({ packageId: v3 });
    const before = lastOutboxId(store);
    // stop while round 1 is still on its way to the DC
    await waitFor('round 1 partly accepted', () => setup.km.link.pending().length < 30, 10_000);
    await setup.km.stop();
    expect(store.firmware.campaign(1, pushed.id)).toMatchObject({ status: 'distributing' });
    const round = readRound(store.firmware.campaign(1, pushed.id)!.roundSends).sends.length;
    expect(round).toBeGreaterThan(0);

    setup.km = await setup.connect();
    const distributed = await setup.km.firmware.settled(pushed.id, 30);
    expect(distributed).toMatchObject({ status: 'distributed', counts: { verified: METERS } });
    expect(holding(sim, pushed.id, 'verified')).toEqual(everyone);
    // the resumed rounds went out under ids above everything sent before the restart
    expect(before).toBeGreaterThan(0);
    // that the stored round is not sent again is counted per frame at the DC in test/integration/campaignRestart.test.ts
    setup.km.firmware.cancel(pushed.id);
  }, 60_000);

  it('pauses (nothing more is sent), resumes to the end, and a cancelled campaign cannot be activated', async () => {
    const { store, sim, km, v3 } = setup;
    const pushed = km.firmware.push({ packageId: v3, meters: everyone.slice(0, 100) });
    expect(km.firmware.pause(pushed.id).status).toBe('paused');
    const frozen = lastOutboxId(store);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(lastOutboxId(store)).toBe(frozen);
    expect(km.firmware.resume(pushed.id).status).toBe('distributing');
    expect(await km.firmware.settled(pushed.id, 30)).toMatchObject({ status: 'distributed', counts: { verified: 100 } });
    // (members outside the target list overhear the multicast frames under KG as well: targeting says whom
    // the KM waits for and repairs, not who may listen)
    expect(holding(sim, pushed.id, 'verified')).toEqual(expect.arrayContaining(everyone.slice(0, 100)));
    expect(km.firmware.cancel(pushed.id).status).toBe('cancelled');
    expect(() => km.firmware.activate(pushed.id)).toThrow(expect.objectContaining({ code: 'CAMPAIGN_STATE' }));
    // nothing was activated: the meters still run 2.0.0
    expect(everyone.every((meter) => sim.fleet.get(meter).firmware.running.version === '2.0.0')).toBe(true);
    const actions = store.auditEntries().map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['push firmware', 'pause campaign', 'resume campaign', 'campaign distributed', 'cancel campaign']));
  }, 60_000);

  it('a meter removed mid-campaign gets no further frame, and cannot open a campaign started after its removal', async () => {
    const { store, sim, km, v3 } = setup;
    const leaver = 17;
    const first = km.firmware.push({ packageId: v3 });
    await km.kms.execute(km.kms.planLeave([leaver]).id);
    const removedAt = lastOutboxId(store);
    expect(km.firmware.campaign(first.id).perMeter.find((meter) => meter.meterId === leaver)).toMatchObject({ state: 'failed', reason: 'removed from the group' });
    const distributed = await km.firmware.settled(first.id, 30);
    expect(distributed).toMatchObject({ status: 'distributed', counts: { verified: METERS - 1, failed: 1 } });
    expect(unicastsTo(store, leaver, removedAt)).toBe(0);
    km.firmware.cancel(first.id);

    // the next campaign's K_fw is wrapped under a KG the leaver never holds
    const second = km.firmware.push({ packageId: v3 });
    expect(second.meters).toBe(METERS - 1);
    expect(await km.firmware.settled(second.id, 30)).toMatchObject({ status: 'distributed', counts: { verified: METERS - 1 } });
    expect(holding(sim, second.id, 'verified')).toEqual(everyone.filter((meter) => meter !== leaver));
    expect(sim.fleet.get(leaver).firmware.slot?.campaign).not.toBe(second.id);
    expect(unicastsTo(store, leaver, removedAt)).toBe(0);
    km.firmware.cancel(second.id);
  }, 60_000);
});

describe('erasure-coded campaign over the DC link at 10 % loss (issue 13)', () => {
  let setup: Awaited<ReturnType<typeof bench>>;
  beforeAll(async () => {
    const started = Date.now();
    setup = await bench(0.1);
    console.log(`firmware bench at 10 % loss: commissioned ${METERS} meters in ${Date.now() - started} ms`);
  }, 120_000);
  afterEach(() => {
    for (const campaign of setup.km.firmware.campaigns()) if (campaign.status !== 'completed' && campaign.status !== 'cancelled') setup.km.firmware.cancel(campaign.id);
  });

  it('every meter verifies the exact image', async () => {
    await codedCampaign(setup, setup.v2);
  }, 90_000);
});
