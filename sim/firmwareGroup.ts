import { CampaignSealer, DEFAULT_BLOCK_SIZE } from '../main/firmware/blocks.js';
import type { Coding } from '../main/firmware/coding.js';
import { createCampaign } from '../main/firmware/campaign.js';
import type { FirmwarePackage } from '../main/firmware/package.js';
import { defaultSubgroupCap, type GrepCrypto, KEY_BYTES, KeyManager, seededRandom } from '../main/grep/index.js';
import { CampaignRunner, type RunnerOptions } from './campaignRunner.js';
import { Channel } from './channel.js';
import { Fleet, MODEL_GENERATION_SIZE } from './fleet.js';
import type { FactoryFirmware } from './meter.js';

/**
 * A group ready for a firmware campaign, all in process on the simulated clock: a real KM, meters of one
 * model commissioned with it (re-seed, delivered directly), and the shared medium. For the campaign
 * tests and bench:firmware.
 */

export interface FirmwareGroupOptions {
  readonly seed: number;
  readonly meters: number;
  readonly model: string;
  readonly factory: FactoryFirmware;
  readonly crypto: GrepCrypto;
  /** downlink loss; the uplink loses reports at the same rate */
  readonly loss: number;
  /** bits per second */
  readonly rate: number;
  /** one-way seconds; default 0.02 */
  readonly latency?: number;
}

export interface CampaignOptions {
  readonly campaign: number;
  readonly pkg: FirmwarePackage;
  readonly blockSize?: number;
  /** the campaign's targets; default every group member */
  readonly meters?: readonly number[];
  readonly corrupt?: RunnerOptions['corrupt'];
  /**
   * the erasure code's generation size, or 'none' for block repair. campaign() defaults to what the
   * model declares (fleet.ts); sealer(), for tests that build their own engine state, to block repair.
   */
  readonly generationSize?: number | 'none';
  readonly repairMargin?: number;
}

export const GROUP_ID = 1;

export function firmwareGroup(options: FirmwareGroupOptions) {
  const { crypto, seed } = options;
  const random = seededRandom(seed);
  const kmSigningKey = random(32);
  const latency = options.latency ?? 0.02;
  const fleet = new Fleet({ seed, meters: options.meters, groupId: GROUP_ID, kmPublicKey: crypto.publicKey(kmSigningKey), crypto, model: options.model, firmware: options.factory });
  const km = new KeyManager({ groupId: GROUP_ID, signingKey: kmSigningKey, subgroupCap: defaultSubgroupCap(options.meters), crypto }, random);
  km.reseed(fleet.commissioning(), random);
  fleet.hand(km.reseedMessages());
  const channel = new Channel({ bitRate: options.rate, latency, loss: options.loss, seed, clock: 'simulated' });
  const codingOf = (generationSize: number | 'none' | undefined): Coding | undefined =>
    generationSize === undefined || generationSize === 'none' ? undefined : { code: 'reed-solomon', generationSize };
  const sealerFor = (campaign: CampaignOptions, coding: Coding | undefined) =>
    new CampaignSealer({
      crypto,
      groupId: GROUP_ID,
      campaign: campaign.campaign,
      kfw: random(KEY_BYTES),
      pkg: campaign.pkg,
      blockSize: campaign.blockSize ?? DEFAULT_BLOCK_SIZE,
      kmSigningKey,
      audience: campaign.meters ?? 'model',
      coding,
    });
  const members = () => [...km.subgroups()].flatMap((subgroup) => [...subgroup.members]);

  return {
    km,
    fleet,
    channel,
    members,
    /** Removes meters from the group; the rekey reaches every meter directly (convergence is tested elsewhere). */
    evict(ids: readonly number[]): void {
      for (const message of km.remove(ids, { suspected: false }, random).messages) {
        const targets = message.to === 'all' ? [...fleet.meters.values()] : [fleet.get(message.to)];
        for (const meter of targets) meter.receive(message.bytes);
      }
    },
    /** The frames of a campaign, under a fresh K_fw. */
    sealer: (campaign: CampaignOptions) => sealerFor(campaign, codingOf(campaign.generationSize)),
    /** A campaign with a fresh K_fw, ready to run. */
    campaign(campaign: CampaignOptions): CampaignRunner {
      const sealer = sealerFor(campaign, codingOf(campaign.generationSize ?? MODEL_GENERATION_SIZE[options.model]));
      const state = createCampaign({
        id: campaign.campaign,
        totalBlocks: sealer.totalBlocks,
        meters: campaign.meters ?? members(),
        generationSize: sealer.coding?.generationSize,
        repairMargin: campaign.repairMargin,
      });
      const runner: RunnerOptions = {
        channel,
        meters: fleet.meters,
        sealer,
        groupKey: () => ({ epoch: km.epoch, kg: km.groupKey() }),
        // two latencies for the query and its answer, and some slack for the uplink queue
        ackTimeout: 2 * latency + 0.5,
        corrupt: campaign.corrupt,
      };
      return new CampaignRunner(runner, state);
    },
  };
}

export type FirmwareGroup = ReturnType<typeof firmwareGroup>;
