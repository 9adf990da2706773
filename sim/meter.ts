import { acceptCommand, commandDetail, isCommand } from '../main/grep/command.js';
import { BasicMember } from '../main/grep/baselines/basic.js';
import { LkhMember } from '../main/grep/baselines/lkh.js';
import { FINGERPRINT_BYTES, type GrepCrypto, kgFingerprint, Member, type MemberIdentity, type MemberOutcome } from '../main/grep/index.js';
import { isFirmwareFrame } from '../main/firmware/blocks.js';
import type { FirmwareReport } from '../main/firmware/campaign.js';
import type { MeterReport } from '../main/link/messages.js';
import { FirmwareSlot, type RunningFirmware } from './firmwareSlot.js';

/**
 * A simulated smart meter: a real protocol member (GREP, or a baseline for the benchmark), a
 * disconnector, and the report it hands the DC after each frame.
 */

export type Scheme = 'grep' | 'basic' | 'lkh';

/** The part of a member the simulator drives, the same for GREP's Member and the baselines' members. */
export interface GroupMember {
  readonly epoch: number;
  /** undefined before the member holds any state */
  readonly groupKey: Uint8Array | undefined;
  receive(bytes: Uint8Array): MemberOutcome;
}

export function groupMember(scheme: Scheme, identity: MemberIdentity, crypto: GrepCrypto): GroupMember {
  switch (scheme) {
    case 'basic':
      return new BasicMember(identity, crypto);
    case 'lkh':
      return new LkhMember(identity, crypto);
    case 'grep': {
      const member = new Member(identity, crypto);
      return {
        get epoch() {
          return member.epoch;
        },
        get groupKey() {
          return member.secrets?.kg;
        },
        receive: (bytes) => member.receive(bytes),
      };
    }
  }
}

/** What commissioning knows of a meter; the KM imports id and node key (fleet.ts writes the CSV). */
export interface MeterProfile {
  readonly id: number;
  readonly serial: string;
  readonly model: string;
  readonly nodeKey: Uint8Array;
}

export type DisconnectorState = 'open' | 'closed';

/** What a meter leaves the factory with: its firmware and the vendor keys it trusts for the next one. */
export interface FactoryFirmware {
  readonly running: RunningFirmware;
  readonly vendorKeys: readonly Uint8Array[];
}

/**
 * What a meter answers to one frame: a rekey or command report, or a firmware campaign report. The two
 * share no field name, so `'status' in answer` (isFirmwareReport) tells them apart without a wrapper
 * around the MeterReport that callers of receive() already read.
 */
export type MeterAnswer = MeterReport | FirmwareReport;

export function isFirmwareReport(answer: MeterAnswer): answer is FirmwareReport {
  return 'status' in answer;
}

const FACTORY_FIRMWARE: FactoryFirmware = { running: { version: 'factory', sequence: 1 }, vendorKeys: [] };

const NO_FINGERPRINT = new Uint8Array(FINGERPRINT_BYTES);

export class SimMeter {
  readonly id: number;
  readonly serial: string;
  readonly model: string;
  readonly member: GroupMember;
  /** where receive() puts campaign frames; the in-process campaign runner and bench hand them over directly */
  readonly firmware: FirmwareSlot;
  private readonly groupId: number;
  private readonly kmPublicKey: Uint8Array;
  /** closed = supply connected, how meters leave the factory */
  private state: DisconnectorState = 'closed';
  private lastSeq = 0;
  private fingerprintOf: { kg: Uint8Array; fingerprint: Uint8Array } | undefined;

  constructor(
    profile: MeterProfile,
    group: { readonly scheme: Scheme; readonly groupId: number; readonly kmPublicKey: Uint8Array },
    private readonly crypto: GrepCrypto,
    factory: FactoryFirmware = FACTORY_FIRMWARE,
  ) {
    this.id = profile.id;
    this.serial = profile.serial;
    this.model = profile.model;
    this.groupId = group.groupId;
    this.kmPublicKey = group.kmPublicKey;
    this.member = groupMember(group.scheme, { id: profile.id, groupId: group.groupId, nodeKey: profile.nodeKey, kmPublicKey: group.kmPublicKey }, crypto);
    const member = this.member;
    const owner = {
      id: profile.id,
      groupId: group.groupId,
      model: profile.model,
      kmPublicKey: group.kmPublicKey,
      vendorKeys: factory.vendorKeys,
      groupKey: () => ({ epoch: member.epoch, kg: member.groupKey }),
    };
    this.firmware = new FirmwareSlot(owner, crypto, factory.running);
  }

  get disconnector(): DisconnectorState {
    return this.state;
  }

  /** The meter's 4-byte KG fingerprint (§7); zeros before it holds a KG. */
  get fingerprint(): Uint8Array {
    const kg = this.member.groupKey;
    if (!kg) return NO_FINGERPRINT;
    if (this.fingerprintOf?.kg !== kg) this.fingerprintOf = { kg, fingerprint: kgFingerprint(this.crypto, kg) };
    return this.fingerprintOf.fingerprint;
  }

  /** One frame off the medium; returns the answer for the DC to relay, if this frame calls for one. */
  receive(bytes: Uint8Array): MeterAnswer | undefined {
    if (isFirmwareFrame(bytes)) return this.firmware.receive(bytes);
    if (isCommand(bytes)) return this.execute(bytes);
    const outcome = this.member.receive(bytes);
    switch (outcome.status) {
      case 'applied':
        return this.report('ack', 0);
      case 'gap':
        // where it stands, so the KM knows what to replay; detail = the epoch it could not apply
        return this.report('gap', outcome.epoch);
      case 'ignored':
        // Answering what it already has costs only uplink: without it a meter whose ack was lost stays
        // a laggard to the KM, and is repaired with frames it does not need. (A forged old frame can
        // make it answer too; that costs uplink, never state.)
        return outcome.reason === 'stale' ? this.report('ack', 0) : undefined;
      case 'rejected':
        return undefined;
    }
  }

  private execute(bytes: Uint8Array): MeterReport | undefined {
    const outcome = acceptCommand(this.crypto, bytes, {
      id: this.id,
      groupId: this.groupId,
      kmPublicKey: this.kmPublicKey,
      epoch: this.member.epoch,
      kg: this.member.groupKey,
      lastSeq: this.lastSeq,
    });
    if (outcome.status === 'executed') {
      this.lastSeq = outcome.command.seq;
      this.state = outcome.command.action === 'open' ? 'open' : 'closed';
    }
    // a resend of the last command is confirmed again: its first confirmation may have been lost
    if (outcome.status !== 'executed' && outcome.status !== 'repeated') return undefined;
    return this.report('command', commandDetail(this.lastSeq, this.state === 'closed'));
  }

  private report(event: MeterReport['event'], detail: number): MeterReport {
    return { member: this.id, epoch: this.member.epoch, fingerprint: this.fingerprint, event, detail };
  }
}
