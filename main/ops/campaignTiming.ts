/**
 * When a campaign round is over, seen from the KM's end of the DC link (GREP.md §9-§10). The KM cannot
 * see the DC's medium: a round is over once the DC has accepted all its frames, a DC status sent after
 * that shows its queue empty, and `roundTimeout` more has passed for the reports; or earlier, as soon as
 * every meter asked has answered. Every wait is bounded: no frame accepted for `stallTimeout` ends the
 * round as stalled (a dead link must not count as silent meters), and a DC whose queue stops shrinking,
 * or that sends no status at all, is waited for `drainTimeout` at most.
 */

export interface RoundTiming {
  /** seconds to wait for reports once the DC's queue is empty */
  readonly roundTimeout: number;
  readonly stallTimeout: number;
  readonly drainTimeout: number;
  readonly dcStatus: DcStatusWatch;
}

export interface RoundProgress {
  /** the round's transfers the DC has not accepted yet */
  pending(): number;
  /** when the DC last accepted one of them, on `clock` */
  lastAccepted(): number;
  /** every meter asked has answered, or the round no longer matters (paused, cancelled) */
  answered(): boolean;
  /** the driver closed: stop waiting at once */
  closed(): boolean;
}

/** Seconds on the wall clock: the engine's roundSentAt means something after a restart too. */
export const clock = (): number => Date.now() / 1000;

const POLL_MS = 20;

/** The DC's last reported queue, and when it last shrank or was empty. */
export class DcStatusWatch {
  queued: number | undefined;
  drainedAt = Number.NEGATIVE_INFINITY;
  emptyAt = Number.NEGATIVE_INFINITY;

  update(queued: number): void {
    const now = clock();
    if (queued === 0) this.emptyAt = now;
    if (queued === 0 || this.queued === undefined || queued < this.queued) this.drainedAt = now;
    this.queued = queued;
  }
}

/** 'stalled' when the DC accepted nothing of the round for stallTimeout. */
export async function waitRound(timing: RoundTiming, round: RoundProgress): Promise<'over' | 'stalled'> {
  const { roundTimeout, stallTimeout, drainTimeout, dcStatus } = timing;
  const until = (done: () => boolean) =>
    new Promise<void>((resolve) => {
      const poll = () => (round.closed() || done() ? resolve() : setTimeout(poll, POLL_MS));
      poll();
    });
  await until(() => round.answered() || round.pending() === 0 || clock() - round.lastAccepted() > stallTimeout);
  if (round.pending() > 0 && !round.answered() && !round.closed()) return 'stalled';
  const acceptedAt = clock();
  await until(() => round.answered() || dcStatus.emptyAt >= acceptedAt || clock() - Math.max(acceptedAt, dcStatus.drainedAt) > drainTimeout);
  const deadline = clock() + roundTimeout;
  await until(() => round.answered() || clock() >= deadline);
  return 'over';
}
