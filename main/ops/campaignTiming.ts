/**
 * When a campaign round is over, seen from the KM's end of the DC link (GREP.md §9-§10). The KM cannot
 * see the DC's medium: a round is over once the DC has accepted all its frames, a DC report sent after
 * that shows its queue empty, and `roundTimeout` more has passed for the reports; or earlier, as soon as
 * every meter asked has answered. Every wait is bounded while the link is up: no frame accepted for
 * `stallTimeout` ends the round as stalled, and a DC whose queue stops shrinking, or that sends no status
 * at all, is waited for `drainTimeout` at most. While the link is down nothing is counted: the frames wait
 * in the link's queue and the meters' answers at the DC, so a dead link never counts as silent meters; the
 * round's wait starts again when the link is back.
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
  /** the DC link is up */
  linkUp(): boolean;
}

/** Seconds on the wall clock: the engine's roundSentAt means something after a restart too. */
export const clock = (): number => Date.now() / 1000;

const POLL_MS = 20;

/** The DC's last reported queue, and when it last shrank or was empty. */
export class DcStatusWatch {
  queued: number | undefined;
  /** seconds of airtime the DC's queue held at its last report */
  queuedSeconds: number | undefined;
  drainedAt = Number.NEGATIVE_INFINITY;
  emptyAt = Number.NEGATIVE_INFINITY;

  /** from a DC status or an `aired` report, whichever came last */
  update(queued: number, queuedSeconds: number): void {
    const now = clock();
    this.queuedSeconds = queuedSeconds;
    if (queued === 0) this.emptyAt = now;
    if (queued === 0 || this.queued === undefined || queued < this.queued) this.drainedAt = now;
    this.queued = queued;
  }
}

/** 'stalled' when the DC accepted nothing of the round for stallTimeout with the link up. */
export async function waitRound(timing: RoundTiming, round: RoundProgress): Promise<'over' | 'stalled'> {
  for (;;) {
    const outcome = await waitWhileUp(timing, round);
    if (outcome !== 'link down') return outcome;
    await until(round, () => round.linkUp());
  }
}

function until(round: RoundProgress, done: () => boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const poll = () => (round.closed() || done() ? resolve() : setTimeout(poll, POLL_MS));
    poll();
  });
}

async function waitWhileUp(timing: RoundTiming, round: RoundProgress): Promise<'over' | 'stalled' | 'link down'> {
  const { roundTimeout, stallTimeout, drainTimeout, dcStatus } = timing;
  const down = () => !round.linkUp() && !round.answered() && !round.closed();
  const step = (done: () => boolean) => until(round, () => !round.linkUp() || done());
  await step(() => round.answered() || round.pending() === 0 || clock() - round.lastAccepted() > stallTimeout);
  if (down()) return 'link down';
  if (round.pending() > 0 && !round.answered() && !round.closed()) return 'stalled';
  const acceptedAt = clock();
  await step(() => round.answered() || dcStatus.emptyAt >= acceptedAt || clock() - Math.max(acceptedAt, dcStatus.drainedAt) > drainTimeout);
  if (down()) return 'link down';
  const deadline = clock() + roundTimeout;
  await step(() => round.answered() || clock() >= deadline);
  return down() ? 'link down' : 'over';
}
