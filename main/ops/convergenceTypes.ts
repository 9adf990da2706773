import type { GrepCrypto, Outgoing } from '../grep/index.js';

/** The convergence driver's contracts (convergence.ts): its Key Manager, its link, its options and result. */

/** What the driver needs of a scheme's Key Manager. */
export interface RekeySource {
  readonly epoch: number;
  groupKey(): Uint8Array;
  members(): Iterable<number>;
  /** bytes of the full-state unicast for `member`, to weigh replay against it without encoding it */
  resyncBytes(member: number): number;
  /** the full-state unicast under Ku that brings `member` to the current epoch (GREP: RESYNC, §7) */
  resync(member: number): Outgoing;
  /** the member's subgroup, for audiences that name subgroups; schemes without subgroups leave it out */
  subgroupOf?(member: number): number | undefined;
}

/**
 * A message of the replay log: the KM's message as it was built, and its outbox row when the log is
 * durable (GREP.md §11), so that sending it hands the DC that very row.
 */
export type LoggedMessage = Outgoing & { readonly row?: number };

/** The stored log a driver starts from after a restart: the outbox rows of the last epochs. */
export interface ReplayHistory {
  /** oldest first, each epoch's messages in the order the KM made them */
  readonly messages: readonly LoggedMessage[];
  /** KG fingerprints of the epochs it knows them for */
  readonly fingerprints: ReadonlyMap<number, Uint8Array>;
}

/** The KM's end of the link to the DC, as the driver sees it. */
export interface ConvergenceLink {
  /** Hands a frame to the DC; returns its transfer id, which the DC's `aired` reports name. */
  send(message: LoggedMessage): number;
  /** the DC's copy of KG (§1) */
  updateKey(epoch: number, kg: Uint8Array): void;
  /**
   * Resolves once `seconds` have passed (never, for +inf), or earlier as soon as `satisfied()` holds,
   * looked at whenever the DC has said something. Reports reach the driver through `hear` meanwhile.
   * On the simulated clock it may also resolve when nothing more is scheduled.
   */
  wait(seconds: number, satisfied: () => boolean): Promise<void>;
  /** seconds, on the link's clock (simulated or real) */
  now(): number;
}

export interface ConvergenceOptions {
  readonly crypto: GrepCrypto;
  /**
   * seconds to wait for acks once the DC says a frame has been on the medium: at least two latencies
   * plus the DC's report batching
   */
  readonly ackTimeout: number;
  /** frames waiting at the DC at most (default 64): later repairs are planned with later knowledge */
  readonly window?: number;
  /** seconds without any airing report after which the frames the DC holds are taken as lost (default 30) */
  readonly airSilence?: number;
  /** repair rounds a member gets before it is given up; default 8 */
  readonly maxRounds?: number;
  /** epochs of messages kept for replay; default 16 */
  readonly logEpochs?: number;
  /**
   * replay rounds a silent meter gets before a resync; default 4. Loss alone is not a reason (a resync
   * is as easily lost), but replay can also fail where loss is not the cause: a meter whose tokens
   * diverged while its KG is right rejects the replay, and only its full state repairs it.
   */
  readonly replayRounds?: number;
  /**
   * The order of an operation's frames: the largest audience first (default, convergenceOrder.ts),
   * which lets the repair of the frame most meters miss overlap the airtime of the others, or as the
   * KM made them.
   */
  readonly order?: 'as made' | 'largest audience first';
}

export interface ConvergenceResult {
  readonly epoch: number;
  readonly converged: boolean;
  /** a later operation (or repair) took over before this one ended: its result covers these members */
  readonly superseded: boolean;
  /** current members that did not ack the epoch with the right fingerprint, with nothing for them left at the DC */
  readonly unreachable: readonly number[];
  /** members not confirmed yet whose frames still wait in the DC's queue (only when superseded) */
  readonly queuedAtDc: readonly number[];
  /** the DC's backlog, in seconds of airtime, at its last airing report */
  readonly dcQueuedSeconds: number;
  /** messages replayed by unicast */
  readonly replays: number;
  /** logged broadcasts sent again */
  readonly rebroadcasts: number;
  readonly resyncs: number;
  /** repair rounds of the member repaired most often */
  readonly rounds: number;
  /** link time from sending the operation to the last ack (or to giving up) */
  readonly simSeconds: number;
}

/** A frame for the DC, with the members it is for. */
export interface Queued {
  readonly message: LoggedMessage;
  readonly isFor: (member: number) => boolean;
}
