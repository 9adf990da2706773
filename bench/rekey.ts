/**
 * Rekey cost of GREP against the basic scheme and LKH, from the real encoders and the real KMs:
 * `npm run bench:rekey -- [--quick] [--json] [--sizes 100,1000]`.
 * Rows: scheme, op, n, broadcasts, unicasts, bytes (encoded), kmMicros (median KM time per operation),
 * memberSecrets (most secrets one member stores). GREP's deferred token refresh (RefreshFamily) runs
 * between operations, as the service runs it while it waits for acks; its median is reported apart as
 * settleMicros so no work is hidden.
 */
import { nodeCrypto, nodeRandom } from '../main/crypto/node.js';
import { BasicKeyManager } from '../main/grep/baselines/basic.js';
import { LkhKeyManager } from '../main/grep/baselines/lkh.js';
import { type Commissioning, defaultSubgroupCap, type Executed, KeyManager, KEY_BYTES } from '../main/grep/index.js';
import { parseBenchArgs, printTable } from './report.js';

const OPERATIONS = ['join', 'leave', 'recover2', 'recover5', 'recover10', 'recover20'] as const;
type BenchOperation = (typeof OPERATIONS)[number];

interface SchemeUnderTest {
  join(joiner: Commissioning): Executed;
  remove(members: number[]): Executed;
  /** work deferred out of the operation (GREP's lazy token refresh); 0 where there is none */
  settle(): void;
  memberSecrets(): number;
}

export interface RekeyRow {
  scheme: 'grep' | 'lkh' | 'basic';
  op: BenchOperation;
  n: number;
  broadcasts: number;
  unicasts: number;
  bytes: number;
  kmMicros: number;
  settleMicros: number;
  memberSecrets: number;
}

/** Small deterministic generator for picking members, so runs are comparable. */
function picker(seed: number) {
  let state = seed >>> 0;
  return (limit: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % limit) >>> 0;
  };
}

function roster(n: number): Commissioning[] {
  const keys = nodeRandom(n * KEY_BYTES);
  return Array.from({ length: n }, (_, index) => ({ id: index + 1, nodeKey: keys.subarray(index * KEY_BYTES, (index + 1) * KEY_BYTES) }));
}

function build(scheme: RekeyRow['scheme'], members: Commissioning[]): SchemeUnderTest {
  const config = { groupId: 1, signingKey: nodeRandom(32), crypto: nodeCrypto };
  if (scheme === 'grep') {
    const km = new KeyManager({ ...config, subgroupCap: defaultSubgroupCap(members.length) }, nodeRandom);
    km.reseed(members, nodeRandom);
    return {
      join: (joiner) => km.join(joiner, nodeRandom),
      // an empty suspicion record throughout: recoverK is the first recovery of a K-member coalition
      remove: (ids) => km.remove(ids, { suspected: false }, nodeRandom),
      settle: () => km.settle(),
      memberSecrets: () => {
        let most = 0;
        for (const { members: inSubgroup } of km.subgroups()) {
          const state = km.memberState(inSubgroup[0]!);
          const tokens = state.nodeBackward.length + state.nodeForward.length + state.subgroupBackward.length + state.subgroupForward.length;
          most = Math.max(most, 3 + tokens);
          if (inSubgroup.length === km.subgroupCap) break;
        }
        return most;
      },
    };
  }
  const km = scheme === 'lkh' ? new LkhKeyManager(config, nodeRandom) : new BasicKeyManager(config, nodeRandom);
  km.bootstrap(members, nodeRandom);
  return {
    join: (joiner) => km.join(joiner, nodeRandom),
    remove: (ids) => km.remove(ids, nodeRandom),
    settle: () => undefined,
    memberSecrets: () => Math.max(...members.slice(0, 64).map((m) => km.memberSecretCount(m.id))),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function repetitions(scheme: RekeyRow['scheme'], n: number): number {
  if (scheme === 'basic') return Math.max(1, Math.min(11, Math.ceil(200_000 / n)));
  return n <= 10_000 ? 11 : n <= 100_000 ? 7 : 5;
}

function measure(scheme: RekeyRow['scheme'], n: number): RekeyRow[] {
  const members = roster(n);
  const subject = build(scheme, members);
  // storage of a member in a freshly commissioned group; churn without re-seed adds subgroups (§3)
  const memberSecrets = subject.memberSecrets();
  const present = members.map((m) => m.id);
  const pick = picker(n);
  let nextId = n + 1;
  const rows: RekeyRow[] = [];
  for (const op of OPERATIONS) {
    const times: number[] = [];
    const settles: number[] = [];
    let executed: Executed | undefined;
    for (let rep = 0; rep < repetitions(scheme, n); rep++) {
      let run: () => Executed;
      if (op === 'join') {
        const joiner = { id: nextId++, nodeKey: nodeRandom(KEY_BYTES) };
        present.push(joiner.id);
        run = () => subject.join(joiner);
      } else {
        const count = op === 'leave' ? 1 : Number(op.slice('recover'.length));
        const chosen = new Set<number>();
        while (chosen.size < count) chosen.add(pick(present.length));
        const ids = [...chosen].map((index) => present[index]!);
        for (const index of [...chosen].sort((a, b) => b - a)) {
          const last = present.pop()!;
          if (index < present.length) present[index] = last;
        }
        run = () => subject.remove(ids);
      }
      const start = process.hrtime.bigint();
      executed = run();
      times.push(Number(process.hrtime.bigint() - start) / 1000);
      // keep the group at n, untimed, so every repetition measures the same size
      while (present.length < n) {
        const refill = { id: nextId++, nodeKey: nodeRandom(KEY_BYTES) };
        subject.join(refill);
        present.push(refill.id);
      }
      const settleStart = process.hrtime.bigint();
      subject.settle();
      settles.push(Number(process.hrtime.bigint() - settleStart) / 1000);
    }
    const sent = executed!.messages;
    rows.push({
      scheme,
      op,
      n,
      broadcasts: sent.filter((m) => m.to === 'all').length,
      unicasts: sent.filter((m) => m.to !== 'all').length,
      bytes: sent.reduce((sum, m) => sum + m.bytes.length, 0),
      kmMicros: Math.round(median(times) * 10) / 10,
      settleMicros: Math.round(median(settles) * 10) / 10,
      memberSecrets,
    });
  }
  return rows;
}

function main(): void {
  const args = parseBenchArgs(process.argv.slice(2), { sizes: [100, 1_000, 10_000, 100_000, 1_000_000], quickMax: 100_000 });
  // warm the JIT on a small group so the first measured size is not charged for compilation
  for (const scheme of ['grep', 'lkh', 'basic'] as const) measure(scheme, 200);
  const rows: RekeyRow[] = [];
  for (const n of args.sizes) {
    for (const scheme of ['grep', 'lkh', 'basic'] as const) {
      rows.push(...measure(scheme, n));
      if (!args.json) process.stderr.write(`measured ${scheme} at n = ${n}\n`);
    }
  }
  if (args.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else printTable(rows, ['scheme', 'op', 'n', 'broadcasts', 'unicasts', 'bytes', 'kmMicros', 'settleMicros', 'memberSecrets']);
}

main();
