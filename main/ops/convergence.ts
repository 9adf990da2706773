import { equalBytes, isInAudience, kgFingerprint, oneMember } from '../grep/index.js';
import type { DcReport, MeterReport } from '../link/messages.js';
import { audienceOrder } from './convergenceOrder.js';
import type { ConvergenceLink, ConvergenceOptions, ConvergenceResult, LoggedMessage, Queued, RekeySource, ReplayHistory } from './convergenceTypes.js';

export type { ConvergenceLink, ConvergenceOptions, ConvergenceResult, LoggedMessage, Queued, RekeySource, ReplayHistory } from './convergenceTypes.js';

/**
 * The KM side of GREP.md §7 "Catch-up and resync": after an operation, wait for every member's ack of
 * the new epoch with the right KG fingerprint, and repair the silent ones as cheaply as possible:
 * replay what they missed (the messages are public and idempotent), rebroadcast a message several of
 * them missed, and send a full-state resync only where replay would cost more than the state or the
 * log no longer holds the messages. The log is the outbox (§11): a driver started after a restart is
 * given the stored messages of the last epochs (ReplayHistory) and replays from them. Time and sending
 * are injected (ConvergenceLink), so the operations service and the simulator run the same driver;
 * nothing here does I/O.
 */

interface Logged {
  readonly epoch: number;
  readonly index: number;
  readonly message: LoggedMessage;
}

interface LogEntry {
  /** undefined for an epoch the driver never held the KG of (an inner epoch of a batch, before a restart) */
  readonly fingerprint: Uint8Array | undefined;
  readonly messages: Logged[];
}

/**
 * A frame the driver has planned and not yet seen on the air (waiting in the driver's window or at the
 * DC), with the outstanding members it is for.
 */
interface InFlight {
  readonly frame: Queued;
  readonly members: readonly number[];
  /** one of an operation's own broadcasts: its ack window is when most of the group answers */
  readonly operationBroadcast: boolean;
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

/**
 * One driver per group. A converge() or repair() started while another runs takes over: the earlier
 * call returns at once (`superseded`), and the members still behind on its epoch are repaired by the
 * new call, by replay of both epochs. Members present when the driver is created are assumed to hold
 * the current epoch until observe() says otherwise (the service feeds it the stored sync table).
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
  /** frames planned by the running call and not yet handed to the DC, in sending order */
  private queue: InFlight[] = [];
  /** frames handed to the DC and not yet on the air, by transfer id */
  private readonly atDc = new Map<number, InFlight>();
  /** per member, how many of its frames are planned or at the DC: no repair while one of them can still reach it */
  private readonly waiting = new Map<number, number>();
  /** per member, when its ack window closes: `ackTimeout` after the last frame for it left the DC */
  private readonly closes = new Map<number, number>();
  /** when the window of the operation's last broadcast closes; +inf while one of them is still to go on the air */
  private heard = Number.NEGATIVE_INFINITY;
  /** the operation's own broadcasts not yet on the air */
  private operationBroadcasts = 0;
  /** when the DC last said something was on the air */
  private lastAired: number;
  /** what the DC said of its queue in its last airing report */
  private dcQueue = { frames: 0, seconds: 0 };
  /** set by every report; a wait ends early on it */
  private changed = false;
  /** inside link.send(): an airing report then may name the very frame being sent */
  private sending = false;
  private readonly airedWhileSending = new Set<number>();
  /** bumped by every converge() and repair(): an older call sees it and hands over */
  private generation = 0;
  private readonly maxRounds: number;
  private readonly logEpochs: number;
  private readonly replayRounds: number;
  private readonly window: number;
  private readonly airSilence: number;

  constructor(
    private readonly source: RekeySource,
    private readonly link: ConvergenceLink,
    private readonly options: ConvergenceOptions,
    history?: ReplayHistory,
  ) {
    this.maxRounds = options.maxRounds ?? 8;
    this.logEpochs = options.logEpochs ?? 16;
    this.replayRounds = options.replayRounds ?? 4;
    this.window = options.window ?? 64;
    this.airSilence = options.airSilence ?? 30;
    this.lastAired = link.now();
    for (const message of history?.messages ?? []) this.append(message, history?.fingerprints.get(message.epoch));
    this.log.set(source.epoch, { fingerprint: this.currentFingerprint(), messages: this.log.get(source.epoch)?.messages ?? [] });
    for (const member of source.members()) this.held.set(member, source.epoch);
  }

  /** What the DC relays: meter reports, and which transfers are now on the air. */
  hear(message: DcReport): void {
    if (message.kind === 'report') this.observe(message.reports);
    else if (message.kind === 'aired') this.aired(message.transfers, { frames: message.queued, seconds: message.queuedSeconds });
  }

  /** Meter reports (relayed by the DC, or the stored sync table after a restart). Command reports are not this driver's business. */
  observe(reports: readonly MeterReport[]): void {
    for (const report of reports) {
      if (report.event === 'command' || !this.held.has(report.member) || report.epoch > this.source.epoch) continue;
      this.changed = true;
      this.held.set(report.member, report.epoch);
      const expected = this.log.get(report.epoch)?.fingerprint;
      if (expected && !equalBytes(expected, report.fingerprint)) this.suspect.add(report.member);
      else this.suspect.delete(report.member);
      if (report.epoch === this.source.epoch && !this.suspect.has(report.member)) this.outstanding.delete(report.member);
      else this.outstanding.add(report.member);
    }
  }

  /**
   * The link to the DC came back: frames it held may be lost with a restarted DC, so each one's
   * window starts now, and whoever it does not reach is repaired.
   */
  linkRestored(): void {
    this.aired([...this.atDc.keys()], this.dcQueue);
  }

  /**
   * Records and sends an operation the KM has just executed, then repairs until every member acked it.
   * Its messages carry their epochs (a batch spans several) and, when the log is durable, their outbox rows.
   */
  async converge(operation: { readonly messages: readonly LoggedMessage[] }): Promise<ConvergenceResult> {
    const generation = ++this.generation;
    const carried = this.takeOver();
    const start = this.link.now();
    const logged = this.record(operation.messages);
    this.link.updateKey(this.source.epoch, this.source.groupKey());
    const frames = logged.map((entry): Queued => ({ message: entry.message, isFor: this.audienceOf(entry.message) }));
    const ordered = (this.options.order ?? 'largest audience first') === 'largest audience first' ? audienceOrder(frames, [...this.source.members()]) : frames;
    this.queue = [...ordered.map((frame) => this.plan(frame, true)), ...carried.map((frame) => this.plan(frame, false))];
    return this.settle(generation, start);
  }

  /** Repairs without a new operation: after a restart, or once meters given up on are back. */
  async repair(): Promise<ConvergenceResult> {
    const generation = ++this.generation;
    const carried = this.takeOver();
    for (const member of this.source.members()) {
      if (this.held.get(member) !== this.source.epoch || this.suspect.has(member)) this.outstanding.add(member);
    }
    this.tries.clear();
    // acks already on their way get one window before anyone is repaired
    const start = this.link.now();
    for (const member of this.outstanding) this.closes.set(member, Math.max(this.closes.get(member) ?? Number.NEGATIVE_INFINITY, start + this.options.ackTimeout));
    this.queue = carried.map((frame) => this.plan(frame, false));
    return this.settle(generation, start);
  }

  /**
   * After the DC link came back (a restarted DC, a meter swapped meanwhile): nothing the meters said
   * before counts. Every member is asked again by the current epoch's last broadcast, which a meter
   * holding the epoch acknowledges again; the silent ones are then repaired like any laggard.
   */
  async reconfirm(): Promise<ConvergenceResult> {
    const last = this.log.get(this.source.epoch)?.messages.filter((logged) => logged.message.to === 'all').at(-1);
    if (!last) return this.repair();
    const generation = ++this.generation;
    const carried = this.takeOver();
    const start = this.link.now();
    for (const member of this.source.members()) this.outstanding.add(member);
    this.tries.clear();
    const message = withoutRow(last.message);
    this.queue = [this.plan({ message, isFor: this.audienceOf(message) }, true), ...carried.map((frame) => this.plan(frame, false))];
    return this.settle(generation, start);
  }

  /**
   * The frames an earlier call planned and never handed to the DC, as a later call takes over: an
   * operation's own stored frames go on after the later call's own (an eviction is not held up behind
   * a commissioning's unicasts; the meters behind are replayed the later epoch); repairs are planned
   * again from what is known now.
   */
  private takeOver(): Queued[] {
    const queue = this.queue;
    this.queue = [];
    for (const planned of queue) this.unplan(planned);
    return queue.filter((planned) => planned.frame.message.row !== undefined).map((planned) => planned.frame);
  }

  /**
   * Pipelined repair (§7): up to `window` frames wait at the DC at a time, and the DC says when each
   * one has been on the air (`aired`); a member's ack window closes `ackTimeout` after the last frame
   * for it left, and a member with a frame still queued at the DC is never repaired (a backlogged DC is
   * not a silent meter). Whenever a window has closed unacked, the member is repaired at once, while
   * the acks of later frames are still due (but see EARLY_SHARERS); otherwise the driver waits for the
   * next report or the next window to close. The operation's own frames all go before any repair.
   * A member is given up after `maxRounds` repairs.
   */
  private async settle(generation: number, start: number): Promise<ConvergenceResult> {
    const queue = this.queue;
    const done = () => this.outstanding.size === 0;
    const counts = { replays: 0, rebroadcasts: 0, resyncs: 0 };
    const superseded = () => this.generation !== generation;
    // by the link's contract a wait that was not cut short has reached its deadline, whatever now() says
    let reached = Number.NEGATIVE_INFINITY;
    const clock = () => Math.max(this.link.now(), reached);
    for (;;) {
      if (superseded()) break;
      while (queue.length > 0 && this.atDc.size < this.window) this.send(queue.shift()!);
      if (done()) break;
      const now = clock();
      const closed = [...this.outstanding].filter((member) => !this.waiting.has(member) && (this.closes.get(member) ?? Number.NEGATIVE_INFINITY) <= now && (this.tries.get(member) ?? 0) < this.maxRounds);
      const due = now < this.heard ? this.sharingRebroadcasts(closed) : closed;
      if (due.length > 0) {
        const repair = this.planRepair(due);
        queue.push(...repair.sends.map((frame) => this.plan(frame, false)));
        counts.replays += repair.replays;
        counts.rebroadcasts += repair.rebroadcasts;
        counts.resyncs += repair.resyncs;
        continue;
      }
      let until = this.heard > now ? this.heard : Number.POSITIVE_INFINITY;
      for (const member of this.outstanding) {
        const closes = this.closes.get(member);
        if (!this.waiting.has(member) && closes !== undefined && closes > now && closes < until) until = closes;
      }
      // a DC that airs nothing for this long while it holds frames of ours has lost them
      if (this.atDc.size > 0) until = Math.min(until, this.lastAired + this.airSilence);
      if (until === Number.POSITIVE_INFINITY && queue.length === 0) break;
      this.changed = false;
      await this.link.wait(until - this.link.now(), () => done() || this.changed || superseded());
      if (this.changed || superseded()) continue;
      // on the simulated clock a wait that saw nothing happen and had no deadline means nothing ever will
      if (until === Number.POSITIVE_INFINITY) break;
      reached = Math.max(reached, until);
      if (this.atDc.size > 0 && clock() >= this.lastAired + this.airSilence) this.aired([...this.atDc.keys()], this.dcQueue, clock());
    }
    // a superseded call's unsent frames are the later call's (takeOver)
    if (!superseded()) for (const planned of queue.splice(0)) this.unplan(planned);
    return {
      epoch: this.source.epoch,
      converged: done(),
      superseded: superseded(),
      unreachable: [...this.outstanding].filter((member) => !this.waiting.has(member)).sort((a, b) => a - b),
      queuedAtDc: [...this.outstanding].filter((member) => this.waiting.has(member)).sort((a, b) => a - b),
      dcQueuedSeconds: this.dcQueue.seconds,
      ...counts,
      rounds: [...this.tries.values()].reduce((most, tries) => Math.max(most, tries), 0),
      simSeconds: this.link.now() - start,
    };
  }

  /**
   * A stored frame someone else handed the DC (the service, sending again what the DC never accepted
   * before a restart): the driver follows it on the air like its own.
   */
  handedOver(message: LoggedMessage, transfer: number): void {
    this.atDc.set(transfer, this.plan({ message, isFor: this.audienceOf(message) }, false));
  }

  /** A frame about to go: its outstanding members wait for it from now on. */
  private plan(frame: Queued, ofOperation: boolean): InFlight {
    const { to } = frame.message;
    const members = to === 'all' ? [...this.outstanding].filter(frame.isFor) : this.outstanding.has(to) ? [to] : [];
    const operationBroadcast = ofOperation && to === 'all';
    for (const member of members) this.waiting.set(member, (this.waiting.get(member) ?? 0) + 1);
    if (operationBroadcast) {
      this.operationBroadcasts++;
      this.heard = Number.POSITIVE_INFINITY;
    }
    return { frame, members, operationBroadcast };
  }

  /** The frame is on the air, or will never be sent: its members no longer wait for it. */
  private unplan(planned: InFlight, heardAt = Number.NEGATIVE_INFINITY): void {
    if (planned.operationBroadcast && --this.operationBroadcasts === 0) this.heard = heardAt;
    for (const member of planned.members) {
      const left = (this.waiting.get(member) ?? 1) - 1;
      if (left > 0) this.waiting.set(member, left);
      else this.waiting.delete(member);
    }
  }

  private send(planned: InFlight): void {
    this.sending = true;
    let transfer: number;
    try {
      transfer = this.link.send(planned.frame.message);
    } finally {
      this.sending = false;
    }
    this.atDc.set(transfer, planned);
    // a link without a medium may report the frame on the air before send() returns
    if (this.airedWhileSending.delete(transfer)) this.aired([transfer], this.dcQueue);
    this.airedWhileSending.clear();
  }

  private aired(transfers: readonly number[], queue: { frames: number; seconds: number }, now = this.link.now()): void {
    this.changed = true;
    this.lastAired = now;
    this.dcQueue = queue;
    const closesAt = now + this.options.ackTimeout;
    for (const transfer of transfers) {
      const frame = this.atDc.get(transfer);
      if (!frame && this.sending) this.airedWhileSending.add(transfer);
      if (!frame) continue;
      this.atDc.delete(transfer);
      this.unplan(frame, closesAt);
      for (const member of frame.members) this.closes.set(member, closesAt);
    }
  }

  private audienceOf(message: LoggedMessage): (member: number) => boolean {
    const subgroupOf = (member: number) => this.source.subgroupOf?.(member);
    return (member) => isInAudience(message.audience, member, subgroupOf);
  }

  private currentFingerprint(): Uint8Array {
    return kgFingerprint(this.options.crypto, this.source.groupKey());
  }

  private append(message: LoggedMessage, fingerprint: Uint8Array | undefined): Logged {
    const entry = this.log.get(message.epoch) ?? { fingerprint, messages: [] };
    this.log.set(message.epoch, entry);
    const logged = { epoch: message.epoch, index: entry.messages.length, message };
    entry.messages.push(logged);
    return logged;
  }

  /** Logs the operation's messages and returns them; resets who is outstanding. */
  private record(messages: readonly LoggedMessage[]): Logged[] {
    const epoch = this.source.epoch;
    const late = messages.find((message) => message.epoch > epoch);
    if (late) throw new RangeError(`a message of epoch ${late.epoch} recorded at epoch ${epoch}: record each operation as it executes`);
    const logged = messages.map((message) => this.append(message, undefined));
    this.log.set(epoch, { fingerprint: this.currentFingerprint(), messages: this.log.get(epoch)?.messages ?? [] });
    for (const old of this.log.keys()) if (old <= epoch - this.logEpochs) this.log.delete(old);

    const members = new Set(this.source.members());
    for (const member of this.held.keys()) {
      if (members.has(member)) continue;
      this.held.delete(member);
      this.suspect.delete(member);
      this.closes.delete(member);
    }
    this.outstanding.clear();
    this.tries.clear();
    for (const member of members) {
      if (!this.held.has(member)) {
        // a joiner holds nothing yet: it needs exactly what this operation sends it from its first message on
        const first = logged.find((entry) => this.audienceOf(entry.message)(member));
        this.held.set(member, (first?.epoch ?? epoch) - 1);
      }
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
      for (const logged of entry.messages) if (this.audienceOf(logged.message)(member)) path.push(logged);
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
   * rebroadcast against k times as unicasts, so its cost per meter is size / k. A repair frame is a
   * new transfer (the DC drops an id it has seen), so it leaves the logged message's outbox row behind.
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
    const sends: { logged: Logged; message: LoggedMessage }[] = [];
    for (const [member, path] of paths) {
      for (const logged of path) {
        if ((sharers.get(logged) ?? 1) >= 2) rebroadcast.add(logged);
        else sends.push({ logged, message: { ...withoutRow(logged.message), to: member, audience: oneMember(member) } });
      }
    }
    const replays = sends.length;
    for (const logged of rebroadcast) sends.push({ logged, message: withoutRow(logged.message) });
    // a meter applies only epoch = its epoch + 1: whatever the mix, the medium carries epochs in order
    sends.sort((a, b) => a.logged.epoch - b.logged.epoch || a.logged.index - b.logged.index);
    const queued = [
      ...sends.map(({ message }): Queued => ({ message, isFor: this.audienceOf(message) })),
      ...resync.map((member): Queued => {
        const message = this.source.resync(member);
        return { message, isFor: this.audienceOf(message) };
      }),
    ];
    return { sends: queued, replays, rebroadcasts: rebroadcast.size, resyncs: resync.length };
  }
}

/** The logged message as a new frame: sent again, it is a new transfer with an outbox row of its own. */
function withoutRow(message: LoggedMessage): LoggedMessage {
  const { row: _stored, ...frame } = message;
  return frame;
}

export { grepSource } from './convergenceGrep.js';
