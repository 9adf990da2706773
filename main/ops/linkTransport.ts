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

/**
 * Calls `restored` each time the link comes up again after being down (not when it is first up: that
 * is the connect). Returns the detach.
 */
export function onLinkRestored(link: Pick<DcPort, 'state' | 'on' | 'off'>, restored: () => void): () => void {
  let wasUp = link.state.state === 'up';
  let connected = wasUp;
  const state = () => {
    const up = link.state.state === 'up';
    if (up && !wasUp && connected) restored();
    connected ||= up;
    wasUp = up;
  };
  link.on('state', state);
  return () => link.off('state', state);
}

/** Feeds what the DC says (meter reports, airing) to the driver, and tells it when the link is back. */
export function observeReports(link: DcLink, convergence: Convergence): () => void {
  const listener = (message: DcReport) => convergence.hear(message);
  link.on('message', listener);
  const detachState = onLinkRestored(link, () => convergence.linkRestored());
  return () => {
    link.off('message', listener);
    detachState();
  };
}
