/**
 * A Key Manager process for the crash test: opens the store, connects to the DC of its profile,
 * catches up, then runs a fixed sequence of operations, taking the next from the history so that a
 * restarted process continues where the killed one committed. Prints `ready`, `op <n>` and `done`.
 *
 * node --import tsx test/support/kmProcess.ts <db> <meters> <seed> <operations>   (GREP_KM_PASSPHRASE in env)
 */
import { nodeCrypto } from '../../main/crypto/node.js';
import { KeyManagerService, type OperatorPlan } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { commissioningCsv, meterProfiles } from '../../sim/fleet.js';
import { startKmLink } from './kmBench.js';

const COMMISSION_BATCH = 5;

const [db, meters, seed, operations] = process.argv.slice(2) as [string, string, string, string];
const store = KmStore.open(db, process.env.GREP_KM_PASSPHRASE ?? '');
const link = await startKmLink(store);
const service = KeyManagerService.open({ store, group: 'dc-1', actor: 'crash-test', link, ackTimeout: 0.3, maxRounds: 20 });
await service.catchUp();
console.log('ready');

const profiles = meterProfiles(Number(seed), Array.from({ length: Number(meters) }, (_, index) => index + 1), nodeCrypto);
const batches = Math.ceil(profiles.length / COMMISSION_BATCH);

/** Operation `n` of the sequence: commissioning in batches, then periodic rekey, leave, recovery of two, resync. */
async function plan(n: number): Promise<OperatorPlan> {
  if (n < batches) return service.planCommissionCsv(commissioningCsv(profiles.slice(n * COMMISSION_BATCH, (n + 1) * COMMISSION_BATCH)));
  const members = service.status().meters.filter((meter) => meter.status === 'member').map((meter) => meter.meterId);
  const pick = (offset: number) => members[(n * 7 + offset) % members.length]!;
  switch (n % 4) {
    case 0:
      return service.planPeriodicRekey();
    case 1:
      return service.planLeave([pick(0)]);
    case 2:
      return service.planRecover([...new Set([pick(0), pick(1)])]);
    default:
      return service.planResync([pick(0)]);
  }
}

for (let done = store.history(1).length; done < Number(operations); done = store.history(1).length) {
  await service.execute((await plan(done)).id);
  console.log(`op ${done}`);
}
// a run that is not killed ends only once every meter holds the last epoch: repairs queued behind the
// earlier runs' traffic on the real-time medium may need more than one round
let settled = await service.catchUp();
for (let attempt = 0; attempt < 20 && !settled.converged; attempt++) settled = await service.catchUp();
console.log(settled.converged ? 'done' : `unconverged ${settled.unreachable.join(',')}`);
service.close();
await link.stop();
store.close();
