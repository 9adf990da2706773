import type { Outgoing } from '../grep/plan.js';
import type { DcLink, DcReport } from '../link/client.js';
import type { Convergence, ConvergenceLink } from './convergence.js';

const POLL_MS = 20;

/**
 * The convergence driver's link to a real DC over the authenticated session. Transfer ids come from
 * the caller so they keep increasing across KM restarts (the DC drops an id it has already seen).
 * A wait counts from the moment the DC has accepted everything sent so far; the KM cannot see the
 * DC's medium, so the timeout must cover its airtime.
 */
export function linkTransport(link: DcLink, nextTransfer: () => number): ConvergenceLink {
  return {
    send(message: Outgoing) {
      const transfer = nextTransfer();
      link.send(message.to === 'all' ? { kind: 'broadcast', transfer, payload: message.bytes } : { kind: 'unicast', transfer, member: message.to, payload: message.bytes });
    },
    updateKey(epoch, kg) {
      link.send({ kind: 'keyUpdate', transfer: nextTransfer(), epoch, kg });
    },
    wait(seconds, satisfied) {
      return new Promise((resolve) => {
        let deadline: number | undefined;
        const poll = () => {
          const now = performance.now() / 1000;
          if (deadline === undefined && link.pending().length === 0) deadline = now + seconds;
          if (satisfied() || (deadline !== undefined && now >= deadline)) resolve();
          else setTimeout(poll, POLL_MS);
        };
        poll();
      });
    },
    now: () => performance.now() / 1000,
  };
}

/** Feeds the DC's meter reports to the driver. */
export function observeReports(link: DcLink, convergence: Convergence): () => void {
  const listener = (message: DcReport) => {
    if (message.kind === 'report') convergence.observe(message.reports);
  };
  link.on('message', listener);
  return () => link.off('message', listener);
}
