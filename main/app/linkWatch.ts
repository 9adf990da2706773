import type { LinkState, LinkView } from '../../preload/api.js';
import type { DcLink, DcReport, LinkState as DcLinkState } from '../link/client.js';
import { linkToDc } from '../ops/dcLink.js';
import type { DcProfile } from '../store/index.js';
import { throttle } from './events.js';

/**
 * The one DC link of an operator session, and what the Connection page shows of it: the state in the
 * operator's four words, the last error with its hint (serialError adds the dialout one), since when,
 * and the DC's last status. A change of state or detail is reported through `onChange`.
 */
export class LinkWatch {
  private link: DcLink | undefined;
  private profile: string | undefined;
  private state: LinkState = 'disconnected';
  private detail: string | undefined;
  private since = new Date().toISOString();
  private dc: LinkView['dc'];
  private bitRate: number | undefined;
  private wasUp = false;
  private detach: () => void = () => undefined;
  private readonly backlogMoved = throttle(() => this.onChange(this.view()), 500);

  constructor(private readonly onChange: (view: LinkView) => void) {}

  view(): LinkView {
    return { profile: this.profile, state: this.state, detail: this.detail, since: this.since, pending: this.link?.pending().length ?? 0, dc: this.dc, bitRate: this.bitRate };
  }

  /**
   * A new link to `profile`, started; the caller closes the previous one first. `bitRate`: the
   * medium's bit/s when the caller knows it (the embedded simulator); a DC's status does not carry it.
   */
  open(profile: DcProfile, bitRate?: number): DcLink {
    const link = linkToDc(profile);
    this.link = link;
    this.profile = profile.name;
    this.bitRate = bitRate;
    this.wasUp = false;
    this.dc = undefined;
    this.detail = undefined;
    const onState = (state: DcLinkState) => this.onState(state);
    const onMessage = (message: DcReport) => {
      if (message.kind === 'status') {
        const { meters, queued, epoch, airtimeSeconds, queuedSeconds } = message.status;
        this.dc = { meters, queued, epoch, airtimeSeconds, queuedSeconds };
        this.onChange(this.view());
      } else if (message.kind === 'aired' && this.dc !== undefined) {
        // between statuses the DC's backlog moves with every aired batch, many a second: the header follows at 2 Hz
        this.dc = { ...this.dc, queued: message.queued, queuedSeconds: message.queuedSeconds };
        this.backlogMoved.request();
      }
    };
    link.on('state', onState);
    link.on('message', onMessage);
    this.detach = () => {
      link.off('state', onState);
      link.off('message', onMessage);
    };
    link.start();
    return link;
  }

  async close(): Promise<void> {
    const link = this.link;
    if (!link) return;
    this.link = undefined;
    this.bitRate = undefined;
    await link.stop();
    this.detach();
    this.backlogMoved.cancel();
    this.set('disconnected', undefined);
  }

  private onState(state: DcLinkState): void {
    switch (state.state) {
      case 'connecting':
      case 'authenticating':
        return this.set(this.wasUp || (state.state === 'connecting' && state.attempt > 1) ? 'reconnecting' : 'connecting', this.detail);
      case 'up':
        this.wasUp = true;
        return this.set('connected', undefined);
      case 'down':
        return this.set('reconnecting', `${state.reason.message} (retrying in ${Math.ceil(state.retryInMs / 1000)} s)`);
      case 'refused':
        return this.set('reconnecting', `the DC refused this profile's pairing key: ${state.reason.message}`);
      case 'stopped':
        return this.set('disconnected', this.detail);
    }
  }

  private set(state: LinkState, detail: string | undefined): void {
    if (state === this.state && detail === this.detail) return;
    if (state !== this.state) this.since = new Date().toISOString();
    this.state = state;
    this.detail = detail;
    this.onChange(this.view());
  }
}
