import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import type { DcLink } from '../../main/link/client.js';
import { FirmwareService } from '../../main/ops/firmware.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { type GroupRecord, KmStore } from '../../main/store/index.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { startKmLink } from './kmBench.js';
import { waitFor } from './net.js';

/** The model every simulated meter of a firmware bench is, and that its vendor key is trusted for. */
export const MODEL = 'GX-110 single-phase';

/** What undoes a bench, run last-first when the test (or bench) ends. */
export type Cleanups = (() => Promise<unknown> | unknown)[];

/** The Key Manager side of a firmware bench: its DC link and both services on group dc-1. */
export interface FirmwareKm {
  readonly link: DcLink;
  readonly kms: KeyManagerService;
  readonly firmware: FirmwareService;
  /** closes both services and the link; again is a no-op */
  stop(): Promise<void>;
}

/**
 * A new store (cheap KDF) in a temporary directory with group dc-1, and the simulated DC for it over
 * real TCP on 127.0.0.1: meters of MODEL started with `vendorKey`, the DC's profile saved in the store.
 */
export async function firmwareDc(cleanups: Cleanups, fleet: { meters: number; loss: number; seed: number; rate: number; vendorKey: Uint8Array }): Promise<{ store: KmStore; group: GroupRecord; sim: RunningSimulator }> {
  const dir = mkdtempSync(join(tmpdir(), 'grep-firmware-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = KmStore.create(join(dir, 'km.db'), 'passphrase', { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  cleanups.push(() => store.close());
  const group = KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: fleet.meters }, 'operator');
  const pairingKey = nodeRandom(16);
  const sim = await startSimulator({
    meters: fleet.meters, loss: fleet.loss, seed: fleet.seed, tcp: { host: '127.0.0.1', port: 0 }, baud: 115_200, 'pairing-key': pairingKey, 'km-public-key': group.publicKey,
    group: 1, rate: fleet.rate, latency: 5, model: MODEL, 'vendor-key': nodeCrypto.publicKey(fleet.vendorKey),
  });
  cleanups.push(() => sim.close());
  // the KM learns that the DC's queue drained from its status; ask often instead of every 5 s
  const status = setInterval(() => sim.dc.requestStatus(), 100);
  cleanups.push(() => clearInterval(status));
  store.saveDcProfile({ name: 'dc-1', transport: 'tcp', host: '127.0.0.1', port: sim.endpoint.tcpPort!, pairingKey });
  return { store, group, sim };
}

/**
 * The store's DC link started, and the KeyManagerService and FirmwareService opened on it as the app
 * wires them (a member removed fails its campaign slots); stop() is also left in `cleanups`.
 */
export async function openFirmwareKm(store: KmStore, cleanups: Cleanups, timing: { maxRounds?: number; stallTimeout?: number } = {}): Promise<FirmwareKm> {
  const link = await startKmLink(store);
  let firmware: FirmwareService | undefined;
  // ackTimeout 2: the KM cannot see the medium, and a shorter wait piles repairs up on the DC at 5 % loss
  const kms = KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link, ackTimeout: 2, maxRounds: timing.maxRounds, onRemoved: (meters) => firmware!.removeMeters(meters) });
  firmware = FirmwareService.open({ store, group: 'dc-1', actor: 'operator', link, groupKey: () => kms.groupKey(), roundTimeout: 0.4, drainTimeout: 5, stallTimeout: timing.stallTimeout });
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

/**
 * Commissions the simulated fleet and waits for the DC to go idle; whether every meter holds the
 * current KG, which a campaign's key frame needs to open.
 */
export async function commissionFleet(km: FirmwareKm, sim: RunningSimulator): Promise<boolean> {
  const commission = await km.kms.execute((await km.kms.planCommissionCsv(sim.fleet.toCsv())).id);
  const converged = commission.converged || (await km.kms.catchUp()).converged;
  // and campaigns start on an idle medium, so what is timed after is theirs
  await waitFor('the DC idle', () => sim.dc.idle, 30_000);
  return converged;
}

/** The meters were started with this vendor key: recorded for their model, and trusted for staging. */
export function trustVendorKey(km: FirmwareKm, vendorKey: Uint8Array): void {
  km.firmware.trustKeyForModel(MODEL, nodeCrypto.publicKey(vendorKey), 'acme');
}
