import type { LinkView } from '../../../preload/api.js';
import { formatSeconds } from './costText.js';

/*
 * A backlogged DC holds frames for minutes: what an operator waits for is the DC's queue, not the Key
 * Manager. Its status (and each `aired` batch) says how many frames wait and how much airtime they
 * need; that is the only honest estimate of how long a long action still has to go.
 */

type DcFacts = LinkView['dc'];

/** The header's line; undefined until the DC has sent a status. */
export function dcQueueText(dc: DcFacts): string | undefined {
  if (dc === undefined) return undefined;
  if (dc.queued === 0) return 'DC queue: empty';
  return `DC queue: ${dc.queued} frame${dc.queued === 1 ? '' : 's'}, about ${formatSeconds(dc.queuedSeconds)} of airtime`;
}

/** The time left of a running action: what still waits on the DC's medium. */
export function timeLeftText(dc: DcFacts): string {
  if (dc === undefined) return 'time left unknown: no status from the DC yet';
  if (dc.queued === 0) return "nothing waits in the DC's queue: waiting for the meters' answers";
  return `about ${formatSeconds(dc.queuedSeconds)} left on the DC's queue (${dc.queued} frame${dc.queued === 1 ? '' : 's'})`;
}
