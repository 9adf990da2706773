import type { Random } from './crypto.js';
import { GroupState, type KeyManagerConfig } from './groupState.js';
import * as batching from './batchJoin.js';
import * as joining from './join.js';
import * as maintenance from './maintenance.js';
import type { MemberStatePayload } from './payloads.js';
import type { Commissioning, Executed, Outgoing, Plan } from './plan.js';
import * as recovery from './recovery.js';
import { decodeGroupSnapshot, encodeGroupSnapshot } from './snapshot.js';
import type { SuspicionEntry } from './removal.js';

export { defaultSubgroupCap, type KeyManagerConfig } from './groupState.js';

/**
 * The Key Manager side of GREP (§2–§7). Operations are atomic: every check runs before the first
 * change, and randomness is drawn only after them, so bad input never changes state. State is
 * mutated in place rather than copied because a group of 10^6 members cannot be copied per rekey.
 *
 * This class is the entry point over GroupState (groupState.ts); the operations live in join.ts (§4),
 * recovery.ts (§5, §6, shaped by removal.ts) and maintenance.ts (§7).
 */
export class KeyManager {
  readonly groupId: number;
  readonly subgroupCap: number;
  readonly publicKey: Uint8Array;
  private readonly state: GroupState;

  constructor(config: KeyManagerConfig, random: Random, restored?: GroupState) {
    this.state = restored ?? new GroupState(config, random);
    this.groupId = this.state.groupId;
    this.subgroupCap = this.state.subgroupCap;
    this.publicKey = this.state.publicKey;
  }

  /** The whole state for the store (§11): sealed and committed with each operation. */
  snapshot(): Uint8Array {
    return encodeGroupSnapshot(this.state);
  }

  /** A KM from a snapshot; `config` supplies the signing key, which the snapshot does not carry. */
  static restore(config: KeyManagerConfig, snapshot: Uint8Array, random: Random): KeyManager {
    return new KeyManager(config, random, decodeGroupSnapshot(snapshot, config, random));
  }

  get epoch(): number {
    return this.state.epoch;
  }

  get size(): number {
    return this.state.members.size;
  }

  get suspicion(): readonly SuspicionEntry[] {
    return this.state.suspicion;
  }

  has(member: number): boolean {
    return this.state.members.has(member);
  }

  groupKey(): Uint8Array {
    return this.state.kg;
  }

  /** Subgroups in creation order with their members in join order. */
  *subgroups(): Iterable<{ readonly id: number; readonly members: readonly number[]; readonly positions: readonly number[] }> {
    for (const subgroup of this.state.subgroups.values()) yield subgroup;
  }

  placeOf(member: number): { readonly subgroup: number; readonly position: number } | undefined {
    return this.state.placeOf(member);
  }

  planJoin(member: number): Plan {
    return joining.planJoin(this.state, member);
  }

  /** The plans of joining `members` in this order, sized without running them (commissioning a list). */
  planJoins(members: readonly number[]): IterableIterator<Plan> {
    return joining.planJoins(this.state, members);
  }

  join(joiner: Commissioning, random: Random): Executed {
    return joining.join(this.state, joiner, random);
  }

  /** §4 batch join: one operation into new chained subgroups, or ordinary joins for a small batch. */
  planBatchJoin(members: readonly number[]): Plan[] {
    return batching.planBatchJoin(this.state, members);
  }

  batchJoin(joiners: readonly Commissioning[], random: Random): Executed[] {
    return batching.batchJoin(this.state, joiners, random);
  }

  /** `departed`: meters that left by a plain leave and are suspected now (§6). */
  planRemove(members: readonly number[], departed: readonly number[] = []): Plan {
    return recovery.planRemove(this.state, members, departed);
  }

  /**
   * One routine for leave, multiple leave and collusion recovery (§6). `suspected` puts the removed
   * members in the suspicion record (compromise, or flagged lost/stolen); a plain leave does not.
   * `departed` adds meters that left earlier by a plain leave and are suspected now.
   */
  remove(members: readonly number[], options: { readonly suspected: boolean; readonly departed?: readonly number[] }, random: Random): Executed {
    return recovery.remove(this.state, members, options.suspected, random, options.departed);
  }

  /** Puts departed meters in the suspicion record, with no message (§6); they count from the next remove(). */
  suspect(departed: readonly number[]): readonly SuspicionEntry[] {
    return recovery.suspect(this.state, departed);
  }

  /** Whether `member` left by a plain leave since the last re-seed, so that it can still be suspected. */
  hasDeparted(member: number): boolean {
    return this.state.departed.has(member);
  }

  planPeriodicRekey(): Plan {
    return maintenance.planPeriodicRekey(this.state);
  }

  periodicRekey(random: Random): Executed {
    return maintenance.periodicRekey(this.state, random);
  }

  planResync(member: number): Plan {
    return maintenance.planResync(this.state, member);
  }

  resync(member: number): Executed {
    return maintenance.resync(this.state, member);
  }

  planReseed(newcomers: readonly Commissioning[]): Plan {
    return maintenance.planReseed(this.state, newcomers);
  }

  /** Fresh everything for everyone and an empty suspicion record (§7); members then need reseedMessages(). */
  reseed(newcomers: readonly Commissioning[], random: Random): Executed {
    return maintenance.reseed(this.state, newcomers, random);
  }

  reseedMessages(): Iterable<Outgoing> {
    return maintenance.reseedMessages(this.state);
  }

  /** Brings every lazily refreshed token up to date (§5 refresh); returns the refreshes computed. */
  settle(): number {
    return this.state.settle();
  }

  get pendingRefreshes(): number {
    return this.state.pendingRefreshes;
  }

  memberState(member: number): MemberStatePayload {
    return this.state.memberState(member);
  }
}
