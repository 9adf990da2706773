/**
 * How long a leave and a join take to reach a whole simulated fleet over a lossy shared medium, for
 * GREP, LKH and the basic scheme: `npm run bench:fleet -- --meters 1000 --loss 0.01 --rate 5000
 * [--latency 0.02] [--seed 1] [--json]`. Everything runs in one process on the simulated clock: the
 * real KM, the convergence driver of main/ops, the DC logic, the channel and every meter's real member.
 *
 * simSeconds: from the operation until every remaining meter holds the new KG (meter side);
 * confirmedSeconds: until the KM has every ack; wallSeconds: this process's time for KM, DC and meters;
 * airtimeBytes: what the DC put on the medium for the operation and its repair, in bytes at --rate.
 */
import { nodeCrypto } from '../main/crypto/node.js';
import { BasicKeyManager } from '../main/grep/baselines/basic.js';
import { encodeLkhState, LkhKeyManager, lkhStateSize } from '../main/grep/baselines/lkh.js';
import {
  defaultSubgroupCap,
  encodeMessage,
  equalBytes,
  type Executed,
  KEY_BYTES,
  KeyManager,
  messageSize,
  type Outgoing,
  seededRandom,
} from '../main/grep/index.js';
import { Convergence, grepSource, type RekeySource } from '../main/ops/convergence.js';
import { Channel, uniformStream } from '../sim/channel.js';
import { DataConcentrator, inProcessLink } from '../sim/dc.js';
import { Fleet } from '../sim/fleet.js';
import type { Scheme } from '../sim/meter.js';
import { parseBenchArgs, printTable } from './report.js';

export interface FleetRow {
  scheme: Scheme;
  op: 'leave' | 'join';
  meters: number;
  simSeconds: number;
  confirmedSeconds: number;
  wallSeconds: number;
  airtimeBytes: number;
  converged: boolean;
  rounds: number;
  rebroadcasts: number;
  replays: number;
  resyncs: number;
}

interface Settings {
  readonly meters: number;
  readonly loss: number;
  readonly rate: number;
  readonly latency: number;
  readonly seed: number;
}

const GROUP = 1;
/** the DC holds reports this long before relaying them */
const REPORT_BATCH = 0.05;

interface SchemeUnderTest {
  readonly source: RekeySource;
  leave(member: number): Executed;
  join(member: number): Executed;
  groupKey(): Uint8Array;
}

/**
 * A baseline KM as a RekeySource: its laggards are repaired by re-sending the member its state, which
 * for basic is the very BASIC unicast it missed and for LKH its path keys (LKH_STATE).
 */
function baseline(scheme: 'basic' | 'lkh', fleet: Fleet, members: Set<number>, signingKey: Uint8Array, random: (n: number) => Uint8Array): SchemeUnderTest {
  const config = { groupId: GROUP, signingKey, crypto: nodeCrypto };
  const km = scheme === 'basic' ? new BasicKeyManager(config, random) : new LkhKeyManager(config, random);
  km.bootstrap(fleet.commissioning([...members]), random);
  const state = (member: number): Outgoing => {
    const header = { type: scheme === 'basic' ? ('BASIC' as const) : ('LKH_STATE' as const), groupId: GROUP, epoch: km.epoch, subject: member };
    const plaintext = km instanceof LkhKeyManager ? encodeLkhState(km.memberState(member)) : km.groupKey();
    return { type: header.type, to: member, bytes: encodeMessage(nodeCrypto, header, [{ slot: 0, owner: 0, key: fleet.profile(member).nodeKey, plaintext }], undefined) };
  };
  const source: RekeySource = {
    get epoch() {
      return km.epoch;
    },
    groupKey: () => km.groupKey(),
    members: () => members,
    resyncBytes: (member) => (km instanceof LkhKeyManager ? messageSize('LKH_STATE', [lkhStateSize(km.leafOf(member))]) : messageSize('BASIC', [KEY_BYTES])),
    resync: state,
  };
  for (const member of members) fleet.get(member).receive(state(member).bytes);
  return {
    source,
    leave: (member) => km.remove([member], random),
    join: (member) => km.join(fleet.commissioning([member])[0]!, random),
    groupKey: () => km.groupKey(),
  };
}

function grep(fleet: Fleet, members: Set<number>, signingKey: Uint8Array, random: (n: number) => Uint8Array): SchemeUnderTest {
  const km = new KeyManager({ groupId: GROUP, signingKey, subgroupCap: defaultSubgroupCap(members.size), crypto: nodeCrypto }, random);
  km.reseed(fleet.commissioning([...members]), random);
  for (const message of km.reseedMessages()) fleet.get(message.to as number).receive(message.bytes);
  return {
    source: grepSource(km),
    leave: (member) => km.remove([member], { suspected: false }, random),
    join: (member) => km.join(fleet.commissioning([member])[0]!, random),
    groupKey: () => km.groupKey(),
  };
}

async function measure(scheme: Scheme, settings: Settings): Promise<FleetRow[]> {
  const random = seededRandom(settings.seed);
  const signingKey = random(32);
  const kmPublicKey = nodeCrypto.publicKey(signingKey);
  const n = settings.meters;
  // meter n + 1 waits outside the group for the join
  const fleet = new Fleet({ seed: settings.seed, meters: n + 1, scheme, groupId: GROUP, kmPublicKey, crypto: nodeCrypto });
  const members = new Set(Array.from({ length: n }, (_, index) => index + 1));
  const subject = scheme === 'grep' ? grep(fleet, members, signingKey, random) : baseline(scheme, fleet, members, signingKey, random);

  const channel = new Channel({ bitRate: settings.rate, latency: settings.latency, loss: settings.loss, seed: settings.seed, clock: 'simulated' });
  let target = 0;
  const holds = new Map<number, number>();
  let driver: Convergence | undefined;
  const dc = new DataConcentrator({
    channel,
    meters: fleet.meters,
    reportBatchSeconds: REPORT_BATCH,
    send: (message) => {
      if (message.kind === 'report') driver!.observe(message.reports);
    },
    onMeterReport: (report, time) => {
      if (report.epoch >= target && !holds.has(report.member)) holds.set(report.member, time);
    },
  });
  driver = new Convergence(subject.source, inProcessLink(dc, channel), {
    crypto: nodeCrypto,
    ackTimeout: 2 * settings.latency + REPORT_BATCH + 0.01,
  });

  const rows: FleetRow[] = [];
  const run = async (op: FleetRow['op'], execute: () => Executed) => {
    const wallStart = performance.now();
    const start = channel.clock.now();
    const airtimeStart = channel.airtimeSeconds;
    const executed = execute();
    target = executed.epoch;
    holds.clear();
    const result = await driver!.converge(executed);
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const everyoneHolds = [...members].every((id) => equalBytes(fleet.get(id).member.groupKey ?? new Uint8Array(), subject.groupKey()));
    const lastHold = Math.max(...[...members].map((id) => holds.get(id) ?? Number.POSITIVE_INFINITY));
    const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
    rows.push({
      scheme,
      op,
      meters: n,
      simSeconds: round(lastHold - start),
      confirmedSeconds: round(result.simSeconds),
      wallSeconds: round(wallSeconds),
      airtimeBytes: Math.round(((channel.airtimeSeconds - airtimeStart) * settings.rate) / 8),
      converged: result.converged && everyoneHolds,
      rounds: result.rounds,
      rebroadcasts: result.rebroadcasts,
      replays: result.replays,
      resyncs: result.resyncs,
    });
  };
  const leaver = 1 + Math.floor(uniformStream(settings.seed)() * n);
  await run('leave', () => {
    members.delete(leaver);
    return subject.leave(leaver);
  });
  await run('join', () => {
    members.add(n + 1);
    return subject.join(n + 1);
  });
  return rows;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), {
    flags: {
      meters: { value: 1000, min: 8, max: 100_000, integer: true },
      loss: { value: 0.01, min: 0, max: 0.5 },
      rate: { value: 5000, min: 100, max: 1e9 },
      latency: { value: 0.02, min: 0, max: 10 },
      seed: { value: 1, min: 0, max: 0xffffffff, integer: true },
    },
  });
  const rows: FleetRow[] = [];
  for (const scheme of ['grep', 'lkh', 'basic'] as const) {
    rows.push(...(await measure(scheme, args.flags)));
    if (!args.json) process.stderr.write(`measured ${scheme} on ${args.flags.meters} meters\n`);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  printTable(rows, ['scheme', 'op', 'meters', 'simSeconds', 'confirmedSeconds', 'wallSeconds', 'airtimeBytes', 'converged', 'rounds', 'rebroadcasts', 'replays', 'resyncs']);
  const leave = (scheme: Scheme) => rows.find((row) => row.scheme === scheme && row.op === 'leave')!.simSeconds;
  process.stdout.write(`leave: basic / GREP = ${(leave('basic') / leave('grep')).toFixed(1)}x simulated seconds, LKH / GREP = ${(leave('lkh') / leave('grep')).toFixed(1)}x\n`);
}

await main();
