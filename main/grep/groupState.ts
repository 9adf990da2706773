import { checkKey, type GrepCrypto, KEY_BYTES, type Random, SIGNING_KEY_BYTES } from './crypto.js';
import { fail } from './errors.js';
import { encodeMemberState, type MemberStatePayload, type TokenEntry } from './payloads.js';
import { type Audience, type Commissioning, type Outgoing, oneMember } from './plan.js';
import type { MembershipView, SuspicionEntry } from './removal.js';
import { type LazyToken, RefreshFamily } from './tokens.js';
import { checkU32, encodeMessage, type ItemToSeal, LAYOUT, type MessageType, type Notice, type RosterPart } from './wire.js';

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

/** backward = beta_u / B_S, held by the younger; forward = phi_u / F_S, held by the older (§2). */
export type TokenKind = 'backward' | 'forward';

export interface SubgroupState {
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

export interface MemberState {
  readonly id: number;
  readonly nodeKey: Uint8Array;
  readonly subgroup: number;
  readonly position: number;
  /** beta_u, held by the younger members of its subgroup */
  readonly backward: LazyToken;
  /** phi_u, held by the older members of its subgroup */
  readonly forward: LazyToken;
}

/**
 * Everything the KM holds (GREP.md §2–§3): KG, the epoch, subgroups in creation order with their KS, B/F
 * tokens and members in join order, each member's Ku and beta/phi tokens, the suspicion record (§6).
 * Tokens are refreshed lazily (RefreshFamily): every read goes through nodeToken/subgroupToken so it
 * sees the value the members hold. The operations (join.ts, recovery.ts, maintenance.ts) are functions
 * over this state; see KeyManager for why they change it in place.
 */
export class GroupState {
  readonly groupId: number;
  readonly subgroupCap: number;
  readonly publicKey: Uint8Array;
  readonly crypto: GrepCrypto;
  private readonly signingKey: Uint8Array;
  epoch = 0;
  kg: Uint8Array;
  /** in creation order: ids only grow and a Map iterates in insertion order */
  readonly subgroups = new Map<number, SubgroupState>();
  readonly members = new Map<number, MemberState>();
  /** creation index of the next subgroup; ids are never reused, so deleted subgroups stay distinct (§6) */
  nextSubgroupId = 1;
  suspicion: SuspicionEntry[] = [];
  /**
   * Where every member removed by a plain leave stood (§6 "departed meters can be suspected too"): the
   * operator may later flag one as compromised, and its place then goes into the record. Emptied by a
   * re-seed, after which no old place means anything.
   */
  readonly departed = new Map<number, SuspicionEntry>();
  /** all subgroup tokens of the group, refreshed under KG* */
  subgroupFamily = new RefreshFamily('grep subgroup');

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

  placeOf(member: number): { readonly subgroup: number; readonly position: number } | undefined {
    const state = this.members.get(member);
    return state && { subgroup: state.subgroup, position: state.position };
  }

  /** Membership as removal.ts shapes it, counting `suspicion` as colluder positions. */
  view(suspicion: readonly SuspicionEntry[]): MembershipView {
    return { subgroups: () => this.subgroups.values(), positionOf: (m) => this.placeOf(m), memberCount: this.members.size, suspicion };
  }

  youngestSubgroup(): SubgroupState | undefined {
    return [...this.subgroups.values()].at(-1);
  }

  // ---- changes shared by the operations ----

  /** A new youngest subgroup (§3) with never-used B/F tokens (random for a join, chained for a re-seed or batch join). */
  openSubgroup(ks: Uint8Array, tokens: { readonly backward: Uint8Array; readonly forward: Uint8Array }): SubgroupState {
    const subgroup: SubgroupState = {
      id: this.nextSubgroupId++,
      ks,
      backward: this.subgroupFamily.fresh(tokens.backward),
      forward: this.subgroupFamily.fresh(tokens.forward),
      members: [],
      positions: [],
      nextPosition: 1,
      nodeFamily: new RefreshFamily('grep node'),
    };
    this.subgroups.set(subgroup.id, subgroup);
    return subgroup;
  }

  /** Places a member last in `subgroup` with fresh beta/phi values (join §4, re-seed §7). */
  admit(subgroup: SubgroupState, member: Commissioning, backward: Uint8Array, forward: Uint8Array): void {
    const position = subgroup.nextPosition++;
    // back in the group: its old place is no longer one the operator could suspect
    this.departed.delete(member.id);
    this.members.set(member.id, {
      id: member.id,
      // the caller's buffer may be reused or be a view into a larger one; the KM keeps its own Ku
      nodeKey: member.nodeKey.slice(),
      subgroup: subgroup.id,
      position,
      backward: subgroup.nodeFamily.fresh(backward),
      forward: subgroup.nodeFamily.fresh(forward),
    });
    subgroup.members.push(member.id);
    subgroup.positions.push(position);
  }

  /** KG* replaces KG and every subgroup token is refreshed under it (§5 refresh, §7 periodic rekey). */
  installGroupKey(epoch: number, kg: Uint8Array): void {
    this.subgroupFamily.record(epoch, kg);
    this.kg = kg;
    this.epoch = epoch;
  }

  /** Forgets every member, subgroup, token and the suspicion record, under a fresh KG (re-seed, §7). */
  clear(kg: Uint8Array): void {
    this.subgroups.clear();
    this.members.clear();
    this.suspicion = [];
    this.departed.clear();
    this.subgroupFamily = new RefreshFamily('grep subgroup');
    this.kg = kg;
  }

  // ---- tokens ----

  nodeToken(subgroup: SubgroupState, owner: number, kind: TokenKind): Uint8Array {
    return subgroup.nodeFamily.read(this.crypto, this.members.get(owner)![kind], owner);
  }

  subgroupToken(subgroup: SubgroupState, kind: TokenKind): Uint8Array {
    return this.subgroupFamily.read(this.crypto, subgroup[kind], subgroup.id);
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
        [...this.subgroups.values()].flatMap((s) => [[s.backward, s.id], [s.forward, s.id]] as const),
      );
    }
    for (const subgroup of this.subgroups.values()) {
      if (subgroup.nodeFamily.pending === 0) continue;
      refreshes += subgroup.nodeFamily.settle(
        this.crypto,
        subgroup.members.flatMap((id) => {
          const m = this.members.get(id)!;
          return [[m.backward, id], [m.forward, id]] as const;
        }),
      );
    }
    return refreshes;
  }

  /** Refresh steps recorded but not yet applied to every token. */
  get pendingRefreshes(): number {
    let pending = this.subgroupFamily.pending;
    for (const subgroup of this.subgroups.values()) pending += subgroup.nodeFamily.pending;
    return pending;
  }

  /** What a member should hold (§2), used for J3/RESYNC and by the invariant checks. */
  memberState(member: number): MemberStatePayload {
    const state = this.members.get(member);
    if (!state) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
    const subgroup = this.subgroups.get(state.subgroup)!;
    const nodeBackward: TokenEntry[] = [];
    const nodeForward: TokenEntry[] = [];
    for (const other of subgroup.members) {
      if (other === member) continue;
      const older = this.members.get(other)!.position < state.position;
      const kind = older ? 'backward' : 'forward';
      (older ? nodeBackward : nodeForward).push({ owner: other, value: this.nodeToken(subgroup, other, kind) });
    }
    const subgroupBackward: TokenEntry[] = [];
    const subgroupForward: TokenEntry[] = [];
    for (const other of this.subgroups.values()) {
      if (other.id === subgroup.id) continue;
      const older = other.id < subgroup.id;
      (older ? subgroupBackward : subgroupForward).push({ owner: other.id, value: this.subgroupToken(other, older ? 'backward' : 'forward') });
    }
    return { kg: this.kg, ks: subgroup.ks, subgroup: subgroup.id, nodeBackward, nodeForward, subgroupBackward, subgroupForward };
  }

  // ---- messages ----

  /** Broadcasts carry the KM signature (§8): members share tokens and KG, so only it proves the sender. */
  encode(type: MessageType, epoch: number, subject: number, items: readonly ItemToSeal[], flags = 0, notice?: Notice, roster?: RosterPart): Uint8Array {
    const signingKey = LAYOUT[type].delivery === 'broadcast' ? this.signingKey : undefined;
    return encodeMessage(this.crypto, { type, groupId: this.groupId, epoch, subject, flags }, items, signingKey, notice, roster);
  }

  broadcast(type: MessageType, epoch: number, subject: number, items: readonly ItemToSeal[], audience: Audience, flags = 0, notice?: Notice, roster?: RosterPart): Outgoing {
    return { type, to: 'all', epoch, audience, bytes: this.encode(type, epoch, subject, items, flags, notice, roster) };
  }

  /** A member's whole state (memberState) under its Ku at the current epoch: J3 for a joiner, RESYNC otherwise. */
  unicastState(type: 'J3' | 'RESYNC', member: number): Outgoing {
    const state = this.members.get(member)!;
    const item: ItemToSeal = { slot: 0, owner: 0, key: state.nodeKey, plaintext: encodeMemberState(this.memberState(member)) };
    return { type, to: member, epoch: this.epoch, audience: oneMember(member), bytes: this.encode(type, this.epoch, member, [item]) };
  }
}
