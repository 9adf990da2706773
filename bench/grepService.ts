/**
 * GREP's rows of bench:fleet through the whole Key Manager service: a real store file (outbox, sync
 * table, sealed state), the convergence driver with its replay log in the outbox, the simulated DC and
 * channel of bench/medium.ts on simulated time (sim/inProcessPort.ts). With `restart` the process
 * "crashes" right after the leave commits: the service is dropped before it sends a byte, and a new
 * one rebuilt from the store sends the outbox and repairs, as after a restart in the field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto } from '../main/crypto/node.js';
import { equalBytes, seededRandom, toHex } from '../main/grep/index.js';
import type { ConvergenceResult } from '../main/ops/convergence.js';
import { KeyManagerService, type ServiceOptions } from '../main/ops/service.js';
import { KmStore } from '../main/store/index.js';
import { Channel, uniformStream } from '../sim/channel.js';
import { DataConcentrator } from '../sim/dc.js';
import { Fleet } from '../sim/fleet.js';
import { InProcessPort } from '../sim/inProcessPort.js';
import { GROUP, type Measured, type MediumSettings, REPORT_BATCH } from './medium.js';

const PASSPHRASE = 'bench passphrase';
/** a light keyring cost: the store's sealing is not what is measured */
const SCRYPT = { cost: 2 ** 10, blockSize: 8, parallelism: 1 };

class Crash extends Error {}

/** A DC, its channel and its port around the fleet; `holds` records when each member first reported `target`. */
function medium(fleet: Fleet, settings: MediumSettings) {
  const channel = new Channel({ bitRate: settings.rate, latency: settings.latency, loss: settings.loss, seed: settings.seed, clock: 'simulated' });
  const port = new InProcessPort(channel);
  const holds = new Map<number, number>();
  let target = Number.POSITIVE_INFINITY;
  port.attach(new DataConcentrator({
    channel,
    meters: fleet.meters,
    reportBatchSeconds: REPORT_BATCH,
    send: port.fromDc,
    onMeterReport: (report, time) => {
      if (report.epoch >= target && !holds.has(report.member)) holds.set(report.member, time);
    },
  }));
  return { channel, port, holds, expect: (epoch: number) => ((target = epoch), holds.clear()) };
}

export async function measureGrepService(settings: MediumSettings & { readonly meters: number }, restart: boolean): Promise<(Measured & { op: 'leave' | 'join' })[]> {
  const n = settings.meters;
  const dir = mkdtempSync(join(tmpdir(), 'grep-bench-fleet-'));
  const store = KmStore.create(join(dir, 'km.db'), PASSPHRASE, SCRYPT);
  try {
    const random = seededRandom(settings.seed);
    const group = KeyManagerService.createGroup(store, { id: GROUP, name: 'bench', plannedSize: n }, 'bench', random);
    // meter n + 1 waits outside the group for the join
    const fleet = new Fleet({ seed: settings.seed, meters: n + 1, scheme: 'grep', groupId: GROUP, kmPublicKey: group.publicKey, crypto: nodeCrypto });
    const ackTimeout = 2 * settings.latency + REPORT_BATCH + 0.01;
    const open = (port: InProcessPort, options: Partial<ServiceOptions> = {}) =>
      KeyManagerService.open({ store, group: 'bench', actor: 'bench', link: port, clock: port.clock, random, ackTimeout, ...options });
    const commission = (ids: readonly number[]) => ids.map((id) => {
      const { serial, model, nodeKey } = fleet.profile(id);
      return { id, serial, model, nodeKey: toHex(nodeKey) };
    });

    // setting up the group is not what is measured: commissioned on a perfect medium
    const setup = medium(fleet, { ...settings, loss: 0, rate: 1e9, latency: 0 });
    const installer = open(setup.port);
    await installer.execute((await installer.planCommission(commission(Array.from({ length: n }, (_, index) => index + 1)))).id);
    installer.close();

    const field = medium(fleet, settings);
    const rows: (Measured & { op: 'leave' | 'join' })[] = [];
    const measure = async (op: 'leave' | 'join', run: () => Promise<ConvergenceResult>, epoch: number) => {
      const wallStart = performance.now();
      const start = field.channel.clock.now();
      const airtimeStart = field.channel.airtimeSeconds;
      field.expect(epoch);
      const result = await run();
      const members = store.members(GROUP).filter((member) => member.status === 'member').map((member) => member.meterId);
      const kg = service.groupKey().kg;
      const everyoneHolds = members.every((id) => equalBytes(fleet.get(id).member.groupKey ?? new Uint8Array(), kg));
      const lastHold = members.reduce((last, id) => Math.max(last, field.holds.get(id) ?? Number.POSITIVE_INFINITY), Number.NEGATIVE_INFINITY);
      const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
      rows.push({
        op,
        simSeconds: round(lastHold - start),
        confirmedSeconds: round(field.channel.clock.now() - start),
        wallSeconds: round((performance.now() - wallStart) / 1000),
        airtimeBytes: Math.round(((field.channel.airtimeSeconds - airtimeStart) * settings.rate) / 8),
        converged: result.converged && everyoneHolds,
        rounds: result.rounds,
        rebroadcasts: result.rebroadcasts,
        replays: result.replays,
        resyncs: result.resyncs,
      });
    };

    let service = open(field.port, restart ? { afterCommit: () => { throw new Crash('the Key Manager process dies right after the leave commits'); } } : {});
    const leaver = 1 + Math.floor(uniformStream(settings.seed)() * n);
    await measure('leave', async () => {
      const leave = service.planLeave([leaver]);
      if (!restart) return service.execute(leave.id);
      await service.execute(leave.id).catch((error: unknown) => {
        if (!(error instanceof Crash)) throw error;
      });
      service.close();
      // a new process: the KM state, the replay log and the meters' last acks come from the store alone
      service = open(field.port);
      return service.catchUp();
    }, service.epoch + 1);
    await measure('join', async () => service.execute((await service.planCommission(commission([n + 1]))).id), service.epoch + 1);
    service.close();
    return rows;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
