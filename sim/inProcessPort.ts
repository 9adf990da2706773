import { EventEmitter } from 'node:events';
import type { DcLinkEvents, LinkState, Transfer } from '../main/link/client.js';
import { LinkError } from '../main/link/errors.js';
import type { DcPort, LinkClock } from '../main/ops/durableLink.js';
import type { Channel } from './channel.js';
import type { DataConcentrator, DcToKm } from './dc.js';
import { channelClock } from './dc.js';

/**
 * The simulated DC as the Key Manager service's DC link, in this process and on the channel's clock:
 * a transfer is accepted as it is handed over, and what the DC says reaches the service as the real
 * link's events do. The benchmarks run the whole service (store, outbox, convergence) this way, on
 * simulated time.
 */
export class InProcessPort extends EventEmitter<DcLinkEvents> implements DcPort {
  state: LinkState = { state: 'up', peer: 'in-process DC' };
  readonly clock: LinkClock;
  private dc: DataConcentrator | undefined;

  constructor(channel: Channel) {
    super();
    this.clock = channelClock(channel);
  }

  /** What the DC built with `send: port.fromDc` says goes to the service. */
  readonly fromDc = (message: DcToKm): void => {
    this.emit('message', message);
  };

  attach(dc: DataConcentrator): this {
    this.dc = dc;
    return this;
  }

  /** The DC restarted: the link drops and comes back to `dc`, which holds nothing the old one held. */
  restart(dc: DataConcentrator): void {
    this.setState({ state: 'down', reason: new LinkError('CLOSED', 'the DC restarted'), retryInMs: 0 });
    this.dc = dc;
    this.setState({ state: 'up', peer: 'in-process DC' });
  }

  private setState(state: LinkState): void {
    this.state = state;
    this.emit('state', state);
  }

  send(transfer: Transfer): void {
    this.attached.handle(transfer);
    this.emit('accepted', transfer.transfer);
  }

  private get attached(): DataConcentrator {
    if (!this.dc) throw new RangeError('attach the DC before sending');
    return this.dc;
  }
}
