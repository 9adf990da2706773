import { z } from 'zod';
import type { CampaignSummary, CampaignView, ModelTrustView, PackageView, StagingView, TrustedKeyView } from '../../preload/api.js';
import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import {
  type Audience,
  blockCount,
  type CampaignSend,
  CampaignSealer,
  type CampaignState,
  createCampaign,
  DEFAULT_BLOCK_SIZE,
  type FirmwareReport,
  MAX_GENERATION_SIZE,
  parse,
  refuseFailed,
} from '../firmware/index.js';
import { type GrepCrypto, KEY_BYTES, type Random } from '../grep/index.js';
import type { DcLink, DcReport, LinkState } from '../link/client.js';
import type { CampaignRecord, KmStore } from '../store/index.js';
import { CampaignDriver, type DriverContext } from './campaignDriver.js';
import { readRound } from './campaignFrames.js';
import { clock, DcStatusWatch } from './campaignTiming.js';
import { ServiceError } from './errors.js';
import { campaignSummary, campaignView, packageView } from './firmwareViews.js';
import * as staging from './firmwareStaging.js';
import { MeterIds, validate } from './planning.js';
import { pushTargets } from './pushTargets.js';

/*
 * Firmware campaigns of one group (GREP.md §10), over the store and the DC link: trusted vendor keys
 * and staging (firmwareStaging.ts: every check, nothing stored unless all pass), push (pushTargets.ts
 * checks whom it addresses; the campaign gets a fresh K_fw sealed in the store), and the operator's
 * pause/resume/cancel/activate. Each open campaign is driven in the background by a CampaignDriver;
 * its state is in the store, so open() picks every campaign up again where it was after a restart.
 */

export interface FirmwareServiceOptions {
  readonly store: KmStore;
  readonly group: string;
  readonly actor: string;
  readonly link: DcLink;
  /** KeyManagerService.groupKey: a campaign's key frame is wrapped under the group's current KG */
  readonly groupKey: () => { readonly epoch: number; readonly kg: Uint8Array };
  readonly crypto?: GrepCrypto;
  readonly random?: Random;
  /** seconds to wait for reports after a round is on the medium (default 5) */
  readonly roundTimeout?: number;
  /** seconds without the DC accepting any frame of a round before the campaign pauses (default 60) */
  readonly stallTimeout?: number;
  /** seconds a DC whose queue does not shrink (or that sends no status) is waited for (default 30) */
  readonly drainTimeout?: number;
  /** rounds a campaign phase may take before it pauses for the operator (default 40) */
  readonly maxRounds?: number;
  /**
   * model -> the erasure-code generation size its meters decode (issue 13): a push of that model's
   * firmware is erasure-coded unless it names its own; a model not listed gets block repair.
   */
  readonly erasureModels?: Readonly<Partial<Record<string, number>>>;
  readonly onProgress?: (summary: CampaignSummary) => void;
}

const PushInput = z
  .object({
    packageId: z.number().int().min(1),
    meters: MeterIds.min(1).optional(),
    blockSize: z.number().int().min(16).max(1024).default(DEFAULT_BLOCK_SIZE),
    /** erasure-coded repair with this generation size, for a model whose meters declare it; absent: block repair */
    generationSize: z.number().int().min(1).max(MAX_GENERATION_SIZE).optional(),
  })
  .strict();
const SETTLED = new Set<CampaignState['status']>(['distributed', 'completed', 'cancelled', 'paused']);

export class FirmwareService {
  private readonly crypto: GrepCrypto;
  private readonly random: Random;
  private readonly groupId: number;
  private readonly drivers = new Map<number, CampaignDriver>();
  private readonly context: DriverContext;
  private readonly detach: () => void;

  /** Resumes every campaign that was being driven when the service last stopped, as soon as the link is up. */
  static open(options: FirmwareServiceOptions): FirmwareService {
    return new FirmwareService(options);
  }

  private constructor(private readonly options: FirmwareServiceOptions) {
    const { store, link } = options;
    this.crypto = options.crypto ?? nodeCrypto;
    this.random = options.random ?? nodeRandom;
    this.groupId = store.group(options.group).id;
    const dcStatus = new DcStatusWatch();
    this.context = {
      store,
      groupId: this.groupId,
      actor: options.actor,
      link,
      groupKey: options.groupKey,
      roundTimeout: options.roundTimeout ?? 5,
      stallTimeout: options.stallTimeout ?? 60,
      drainTimeout: options.drainTimeout ?? 30,
      maxRounds: options.maxRounds ?? 40,
      dcStatus,
      onProgress: (summary) => options.onProgress?.(summary),
    };
    // KeyManagerService marks every accepted transfer too; the drivers mark only theirs, batched with their saves
    const onAccepted = (transfer: number) => {
      for (const driver of this.drivers.values()) driver.onAccepted(transfer);
    };
    const onMessage = (message: DcReport) => {
      if (message.kind === 'status') dcStatus.update(message.status.queued, message.status.queuedSeconds);
      if (message.kind === 'aired') {
        dcStatus.update(message.queued, message.queuedSeconds);
        for (const driver of this.drivers.values()) driver.onAired(message.transfers);
      }
      if (message.kind !== 'firmware') return;
      const byCampaign = new Map<number, FirmwareReport[]>();
      for (const report of message.reports) {
        const list = byCampaign.get(report.campaign);
        if (list) list.push(report);
        else byCampaign.set(report.campaign, [report]);
      }
      for (const [campaign, reports] of byCampaign) this.drivers.get(campaign)?.onReports(reports);
    };
    // a campaign resumes once the link is up: a service opened only to read (grepctl status) sends nothing
    const resumable: (() => void)[] = [];
    const onState = (state: LinkState) => {
      for (const driver of this.drivers.values()) driver.onLinkState(state);
      if (state.state === 'up') for (const resume of resumable.splice(0)) resume();
    };
    link.on('accepted', onAccepted);
    link.on('message', onMessage);
    link.on('state', onState);
    this.detach = () => {
      link.off('accepted', onAccepted);
      link.off('message', onMessage);
      link.off('state', onState);
    };

    const removed = new Set(store.members(this.groupId).filter((member) => member.status !== 'member').map((member) => member.meterId));
    for (const row of store.firmware.campaigns(this.groupId)) {
      if (row.status === 'completed' || row.status === 'cancelled') continue;
      const driver = this.load(row);
      this.drivers.set(driver.id, driver);
      // a removal that committed while this service was not running
      driver.removeMeters(Object.keys(driver.state.meters).map(Number).filter((meter) => removed.has(meter)));
      // unless the operator has driven it since (resume, activate)
      const mode = driver.state.status === 'created' ? 'next' : 'resend';
      if (['created', 'distributing', 'activating'].includes(driver.state.status)) resumable.push(() => driver.started || driver.start(mode));
      // paused on the DC's account before the restart: goes on once the link is up
      if (driver.state.pause?.resumesItself) resumable.push(() => driver.resumeItself('the DC link is up'));
    }
    onState(link.state);
  }

  /** Stops driving; every campaign's state is in the store. The link and the store belong to the caller. */
  close(): void {
    this.detach();
    for (const driver of this.drivers.values()) driver.close();
  }

  trustKey(label: string, publicKey: Uint8Array): TrustedKeyView[] {
    return staging.trustKey(this.stagingContext(), label, publicKey);
  }

  trustedKeys(): TrustedKeyView[] {
    return staging.trustedKeys(this.options.store);
  }

  /** Records that the model's meters trust the key (and staging trusts it): firmwareStaging.ts. */
  trustKeyForModel(model: string, publicKey: Uint8Array, label?: string): ModelTrustView[] {
    return staging.trustKeyForModel(this.stagingContext(), model, publicKey, label);
  }

  modelTrust(): ModelTrustView[] {
    return staging.modelTrustViews(this.options.store, this.groupId);
  }

  /**
   * Every staging check against the trusted keys, the models of the group's members and the sequence the
   * package's model runs. The package is stored only when every check passed; the outcome is audited either way.
   */
  stage(packageBytes: Uint8Array): StagingView {
    return staging.stage(this.stagingContext(), packageBytes, [...new Set(this.members().map((member) => member.model))].sort());
  }

  /** stage(), with a refusal thrown as the FirmwareError of the first failed check (the CLI's exit code). */
  stageOrThrow(packageBytes: Uint8Array): PackageView {
    const view = this.stage(packageBytes);
    refuseFailed(view.checks);
    return view.staged!;
  }

  packages(): PackageView[] {
    return this.options.store.firmware.packages(this.groupId).map(packageView);
  }

  /** Creates the campaign with a fresh K_fw sealed in the store and starts driving it; returns at once. */
  push(input: { readonly packageId: number; readonly meters?: readonly number[]; readonly blockSize?: number; readonly generationSize?: number }): CampaignSummary {
    const { packageId, meters, blockSize, generationSize } = validate(PushInput, input, 'push');
    const { store, actor } = this.options;
    const pkg = store.firmware.package(this.groupId, packageId);
    if (!pkg) throw new ServiceError('UNKNOWN_PACKAGE', `no staged firmware package ${packageId} for group ${this.options.group}`);
    staging.refuseUntrustedSigner(this.stagingContext(), store.firmware.packageBytes(packageId));
    const eligible = new Set(this.members().filter((member) => member.model === pkg.model).map((member) => member.meterId));
    const { targets, audience } = pushTargets({ pkg, eligible, meters, running: this.runningSequence(pkg.model), drivers: this.drivers.values() });
    const coded = generationSize ?? this.options.erasureModels?.[pkg.model];
    const kfw = this.random(KEY_BYTES);
    const totalBlocks = blockCount(pkg.size, blockSize);
    const createdAt = new Date();
    const id = store.transaction(() => {
      const created = store.firmware.createCampaign(this.groupId, { packageId, blockSize, kfw, audience: JSON.stringify(audience), at: createdAt }, (campaign) => {
        const state = createCampaign({ id: campaign, totalBlocks, meters: [...targets].sort((a, b) => a - b), generationSize: coded });
        return { status: state.status, json: JSON.stringify(state) };
      });
      store.audit(actor, 'push firmware', { campaign: created, package: packageId, version: pkg.version, sequence: pkg.sequence, meters: targets.length, selected: meters ?? 'all', blockSize, totalBlocks, repair: coded === undefined ? 'blocks' : { code: 'reed-solomon', generationSize: coded } });
      return created;
    });
    const driver = this.load(store.firmware.campaign(this.groupId, id)!);
    this.drivers.set(id, driver);
    driver.start('next');
    return driver.summary();
  }

  campaigns(): CampaignSummary[] {
    return this.options.store.firmware.campaigns(this.groupId).map((row) => this.drivers.get(row.id)?.summary() ?? this.stored(row).summary);
  }

  campaign(id: number): CampaignView {
    const driver = this.drivers.get(this.campaignId(id));
    if (driver) return driver.view();
    const { summary, state } = this.stored(this.row(id));
    return campaignView(summary, state);
  }

  pause(id: number): CampaignSummary {
    return this.driver(id).pause();
  }

  resume(id: number): CampaignSummary {
    return this.driver(id).resume();
  }

  cancel(id: number): CampaignSummary {
    return this.driver(id).cancel();
  }

  /** Only once distribution has settled; activation is then driven in the background. */
  activate(id: number): CampaignSummary {
    return this.driver(id).activate();
  }

  /** Meters removed from the group get no further frame of any open campaign (KeyManagerService onRemoved). */
  removeMeters(meters: readonly number[]): void {
    const ids = validate(MeterIds, meters, 'meters');
    for (const driver of this.drivers.values()) if (driver.open) driver.removeMeters(ids);
  }

  /** Resolves when the campaign is distributed, completed, cancelled or paused, or after `timeoutSeconds` (default 600) with where it is. */
  async settled(id: number, timeoutSeconds = 600): Promise<CampaignSummary> {
    this.row(id);
    const deadline = clock() + timeoutSeconds;
    for (;;) {
      const summary = this.drivers.get(id)?.summary() ?? this.campaign(id);
      if (SETTLED.has(summary.status) || clock() >= deadline) return summary;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private members() {
    return this.options.store.members(this.groupId).filter((member) => member.status === 'member');
  }

  private runningSequence(model: string): number {
    return staging.runningSequence(this.options.store, this.groupId, model);
  }

  private stagingContext(): staging.StagingContext {
    return { store: this.options.store, groupId: this.groupId, actor: this.options.actor, crypto: this.crypto };
  }

  private campaignId(id: number): number {
    return validate(z.number().int().min(1), id, 'campaign id');
  }

  private row(id: number): CampaignRecord {
    const row = this.options.store.firmware.campaign(this.groupId, this.campaignId(id));
    if (!row) throw new ServiceError('UNKNOWN_CAMPAIGN', `no firmware campaign ${id} for group ${this.options.group}`);
    return row;
  }

  private driver(id: number): CampaignDriver {
    const row = this.row(id);
    const driver = this.drivers.get(row.id);
    if (!driver) throw new ServiceError('CAMPAIGN_STATE', `campaign ${id} is ${row.status}: nothing more can be done with it`);
    return driver;
  }

  private stored(row: CampaignRecord): { summary: CampaignSummary; state: CampaignState } {
    const state = JSON.parse(row.state) as CampaignState;
    return { state, summary: campaignSummary(this.options.store.firmware.package(this.groupId, row.packageId)!, state, row) };
  }

  private load(row: CampaignRecord): CampaignDriver {
    const { store } = this.options;
    const pkg = store.firmware.package(this.groupId, row.packageId)!;
    const state = JSON.parse(row.state) as CampaignState;
    const sealer = new CampaignSealer({
      crypto: this.crypto,
      groupId: this.groupId,
      campaign: row.id,
      kfw: store.firmware.campaignKey(row.id),
      pkg: parse(store.firmware.packageBytes(row.packageId)),
      blockSize: row.blockSize,
      kmSigningKey: store.groupSecrets(this.groupId).signingKey,
      audience: JSON.parse(row.audience) as Audience,
      // the engine state names the code: a restarted service seals the same KEY frame and repair symbols
      coding: state.coding && { code: 'reed-solomon', generationSize: state.coding.generationSize },
    });
    return new CampaignDriver(this.context, pkg, sealer, { state, round: readRound(row.roundSends), sentBytes: row.sentBytes, blockSize: row.blockSize, createdAt: row.createdAt });
  }
}
