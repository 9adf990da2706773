import type { CampaignLive } from './firmwareViews.js';

/** the screen hears about frames going on the air at most this often */
const AIRED_EMIT_MS = 250;

/**
 * How much of a campaign's current round the DC has put on the air, from its `aired` reports (GREP.md §9).
 * The KM cannot see the medium, so this is the only progress a long broadcast round shows before the
 * meters answer. The DC reports frames as they finish, batch after batch, so the screen is told at most
 * every AIRED_EMIT_MS rather than at each report.
 * Counts start at zero with each round and with each start of the back end: a report of an earlier round,
 * or one before a restart, is not this round's progress.
 */
export class RoundOnAir {
  private transfers: ReadonlySet<number>;
  /** this round's transfers the DC reported on the air */
  private readonly aired = new Set<number>();
  private emitTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `transfers`: the round's transfer ids, undefined for a round stored before they were kept */
  constructor(transfers: readonly number[] | undefined, private readonly emit: () => void) {
    this.transfers = new Set(transfers);
  }

  /** A new round went out under these transfer ids: none of it is on the air yet. */
  newRound(transfers: readonly number[]): void {
    this.transfers = new Set(transfers);
    this.aired.clear();
  }

  /** The DC's `aired` report: transfers of other rounds, or already counted, change nothing. */
  onAired(transfers: readonly number[]): void {
    let changed = false;
    for (const transfer of transfers) {
      if (!this.transfers.has(transfer) || this.aired.has(transfer)) continue;
      this.aired.add(transfer);
      changed = true;
    }
    if (!changed || this.emitTimer || this.closed) return;
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      if (!this.closed) this.emit();
    }, AIRED_EMIT_MS);
  }

  /** `dcQueueSeconds`: the airtime the DC's queue held at its last report, undefined before one. */
  counts(dcQueueSeconds: number | undefined): CampaignLive['onAir'] {
    return { frames: this.transfers.size, aired: this.aired.size, dcQueueSeconds };
  }

  /** No more emits: the driver stopped. */
  close(): void {
    this.closed = true;
    clearTimeout(this.emitTimer);
  }
}
