/**
 * What commissioning and re-seeding a fleet cost on a lossy shared medium, with every byte from the
 * real encoders: `npm run bench:commission -- --meters 1000 --loss 0.01 --rate 5000 [--latency 0.02]
 * [--seed 1] [--json]`. Methods:
 * - joins: --meters meters into an empty group by one chained join each (§4), the way the operations
 *   service commissions a list today: every join executed, then converged as one operation;
 * - bulk: the same meters by one compact re-seed of the empty group (§7, ROSTER + SEEDs);
 * - reseed: the compact re-seed of the whole group after a recovery of 3 meters;
 * - batch: a tenth of --meters more meters joining the group in one batch join (§4);
 * - batch-joins: the same meters by chained joins, as `joins`;
 * - joins-each, batch-joins-each: the same joins, each converged before the next, so that a meter that
 *   missed one is repaired by replay, where the combined operation has no log of the epochs in between.
 * Setup (the group before the operation) is delivered off the medium; only the operation is measured
 * (columns in bench/medium.ts, airtimeBytes there is airBytes here).
 */
import type { Commissioning, Executed, KeyManager, Random } from '../main/grep/index.js';
import { grepSource } from '../main/ops/convergence.js';
import { uniformStream } from '../sim/channel.js';
import { grepGroup, type Measured, Medium, type MediumSettings, seededFleet } from './medium.js';
import { parseBenchArgs, printTable } from './report.js';

const METHODS = ['joins', 'joins-each', 'bulk', 'reseed', 'batch', 'batch-joins', 'batch-joins-each'] as const;
type Method = (typeof METHODS)[number];

export interface CommissionRow extends Omit<Measured, 'airtimeBytes'> {
  method: Method;
  /** meters the operation commissions or re-seeds */
  meters: number;
  /** members once it is done */
  group: number;
  /** airtime in bytes: the operation and its repair */
  airBytes: number;
  /** the operation's own messages: airBytes - sentBytes is repair */
  sentBytes: number;
}

interface Settings extends MediumSettings {
  readonly meters: number;
}

/** members of a group a recovery removes before the re-seed */
const RECOVERED = 3;

/**
 * Several operations as one, the way the operations service converges a commission (service.ts
 * executeRekey): recorded at the final epoch, so a meter the log cannot bring up is resynced.
 */
function combined(executed: readonly Executed[], km: KeyManager): Executed {
  return { plan: executed[0]!.plan, epoch: km.epoch, messages: executed.flatMap((operation) => operation.messages) };
}

/** A re-seed with its messages, which the KM hands out after the operation (KeyManager.reseedMessages). */
function reseed(km: KeyManager, newcomers: readonly Commissioning[], random: Random): Executed {
  const executed = km.reseed(newcomers, random);
  return { ...executed, messages: [...km.reseedMessages()] };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, index) => from + index);

/** `count` distinct ids of 1..n drawn from the seed. */
function drawn(seed: number, n: number, count: number): number[] {
  const draw = uniformStream(seed);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(1 + Math.floor(draw() * n));
  return [...picked];
}

async function measure(method: Method, settings: Settings): Promise<CommissionRow> {
  const n = settings.meters;
  const batch = Math.round(n / 10);
  const joining = method.startsWith('batch');
  // the joiners of a batch wait outside the group, as every meter does before `joins` and `bulk`
  const { random, signingKey, fleet } = seededFleet(settings.seed, joining ? n + batch : n, 'grep');
  const seeded = method === 'reseed' || joining ? range(1, n) : [];
  const km = grepGroup(fleet, signingKey, random, n, seeded);
  const medium = new Medium(fleet, grepSource(km), settings);
  if (method === 'reseed') {
    const recovery = await medium.measure(() => km.remove(drawn(settings.seed, n, RECOVERED), { suspected: true }, random));
    if (!recovery.converged) throw new Error(`the recovery before the re-seed did not converge: ${JSON.stringify(recovery)}`);
  }
  const newcomers = fleet.commissioning(joining ? range(n + 1, batch) : method === 'reseed' ? [] : range(1, n));
  let sentBytes = 0;
  const sent = (executed: Executed) => {
    sentBytes += executed.messages.reduce((sum, message) => sum + message.bytes.length, 0);
    return executed;
  };
  const join = (joiner: Commissioning) => km.join(joiner, random);
  const operation = (): Executed => {
    if (method === 'bulk' || method === 'reseed') return reseed(km, newcomers, random);
    if (method === 'batch') return combined(km.batchJoin(newcomers, random), km);
    return combined(newcomers.map(join), km);
  };
  const steps = method.endsWith('-each') ? newcomers.map((joiner) => () => sent(join(joiner))) : [() => sent(operation())];
  const measured = await medium.measure(...steps);
  const group = [...grepSource(km).members()].length;
  const { airtimeBytes, ...rest } = measured;
  return { method, meters: method === 'reseed' ? group : newcomers.length, group, airBytes: airtimeBytes, sentBytes, ...rest };
}

const TARGETS = {
  /** air a meter for bulk and reseed: 200,000 bytes at 1,000 meters */
  bytesPerMeter: 200,
  /** joins / bulk and joins / reseed, in air */
  overJoins: 8,
  /** batch / batch-joins, in air */
  batchShare: 0.4,
};

function verdicts(rows: readonly CommissionRow[]): string[] {
  const air = (method: Method) => rows.find((row) => row.method === method)!.airBytes;
  const lines: string[] = [];
  for (const method of ['bulk', 'reseed'] as const) {
    const row = rows.find((candidate) => candidate.method === method)!;
    const ratio = air('joins') / row.airBytes;
    const limit = TARGETS.bytesPerMeter * row.meters;
    const met = row.converged && row.airBytes <= limit && ratio >= TARGETS.overJoins;
    lines.push(`joins / ${method} = ${ratio.toFixed(1)}x air; ${method}: ${row.airBytes} bytes (target <= ${limit}, converged, >= ${TARGETS.overJoins}x): ${met ? 'met' : 'NOT met'}`);
  }
  const share = air('batch') / air('batch-joins');
  lines.push(`batch / batch-joins = ${(100 * share).toFixed(1)} % air (target <= ${100 * TARGETS.batchShare} %): ${share <= TARGETS.batchShare ? 'met' : 'NOT met'}`);
  // not targets: against joins whose repair the replay log can serve
  lines.push(`joins-each / bulk = ${(air('joins-each') / air('bulk')).toFixed(1)}x, joins-each / reseed = ${(air('joins-each') / air('reseed')).toFixed(1)}x, batch / batch-joins-each = ${((100 * air('batch')) / air('batch-joins-each')).toFixed(1)} % air`);
  return lines;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), {
    flags: {
      meters: { value: 1000, min: 20, max: 100_000, integer: true },
      loss: { value: 0.01, min: 0, max: 0.5 },
      rate: { value: 5000, min: 100, max: 1e9 },
      latency: { value: 0.02, min: 0, max: 10 },
      seed: { value: 1, min: 0, max: 0xffffffff, integer: true },
    },
  });
  const rows: CommissionRow[] = [];
  for (const method of METHODS) {
    rows.push(await measure(method, args.flags));
    process.stderr.write(`measured ${method} on ${args.flags.meters} meters\n`);
  }
  const summary = verdicts(rows).join('\n');
  if (args.json) {
    // the row shape, exactly; the table below shows the repair details too
    const fields = ['method', 'meters', 'airBytes', 'simSeconds', 'converged', 'resyncs'] as const;
    process.stdout.write(`${JSON.stringify(rows.map((row) => Object.fromEntries(fields.map((field) => [field, row[field]]))))}\n`);
    // the JSON stays one parseable line; the verdicts are for whoever watches the run
    process.stderr.write(`${summary}\n`);
    return;
  }
  printTable(rows, ['method', 'meters', 'group', 'sentBytes', 'airBytes', 'simSeconds', 'confirmedSeconds', 'wallSeconds', 'converged', 'rounds', 'rebroadcasts', 'replays', 'resyncs']);
  process.stdout.write(`${summary}\n`);
}

await main();
