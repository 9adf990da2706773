/**
 * What the fleet benchmarks share: a fleet of real meters, a GREP KM bootstrapped off the medium, and
 * the simulated medium (channel on the simulated clock, DC logic, the convergence driver of main/ops)
 * on which one operation at a time is sent, repaired and measured.
 *
 * simSeconds: from the operation until every member holds the new KG (meter side); confirmedSeconds:
 * until the KM has every ack; wallSeconds: this process's time for KM, DC and meters; airtimeBytes: what
 * the DC put on the medium for the operation and its repair, in bytes at the channel's rate.
 */
import { nodeCrypto } from '../main/crypto/node.js';
import { defaultSubgroupCap, equalBytes, type Executed, KeyManager, type Outgoing, type Random, seededRandom } from '../main/grep/index.js';
import { Convergence, type RekeySource } from '../main/ops/convergence.js';
import { Channel } from '../sim/channel.js';
import { DataConcentrator, inProcessLink } from '../sim/dc.js';
import { Fleet } from '../sim/fleet.js';
import type { Scheme } from '../sim/meter.js';

export const GROUP = 1;
/** the DC holds reports this long before relaying them */
export const REPORT_BATCH = 0.05;

export interface MediumSettings {
  readonly loss: number;
  /** downlink bits per second */
  readonly rate: number;
  readonly latency: number;
  readonly seed: number;
}

export interface Measured {
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

/** The KM's randomness and signing key from the seed, and meters 1..`meters` that trust that key. */
export function seededFleet(seed: number, meters: number, scheme: Scheme): { random: Random; signingKey: Uint8Array; fleet: Fleet } {
  const random = seededRandom(seed);
  const signingKey = random(32);
  const kmPublicKey = nodeCrypto.publicKey(signingKey);
  return { random, signingKey, fleet: new Fleet({ seed, meters, scheme, groupId: GROUP, kmPublicKey, crypto: nodeCrypto }) };
}

/** Hands messages to their meters directly, off the medium: setting up a group is not what is measured. */
export function deliverDirectly(fleet: Fleet, members: Iterable<number>, messages: Iterable<Outgoing>): void {
  const listeners = [...members];
  for (const message of messages) {
    for (const id of message.to === 'all' ? listeners : [message.to]) fleet.get(id).receive(message.bytes);
  }
}

/**
 * A GREP KM with subgroups sized for `planned` members; `members` (none: an empty group) are seeded by a
 * compact re-seed delivered directly.
 */
export function grepGroup(fleet: Fleet, signingKey: Uint8Array, random: Random, planned: number, members: readonly number[] = []): KeyManager {
  const km = new KeyManager({ groupId: GROUP, signingKey, subgroupCap: defaultSubgroupCap(planned), crypto: nodeCrypto }, random);
  if (members.length > 0) {
    km.reseed(fleet.commissioning(members), random);
    deliverDirectly(fleet, members, km.reseedMessages());
  }
  return km;
}

/**
 * The channel, the DC and the convergence driver around one group. The driver is created with the
 * medium, so the members present then are assumed to hold the current epoch (Convergence).
 */
export class Medium {
  readonly channel: Channel;
  private readonly driver: Convergence;
  private target = 0;
  /** when each member first reported the target epoch, as the meter made the report */
  private readonly holds = new Map<number, number>();

  constructor(
    private readonly fleet: Fleet,
    private readonly source: RekeySource,
    private readonly settings: MediumSettings,
  ) {
    this.channel = new Channel({ bitRate: settings.rate, latency: settings.latency, loss: settings.loss, seed: settings.seed, clock: 'simulated' });
    let driver: Convergence | undefined;
    const dc = new DataConcentrator({
      channel: this.channel,
      meters: fleet.meters,
      reportBatchSeconds: REPORT_BATCH,
      send: (message) => {
        driver!.hear(message);
      },
      onMeterReport: (report, time) => {
        if (report.epoch >= this.target && !this.holds.has(report.member)) this.holds.set(report.member, time);
      },
    });
    driver = new Convergence(source, inProcessLink(dc, this.channel), {
      crypto: nodeCrypto,
      ackTimeout: 2 * settings.latency + REPORT_BATCH + 0.01,
    });
    this.driver = driver;
  }

  /**
   * Executes operations one after the other (the KM's state changes inside each step), each sent and
   * repaired until done before the next: the figures are for them all, simSeconds until every member
   * holds the last one's KG.
   */
  async measure(...steps: (() => Executed)[]): Promise<Measured> {
    const { channel, fleet, source } = this;
    const wallStart = performance.now();
    const start = channel.clock.now();
    const airtimeStart = channel.airtimeSeconds;
    const totals = { confirmedSeconds: 0, converged: true, rounds: 0, rebroadcasts: 0, replays: 0, resyncs: 0 };
    for (const step of steps) {
      const executed = step();
      this.target = executed.epoch;
      this.holds.clear();
      const result = await this.driver.converge(executed);
      totals.confirmedSeconds += result.simSeconds;
      totals.converged &&= result.converged;
      totals.rounds = Math.max(totals.rounds, result.rounds);
      totals.rebroadcasts += result.rebroadcasts;
      totals.replays += result.replays;
      totals.resyncs += result.resyncs;
    }
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const members = [...source.members()];
    const everyoneHolds = members.every((id) => equalBytes(fleet.get(id).member.groupKey ?? new Uint8Array(), source.groupKey()));
    const lastHold = members.reduce((last, id) => Math.max(last, this.holds.get(id) ?? Number.POSITIVE_INFINITY), Number.NEGATIVE_INFINITY);
    const round = (seconds: number) => Math.round(seconds * 1000) / 1000;
    return {
      simSeconds: round(lastHold - start),
      confirmedSeconds: round(totals.confirmedSeconds),
      wallSeconds: round(wallSeconds),
      airtimeBytes: Math.round(((channel.airtimeSeconds - airtimeStart) * this.settings.rate) / 8),
      converged: totals.converged && everyoneHolds,
      rounds: totals.rounds,
      rebroadcasts: totals.rebroadcasts,
      replays: totals.replays,
      resyncs: totals.resyncs,
    };
  }
}
