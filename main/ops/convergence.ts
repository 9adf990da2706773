import { equalBytes, type Executed, kgFingerprint, type Outgoing } from '../grep/index.js';
import type { MeterReport } from '../link/messages.js';
import { audienceOrder } from './convergenceOrder.js';
import type { ConvergenceLink, ConvergenceOptions, ConvergenceResult, Queued, RekeySource } from './convergenceTypes.js';

export type { ConvergenceLink, ConvergenceOptions, ConvergenceResult, Queued, RekeySource } from './convergenceTypes.js';

/**
 * The KM side of GREP.md §7 "Catch-up and resync": after an operation, wait for every member's ack of
 * the new epoch with the right KG fingerprint, and repair the silent ones as cheaply as possible:
 * replay what they missed (the messages are public and idempotent), rebroadcast a message several of
 * them missed, and send a full-state resync only where replay would cost more than the state or the
 * log no longer holds the messages. Time and sending are injected (ConvergenceLink), so the operations
 * service and the simulator run the same driver; nothing here does I/O.
 */

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

/**
 * While the ack window of one of the operation's own broadcasts is open, most of its audience has yet
 * to be heard from, and every meter hears it, so a silent meter that holds the epoch with its ack lost
 * may still answer it (a stale ack). A repair sent then for a meter or two delays the repair that the
 * broadcast's own silent meters will need, and is wasted about half the time (uplink loss is about as
 * likely as downlink loss). Only a rebroadcast that several silent meters share goes early: it is
 * wasted with a chance of about 2^-k for k sharers.
 */
const EARLY_SHARERS = 4;

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
    const logged = this.record(executed);
    this.link.updateKey(this.source.epoch, this.source.groupKey());
    const frames = (this.options.order ?? 'largest audience first') === 'largest audience first' ? audienceOrder(logged, [...this.source.members()]) : logged;
    return this.settle(start, [...frames], new Map());
  }

  /** Repairs without a new operation, e.g. once meters given up on are back. */
  async repair(): Promise<ConvergenceResult> {
    for (const member of this.source.members()) {
      if (this.held.get(member) !== this.source.epoch || this.suspect.has(member)) this.outstanding.add(member);
    }
    this.tries.clear();
    // acks already on their way get one window before anyone is repaired
    const start = this.link.now();
    const closes = new Map([...this.outstanding].map((member) => [member, start + this.options.ackTimeout]));
    return this.settle(start, [], closes);
  }

  /**
   * Pipelined repair (§7): frames go to the DC one at a time, so the driver knows when each left (on
   * the simulated medium: when its airtime ended; over a real link: when the DC accepted it), and a
   * member's ack window closes `ackTimeout` after the last frame for it left, not after the whole round.
   * Whenever the queue is empty, the members whose windows have closed unacked are repaired at once,
   * while the acks of later frames are still due (but see EARLY_SHARERS); only when no window has
   * closed does the driver wait, until the next one closes. The operation's own frames all go before
   * any repair (the durable link hands over the outbox rows the operation committed). A member is given up after
   * `maxRounds` repairs.
   * `closes`: when each member's window closes; a member without one is due at once.
   */
  private async settle(start: number, queue: Queued[], closes: Map<number, number>): Promise<ConvergenceResult> {
    const done = () => this.outstanding.size === 0;
    const never = () => false;
    const counts = { replays: 0, rebroadcasts: 0, resyncs: 0 };
    // by the link's contract a wait that was not cut short has reached its deadline, whatever now() says
    let reached = Number.NEGATIVE_INFINITY;
    const clock = () => Math.max(this.link.now(), reached);
    // when the window of the operation's last broadcast closes
    let heard = Number.NEGATIVE_INFINITY;
    let operation = queue.length;
    for (;;) {
      const next = queue.shift();
      if (next) {
        const { to } = next.message;
        const audience = to === 'all' ? [...this.outstanding].filter(next.isFor) : this.outstanding.has(to) ? [to] : [];
        this.link.send(next.message);
        await this.link.wait(0, never);
        const closesAt = clock() + this.options.ackTimeout;
        for (const member of audience) closes.set(member, closesAt);
        if (operation-- > 0 && to === 'all') heard = closesAt;
        continue;
      }
      if (done()) break;
      const now = clock();
      const windows = [...this.outstanding].map((member) => ({ member, closes: closes.get(member) ?? Number.NEGATIVE_INFINITY }));
      const closed = windows.filter((window) => window.closes <= now && (this.tries.get(window.member) ?? 0) < this.maxRounds).map((window) => window.member);
      const due = now < heard ? this.sharingRebroadcasts(closed) : closed;
      if (due.length > 0) {
        const repair = this.planRepair(due);
        queue.push(...repair.sends);
        counts.replays += repair.replays;
        counts.rebroadcasts += repair.rebroadcasts;
        counts.resyncs += repair.resyncs;
        continue;
      }
      // no spread: a fleet of 10^5 would overflow the call stack
      const until = windows.reduce((first, window) => (window.closes > now && window.closes < first ? window.closes : first), heard > now ? heard : Number.POSITIVE_INFINITY);
      if (until === Number.POSITIVE_INFINITY) break;
      await this.link.wait(until - this.link.now(), done);
      if (!done()) reached = Math.max(reached, until);
    }
    return {
      epoch: this.source.epoch,
      converged: done(),
      unreachable: [...this.outstanding].sort((a, b) => a - b),
      ...counts,
      rounds: [...this.tries.values()].reduce((most, tries) => Math.max(most, tries), 0),
      simSeconds: this.link.now() - start,
    };
  }

  private currentFingerprint(): Uint8Array {
    return kgFingerprint(this.options.crypto, this.source.groupKey());
  }

  /** Logs the operation's messages and returns them; resets who is outstanding. */
  private record(executed: Executed): Logged[] {
    const epoch = this.source.epoch;
    if (executed.epoch !== epoch) throw new RangeError(`operation of epoch ${executed.epoch} recorded at epoch ${epoch}: record each one as it executes`);
    const audiences = this.source.audiences?.(executed.messages) ?? executed.messages.map(addressees);
    const entry = this.log.get(epoch) ?? { fingerprint: this.currentFingerprint(), messages: [] };
    const first = entry.messages.length;
    const logged = executed.messages.map((message, index): Logged => ({ epoch, index: first + index, message, isFor: audiences[index]! }));
    entry.messages.push(...logged);
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
    return logged;
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

  /** Of `silent`, those whose whole replay is broadcasts that at least EARLY_SHARERS of them need. */
  private sharingRebroadcasts(silent: readonly number[]): number[] {
    const paths = new Map<number, Logged[] | undefined>();
    const sharers = new Map<Logged, number>();
    for (const member of silent) {
      const path = (this.tries.get(member) ?? 0) < this.replayRounds ? this.replayPath(member) : undefined;
      paths.set(member, path);
      for (const logged of path ?? []) sharers.set(logged, (sharers.get(logged) ?? 0) + 1);
    }
    return silent.filter((member) => paths.get(member)?.every((logged) => logged.message.to === 'all' && sharers.get(logged)! >= EARLY_SHARERS));
  }

  /**
   * One repair round. Cost is airtime, i.e. bytes: a message k meters missed costs its size once as a
   * rebroadcast against k times as unicasts, so its cost per meter is size / k.
   */
  private planRepair(laggards: readonly number[]): { sends: Queued[]; replays: number; rebroadcasts: number; resyncs: number } {
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
    const queued = [
      ...sends.map(({ logged, message }): Queued => ({ message, isFor: message.to === 'all' ? logged.isFor : addressees(message) })),
      ...resync.map((member): Queued => {
        const message = this.source.resync(member);
        return { message, isFor: addressees(message) };
      }),
    ];
    return { sends: queued, replays, rebroadcasts: rebroadcast.size, resyncs: resync.length };
  }
}

export { grepSource } from './convergenceGrep.js';
