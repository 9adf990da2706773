/**
 * Does the outbox stay bounded (issue 12)? After a firmware campaign and a run of rekeys, the store
 * keeps no more outbox rows than the replay log of GREP.md §7 needs: the 'rekey' and 'key' rows of the
 * last LOG_EPOCHS epochs. `npm run bench:outbox -- [--meters 200] [--image 262144] [--rekeys 50]
 * [--loss 0.01] [--seed 1] [--json]`. One process, real TCP on 127.0.0.1: a new store, the simulated
 * DC, the KeyManagerService and FirmwareService wired by test/support/firmwareBench.ts as the
 * integration tests wire them; the fleet is commissioned, a random image is pushed to every meter
 * and activated, then the group is rekeyed `--rekeys` times, and the service is reopened once (the
 * open prunes) before the last look.
 *
 * fileBytes: the store file plus its -wal; liveBytes: pages in use (SQLite reuses freed pages rather
 * than shrinking the file); rowsKept: outbox rows now; rowsWritten: outbox rows ever written.
 * Exits 1 if anything but the replay log is kept, or the log spans more than LOG_EPOCHS epochs.
 */
import { statSync } from 'node:fs';
import { nodeCrypto } from '../main/crypto/node.js';
import { pack } from '../main/firmware/index.js';
import { seededRandom } from '../main/grep/index.js';
import { LOG_EPOCHS } from '../main/ops/service.js';
import type { KmStore } from '../main/store/index.js';
import { type Cleanups, commissionFleet, firmwareDc, MODEL, openFirmwareKm, trustVendorKey } from '../test/support/firmwareBench.js';
import { waitFor } from '../test/support/net.js';
import { parseBenchArgs, printTable } from './report.js';

export interface OutboxRow {
  point: 'before' | 'campaign' | 'rekeys';
  fileBytes: number;
  liveBytes: number;
  rowsKept: number;
  rowsWritten: number;
  rekey: number;
  key: number;
  repair: number;
  firmware: number;
  command: number;
  legacy: number;
  /** commissioning, the campaign (every meter activated) or every rekey converged */
  converged: boolean;
}

function measure(store: KmStore, groupId: number, point: OutboxRow['point'], converged: boolean): OutboxRow {
  const pragma = (name: string) => store.db.pragma(name, { simple: true }) as number;
  const fileBytes = statSync(store.path).size + statSync(`${store.path}-wal`).size;
  const liveBytes = (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
  const counts = store.outboxCounts(groupId);
  const rowsKept = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const written = store.db.prepare('SELECT seq FROM sqlite_sequence WHERE name = \'outbox\'').get() as { seq: number } | undefined;
  return { point, fileBytes, liveBytes, rowsKept, rowsWritten: written?.seq ?? 0, ...counts, converged };
}

/** The oldest epoch the kept replay log holds, or undefined when it is empty. */
function oldestLoggedEpoch(store: KmStore, groupId: number): number | undefined {
  const row = store.db.prepare('SELECT min(epoch) AS epoch FROM outbox WHERE group_id = ? AND purpose IN (\'rekey\', \'key\')').get(groupId) as { epoch: number | null };
  return row.epoch ?? undefined;
}

async function run(settings: { meters: number; image: number; rekeys: number; loss: number; seed: number }, progress: (line: string) => void): Promise<{ rows: OutboxRow[]; problems: string[] }> {
  const cleanups: Cleanups = [];
  try {
    const random = seededRandom(settings.seed ^ 0x0b0c);
    const vendorKey = random(32);
    const image = random(settings.image);
    const { store, group, sim } = await firmwareDc(cleanups, { meters: settings.meters, loss: settings.loss, seed: settings.seed, rate: 2_000_000, vendorKey });
    const connect = () => openFirmwareKm(store, cleanups, { maxRounds: 20 });

    let km = await connect();
    const started = Date.now();
    const commissioned = await commissionFleet(km, sim);
    const rows = [measure(store, group.id, 'before', commissioned)];
    progress(`commissioned ${settings.meters} meters in ${Date.now() - started} ms`);

    trustVendorKey(km, vendorKey);
    const staged = km.firmware.stage(pack(nodeCrypto, image, { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey)).staged!;
    const pushed = km.firmware.push({ packageId: staged.id });
    const distributed = await km.firmware.settled(pushed.id, 120);
    let campaignDone = distributed.status === 'distributed' && distributed.counts.verified === settings.meters;
    if (campaignDone) {
      km.firmware.activate(pushed.id);
      const completed = await km.firmware.settled(pushed.id, 60);
      campaignDone = completed.status === 'completed' && completed.counts.activated === settings.meters;
    }
    // no campaign is left holding the meters, whatever happened
    const ended = km.firmware.campaign(pushed.id).status;
    if (ended !== 'completed' && ended !== 'cancelled') km.firmware.cancel(pushed.id);
    await waitFor('the DC idle', () => sim.dc.idle, 30_000);
    rows.push(measure(store, group.id, 'campaign', campaignDone));
    progress(`campaign of ${settings.image} bytes: ${distributed.round} rounds, ${distributed.sentBytes} bytes sent, ${ended} after ${Date.now() - started} ms`);

    let rekeyed = true;
    for (let rekey = 0; rekey < settings.rekeys; rekey++) rekeyed = (await km.kms.execute(km.kms.planPeriodicRekey().id)).converged && rekeyed;
    progress(`${settings.rekeys} rekeys to epoch ${km.kms.epoch} after ${Date.now() - started} ms`);
    // the last acceptances are marked a tick after the DC says so; the reopened service prunes what they free
    await waitFor('every transfer accepted', () => km.link.pending().length === 0, 30_000);
    await new Promise((resolve) => setImmediate(resolve));
    await km.stop();
    km = await connect();
    rows.push(measure(store, group.id, 'rekeys', rekeyed));

    const last = rows.at(-1)!;
    const problems: string[] = [];
    const beyondLog = last.rowsKept - last.rekey - last.key;
    if (beyondLog > 0) problems.push(`${beyondLog} outbox rows kept beyond the replay log`);
    const oldest = oldestLoggedEpoch(store, group.id);
    if (oldest !== undefined && km.kms.epoch - oldest + 1 > LOG_EPOCHS) problems.push(`the replay log spans epochs ${oldest}..${km.kms.epoch}, more than ${LOG_EPOCHS}`);
    return { rows, problems };
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  }
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), {
    flags: {
      meters: { value: 200, min: 2, max: 10_000, integer: true },
      image: { value: 262_144, min: 1, max: 16 * 1024 * 1024, integer: true },
      rekeys: { value: 50, min: 0, max: 10_000, integer: true },
      loss: { value: 0.01, min: 0, max: 0.5 },
      seed: { value: 1, min: 0, max: 0xffffffff, integer: true },
    },
  });
  const { rows, problems } = await run(args.flags, (line) => args.json || process.stderr.write(`${line}\n`));
  if (args.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else printTable(rows, ['point', 'fileBytes', 'liveBytes', 'rowsKept', 'rowsWritten', 'rekey', 'key', 'repair', 'firmware', 'command', 'converged']);
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

await main();
