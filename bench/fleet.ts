/**
 * How long a leave and a join take to reach a whole simulated fleet over a lossy shared medium, for
 * GREP, LKH and the basic scheme: `npm run bench:fleet -- --meters 1000 --loss 0.01 --rate 5000
 * [--latency 0.02] [--seed 1] [--restart] [--json]`. Everything runs in one process on the simulated
 * clock: the KM, the convergence driver of main/ops, the DC logic, the channel and every meter's real
 * member (bench/medium.ts, which also defines the columns). GREP runs through the whole Key Manager
 * service over a real store (bench/grepService.ts); with --restart its process is rebuilt from the
 * store right after the leave commits, and its laggards are repaired from the stored log.
 */
import { nodeCrypto } from '../main/crypto/node.js';
import { BasicKeyManager } from '../main/grep/baselines/basic.js';
import { encodeLkhState, LkhKeyManager, lkhStateSize } from '../main/grep/baselines/lkh.js';
import { encodeMessage, type Executed, KEY_BYTES, messageSize, oneMember, type Outgoing, type Random } from '../main/grep/index.js';
import { grepSource, type RekeySource } from '../main/ops/convergence.js';
import { uniformStream } from '../sim/channel.js';
import type { Fleet } from '../sim/fleet.js';
import type { Scheme } from '../sim/meter.js';
import { measureGrepService } from './grepService.js';
import { GROUP, type Measured, Medium, type MediumSettings, seededFleet } from './medium.js';
import { parseBenchArgs, printTable } from './report.js';

export interface FleetRow extends Measured {
  scheme: Scheme;
  op: 'leave' | 'join';
  meters: number;
}

interface Settings extends MediumSettings {
  readonly meters: number;
}

interface SchemeUnderTest {
  readonly source: RekeySource;
  leave(member: number): Executed;
  join(member: number): Executed;
}

/**
 * A baseline KM as a RekeySource: its laggards are repaired by re-sending the member its state, which
 * for basic is the very BASIC unicast it missed and for LKH its path keys (LKH_STATE).
 */
function baseline(scheme: 'basic' | 'lkh', fleet: Fleet, members: Set<number>, signingKey: Uint8Array, random: Random): SchemeUnderTest {
  const config = { groupId: GROUP, signingKey, crypto: nodeCrypto };
  const km = scheme === 'basic' ? new BasicKeyManager(config, random) : new LkhKeyManager(config, random);
  km.bootstrap(fleet.commissioning([...members]), random);
  const state = (member: number): Outgoing => {
    const header = { type: scheme === 'basic' ? ('BASIC' as const) : ('LKH_STATE' as const), groupId: GROUP, epoch: km.epoch, subject: member };
    const plaintext = km instanceof LkhKeyManager ? encodeLkhState(km.memberState(member)) : km.groupKey();
    return { type: header.type, to: member, epoch: km.epoch, audience: oneMember(member), bytes: encodeMessage(nodeCrypto, header, [{ slot: 0, owner: 0, key: fleet.profile(member).nodeKey, plaintext }], undefined) };
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
  };
}

async function measure(scheme: Scheme, settings: Settings, restart: boolean): Promise<FleetRow[]> {
  const n = settings.meters;
  if (scheme === 'grep') return (await measureGrepService(settings, restart)).map((row) => ({ scheme, meters: n, ...row }));
  // meter n + 1 waits outside the group for the join
  const { random, signingKey, fleet } = seededFleet(settings.seed, n + 1, scheme);
  const members = new Set(Array.from({ length: n }, (_, index) => index + 1));
  const subject = baseline(scheme, fleet, members, signingKey, random);
  const medium = new Medium(fleet, subject.source, settings);

  const rows: FleetRow[] = [];
  const run = async (op: FleetRow['op'], execute: () => Executed) => {
    rows.push({ scheme, op, meters: n, ...(await medium.measure(execute)) });
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
    switches: ['restart'],
  });
  const rows: FleetRow[] = [];
  for (const scheme of ['grep', 'lkh', 'basic'] as const) {
    rows.push(...(await measure(scheme, args.flags, args.switches.has('restart'))));
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
