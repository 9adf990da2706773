import type { LinkState } from '../link/client.js';
import { clock } from './campaignTiming.js';
import type { CampaignLive } from './firmwareViews.js';

/**
 * The DC link as a campaign follows it (GREP.md §9): the link reconnects by itself and loses nothing queued,
 * so a dead link is a reason to wait, not a failure. While it is down the campaign only says why it waits
 * and since when; the driver goes on when it is back.
 * The time kept is when the link first went down, not its latest retry, so the note does not restart its
 * clock at every reconnect attempt.
 */
export class CampaignLinkWatch {
  private upValue: boolean;
  /** the link's latest state since it went down, and when it went down */
  private down: { readonly state: LinkState; readonly at: number } | undefined;

  constructor(state: LinkState) {
    this.upValue = state.state === 'up';
    this.down = this.upValue ? undefined : { state, at: clock() };
  }

  get up(): boolean {
    return this.upValue;
  }

  /** Takes the link's new state; true when it went up or down, a change the campaign acts on. */
  follow(state: LinkState): boolean {
    const up = state.state === 'up';
    if (!up) this.down = { state, at: this.down?.at ?? clock() };
    if (up === this.upValue) return false;
    this.upValue = up;
    if (up) this.down = undefined;
    return true;
  }

  /** The campaign's waiting note while the link is down, with `frames` of the round still to go out. */
  waiting(frames: number): CampaignLive['waiting'] {
    return this.down && { reason: linkDownReason(this.down.state, frames), at: this.down.at };
  }
}

/** What the campaign says while the link is down: what waits, what clears it, and what (if anything) the operator does. */
function linkDownReason(state: LinkState, frames: number): string {
  const what = frames > 0 ? `${frames} frame${frames === 1 ? '' : 's'} of this round wait${frames === 1 ? 's' : ''} to go out` : 'the meters\' answers wait at the DC';
  const waiting = `${what}, and the campaign goes on by itself when the link is back`;
  switch (state.state) {
    case 'refused':
      return `the DC refused this Key Manager's pairing key (correct the DC profile on the Connection screen); ${waiting}`;
    case 'stopped':
      return `the DC link is stopped (connect to the DC on the Connection screen); ${waiting}`;
    case 'down':
      return `the DC link is down (${state.reason.message}), retrying; ${waiting}`;
    default:
      return `the DC link is reconnecting; ${waiting}`;
  }
}
