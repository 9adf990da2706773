import { decodeMessage, equalBytes, type Executed, type GrepCrypto, type KeyManager, kgFingerprint, type Outgoing } from '../grep/index.js';
import type { MeterReport } from '../link/messages.js';

/**
 * The KM side of GREP.md §7 "Catch-up and resync": after an operation, wait for every member's ack of
 * the new epoch with the right KG fingerprint, and repair the silent ones as cheaply as possible:
 * replay what they missed (the messages are public and idempotent), rebroadcast a message several of
 * them missed, and send a full-state resync only where replay would cost more than the state or the
 * log no longer holds the messages. Time and sending are injected (ConvergenceLink), so the operations
 * service and the simulator run the same driver; nothing here does I/O.
 */

/** What the driver needs of a scheme's Key Manager. */
export interface RekeySource {
  readonly epoch: number;
  groupKey(): Uint8Array;
  members(): Iterable<number>;
  /** bytes of the full-state unicast for `member`, to weigh replay against it without encoding it */
  resyncBytes(member: number): number;
  /** the full-state unicast under Ku that brings `member` to the current epoch (GREP: RESYNC, §7) */
  resync(member: number): Outgoing;
  /**
   * For each message of an operation just executed, which members act on it; asked once, when the
   * operation is recorded. Without it a broadcast is for everyone and a unicast for its addressee.
   */
  audiences?(messages: readonly Outgoing[]): readonly ((member: number) => boolean)[];
}

/** The KM's end of the link to the DC, as the driver sees it. */
export interface ConvergenceLink {
  send(message: Outgoing): void;
  /** the DC's copy of KG (§1) */
  updateKey(epoch: number, kg: Uint8Array): void;
  /**
   * Resolves once the DC has put everything sent so far on the medium and `seconds` more have passed,
   * or earlier, as soon as `satisfied()` holds. Reports reach the driver through `observe` meanwhile.
   */
  wait(seconds: number, satisfied: () => boolean): Promise<void>;
  /** seconds, on the link's clock (simulated or real) */
  now(): number;
}

export interface ConvergenceOptions {
  readonly crypto: GrepCrypto;
  /** seconds to wait for acks once a round is on the medium: at least two latencies plus the DC's report batching */
  readonly ackTimeout: number;
  /** repair rounds before giving up; default 8 */
  readonly maxRounds?: number;
  /** epochs of messages kept for replay; default 16 */
  readonly logEpochs?: number;
  /**
   * replay rounds a silent meter gets before a resync; default 4. Loss alone is not a reason (a resync
   * is as easily lost), but replay can also fail where loss is not the cause: a meter whose tokens
   * diverged while its KG is right rejects the replay, and only its full state repairs it.
   */
  readonly replayRounds?: number;
}

export interface ConvergenceResult {
  readonly epoch: number;
  readonly converged: boolean;
  /** current members that did not ack the epoch with the right fingerprint in time */
  readonly unreachable: readonly number[];
  /** messages replayed by unicast */
  readonly replays: number;
  /** logged broadcasts sent again */
  readonly rebroadcasts: number;
  readonly resyncs: number;
  /** repair rounds after the first wait */
  readonly rounds: number;
  /** link time from sending the operation to the last ack (or to giving up) */
  readonly simSeconds: number;
}

interface Logged {
  readonly epoch: number;
  readonly index: number;
  readonly message: Outgoing;
  readonly isFor: (member: number) => boolean;
}

interface LogEntry {
  readonly fingerprint: Uint8Array;
  readonly messages: Logged[];
}

const addressees = (message: Outgoing) => (member: number) => message.to === 'all' || message.to === member;

/**
 * One driver per group; converge() calls must not overlap. Members present when it is created are
 * assumed to hold the current epoch (commissioning delivered it); a wrong assumption costs rounds: the
 * meter reports a gap and is replayed from where it stands, or stays silent until it is resynced.
 */
export class Convergence {
  private readonly log = new Map<number, LogEntry>();
  /** epoch each member is known (from its reports) or assumed to hold */
  private readonly held = new Map<number, number>();
  /** members whose last report carried a fingerprint that is not the KM's for that epoch */
  private readonly suspect = new Set<number>();
  /** members not yet confirmed at the current epoch */
  private readonly outstanding = new Set<number>();
  /** repair rounds each outstanding member has been in, this epoch */
  private readonly tries = new Map<number, number>();
  private readonly maxRounds: number;
  private readonly logEpochs: number;
  private readonly replayRounds: number;

  constructor(
    private readonly source: RekeySource,
    private readonly link: ConvergenceLink,
    private readonly options: ConvergenceOptions,
  ) {
    this.maxRounds = options.maxRounds ?? 8;
    this.logEpochs = options.logEpochs ?? 16;
    this.replayRounds = options.replayRounds ?? 4;
    this.log.set(source.epoch, { fingerprint: this.currentFingerprint(), messages: [] });
    for (const member of source.members()) this.held.set(member, source.epoch);
  }

  /** Meter reports relayed by the DC. Command reports are not this driver's business. */
  observe(reports: readonly MeterReport[]): void {
    for (const report of reports) {
      if (report.event === 'command' || !this.held.has(report.member) || report.epoch > this.source.epoch) continue;
      this.held.set(report.member, report.epoch);
      const expected = this.log.get(report.epoch)?.fingerprint;
      if (expected && !equalBytes(expected, report.fingerprint)) this.suspect.add(report.member);
      else this.suspect.delete(report.member);
      if (report.epoch === this.source.epoch && !this.suspect.has(report.member)) this.outstanding.delete(report.member);
      else this.outstanding.add(report.member);
    }
  }

  /** Records and sends an operation the KM has just executed, then repairs until every member acked it. */
  async converge(executed: Executed): Promise<ConvergenceResult> {
    const start = this.link.now();
    this.record(executed);
    this.link.updateKey(this.source.epoch, this.source.groupKey());
    for (const message of executed.messages) this.link.send(message);
    return this.settle(start);
  }

  /** Repairs without a new operation, e.g. once meters given up on are back. */
  async repair(): Promise<ConvergenceResult> {
    for (const member of this.source.members()) {
      if (this.held.get(member) !== this.source.epoch || this.suspect.has(member)) this.outstanding.add(member);
    }
    this.tries.clear();
    return this.settle(this.link.now());
  }

  private async settle(start: number): Promise<ConvergenceResult> {
    const done = () => this.outstanding.size === 0;
    await this.link.wait(this.options.ackTimeout, done);
    let rounds = 0;
    const counts = { replays: 0, rebroadcasts: 0, resyncs: 0 };
    while (!done() && rounds < this.maxRounds) {
      rounds++;
      const repair = this.planRepair([...this.outstanding]);
      for (const message of repair.messages) this.link.send(message);
      counts.replays += repair.replays;
      counts.rebroadcasts += repair.rebroadcasts;
      counts.resyncs += repair.resyncs;
      await this.link.wait(this.options.ackTimeout, done);
    }
    return {
      epoch: this.source.epoch,
      converged: done(),
      unreachable: [...this.outstanding].sort((a, b) => a - b),
      ...counts,
      rounds,
      simSeconds: this.link.now() - start,
    };
  }

  private currentFingerprint(): Uint8Array {
    return kgFingerprint(this.options.crypto, this.source.groupKey());
  }

  private record(executed: Executed): void {
    const epoch = this.source.epoch;
    if (executed.epoch !== epoch) throw new RangeError(`operation of epoch ${executed.epoch} recorded at epoch ${epoch}: record each one as it executes`);
    const audiences = this.source.audiences?.(executed.messages) ?? executed.messages.map(addressees);
    const entry = this.log.get(epoch) ?? { fingerprint: this.currentFingerprint(), messages: [] };
    const first = entry.messages.length;
    executed.messages.forEach((message, index) => entry.messages.push({ epoch, index: first + index, message, isFor: audiences[index]! }));
    this.log.set(epoch, entry);
    for (const old of this.log.keys()) if (old <= epoch - this.logEpochs) this.log.delete(old);

    const members = new Set(this.source.members());
    for (const member of this.held.keys()) {
      if (members.has(member)) continue;
      this.held.delete(member);
      this.suspect.delete(member);
    }
    this.outstanding.clear();
    this.tries.clear();
    for (const member of members) {
      // a joiner holds nothing yet: it needs exactly what this epoch sends it
      if (!this.held.has(member)) this.held.set(member, epoch - 1);
      if (this.held.get(member) !== epoch || this.suspect.has(member)) this.outstanding.add(member);
    }
  }

  /** The logged messages `member` needs, in order; undefined when the log cannot bring it up to date. */
  private replayPath(member: number): Logged[] | undefined {
    const from = this.held.get(member);
    if (from === undefined || this.suspect.has(member)) return undefined;
    const path: Logged[] = [];
    for (let epoch = from + 1; epoch <= this.source.epoch; epoch++) {
      const entry = this.log.get(epoch);
      if (!entry) return undefined;
      for (const logged of entry.messages) if (logged.isFor(member)) path.push(logged);
    }
    return path.length > 0 ? path : undefined;
  }

  /**
   * One repair round. Cost is airtime, i.e. bytes: a message k meters missed costs its size once as a
   * rebroadcast against k times as unicasts, so its cost per meter is size / k.
   */
  private planRepair(laggards: readonly number[]): { messages: Outgoing[]; replays: number; rebroadcasts: number; resyncs: number } {
    const resync: number[] = [];
    const paths = new Map<number, Logged[]>();
    for (const member of laggards) {
      const tries = this.tries.get(member) ?? 0;
      this.tries.set(member, tries + 1);
      const path = tries < this.replayRounds ? this.replayPath(member) : undefined;
      if (path) paths.set(member, path);
      else resync.push(member);
    }
    const countSharers = () => {
      const sharers = new Map<Logged, number>();
      for (const path of paths.values()) {
        for (const logged of path) if (logged.message.to === 'all') sharers.set(logged, (sharers.get(logged) ?? 0) + 1);
      }
      return sharers;
    };
    const priced = countSharers();
    for (const [member, path] of paths) {
      const cost = path.reduce((sum, logged) => sum + logged.message.bytes.length / (priced.get(logged) ?? 1), 0);
      if (cost > this.source.resyncBytes(member)) {
        paths.delete(member);
        resync.push(member);
      }
    }

    // counted again: a meter moved to resync no longer shares a rebroadcast
    const sharers = countSharers();
    const rebroadcast = new Set<Logged>();
    const sends: { logged: Logged; message: Outgoing }[] = [];
    for (const [member, path] of paths) {
      for (const logged of path) {
        if ((sharers.get(logged) ?? 1) >= 2) rebroadcast.add(logged);
        else sends.push({ logged, message: { ...logged.message, to: member } });
      }
    }
    const replays = sends.length;
    for (const logged of rebroadcast) sends.push({ logged, message: logged.message });
    // a meter applies only epoch = its epoch + 1: whatever the mix, the medium carries epochs in order
    sends.sort((a, b) => a.logged.epoch - b.logged.epoch || a.logged.index - b.logged.index);
    const messages = [...sends.map((send) => send.message), ...resync.map((member) => this.source.resync(member))];
    return { messages, replays, rebroadcasts: rebroadcast.size, resyncs: resync.length };
  }
}

/**
 * GREP's KeyManager as a RekeySource. Audiences follow §4–§6 and the header fields of wire.ts: J1 goes
 * to the joiner's subgroup, J2 to the others; M1 to the leaver's subgroup (named by M2's subject) and
 * M2 to the others; A and D to their subject subgroup; C to the subgroups older than Sa (slot 0) and
 * younger than Sb (slot 1); B, J3 and RESYNC to their addressee. A member's subgroup never changes
 * short of a re-seed, after which everyone is resynced anyway.
 */
export function grepSource(km: KeyManager): RekeySource {
  const subgroupOf = (member: number) => km.placeOf(member)?.subgroup;
  return {
    get epoch() {
      return km.epoch;
    },
    groupKey: () => km.groupKey(),
    *members() {
      for (const subgroup of km.subgroups()) yield* subgroup.members;
    },
    resyncBytes: (member) => km.planResync(member).bytes,
    resync: (member) => km.resync(member).messages[0]!,
    audiences(messages) {
      const decoded = messages.map((message) => decodeMessage(message.bytes));
      const leaverSubgroup = decoded.find((message) => message.header.type === 'M2')?.header.subject;
      // M of §6 gets its own B: A's tokens are not for it
      const reachedByB = new Set(messages.filter((message) => message.type === 'B').map((message) => message.to));
      return messages.map((message, index): ((member: number) => boolean) => {
        if (message.to !== 'all') return (member) => member === message.to;
        const { header, items } = decoded[index]!;
        const owner = (slot: number) => items.find((item) => item.slot === slot)?.owner;
        const inSubgroup = (id: number | undefined) => (member: number) => id === undefined || subgroupOf(member) === id;
        switch (header.type) {
          case 'J1':
            return (member) => member !== header.subject && subgroupOf(member) === owner(0);
          case 'J2':
            return (member) => subgroupOf(member) !== owner(0);
          case 'M1':
            return inSubgroup(leaverSubgroup);
          case 'M2':
            return (member) => subgroupOf(member) !== header.subject;
          case 'A':
            return (member) => !reachedByB.has(member) && inSubgroup(header.subject)(member);
          case 'D':
            return inSubgroup(header.subject);
          case 'C': {
            const older = owner(0);
            const younger = owner(1);
            return (member) => {
              const subgroup = subgroupOf(member);
              return subgroup !== undefined && ((older !== undefined && subgroup < older) || (younger !== undefined && subgroup > younger));
            };
          }
          default:
            return () => true;
        }
      });
    },
  };
}
