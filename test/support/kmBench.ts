import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { KeyManager, kgFingerprint, toHex } from '../../main/grep/index.js';
import type { DcLink } from '../../main/link/client.js';
import { linkToDc } from '../../main/ops/dcLink.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { type GroupRecord, KmStore } from '../../main/store/index.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { waitFor } from './net.js';

/** The store's DC link, tuned for a local simulator (fast retries, short dead-peer time), started and up. */
export async function startKmLink(store: KmStore, dc = 'dc-1'): Promise<DcLink> {
  const profile = store.dcProfile(dc);
  if (!profile) throw new Error(`no DC profile ${dc}`);
  const link = linkToDc(profile, {
    backoff: { initialMs: 50, maxMs: 400 },
    timing: { handshakeTimeoutMs: 2_000, keepaliveMs: 200, deadPeerMs: 1_000 },
    ackTimeoutMs: 1_000,
  });
  link.start();
  await waitFor('the link up', () => link.state.state === 'up');
  return link;
}

/**
 * A new store at `path` with group 1 ("dc-1") and the simulated DC for it in this process, over real
 * TCP on 127.0.0.1, its profile saved in the store. The caller closes the store and the simulator.
 */
export async function storeWithSimulatedDc(path: string, passphrase: string, fleet: { meters: number; loss: number; seed: number }): Promise<{ store: KmStore; group: GroupRecord; sim: RunningSimulator }> {
  const store = KmStore.create(path, passphrase);
  const group = KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: fleet.meters }, 'operator');
  const pairingKey = nodeRandom(16);
  const sim = await startSimulator({
    ...fleet, tcp: { host: '127.0.0.1', port: 0 }, baud: 115_200, 'pairing-key': pairingKey, 'km-public-key': group.publicKey, group: 1, rate: 100_000, latency: 5,
  });
  store.saveDcProfile({ name: 'dc-1', transport: 'tcp', host: '127.0.0.1', port: sim.endpoint.tcpPort!, pairingKey });
  return { store, group, sim };
}

/** The KG fingerprint of the state committed in the store for group "dc-1", as a restarted Key Manager would hold it. */
export function committedFingerprint(store: KmStore): string {
  const group = store.group('dc-1');
  const { state, signingKey } = store.groupSecrets(group.id);
  const km = KeyManager.restore({ groupId: group.id, signingKey, subgroupCap: group.subgroupCap, crypto: nodeCrypto }, state, nodeRandom);
  return toHex(kgFingerprint(nodeCrypto, km.groupKey()));
}
