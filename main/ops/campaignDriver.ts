import type { CampaignSummary, CampaignView } from '../../preload/api.js';
import {
  activateCampaign,
  applyReport,
  type CampaignSealer,
  type CampaignSend,
  type CampaignState,
  campaignCounts,
  cancelCampaign,
  type FirmwareReport,
  FirmwareError,
  nextRound,
  pauseCampaign,
  type PauseNote,
  removeMeter,
  resumeCampaign,
  roundAnswered,
  type Step,
} from '../firmware/index.js';
import type { DcLink, LinkState } from '../link/client.js';
import type { KmStore, PackageRecord } from '../store/index.js';
import { enqueueRound, type GroupKey, type StoredRound, sealRound, storeRound } from './campaignFrames.js';
import { CampaignLinkWatch } from './campaignLink.js';
import { RoundOnAir } from './campaignOnAir.js';
import { clock, type RoundTiming, waitRound } from './campaignTiming.js';
import { toTransfer } from './durableLink.js';
import { ServiceError } from './errors.js';
import { campaignSummary, campaignView } from './firmwareViews.js';

/**
 * One campaign driven over the real DC link (GREP.md §10): the pure engine says what to send, this
 * seals it (campaignFrames.ts), commits the round (engine state, the round's sends, every frame as an outbox row, an audit
 * row for operator steps) in one transaction and only then hands the frames to the link (§11). Outbox
 * ids are the transfer ids, so they never repeat across restarts, and a frame the DC had not accepted
 * when the KM stopped is sent again, once, by the KeyManagerService on its next open. A restarted driver
 * therefore sends nothing of its stored round: it waits for those of the round's transfers the link still
 * holds (the replayed ones), then goes on from the meters' reports.
 *
 * When a round is over is campaignTiming.ts's call. While the DC link is down the campaign waits, saying
 * so on the campaign (campaignLink.ts), and goes on by itself when the link is back. How much of the round
 * is on the air is campaignOnAir.ts's count. A round the DC stalls on with the link
 * up pauses the campaign until the DC accepts a frame again (or the link reconnects), by itself too. A
 * drive that takes more than `maxRounds`, or that fails, pauses it for the operator. Each pause keeps its
 * reason with the campaign (and in the audit log).
 */

export interface DriverContext extends RoundTiming {
  readonly store: KmStore;
  readonly groupId: number;
  readonly actor: string;
  readonly link: DcLink;
  readonly groupKey: () => GroupKey;
  /** rounds one drive may take before the campaign pauses */
  readonly maxRounds: number;
  readonly onProgress: (summary: CampaignSummary) => void;
}

const SAVE_DELAY_MS = 1_000;
const ACTIVE = new Set<CampaignState['status']>(['created', 'distributing', 'activating']);

type Start = 'next' | 'resend' | 'wait';

export class CampaignDriver {
  private stateValue: CampaignState;
  private round: StoredRound;
  private sentBytes: number;
  private readonly onAir: RoundOnAir;
  private readonly link: CampaignLinkWatch;
  /** bumped to stop the running loop (pause, cancel, close) */
  private generation = 0;
  /** this round's transfers the DC has not accepted yet */
  private readonly awaiting = new Set<number>();
  /** accepted transfers whose outbox rows are marked with the next save */
  private accepted: number[] = [];
  private lastAcceptAt = 0;
  private dirty = false;
  private saveTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private startedOnce = false;
  readonly blockSize: number;
  readonly createdAt: string;

  constructor(
    private readonly context: DriverContext,
    readonly pkg: PackageRecord,
    private readonly sealer: CampaignSealer,
    row: { readonly state: CampaignState; readonly round: StoredRound; readonly sentBytes: number; readonly blockSize: number; readonly createdAt: string },
  ) {
    this.stateValue = row.state;
    this.round = row.round;
    this.onAir = new RoundOnAir(row.round.transfers, () => this.context.onProgress(this.summary()));
    this.link = new CampaignLinkWatch(context.link.state);
    this.sentBytes = row.sentBytes;
    this.blockSize = row.blockSize;
    this.createdAt = row.createdAt;
  }

  get id(): number {
    return this.stateValue.id;
  }

  get state(): CampaignState {
    return this.stateValue;
  }

  /** driven at least once by this service */
  get started(): boolean {
    return this.startedOnce;
  }

  /** Open: not completed or cancelled; its meters may not join another campaign. */
  get open(): boolean {
    return this.stateValue.status !== 'completed' && this.stateValue.status !== 'cancelled';
  }

  /** Drives from the persisted state: 'resend' after a restart, 'next' for a new or resumed campaign, 'wait' for the round out. */
  start(mode: Start): void {
    this.startedOnce = true;
    const generation = ++this.generation;
    void this.loop(generation, mode).catch((error: unknown) => this.halt(generation, error));
  }

  /** Stops driving; what the meters reported since the last save is saved now. */
  close(): void {
    this.generation++;
    this.closed = true;
    clearTimeout(this.saveTimer);
    this.onAir.close();
    if ((this.dirty || this.accepted.length > 0) && this.context.store.db.open) this.save(this.stateValue);
  }

  pause(): CampaignSummary {
    const next = this.step(() => pauseCampaign(this.stateValue, { by: 'operator', reason: `paused by ${this.context.actor}`, resumesItself: false, at: clock() }));
    this.save(next, { action: 'pause campaign', detail: { campaign: this.id, round: next.round } });
    this.generation++;
    return this.summary();
  }

  resume(): CampaignSummary {
    const next = this.step(() => resumeCampaign(this.stateValue));
    this.save(next, { action: 'resume campaign', detail: { campaign: this.id, status: next.status } });
    this.start('next');
    return this.summary();
  }

  cancel(): CampaignSummary {
    const next = this.step(() => cancelCampaign(this.stateValue));
    this.save(next, { action: 'cancel campaign', detail: { campaign: this.id, round: next.round, counts: campaignCounts(next) } });
    this.generation++;
    return this.summary();
  }

  activate(): CampaignSummary {
    const step = this.step(() => activateCampaign(this.stateValue, clock()));
    this.generation++;
    this.commit(step.state, step.sends, { action: 'activate campaign', detail: { campaign: this.id, verified: campaignCounts(this.stateValue).verified } });
    this.start('wait');
    return this.summary();
  }

  /** Removed meters get no further frame of this campaign; returns those it still addressed. */
  removeMeters(meters: readonly number[]): number[] {
    let next = this.stateValue;
    for (const meter of meters) next = removeMeter(next, meter);
    if (next === this.stateValue) return [];
    const dropped = meters.filter((meter) => next.meters[meter] !== this.stateValue.meters[meter]);
    this.save(next, { action: 'campaign drops meters', detail: { campaign: this.id, meters: dropped, reason: 'removed from the group' } });
    return dropped;
  }

  onAccepted(transfer: number): void {
    if (!this.awaiting.delete(transfer)) return;
    this.accepted.push(transfer);
    this.lastAcceptAt = clock();
    // the round is with the DC: its rows are marked in one transaction, not one commit per frame
    if (this.awaiting.size === 0) setImmediate(() => this.markAccepted());
    this.resumeItself('the DC accepts the campaign\'s frames again');
  }

  /** The DC put these transfers on the air (its `aired` report); the screen hears of this round's. */
  onAired(transfers: readonly number[]): void {
    this.onAir.onAired(transfers);
  }

  /** Up: the waiting ends, the stall window starts again, a pause on the DC's account ends. Otherwise the campaign says it waits. */
  onLinkState(state: LinkState): void {
    if (!this.link.follow(state)) return;
    if (this.link.up) {
      this.lastAcceptAt = clock();
      this.resumeItself('the DC link is back');
    }
    if (!this.closed) this.context.onProgress(this.summary());
  }

  /** A campaign paused on the DC's account goes on as soon as the DC takes frames again: its round is waited out first. */
  resumeItself(why: string): void {
    if (this.stateValue.status !== 'paused' || !this.stateValue.pause?.resumesItself || this.closed || !this.link.up) return;
    const next = resumeCampaign(this.stateValue);
    this.save(next, { action: 'resume campaign', detail: { campaign: this.id, status: next.status, reason: why } });
    this.start('wait');
  }

  private markAccepted(): void {
    if (this.accepted.length === 0 || !this.context.store.db.open) return;
    this.context.store.markAccepted(this.accepted);
    this.accepted = [];
  }

  onReports(reports: readonly FirmwareReport[]): void {
    let next = this.stateValue;
    for (const report of reports) next = applyReport(next, report);
    if (next === this.stateValue) return;
    this.stateValue = next;
    this.dirty = true;
    if (!this.saveTimer && !this.closed) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        if (this.dirty && !this.closed) this.save(this.stateValue);
      }, SAVE_DELAY_MS);
    }
  }

  summary(): CampaignSummary {
    const live = { onAir: this.onAir.counts(this.context.dcStatus.queuedSeconds), waiting: this.link.waiting(this.awaiting.size) };
    return campaignSummary(this.pkg, this.stateValue, { blockSize: this.blockSize, sentBytes: this.sentBytes, createdAt: this.createdAt }, live);
  }

  view(): CampaignView {
    return campaignView(this.summary(), this.stateValue);
  }

  private async loop(generation: number, mode: Start): Promise<void> {
    const live = () => generation === this.generation && ACTIVE.has(this.stateValue.status);
    if (mode === 'resend' && live()) this.resumeRound();
    if (mode !== 'next' && live() && !(await this.waitRound(live))) return this.stalled(generation);
    for (let rounds = 0; live(); rounds++) {
      // a meter that keeps answering without progress (a KG it cannot get) would otherwise keep the campaign going forever
      if (rounds >= this.context.maxRounds) {
        const reason = `no end after ${rounds} rounds: some meters keep answering without progress (see their reasons). Resume for ${this.context.maxRounds} more rounds, or Cancel`;
        return this.stop(generation, { reason, resumesItself: false });
      }
      const step: Step = nextRound(this.stateValue, clock());
      if (step.sends.length === 0) {
        const finished = step.state.status === 'distributed' ? 'campaign distributed' : 'campaign completed';
        this.save(step.state, { action: finished, detail: { campaign: this.id, round: step.state.round, counts: campaignCounts(step.state) } });
        return;
      }
      this.commit(step.state, step.sends);
      if (!(await this.waitRound(live))) return this.stalled(generation);
    }
  }

  /**
   * After a restart: the round's transfers the link still holds are the ones the KeyManagerService
   * replayed from the outbox when it opened (before this service), the rest the DC had accepted. The
   * round is waited for, not sent again. A round stored without its ids is sent again whole.
   */
  private resumeRound(): void {
    if (!this.round.transfers) return this.commit(this.stateValue, this.round.sends);
    const queued = new Set(this.context.link.pending().map((transfer) => transfer.transfer));
    this.awaiting.clear();
    for (const transfer of this.round.transfers) if (queued.has(transfer)) this.awaiting.add(transfer);
  }

  /** false when the DC accepted nothing for stallTimeout */
  private async waitRound(live: () => boolean): Promise<boolean> {
    this.lastAcceptAt = clock();
    const outcome = await waitRound(this.context, {
      pending: () => this.awaiting.size,
      lastAccepted: () => this.lastAcceptAt,
      answered: () => !live() || roundAnswered(this.stateValue),
      closed: () => this.closed,
      linkUp: () => this.link.up,
    });
    return outcome === 'over';
  }

  private stalled(generation: number): void {
    const reason =
      `the DC accepted none of round ${this.stateValue.round}'s ${this.awaiting.size} remaining frames for ${this.context.stallTimeout} s with the link up: ` +
      'it may be overloaded or failing. The campaign goes on by itself as soon as the DC accepts a frame or the link reconnects; Cancel to give up';
    this.stop(generation, { reason, resumesItself: true });
  }

  /** Pauses on the driver's own account, with the reason kept on the campaign and audited. */
  private stop(generation: number, pause: Pick<PauseNote, 'reason' | 'resumesItself'>): void {
    if (generation !== this.generation || !ACTIVE.has(this.stateValue.status) || this.stateValue.status === 'created') return;
    this.generation++;
    this.save(pauseCampaign(this.stateValue, { by: 'driver', ...pause, at: clock() }), { action: 'pause campaign', detail: { campaign: this.id, reason: pause.reason } });
  }

  /** A loop that threw (a closed store, a failing groupKey) pauses the campaign if it still can, so the operator sees it stopped. */
  private halt(generation: number, error: unknown): void {
    if (this.closed || generation !== this.generation || !ACTIVE.has(this.stateValue.status)) return;
    try {
      this.generation++;
      const reason = `driving failed: ${(error as Error).message}. Resume to try again`;
      this.save(pauseCampaign(this.stateValue, { by: 'driver', reason, resumesItself: false, at: clock() }), { action: 'pause campaign', detail: { campaign: this.id, reason } });
    } catch {
      // the store is gone: the persisted state is what a restart resumes from
    }
  }

  /** Runs an engine step; its refusal becomes the service's CAMPAIGN_STATE and changes nothing. */
  private step<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof FirmwareError && error.code === 'CAMPAIGN_STATE') throw new ServiceError('CAMPAIGN_STATE', `campaign ${this.id}: ${error.message}`);
      throw error;
    }
  }

  /** Commits `state` and the round's frames as outbox rows together, then hands the frames to the link. */
  private commit(state: CampaignState, sends: readonly CampaignSend[], audit?: { action: string; detail: unknown }): void {
    const key = this.context.groupKey();
    const round = sealRound(this.sealer, sends, key);
    const { store, groupId } = this.context;
    const entries = store.transaction(() => {
      const rows = enqueueRound(store, groupId, key.epoch, round);
      this.write(state, audit, { roundSends: storeRound(sends, rows.map((row) => row.id)), addBytes: round.bytes });
      return rows;
    });
    this.stateValue = state;
    const transfers = entries.map((entry) => entry.id);
    this.round = { sends, transfers };
    this.onAir.newRound(transfers);
    this.sentBytes += round.bytes;
    this.dirty = false;
    this.awaiting.clear();
    for (const entry of entries) this.awaiting.add(entry.id);
    for (const entry of entries) this.context.link.send(toTransfer(entry));
    this.context.onProgress(this.summary());
  }

  /** Saves `state` (with an audit row for an operator step) in one transaction, then makes it current. */
  private save(state: CampaignState, audit?: { action: string; detail: unknown }): void {
    this.context.store.transaction(() => this.write(state, audit, {}));
    this.stateValue = state;
    this.dirty = false;
    this.context.onProgress(this.summary());
  }

  /** Inside the caller's transaction. */
  private write(state: CampaignState, audit: { action: string; detail: unknown } | undefined, round: { roundSends?: string; addBytes?: number }): void {
    const { store, groupId, actor } = this.context;
    const at = new Date();
    store.markAccepted(this.accepted);
    this.accepted = [];
    store.firmware.saveCampaign(this.id, { status: state.status, state: JSON.stringify(state), ...round, at });
    const activated = Object.values(state.meters).find((meter) => meter.state === 'activated');
    // anti-rollback: once a meter runs it, staging refuses this sequence and anything below for the model
    if (activated) store.firmware.recordActivated(groupId, { model: this.pkg.model, sequence: this.pkg.sequence, version: this.pkg.version, campaignId: this.id }, at);
    if (audit) store.audit(actor, audit.action, audit.detail);
  }
}
