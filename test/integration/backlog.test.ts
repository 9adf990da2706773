import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { nodeRandom } from '../../main/crypto/node.js';
import { toHex } from '../../main/grep/index.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { commissioningCsv } from '../../sim/fleet.js';
import { startSimulator } from '../../sim/simulator.js';
import { committedFingerprint, startKmLink } from '../support/kmBench.js';

/**
 * A backlogged DC is not a silent meter: over the real link the DC accepts a transfer at once and airs
 * it seconds later, so ack windows counted from its acceptance closed while the frames still waited
 * in its queue, and every meter looked silent and was repaired again, adding to the backlog. Windows
 * now start from the DC's `aired` report.
 */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test('commissioning 150 meters through a DC with seconds of queue on a lossless medium needs no repair at all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'grep-backlog-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = KmStore.create(join(dir, 'km.db'), 'backlog passphrase', { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  cleanups.push(() => store.close());
  const group = KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: 150 }, 'operator');
  const pairingKey = nodeRandom(16);
  // 20 kbit/s: the commissioning's ~20 kB take about 8 s of airtime, the ack timeout is 0.5 s
  const sim = await startSimulator({ meters: 150, loss: 0, seed: 8, tcp: { host: '127.0.0.1', port: 0 }, baud: 115_200, 'pairing-key': pairingKey, 'km-public-key': group.publicKey, group: 1, rate: 20_000, latency: 20 });
  cleanups.push(() => sim.close());
  store.saveDcProfile({ name: 'dc-1', transport: 'tcp', host: '127.0.0.1', port: sim.endpoint.tcpPort!, pairingKey });
  const link = await startKmLink(store);
  cleanups.push(() => link.stop());
  const service = KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link, ackTimeout: 0.5, maxRounds: 20 });
  cleanups.push(() => service.close());

  const result = await service.execute((await service.planCommissionCsv(commissioningCsv(sim.fleet.profiles))).id);
  expect(result).toMatchObject({ converged: true, replays: 0, rebroadcasts: 0, resyncs: 0 });
  expect(result.simSeconds).toBeGreaterThan(5);
  const fingerprint = committedFingerprint(store);
  expect(sim.fleet.profiles.filter((meter) => toHex(sim.fleet.get(meter.id).fingerprint) !== fingerprint)).toEqual([]);
}, 120_000);
