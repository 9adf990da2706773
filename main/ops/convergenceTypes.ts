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
  /**
   * seconds to wait for acks once a frame is on the medium (over a real link: once the DC accepted it):
   * at least two latencies plus the DC's report batching
   */
  readonly ackTimeout: number;
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
  /** current members that did not ack the epoch with the right fingerprint in time */
  readonly unreachable: readonly number[];
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
  readonly message: Outgoing;
  readonly isFor: (member: number) => boolean;
}
