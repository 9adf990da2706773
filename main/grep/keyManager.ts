import { concatBytes } from './bytes.js';
import { checkKey, type GrepCrypto, KEY_BYTES, type Random, SIGNING_KEY_BYTES } from './crypto.js';
import { fail } from './errors.js';
import { encodeMemberState, memberStateSize, type MemberStatePayload, type TokenEntry } from './payloads.js';
import { type MembershipView, type RemovalShape, shapeRemoval, type SuspicionEntry } from './removal.js';
import { type LazyToken, RefreshFamily } from './tokens.js';
import { encodeMessage, Flag, type ItemToSeal, LAYOUT, type MessageType, messageSize, type Notice } from './wire.js';

export interface KeyManagerConfig {
  readonly groupId: number;
  /** the KM's Ed25519 seed; members hold its public key from commissioning (§8) */
  readonly signingKey: Uint8Array;
  /** s_max (§3) */
  readonly subgroupCap: number;
  readonly crypto: GrepCrypto;
}

/** §3: ceil(sqrt(planned group size)), at least 4. */
export function defaultSubgroupCap(plannedSize: number): number {
  return Math.max(4, Math.ceil(Math.sqrt(plannedSize)));
}

export interface Commissioning {
  readonly id: number;
  readonly nodeKey: Uint8Array;
}

export type Recipient = 'all' | number;

export interface Outgoing {
  readonly type: MessageType;
  readonly to: Recipient;
  readonly bytes: Uint8Array;
}

export interface PlannedMessage {
  readonly type: MessageType;
  readonly to: Recipient;
  readonly bytes: number;
  /** members expected to act on it */
  readonly audience: number;
}

export type Operation = 'join' | 'leave' | 'recover' | 'periodic' | 'resync' | 'reseed';

export interface Plan {
  readonly operation: Operation;
  /** the epoch the group is at when the plan is made; execution refuses a plan made at another epoch */
  readonly epoch: number;
  readonly messages: readonly PlannedMessage[];
  readonly broadcasts: number;
  readonly unicasts: number;
  readonly bytes: number;
  /** for removals: what the suspicion record adds to this plan compared with an empty record */
  readonly recordAdds?: { readonly broadcasts: number; readonly unicasts: number; readonly bytes: number; readonly entries: number };
}

export interface Executed {
  readonly plan: Plan;
  readonly epoch: number;
  readonly messages: readonly Outgoing[];
}

interface SubgroupState {
  readonly id: number;
  ks: Uint8Array;
  /** B_S, held by members of every younger subgroup */
  readonly backward: LazyToken;
  /** F_S, held by members of every older subgroup */
  readonly forward: LazyToken;
  /** in join order */
  readonly members: number[];
  /** join position of each member, parallel to `members` (increasing) */
  readonly positions: number[];
  nextPosition: number;
  readonly nodeFamily: RefreshFamily;
}

interface MemberState {
  readonly id: number;
  readonly nodeKey: Uint8Array;
  readonly subgroup: number;
  readonly position: number;
  /** beta_u, held by the younger members of its subgroup */
  readonly backward: LazyToken;
  /** phi_u, held by the older members of its subgroup */
  readonly forward: LazyToken;
}

/** Counts and bytes of a plan from its messages; every scheme's plans are summed the same way. */
export function summarisePlan(operation: Operation, epoch: number, messages: PlannedMessage[]): Plan {
  const broadcasts = messages.filter((m) => m.to === 'all').length;
  return {
    operation,
    epoch,
    messages,
    broadcasts,
    unicasts: messages.length - broadcasts,
    bytes: messages.reduce((sum, m) => sum + m.bytes, 0),
  };
}

/**
 * The Key Manager side of GREP (§2–§7). Operations are atomic: every check runs before the first
 * change, and randomness is drawn only after them, so bad input never changes state. State is
 * mutated in place rather than copied because a group of 10^6 members cannot be copied per rekey.
 */
export class KeyManager {
  readonly groupId: number;
  readonly subgroupCap: number;
  readonly publicKey: Uint8Array;
  private readonly crypto: GrepCrypto;
  private readonly signingKey: Uint8Array;
  private epochValue = 0;
  private kg: Uint8Array;
  private readonly subgroupMap = new Map<number, SubgroupState>();
  private readonly memberMap = new Map<number, MemberState>();
  private nextSubgroupId = 1;
  private suspicionRecord: SuspicionEntry[] = [];
  private subgroupFamily = new RefreshFamily('grep subgroup');

  constructor(config: KeyManagerConfig, random: Random) {
    if (!Number.isInteger(config.subgroupCap) || config.subgroupCap < 1) fail('BAD_ARGUMENT', 'subgroup cap must be a positive integer');
    checkU32(config.groupId, 'group id');
    this.groupId = config.groupId;
    this.subgroupCap = config.subgroupCap;
    this.crypto = config.crypto;
    this.signingKey = checkKey(config.signingKey, 'KM signing key', SIGNING_KEY_BYTES);
    this.publicKey = config.crypto.publicKey(config.signingKey);
    this.kg = random(KEY_BYTES);
  }

  get epoch(): number {
    return this.epochValue;
  }

  get size(): number {
    return this.memberMap.size;
  }

  get suspicion(): readonly SuspicionEntry[] {
    return this.suspicionRecord;
  }

  has(member: number): boolean {
    return this.memberMap.has(member);
  }

  groupKey(): Uint8Array {
    return this.kg;
  }

  /** Subgroups in creation order with their members in join order. */
  *subgroups(): Iterable<{ readonly id: number; readonly members: readonly number[]; readonly positions: readonly number[] }> {
    for (const subgroup of this.subgroupMap.values()) yield subgroup;
  }

  placeOf(member: number): { readonly subgroup: number; readonly position: number } | undefined {
    const state = this.memberMap.get(member);
    return state && { subgroup: state.subgroup, position: state.position };
  }

  // ---- join (§4) ----

  private joinTarget(): { subgroup: SubgroupState | undefined; isNew: boolean } {
    const youngest = [...this.subgroupMap.values()].at(-1);
    if (youngest && youngest.members.length < this.subgroupCap) return { subgroup: youngest, isNew: false };
    return { subgroup: undefined, isNew: true };
  }

  planJoin(member: number): Plan {
    checkU32(member, 'meter id');
    if (this.memberMap.has(member)) fail('DUPLICATE_MEMBER', `meter ${member} is already a member`);
    const { subgroup, isNew } = this.joinTarget();
    const messages: PlannedMessage[] = [];
    const inSubgroup = subgroup?.members.length ?? 0;
    if (!isNew) messages.push({ type: 'J1', to: 'all', bytes: messageSize('J1', [48]), audience: inSubgroup });
    if (this.memberMap.size > inSubgroup) {
      messages.push({ type: 'J2', to: 'all', bytes: messageSize('J2', [isNew ? 32 : 16]), audience: this.memberMap.size - inSubgroup });
    }
    const olderSubgroups = this.subgroupMap.size - (isNew ? 0 : 1);
    messages.push({ type: 'J3', to: member, bytes: messageSize('J3', [memberStateSize(inSubgroup + olderSubgroups)]), audience: 1 });
    return summarisePlan('join', this.epochValue, messages);
  }

  join(joiner: Commissioning, random: Random): Executed {
    const plan = this.planJoin(joiner.id);
    checkKey(joiner.nodeKey, `node key of meter ${joiner.id}`);
    const { subgroup: existing, isNew } = this.joinTarget();
    const oldKg = this.kg;
    const kg = random(KEY_BYTES);
    const ks = random(KEY_BYTES);
    const beta = random(KEY_BYTES);
    const phi = random(KEY_BYTES);
    const subgroup = existing ?? this.openSubgroup(ks, random);
    const oldKs = subgroup.ks;
    const epoch = this.epochValue + 1;
    const messages: Outgoing[] = [];
    if (!isNew) {
      messages.push(this.broadcast('J1', epoch, joiner.id, [{ slot: 0, owner: subgroup.id, key: oldKs, plaintext: concatBytes(ks, kg, phi) }]));
    }
    if (this.memberMap.size > subgroup.members.length) {
      const payload = isNew ? concatBytes(kg, this.subgroupFamily.read(this.crypto, subgroup.forward, subgroup.id)) : kg;
      messages.push(
        this.broadcast('J2', epoch, joiner.id, [{ slot: 0, owner: subgroup.id, key: oldKg, plaintext: payload }], isNew ? Flag.SUBGROUP_NEW : 0),
      );
    }
    const position = subgroup.nextPosition++;
    this.memberMap.set(joiner.id, {
      id: joiner.id,
      nodeKey: joiner.nodeKey.slice(),
      subgroup: subgroup.id,
      position,
      backward: subgroup.nodeFamily.fresh(beta),
      forward: subgroup.nodeFamily.fresh(phi),
    });
    subgroup.members.push(joiner.id);
    subgroup.positions.push(position);
    subgroup.ks = ks;
    this.kg = kg;
    this.epochValue = epoch;
    messages.push(this.unicastState('J3', joiner.id));
    return { plan, epoch, messages };
  }

  private openSubgroup(ks: Uint8Array, random: Random): SubgroupState {
    const subgroup: SubgroupState = {
      id: this.nextSubgroupId++,
      ks,
      backward: this.subgroupFamily.fresh(random(KEY_BYTES)),
      forward: this.subgroupFamily.fresh(random(KEY_BYTES)),
      members: [],
      positions: [],
      nextPosition: 1,
      nodeFamily: new RefreshFamily('grep node'),
    };
    this.subgroupMap.set(subgroup.id, subgroup);
    return subgroup;
  }

  // ---- remove (§5, §6) ----

  private view(suspicion: readonly SuspicionEntry[]): MembershipView {
    return { subgroups: () => this.subgroups(), positionOf: (m) => this.placeOf(m), memberCount: this.memberMap.size, suspicion };
  }

  private plannedRemoval(shape: RemovalShape): PlannedMessage[] {
    const messages: PlannedMessage[] = [];
    const notice = (removed: readonly number[]): Notice => ({ removedMembers: removed, deletedSubgroups: shape.deletedSubgroups });
    for (const s of shape.colluded) {
      if (!s.survives) continue;
      const sides = [s.older, s.younger].filter((side) => side !== undefined);
      if (sides.length > 0) {
        const type = shape.simpleLeave ? 'M1' : 'A';
        messages.push({
          type,
          to: 'all',
          bytes: messageSize(type, sides.map(() => 32), notice(s.removed)),
          audience: sides.reduce((sum, side) => sum + side.audience.length, 0),
        });
      }
      for (const member of s.unicast) messages.push({ type: 'B', to: member, bytes: messageSize('B', [32], notice(s.removed)), audience: 1 });
    }
    const anchors = [shape.olderAnchor, shape.youngerAnchor].filter((a) => a !== undefined);
    if (anchors.length > 0) {
      const type = shape.simpleLeave ? 'M2' : 'C';
      messages.push({
        type,
        to: 'all',
        bytes: messageSize(type, anchors.map(() => 16), notice([])),
        audience: anchors.reduce((sum, a) => sum + a.audienceMembers, 0),
      });
    }
    for (const id of shape.direct) {
      messages.push({ type: 'D', to: 'all', bytes: messageSize('D', [16], notice([])), audience: this.subgroupMap.get(id)!.members.length });
    }
    return messages;
  }

  planRemove(members: readonly number[]): Plan {
    return this.removalPlan(members, this.shape(members));
  }

  private shape(members: readonly number[]): RemovalShape {
    for (const member of members) checkU32(member, 'meter id');
    return shapeRemoval(this.view(this.suspicionRecord), members);
  }

  private removalPlan(members: readonly number[], shape: RemovalShape): Plan {
    const plan = summarisePlan(shape.simpleLeave ? 'leave' : 'recover', this.epochValue, this.plannedRemoval(shape));
    if (this.suspicionRecord.length === 0) return plan;
    const without = summarisePlan('leave', this.epochValue, this.plannedRemoval(shapeRemoval(this.view([]), members)));
    return {
      ...plan,
      recordAdds: {
        broadcasts: plan.broadcasts - without.broadcasts,
        unicasts: plan.unicasts - without.unicasts,
        bytes: plan.bytes - without.bytes,
        entries: this.suspicionRecord.length,
      },
    };
  }

  /**
   * One routine for leave, multiple leave and collusion recovery (§6). `suspected` puts the removed
   * members in the suspicion record (compromise, or flagged lost/stolen); a plain leave does not.
   */
  remove(members: readonly number[], options: { readonly suspected: boolean }, random: Random): Executed {
    const shape = this.shape(members);
    const plan = this.removalPlan(members, shape);
    const epoch = this.epochValue + 1;
    const kg = random(KEY_BYTES);
    const newKs = new Map(shape.colluded.filter((s) => s.survives).map((s) => [s.subgroup, random(KEY_BYTES)] as const));
    const messages: Outgoing[] = [];
    const flags = (deleted: boolean) => (deleted ? Flag.SUBGROUP_DELETED : 0);

    for (const s of shape.colluded) {
      const ks = newKs.get(s.subgroup);
      if (!ks) continue;
      const subgroup = this.subgroupMap.get(s.subgroup)!;
      const payload = concatBytes(ks, kg);
      const items: ItemToSeal[] = [];
      if (s.older) items.push({ slot: 0, owner: s.older.anchor, key: this.nodeToken(subgroup, s.older.anchor, 'forward'), plaintext: payload });
      if (s.younger) items.push({ slot: 1, owner: s.younger.anchor, key: this.nodeToken(subgroup, s.younger.anchor, 'backward'), plaintext: payload });
      const notice: Notice = { removedMembers: s.removed, deletedSubgroups: shape.deletedSubgroups };
      if (items.length > 0) {
        messages.push(shape.simpleLeave ? this.broadcast('M1', epoch, s.removed[0]!, items) : this.broadcast('A', epoch, s.subgroup, items, 0, notice));
      }
      for (const member of s.unicast) {
        const item: ItemToSeal = { slot: 0, owner: member, key: this.memberMap.get(member)!.nodeKey, plaintext: payload };
        messages.push({ type: 'B', to: member, bytes: this.encode('B', epoch, member, [item], 0, notice) });
      }
    }
    const anchorItems: ItemToSeal[] = [];
    if (shape.olderAnchor) {
      const sa = this.subgroupMap.get(shape.olderAnchor.subgroup)!;
      anchorItems.push({ slot: 0, owner: sa.id, key: this.subgroupFamily.read(this.crypto, sa.forward, sa.id), plaintext: kg });
    }
    if (shape.youngerAnchor) {
      const sb = this.subgroupMap.get(shape.youngerAnchor.subgroup)!;
      anchorItems.push({ slot: 1, owner: sb.id, key: this.subgroupFamily.read(this.crypto, sb.backward, sb.id), plaintext: kg });
    }
    const notice: Notice = { removedMembers: [], deletedSubgroups: shape.deletedSubgroups };
    if (anchorItems.length > 0) {
      if (shape.simpleLeave) {
        const subgroup = shape.colluded[0]!.subgroup;
        messages.push(this.broadcast('M2', epoch, subgroup, anchorItems, flags(shape.deletedSubgroups.includes(subgroup))));
      } else {
        messages.push(this.broadcast('C', epoch, 0, anchorItems, 0, notice));
      }
    }
    for (const id of shape.direct) {
      const target = this.subgroupMap.get(id)!;
      messages.push(this.broadcast('D', epoch, id, [{ slot: 0, owner: id, key: target.ks, plaintext: kg }], 0, notice));
    }

    // State change, after every message is built from the old tokens (§6 "Then").
    for (const member of shape.removed) {
      const state = this.memberMap.get(member)!;
      const subgroup = this.subgroupMap.get(state.subgroup)!;
      const index = subgroup.members.indexOf(member);
      subgroup.members.splice(index, 1);
      subgroup.positions.splice(index, 1);
      this.memberMap.delete(member);
      if (options.suspected) this.suspicionRecord.push({ member, subgroup: state.subgroup, position: state.position });
    }
    for (const id of shape.deletedSubgroups) this.subgroupMap.delete(id);
    for (const [id, ks] of newKs) {
      const subgroup = this.subgroupMap.get(id)!;
      subgroup.ks = ks;
      subgroup.nodeFamily.record(epoch, ks);
    }
    this.subgroupFamily.record(epoch, kg);
    this.kg = kg;
    this.epochValue = epoch;
    return { plan, epoch, messages };
  }

  // ---- other operations (§7) ----

  planPeriodicRekey(): Plan {
    if (this.memberMap.size === 0) fail('EMPTY_SET', 'the group has no members to rekey');
    return summarisePlan('periodic', this.epochValue, [{ type: 'PERIODIC', to: 'all', bytes: messageSize('PERIODIC', [16]), audience: this.memberMap.size }]);
  }

  periodicRekey(random: Random): Executed {
    const plan = this.planPeriodicRekey();
    const epoch = this.epochValue + 1;
    const kg = random(KEY_BYTES);
    const message = this.broadcast('PERIODIC', epoch, 0, [{ slot: 0, owner: 0, key: this.kg, plaintext: kg }]);
    this.subgroupFamily.record(epoch, kg);
    this.kg = kg;
    this.epochValue = epoch;
    return { plan, epoch, messages: [message] };
  }

  planResync(member: number): Plan {
    const state = this.memberMap.get(member);
    if (!state) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
    const tokens = this.subgroupMap.get(state.subgroup)!.members.length - 1 + this.subgroupMap.size - 1;
    return summarisePlan('resync', this.epochValue, [{ type: 'RESYNC', to: member, bytes: messageSize('RESYNC', [memberStateSize(tokens)]), audience: 1 }]);
  }

  /** Full state under Ku at the current epoch; no state changes, so it can be sent as often as needed. */
  resync(member: number): Executed {
    const plan = this.planResync(member);
    return { plan, epoch: this.epochValue, messages: [this.unicastState('RESYNC', member)] };
  }

  private reseedRoster(newcomers: readonly Commissioning[]): Commissioning[] {
    const roster: Commissioning[] = [...this.subgroupMap.values()].flatMap((s) => s.members.map((id) => this.memberMap.get(id)!));
    const seen = new Set(roster.map((m) => m.id));
    for (const newcomer of newcomers) {
      checkU32(newcomer.id, 'meter id');
      checkKey(newcomer.nodeKey, `node key of meter ${newcomer.id}`);
      if (seen.has(newcomer.id)) fail('DUPLICATE_MEMBER', `meter ${newcomer.id} is named twice or already a member`);
      seen.add(newcomer.id);
    }
    if (roster.length + newcomers.length === 0) fail('EMPTY_SET', 'a group needs at least one member');
    return [...roster, ...newcomers];
  }

  planReseed(newcomers: readonly Commissioning[]): Plan {
    const everyone = this.reseedRoster(newcomers);
    const subgroups = Math.ceil(everyone.length / this.subgroupCap);
    const messages = everyone.map((member, index): PlannedMessage => {
      const inSubgroup = Math.min(this.subgroupCap, everyone.length - Math.floor(index / this.subgroupCap) * this.subgroupCap);
      const tokens = inSubgroup - 1 + subgroups - 1;
      return { type: 'RESYNC', to: member.id, bytes: messageSize('RESYNC', [memberStateSize(tokens)]), audience: 1 };
    });
    return summarisePlan('reseed', this.epochValue, messages);
  }

  /**
   * Re-seed, also the full re-initialisation of §3 and the commissioning of a whole group: fresh KG, KS
   * and tokens for everyone, subgroups refilled to the cap in the current order, an empty suspicion
   * record. Each member then gets its state by unicast under its node key (reseedMessages).
   */
  reseed(newcomers: readonly Commissioning[], random: Random): Executed {
    const plan = this.planReseed(newcomers);
    const everyone = this.reseedRoster(newcomers);
    this.subgroupMap.clear();
    this.memberMap.clear();
    this.suspicionRecord = [];
    this.subgroupFamily = new RefreshFamily('grep subgroup');
    this.kg = random(KEY_BYTES);
    // One draw for all node tokens: 10^6 members would otherwise cost 2·10^6 calls into the generator.
    const pool = random(everyone.length * 2 * KEY_BYTES);
    let subgroup: SubgroupState | undefined;
    everyone.forEach((member, index) => {
      if (!subgroup || subgroup.members.length >= this.subgroupCap) subgroup = this.openSubgroup(random(KEY_BYTES), random);
      const at = index * 2 * KEY_BYTES;
      const position = subgroup.nextPosition++;
      this.memberMap.set(member.id, {
        id: member.id,
        nodeKey: member.nodeKey.slice(),
        subgroup: subgroup.id,
        position,
        backward: subgroup.nodeFamily.fresh(pool.subarray(at, at + KEY_BYTES)),
        forward: subgroup.nodeFamily.fresh(pool.subarray(at + KEY_BYTES, at + 2 * KEY_BYTES)),
      });
      subgroup.members.push(member.id);
      subgroup.positions.push(position);
    });
    this.epochValue += 1;
    return { plan, epoch: this.epochValue, messages: [] };
  }

  /** RESYNC messages for a re-seed, one member at a time so 10^6 of them never sit in memory together. */
  *reseedMessages(): Iterable<Outgoing> {
    for (const id of this.memberMap.keys()) yield this.unicastState('RESYNC', id);
  }

  /**
   * Brings every lazily refreshed token up to date (§5 refresh; see RefreshFamily). Run between
   * operations; returns the number of token refreshes computed.
   */
  settle(): number {
    let refreshes = 0;
    if (this.subgroupFamily.pending > 0) {
      refreshes += this.subgroupFamily.settle(
        this.crypto,
        [...this.subgroupMap.values()].flatMap((s) => [[s.backward, s.id], [s.forward, s.id]] as const),
      );
    }
    for (const subgroup of this.subgroupMap.values()) {
      if (subgroup.nodeFamily.pending === 0) continue;
      refreshes += subgroup.nodeFamily.settle(
        this.crypto,
        subgroup.members.flatMap((id) => {
          const m = this.memberMap.get(id)!;
          return [[m.backward, id], [m.forward, id]] as const;
        }),
      );
    }
    return refreshes;
  }

  /** Refresh steps recorded but not yet applied to every token. */
  get pendingRefreshes(): number {
    let pending = this.subgroupFamily.pending;
    for (const subgroup of this.subgroupMap.values()) pending += subgroup.nodeFamily.pending;
    return pending;
  }

  // ---- what a member should hold (§2), used for J3/RESYNC and by the invariant checks ----

  memberState(member: number): MemberStatePayload {
    const state = this.memberMap.get(member);
    if (!state) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
    const subgroup = this.subgroupMap.get(state.subgroup)!;
    const nodeBackward: TokenEntry[] = [];
    const nodeForward: TokenEntry[] = [];
    for (const other of subgroup.members) {
      if (other === member) continue;
      const older = this.memberMap.get(other)!.position < state.position;
      const kind = older ? 'backward' : 'forward';
      (older ? nodeBackward : nodeForward).push({ owner: other, value: this.nodeToken(subgroup, other, kind) });
    }
    const subgroupBackward: TokenEntry[] = [];
    const subgroupForward: TokenEntry[] = [];
    for (const other of this.subgroupMap.values()) {
      if (other.id === subgroup.id) continue;
      const older = other.id < subgroup.id;
      const token = older ? other.backward : other.forward;
      (older ? subgroupBackward : subgroupForward).push({ owner: other.id, value: this.subgroupFamily.read(this.crypto, token, other.id) });
    }
    return { kg: this.kg, ks: subgroup.ks, subgroup: subgroup.id, nodeBackward, nodeForward, subgroupBackward, subgroupForward };
  }

  private nodeToken(subgroup: SubgroupState, owner: number, kind: 'backward' | 'forward'): Uint8Array {
    return subgroup.nodeFamily.read(this.crypto, this.memberMap.get(owner)![kind], owner);
  }

  private unicastState(type: 'J3' | 'RESYNC', member: number): Outgoing {
    const state = this.memberMap.get(member)!;
    const item: ItemToSeal = { slot: 0, owner: 0, key: state.nodeKey, plaintext: encodeMemberState(this.memberState(member)) };
    return { type, to: member, bytes: this.encode(type, this.epochValue, member, [item]) };
  }

  private encode(type: MessageType, epoch: number, subject: number, items: readonly ItemToSeal[], flags = 0, notice?: Notice): Uint8Array {
    const signingKey = LAYOUT[type].delivery === 'broadcast' ? this.signingKey : undefined;
    return encodeMessage(this.crypto, { type, groupId: this.groupId, epoch, subject, flags }, items, signingKey, notice);
  }

  private broadcast(type: MessageType, epoch: number, subject: number, items: readonly ItemToSeal[], flags = 0, notice?: Notice): Outgoing {
    return { type, to: 'all', bytes: this.encode(type, epoch, subject, items, flags, notice) };
  }
}

export function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) fail('BAD_ARGUMENT', `${what} must be an integer in 0..2^32-1`);
}
