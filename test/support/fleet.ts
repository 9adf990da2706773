import {
  type Executed,
  equalBytes,
  type GrepCrypto,
  KeyManager,
  Member,
  type MemberOutcome,
  nobleCrypto,
  type Random,
  seededRandom,
} from '../../main/grep/index.js';
import { sharedVerdicts } from '../../sim/fleet.js';
import type { PublicEpoch } from './adversary.js';

export interface FleetOptions {
  readonly seed?: number;
  readonly cap?: number;
  readonly crypto?: GrepCrypto;
  readonly groupId?: number;
  /** keep every member's secrets at every epoch for the adversary (small groups only); messages are always kept */
  readonly history?: boolean;
}

/** A KM and real Member instances that receive the KM's real messages: the harness of the protocol tests. */
export class Fleet {
  readonly km: KeyManager;
  readonly members = new Map<number, Member>();
  readonly nodeKeys = new Map<number, Uint8Array>();
  readonly random: Random;
  readonly outcomes: { member: number; type: string; outcome: MemberOutcome }[] = [];
  readonly history: PublicEpoch[] = [];
  private readonly memberCrypto: GrepCrypto;
  private readonly keepSnapshots: boolean;
  private subgroupOf = new Map<number, number>();

  constructor(options: FleetOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    const crypto = options.crypto ?? nobleCrypto;
    this.memberCrypto = sharedVerdicts(crypto);
    this.keepSnapshots = options.history ?? false;
    this.km = new KeyManager({ groupId: options.groupId ?? 7, signingKey: this.random(32), subgroupCap: options.cap ?? 4, crypto }, this.random);
  }

  commission(id: number): Member {
    const nodeKey = this.random(16);
    const member = new Member({ id, groupId: this.km.groupId, nodeKey, kmPublicKey: this.km.publicKey }, this.memberCrypto);
    this.members.set(id, member);
    this.nodeKeys.set(id, nodeKey);
    return member;
  }

  /** A whole group commissioned at once (§7 re-seed from empty), each member reached by the ROSTER and its SEED. */
  bootstrap(count: number, firstId = 1): Executed {
    const newcomers = Array.from({ length: count }, (_, index) => {
      const member = this.commission(firstId + index);
      return { id: member.id, nodeKey: member.ownNodeKey };
    });
    const executed = this.km.reseed(newcomers, this.random);
    return this.deliver({ ...executed, messages: [...this.km.reseedMessages()] });
  }

  join(id: number): Executed {
    const member = this.commission(id);
    return this.deliver(this.km.join({ id, nodeKey: member.ownNodeKey }, this.random));
  }

  remove(ids: number[], suspected: boolean, departed: number[] = []): Executed {
    return this.deliver(this.km.remove(ids, { suspected, departed }, this.random));
  }

  /** §4 batch join of new meters `ids`: one operation (or, for a small batch, one join each). */
  batchJoin(ids: number[]): Executed[] {
    const joiners = ids.map((id) => ({ id, nodeKey: this.commission(id).ownNodeKey }));
    return this.km.batchJoin(joiners, this.random).map((executed) => this.deliver(executed));
  }

  /** §7 re-seed of the present members (compact form). */
  reseed(): Executed {
    const executed = this.km.reseed([], this.random);
    return this.deliver({ ...executed, messages: [...this.km.reseedMessages()] });
  }

  periodic(): Executed {
    return this.deliver(this.km.periodicRekey(this.random));
  }

  /**
   * Every member, removed ones included, sees every broadcast; a unicast reaches its addressee only.
   * Members in `offline` miss the whole operation.
   */
  deliver(executed: Executed, offline: ReadonlySet<number> = new Set()): Executed {
    for (const message of executed.messages) {
      const targets = message.to === 'all' ? [...this.members.values()] : [this.members.get(message.to)!];
      for (const member of targets) {
        if (!offline.has(member.id)) this.outcomes.push({ member: member.id, type: message.type, outcome: member.receive(message.bytes) });
      }
    }
    this.record(executed);
    return executed;
  }

  private record(executed: Executed): void {
    const subgroupOf = new Map(this.subgroupOf);
    const snapshots = new Map<number, NonNullable<Member['secrets']>>();
    for (const { id, members } of this.km.subgroups()) {
      for (const member of members) {
        subgroupOf.set(member, id);
        const secrets = this.members.get(member)!.secrets;
        if (secrets && this.keepSnapshots) snapshots.set(member, secrets);
      }
    }
    this.subgroupOf = subgroupOf;
    const last = this.history.at(-1);
    if (last && last.epoch === executed.epoch) {
      // a resync adds messages to the epoch it was sent in
      this.history[this.history.length - 1] = { ...last, messages: [...last.messages, ...executed.messages], snapshots };
    } else {
      this.history.push({ epoch: executed.epoch, messages: executed.messages, subgroupOf, snapshots });
    }
  }

  rejected(): { member: number; type: string; outcome: MemberOutcome }[] {
    return this.outcomes.filter((o) => o.outcome.status === 'rejected');
  }

  /**
   * Invariants 1 and 2: every current member holds the KM's KG and KS and exactly the KM's token values;
   * the owners of its tokens are exactly the older/younger members and subgroups, never itself.
   */
  mismatches(): string[] {
    const problems: string[] = [];
    const subgroups = [...this.km.subgroups()];
    for (const [index, { id: subgroupId, members }] of subgroups.entries()) {
      const olderSubgroups = subgroups.slice(0, index).map((s) => s.id);
      const youngerSubgroups = subgroups.slice(index + 1).map((s) => s.id);
      for (const [position, id] of members.entries()) {
        const held = this.members.get(id)!.secrets;
        if (!held) {
          problems.push(`${id}: holds nothing`);
          continue;
        }
        const expected = this.km.memberState(id);
        if (held.epoch !== this.km.epoch) problems.push(`${id}: epoch ${held.epoch} != ${this.km.epoch}`);
        if (!equalBytes(held.kg, this.km.groupKey())) problems.push(`${id}: KG differs`);
        if (!equalBytes(held.ks, expected.ks)) problems.push(`${id}: KS differs`);
        if (held.subgroup !== subgroupId) problems.push(`${id}: subgroup ${held.subgroup} != ${subgroupId}`);
        const owners: Record<'nodeBackward' | 'nodeForward' | 'subgroupBackward' | 'subgroupForward', number[]> = {
          nodeBackward: members.slice(0, position),
          nodeForward: members.slice(position + 1),
          subgroupBackward: olderSubgroups,
          subgroupForward: youngerSubgroups,
        };
        for (const list of ['nodeBackward', 'nodeForward', 'subgroupBackward', 'subgroupForward'] as const) {
          const have = held[list];
          const want = owners[list];
          if (have.size !== want.length || want.some((owner) => !have.has(owner))) {
            problems.push(`${id}: ${list} owners ${[...have.keys()]} should be ${want}`);
            continue;
          }
          for (const entry of expected[list]) {
            if (!equalBytes(have.get(entry.owner)!, entry.value)) problems.push(`${id}: ${list} token of ${entry.owner} differs from the KM's`);
          }
        }
      }
    }
    return problems;
  }
}
