import type { CampaignSealer } from '../main/firmware/blocks.js';
import {
  activateCampaign,
  applyReport,
  type CampaignSend,
  type CampaignState,
  nextRound,
  roundAnswered,
  type Step,
} from '../main/firmware/campaign.js';
import type { Channel, SimulatedClock } from './channel.js';
import type { SimMeter } from './meter.js';

/**
 * Drives the pure campaign engine over the simulated medium, in process: the engine's sends are sealed
 * by the campaign's CampaignSealer, put on the channel (a multicast costs one airtime, every meter on
 * the medium hears it, removed ones included), and each meter's report comes back over the lossy
 * uplink into applyReport. A round ends when every queried meter has answered or `ackTimeout` after
 * the medium went idle. The state stays plain data throughout, so a test can pause, resume, cancel or
 * remove meters between rounds exactly as the operations service will.
 */

export interface RunnerOptions {
  readonly channel: Channel;
  readonly meters: ReadonlyMap<number, SimMeter>;
  readonly sealer: CampaignSealer;
  /** the group's current epoch and KG: a key frame is wrapped under whatever KG holds when it is sent */
  readonly groupKey: () => { readonly epoch: number; readonly kg: Uint8Array };
  /** seconds to wait for reports once a round is on the medium */
  readonly ackTimeout: number;
  /** what the medium does to a frame on its way to one meter (tests: tampering); identity by default */
  readonly corrupt?: (bytes: Uint8Array, send: CampaignSend, meter: number) => Uint8Array;
}

export class CampaignRunner {
  state: CampaignState;
  /** every frame put on the medium, with its addressee */
  readonly sent: { readonly send: CampaignSend; readonly bytes: number }[] = [];
  private readonly clock: SimulatedClock;

  constructor(
    private readonly options: RunnerOptions,
    initial: CampaignState,
  ) {
    this.state = initial;
    this.clock = options.channel.simulated;
  }

  /** Downlink bytes put on the medium so far. */
  get airBytes(): number {
    return this.sent.reduce((sum, frame) => sum + frame.bytes, 0);
  }

  /** One round of the engine: its frames, then the wait for the answers. */
  round(): void {
    this.play(nextRound(this.state, this.clock.now()));
  }

  /** Rounds until the current phase settles (distributed, completed) or stops (paused, cancelled) or `maxRounds` ran. */
  settle(maxRounds = 50): CampaignState {
    for (let rounds = 0; rounds < maxRounds && (this.state.status === 'created' || this.state.status === 'distributing' || this.state.status === 'activating'); rounds++) {
      this.round();
    }
    return this.state;
  }

  activate(): void {
    this.play(activateCampaign(this.state, this.clock.now()));
  }

  private play(step: Step): void {
    this.state = step.state;
    for (const send of step.sends) this.transmit(send);
    const { channel, ackTimeout } = this.options;
    this.clock.runUntil(channel.idleAt + ackTimeout, () => channel.queued === 0 && roundAnswered(this.state));
  }

  private transmit(send: CampaignSend): void {
    const bytes = this.options.sealer.frame(send, this.options.groupKey);
    const { channel, meters, corrupt } = this.options;
    this.sent.push({ send, bytes: bytes.length });
    const hand = (id: number) => {
      const report = meters.get(id)!.firmware.receive(corrupt ? corrupt(bytes, send, id) : bytes);
      if (report) channel.uplink(id, () => (this.state = applyReport(this.state, report)));
    };
    if (send.to === 'all') channel.broadcast(bytes.length, meters.keys(), (received) => received.forEach(hand));
    else channel.unicast(bytes.length, send.to, (arrived) => arrived && hand(send.to as number));
  }
}
