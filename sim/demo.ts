/**
 * `npm run demo`: a rehearsal of GREP on a simulated fleet in one process: commission a group, then
 * join, leave, recover from a collusion and rekey, with every meter a real Member receiving the real
 * messages. Each step prints its plan next to what the basic scheme and LKH would send, and how many
 * meters hold the Key Manager's group key afterwards.
 */
import { nodeCrypto, nodeRandom } from '../main/crypto/node.js';
import { BasicKeyManager } from '../main/grep/baselines/basic.js';
import { LkhKeyManager } from '../main/grep/baselines/lkh.js';
import { type Commissioning, defaultSubgroupCap, equalBytes, type Executed, KeyManager, Member, type Plan } from '../main/grep/index.js';

const METERS = Number(process.argv[2] ?? 200);
if (!Number.isInteger(METERS) || METERS < 8 || METERS > 20_000) {
  process.stderr.write('usage: npm run demo -- [meters, 8..20000]\n');
  process.exit(2);
}

const signingKey = nodeRandom(32);
const config = { groupId: 1, signingKey, crypto: nodeCrypto };
const km = new KeyManager({ ...config, subgroupCap: defaultSubgroupCap(METERS) }, nodeRandom);
const lkh = new LkhKeyManager(config, nodeRandom);
const basic = new BasicKeyManager(config, nodeRandom);
const meters = new Map<number, Member>();

function commission(id: number): Commissioning {
  const nodeKey = nodeRandom(16);
  meters.set(id, new Member({ id, groupId: 1, nodeKey, kmPublicKey: km.publicKey }, nodeCrypto));
  return { id, nodeKey };
}

function deliver(executed: Executed | { messages: Executed['messages'] }): void {
  for (const message of executed.messages) {
    const targets = message.to === 'all' ? meters.values() : [meters.get(message.to)!];
    for (const meter of targets) meter.receive(message.bytes);
  }
}

const describe = (plan: Plan) => {
  const kinds = new Map<string, number>();
  for (const message of plan.messages) kinds.set(message.type, (kinds.get(message.type) ?? 0) + 1);
  return `${[...kinds].map(([type, count]) => `${count}×${type}`).join(' ')}, ${plan.bytes} B`;
};

function step(title: string, grep: Executed, baselines: [Plan, Plan]): void {
  deliver(grep);
  let inSync = 0;
  for (const { members } of km.subgroups()) {
    for (const id of members) if (equalBytes(meters.get(id)!.secrets?.kg ?? new Uint8Array(), km.groupKey())) inSync++;
  }
  process.stdout.write(
    `${title.padEnd(34)} GREP ${describe(grep.plan).padEnd(30)} | LKH ${String(baselines[0].bytes).padStart(6)} B | basic ${String(baselines[1].bytes).padStart(7)} B | ${inSync}/${km.size} meters hold KG (epoch ${km.epoch})\n`,
  );
}

const roster = Array.from({ length: METERS }, (_, index) => commission(index + 1));
km.reseed(roster, nodeRandom);
deliver({ messages: [...km.reseedMessages()] });
lkh.bootstrap(roster, nodeRandom);
basic.bootstrap(roster, nodeRandom);
process.stdout.write(`commissioned ${METERS} meters in ${[...km.subgroups()].length} subgroups of up to ${km.subgroupCap}\n`);

const joiner = commission(METERS + 1);
step(`join meter ${joiner.id}`, km.join(joiner, nodeRandom), [lkh.join(joiner, nodeRandom).plan, basic.join(joiner, nodeRandom).plan]);
const leaver = Math.ceil(METERS / 2);
step(`leave meter ${leaver}`, km.remove([leaver], { suspected: false }, nodeRandom), [lkh.remove([leaver], nodeRandom).plan, basic.remove([leaver], nodeRandom).plan]);
const colluders = [3, Math.ceil(METERS / 3), METERS - 2];
step(`recover from collusion of ${colluders.join(', ')}`, km.remove(colluders, { suspected: true }, nodeRandom), [
  lkh.remove(colluders, nodeRandom).plan,
  basic.remove(colluders, nodeRandom).plan,
]);
const after = 7;
const plan = km.planRemove([after]);
step(`leave meter ${after} (record: ${km.suspicion.length})`, km.remove([after], { suspected: false }, nodeRandom), [
  lkh.remove([after], nodeRandom).plan,
  basic.remove([after], nodeRandom).plan,
]);
if (plan.recordAdds) process.stdout.write(`  the suspicion record added ${plan.recordAdds.broadcasts} broadcasts and ${plan.recordAdds.unicasts} unicasts to that leave: a re-seed would clear it\n`);
