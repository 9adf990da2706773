import type { GrepCrypto } from '../main/grep/index.js';
import { GrepError } from '../main/grep/errors.js';
import { missingBitmap } from '../main/firmware/bitmap.js';
import {
  activateIsGenuine,
  type CampaignKey,
  decodeFirmwareFrame,
  type FirmwareFrame,
  inAudience,
  openBlock,
  openKeyFrame,
  openRepair,
  queryIsGenuine,
} from '../main/firmware/blocks.js';
import type { FirmwareReport } from '../main/firmware/campaign.js';
import { generationBlocks, generationCount, isRepairSymbol, type RepairSymbol, recoverGeneration } from '../main/firmware/erasure.js';
import { checkPackage } from '../main/firmware/verify.js';

/**
 * A simulated meter's firmware store: the running image and an inactive slot a campaign fills (A/B
 * slots, so a half-received or refused image never replaces the one that runs). The meter checks the
 * assembled image as staging did (signature against its factory vendor keys, size, digest, model,
 * sequence above what it runs) and switches slots only on the KM's signed activate frame.
 *
 * In a coded campaign (the KEY frame names the code) the meter also keeps, per generation, repair
 * symbols that opened under K_fw, as many as it misses blocks there, and decodes the generation once
 * it holds enough; it reports how many symbols each generation still needs instead of a bitmap.
 */

export interface RunningFirmware {
  readonly version: string;
  readonly sequence: number;
}

export interface SlotOwner {
  readonly id: number;
  readonly groupId: number;
  readonly model: string;
  readonly kmPublicKey: Uint8Array;
  /** vendor/operator public keys installed at the factory */
  readonly vendorKeys: readonly Uint8Array[];
  /** the meter's current group key, from its GREP member */
  groupKey(): { readonly epoch: number; readonly kg: Uint8Array | undefined };
}

interface Inactive {
  readonly campaign: number;
  readonly key: CampaignKey;
  readonly image: Uint8Array;
  readonly held: Uint8Array;
  count: number;
  /** coded campaigns: the repair symbols kept per generation, until it decodes */
  readonly repairs: RepairSymbol[][];
  state: 'receiving' | 'verified' | 'failed' | 'activated';
  reason: string;
}

export class FirmwareSlot {
  private runningFirmware: RunningFirmware;
  /** the image activated last; undefined while the factory image runs */
  private activeImage: Uint8Array | undefined;
  private inactive: Inactive | undefined;
  /** the last campaign whose key frame named other meters or another model: its queries get no answer */
  private declined: number | undefined;
  /** blocks that did not open under K_fw: tampered or forged on the way */
  rejectedBlocks = 0;

  constructor(
    private readonly owner: SlotOwner,
    private readonly crypto: GrepCrypto,
    running: RunningFirmware,
  ) {
    this.runningFirmware = running;
  }

  get running(): RunningFirmware {
    return this.runningFirmware;
  }

  get runningImage(): Uint8Array | undefined {
    return this.activeImage;
  }

  /** The campaign the inactive slot holds, if any, and its image once every block is in. */
  get slot(): { readonly campaign: number; readonly state: Inactive['state']; readonly received: number; readonly image: Uint8Array | undefined } | undefined {
    const slot = this.inactive;
    return slot && { campaign: slot.campaign, state: slot.state, received: slot.count, image: slot.count === slot.key.totalBlocks ? slot.image : undefined };
  }

  /** One campaign frame off the medium; the report to send back, if the frame asks for one. Never throws on bad input. */
  receive(bytes: Uint8Array): FirmwareReport | undefined {
    let frame: FirmwareFrame;
    try {
      frame = decodeFirmwareFrame(bytes, this.owner.groupId);
      switch (frame.kind) {
        case 'key':
          this.takeKey(frame);
          return undefined;
        case 'block':
          this.takeBlock(frame);
          return undefined;
        case 'repair':
          this.takeRepair(frame);
          return undefined;
        case 'query':
          return this.answer(frame);
        case 'activate':
          return this.activate(frame);
      }
    } catch (error) {
      if (error instanceof GrepError) return undefined;
      throw error;
    }
  }

  private takeKey(frame: Extract<FirmwareFrame, { kind: 'key' }>): void {
    if (this.inactive?.campaign === frame.campaign || this.declined === frame.campaign) return;
    const { epoch, kg } = this.owner.groupKey();
    // a key wrapped under any other KG is not for this meter (evicted, or not yet joined)
    if (!kg || frame.epoch !== epoch) return;
    const key = openKeyFrame(this.crypto, frame, { kmPublicKey: this.owner.kmPublicKey, kg });
    if (!inAudience(key, this.owner.id, this.owner.model)) {
      this.declined = frame.campaign;
      return;
    }
    const generations = key.coding ? generationCount(key.totalBlocks, key.coding.generationSize) : 0;
    const repairs = Array.from({ length: generations }, (): RepairSymbol[] => []);
    this.inactive = { campaign: frame.campaign, key, image: new Uint8Array(key.manifest.size), held: new Uint8Array(key.totalBlocks), count: 0, repairs, state: 'receiving', reason: '' };
  }

  private takeBlock(frame: Extract<FirmwareFrame, { kind: 'block' }>): void {
    const slot = this.inactive;
    if (slot?.campaign !== frame.campaign || slot.state !== 'receiving' || frame.total !== slot.key.totalBlocks || slot.held[frame.index]) return;
    const block = openBlock(this.crypto, frame, slot.key.kfw);
    const expected = Math.min(slot.key.blockSize, slot.key.manifest.size - frame.index * slot.key.blockSize);
    if (!block || block.length !== expected) {
      // left missing, so the next bitmap asks for it again
      this.rejectedBlocks++;
      return;
    }
    this.place(slot, frame.index, block);
    if (slot.key.coding) this.decode(slot, Math.floor(frame.index / slot.key.coding.generationSize));
    if (slot.count === slot.key.totalBlocks) this.verify(slot);
  }

  private place(slot: Inactive, index: number, block: Uint8Array): void {
    slot.image.set(block, index * slot.key.blockSize);
    slot.held[index] = 1;
    slot.count++;
  }

  private takeRepair(frame: Extract<FirmwareFrame, { kind: 'repair' }>): void {
    const slot = this.inactive;
    const coding = slot?.key.coding;
    if (slot?.campaign !== frame.campaign || slot.state !== 'receiving' || !coding) return;
    const kept = slot.repairs[frame.generation];
    if (!kept || !isRepairSymbol(coding.generationSize, frame.symbol) || this.needs(slot, frame.generation) === 0 || kept.some(({ symbol }) => symbol === frame.symbol)) return;
    const bytes = openRepair(this.crypto, frame, slot.key.kfw);
    if (!bytes || bytes.length !== slot.key.blockSize) {
      // never reaches the decoder: a forged symbol would otherwise decode to garbage blocks
      this.rejectedBlocks++;
      return;
    }
    kept.push({ symbol: frame.symbol, bytes });
    this.decode(slot, frame.generation);
    if (slot.count === slot.key.totalBlocks) this.verify(slot);
  }

  /** Symbols generation `generation` still needs: its missing blocks less the repair symbols kept. */
  private needs(slot: Inactive, generation: number): number {
    const { first, count } = generationBlocks(slot.key.totalBlocks, slot.key.coding!.generationSize, generation);
    let missing = 0;
    for (let index = first; index < first + count; index++) missing += slot.held[index] === 1 ? 0 : 1;
    return Math.max(0, missing - slot.repairs[generation]!.length);
  }

  private decode(slot: Inactive, generation: number): void {
    const kept = slot.repairs[generation]!;
    if (kept.length === 0 || this.needs(slot, generation) > 0) return;
    const { blockSize, totalBlocks, coding, manifest } = slot.key;
    const { first, count } = generationBlocks(totalBlocks, coding!.generationSize, generation);
    const sources = Array.from({ length: count }, (_, offset) => {
      const index = first + offset;
      if (slot.held[index] !== 1) return undefined;
      // the code works on whole blocks: the image's last block is zero-padded
      const block = new Uint8Array(blockSize);
      block.set(slot.image.subarray(index * blockSize, (index + 1) * blockSize));
      return block;
    });
    const recovered = recoverGeneration(coding!.generationSize, sources, kept)!;
    for (const [offset, block] of recovered) {
      const index = first + offset;
      this.place(slot, index, block.subarray(0, Math.min(blockSize, manifest.size - index * blockSize)));
    }
    slot.repairs[generation] = [];
  }

  private verify(slot: Inactive): void {
    const { manifest, manifestBytes, signature } = slot.key;
    const checks = checkPackage(this.crypto, { manifest, manifestBytes, signature, image: slot.image }, {
      trustedKeys: this.owner.vendorKeys,
      model: this.owner.model,
      runningSequence: this.runningFirmware.sequence,
    });
    const failed = checks.find((check) => check.status === 'failed');
    slot.state = failed ? 'failed' : 'verified';
    slot.reason = failed ? `${failed.check} check failed: ${failed.detail}` : '';
  }

  private answer(frame: Extract<FirmwareFrame, { kind: 'query' }>): FirmwareReport | undefined {
    const base = { meter: this.owner.id, campaign: frame.campaign };
    const slot = this.inactive;
    if (this.declined === frame.campaign) return undefined;
    // without K_fw the query cannot be authenticated; "I have no key" gives nothing away
    if (slot?.campaign !== frame.campaign) return { ...base, status: 'no-key' };
    if (!queryIsGenuine(this.crypto, frame, slot.key.kfw)) return undefined;
    switch (slot.state) {
      case 'receiving':
        if (slot.key.coding) return { ...base, status: 'needs', needs: Uint8Array.from(slot.repairs, (_, generation) => this.needs(slot, generation)) };
        return { ...base, status: 'receiving', missing: missingBitmap(slot.key.totalBlocks, (index) => slot.held[index] === 1) };
      case 'verified':
        return { ...base, status: 'verified' };
      case 'failed':
        return { ...base, status: 'failed', reason: slot.reason };
      case 'activated':
        return { ...base, status: 'activated', version: this.runningFirmware.version };
    }
  }

  private activate(frame: Extract<FirmwareFrame, { kind: 'activate' }>): FirmwareReport | undefined {
    const slot = this.inactive;
    if (slot?.campaign !== frame.campaign || !activateIsGenuine(this.crypto, frame, this.owner.kmPublicKey)) return undefined;
    if (slot.state === 'verified') {
      // what runs is exactly what verify() checked: takeBlock never writes a slot past 'receiving', and
      // the next campaign gets a buffer of its own, so the running image is never overwritten
      slot.state = 'activated';
      this.activeImage = slot.image;
      this.runningFirmware = { version: slot.key.manifest.version, sequence: slot.key.manifest.sequence };
    }
    if (slot.state !== 'activated') return undefined;
    return { meter: this.owner.id, campaign: frame.campaign, status: 'activated', version: this.runningFirmware.version };
  }
}
