import type { DcLink, DcReport } from '../link/client.js';
import type { Convergence, ConvergenceLink, LoggedMessage } from './convergence.js';
import type { DcPort } from './durableLink.js';

/**
 * The convergence driver's link to a real DC over the authenticated session. Transfer ids come from
 * the caller so they keep increasing across KM restarts (the DC drops an id it has already seen).
 * A wait sleeps until its deadline and looks at `satisfied` each time the DC says something or the
 * link changes state: no polling.
 */
export function linkTransport(link: Omit<DcPort, 'state'>, nextTransfer: () => number): ConvergenceLink {
  return {
    send(message: LoggedMessage) {
      const transfer = nextTransfer();
      link.send(message.to === 'all' ? { kind: 'broadcast', transfer, payload: message.bytes } : { kind: 'unicast', transfer, member: message.to, payload: message.bytes });
      return transfer;
    },
    updateKey(epoch, kg) {
      link.send({ kind: 'keyUpdate', transfer: nextTransfer(), epoch, kg });
    },
    wait(seconds, satisfied) {
      return new Promise((resolve) => {
        if (satisfied()) {
          resolve();
          return;
        }
        const finish = () => {
          clearTimeout(timer);
          link.off('message', look);
          link.off('state', look);
          resolve();
        };
        // listeners run in the order they were added: the driver has heard the message before this looks
        const look = () => {
          if (satisfied()) finish();
        };
        const timer = Number.isFinite(seconds) ? setTimeout(finish, Math.max(0, seconds * 1000)) : undefined;
        link.on('message', look);
        link.on('state', look);
      });
    },
    now: () => performance.now() / 1000,
  };
}

/** Feeds what the DC says (meter reports, airing) to the driver, and tells it when the link is back. */
export function observeReports(link: DcLink, convergence: Convergence): () => void {
  const listener = (message: DcReport) => convergence.hear(message);
  let wasUp = link.state.state === 'up';
  const state = () => {
    const up = link.state.state === 'up';
    if (up && !wasUp) convergence.linkRestored();
    wasUp = up;
  };
  link.on('message', listener);
  link.on('state', state);
  return () => {
    link.off('message', listener);
    link.off('state', state);
  };
}
