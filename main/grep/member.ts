import { checkKey, checkSigningPublicKey, type GrepCrypto, kgFingerprint } from './crypto.js';
import { fail, GrepError, type GrepErrorCode } from './errors.js';
import { chainStep } from './chain.js';
import { decodeBundle, decodeMemberState, decodeSeed, type MemberStatePayload, type SeedPayload, splitKeys } from './payloads.js';
import { expandSeed } from './seeding.js';
import { refreshToken } from './tokens.js';
import { decodeMessage, Flag, type Item, isBroadcast, type Message, openItem, type RosterPart } from './wire.js';

export interface MemberIdentity {
  readonly id: number;
  readonly groupId: number;
  /** Ku, shared with the KM from commissioning */
  readonly nodeKey: Uint8Array;
  /** the KM's Ed25519 public key, from commissioning (§8) */
  readonly kmPublicKey: Uint8Array;
}

export type MemberOutcome =
  | { readonly status: 'applied'; readonly epoch: number }
  /** not for this member, or an epoch it already has: members drop these silently (§8 replay rule) */
  | { readonly status: 'ignored'; readonly reason: 'not-addressed' | 'stale' | 'not-commissioned' }
  /** authentic but more than one epoch ahead: the member needs the missed messages or a resync (§7) */
  | { readonly status: 'gap'; readonly epoch: number }
  /** one piece of a re-seed or batch join (SEED, ROSTER, BUNDLE) kept until the rest arrives */
  | { readonly status: 'held'; readonly epoch: number }
  | { readonly status: 'rejected'; readonly code: GrepErrorCode; readonly reason: string };

/** What a meter acknowledges: (member id, epoch, KG fingerprint) (§7). */
export interface MemberReport {
  readonly member: number;
  readonly epoch: number;
  readonly fingerprint: Uint8Array | undefined;
}

/** Exactly the secrets of §2 for one member. Maps are keyed by the token's owner (member or subgroup id). */
export interface MemberKeys {
  readonly epoch: number;
  readonly kg: Uint8Array;
  readonly ks: Uint8Array;
  readonly subgroup: number;
  /** beta of every older member of the subgroup */
  readonly nodeBackward: ReadonlyMap<number, Uint8Array>;
  /** phi of every younger member of the subgroup */
  readonly nodeForward: ReadonlyMap<number, Uint8Array>;
  /** B of every older subgroup */
  readonly subgroupBackward: ReadonlyMap<number, Uint8Array>;
  /** F of every younger subgroup */
  readonly subgroupForward: ReadonlyMap<number, Uint8Array>;
}

interface Rekey {
  readonly ks?: Uint8Array;
  readonly kg: Uint8Array;
  readonly removedMembers?: readonly number[];
  readonly deletedSubgroups?: readonly number[];
  readonly newNodeToken?: { readonly owner: number; readonly value: Uint8Array };
  readonly newSubgroupTokens?: readonly { readonly owner: number; readonly value: Uint8Array }[];
  /** §5/§6: node tokens are refreshed after a removal from this subgroup, never after a join */
  readonly refreshNode: boolean;
  readonly refreshSubgroup: boolean;
}

const rejected = (code: GrepErrorCode, reason: string): MemberOutcome => ({ status: 'rejected', code, reason });

/** The pieces of one re-seed or batch join received so far (§7, §4), for the newest such epoch only. */
interface Pending {
  readonly epoch: number;
  seed: SeedPayload | undefined;
  /** ROSTER parts by their first subgroup */
  readonly rosters: Map<number, RosterPart>;
  bundle: Message | undefined;
}

/** The meter side of GREP. `receive` never throws on bad input and changes nothing unless it applies. */
export class Member {
  readonly id: number;
  readonly groupId: number;
  private readonly nodeKey: Uint8Array;
  private readonly kmPublicKey: Uint8Array;
  private keys: MemberKeys | undefined;
  private pending: Pending | undefined;

  constructor(identity: MemberIdentity, private readonly crypto: GrepCrypto) {
    this.id = identity.id;
    this.groupId = identity.groupId;
    this.nodeKey = checkKey(identity.nodeKey, 'node key').slice();
    this.kmPublicKey = checkSigningPublicKey(identity.kmPublicKey, 'KM public key').slice();
  }

  get epoch(): number {
    return this.keys?.epoch ?? 0;
  }

  /** The current secrets, for the simulator's DC view and for the invariant and adversary checks. */
  get secrets(): MemberKeys | undefined {
    return this.keys;
  }

  get ownNodeKey(): Uint8Array {
    return this.nodeKey;
  }

  report(): MemberReport {
    return { member: this.id, epoch: this.epoch, fingerprint: this.keys && kgFingerprint(this.crypto, this.keys.kg) };
  }

  receive(bytes: Uint8Array): MemberOutcome {
    // Decoders throw GrepError on bad input; every state change comes after the last of them.
    try {
      return this.process(decodeMessage(bytes));
    } catch (error) {
      if (error instanceof GrepError) return rejected(error.code, error.message);
      throw error;
    }
  }

  private process(message: Message): MemberOutcome {
    const { header } = message;
    if (header.groupId !== this.groupId) return rejected('WRONG_GROUP', `message for group ${header.groupId}`);
    if (header.type === 'J3' || header.type === 'RESYNC') return this.receiveState(message);
    if (header.type === 'SEED' || header.type === 'ROSTER' || header.type === 'BUNDLE') return this.receiveSeeding(message);
    if (!this.keys) return { status: 'ignored', reason: 'not-commissioned' };
    if (header.epoch <= this.keys.epoch) return { status: 'ignored', reason: 'stale' };
    if (header.type === 'B' && header.subject !== this.id) return { status: 'ignored', reason: 'not-addressed' };
    if (isBroadcast(header.type) && !this.crypto.verify(this.kmPublicKey, message.signed, message.signature!)) {
      return rejected('BAD_SIGNATURE', `${header.type} is not signed by the Key Manager`);
    }
    if (header.epoch > this.keys.epoch + 1) {
      // A unicast has no signature: only its AEAD under Ku proves it came from the KM.
      if (!isBroadcast(header.type) && !openItem(this.crypto, message, message.items[0]!, this.nodeKey)) {
        return rejected('DECRYPT_FAILED', `${header.type} does not open with this meter's node key`);
      }
      return { status: 'gap', epoch: header.epoch };
    }
    const target = this.addressedItem(message, this.keys);
    if (target === 'not-addressed') return { status: 'ignored', reason: 'not-addressed' };
    if (target === undefined) return rejected('MALFORMED', `${header.type} has no item for meter ${this.id}`);
    const plaintext = openItem(this.crypto, message, target.item, target.key);
    if (!plaintext) return rejected('DECRYPT_FAILED', `${header.type} item does not open with this meter's key`);
    this.keys = this.applyRekey(this.keys, header.epoch, this.parseRekey(message, plaintext));
    return { status: 'applied', epoch: header.epoch };
  }

  private receiveState(message: Message): MemberOutcome {
    const { header } = message;
    if (header.subject !== this.id) return { status: 'ignored', reason: 'not-addressed' };
    if (this.keys && (header.epoch < this.keys.epoch || (header.type === 'J3' && header.epoch === this.keys.epoch))) {
      return { status: 'ignored', reason: 'stale' };
    }
    const plaintext = openItem(this.crypto, message, message.items[0]!, this.nodeKey);
    if (!plaintext) return rejected('DECRYPT_FAILED', `${header.type} does not open with this meter's node key`);
    const state = decodeMemberState(plaintext);
    const toMap = (entries: MemberStatePayload['nodeBackward']) => new Map(entries.map((e) => [e.owner, e.value] as const));
    if (this.pending && this.pending.epoch <= header.epoch) this.pending = undefined;
    this.keys = {
      epoch: header.epoch,
      kg: state.kg,
      ks: state.ks,
      subgroup: state.subgroup,
      nodeBackward: toMap(state.nodeBackward),
      nodeForward: toMap(state.nodeForward),
      subgroupBackward: toMap(state.subgroupBackward),
      subgroupForward: toMap(state.subgroupForward),
    };
    return { status: 'applied', epoch: header.epoch };
  }

  /**
   * A re-seed (ROSTER + SEED) or a batch join (BUNDLE + SEED) arrives in pieces, in any order: each
   * authentic piece is kept, and the member switches to the new epoch only once its SEED and the part
   * that lists its subgroup are both in. Until then it keeps the keys it has.
   */
  private receiveSeeding(message: Message): MemberOutcome {
    const { header } = message;
    if (this.keys && header.epoch <= this.keys.epoch) return { status: 'ignored', reason: 'stale' };
    let seed: SeedPayload | undefined;
    if (header.type === 'SEED') {
      if (header.subject !== this.id) return { status: 'ignored', reason: 'not-addressed' };
      const plaintext = openItem(this.crypto, message, message.items[0]!, this.nodeKey);
      if (!plaintext) return rejected('DECRYPT_FAILED', `SEED does not open with this meter's node key`);
      seed = decodeSeed(plaintext);
    } else if (!this.crypto.verify(this.kmPublicKey, message.signed, message.signature!)) {
      return rejected('BAD_SIGNATURE', `${header.type} is not signed by the Key Manager`);
    }
    if (this.pending && this.pending.epoch > header.epoch) return { status: 'ignored', reason: 'stale' };
    if (!this.pending || this.pending.epoch < header.epoch) this.pending = { epoch: header.epoch, seed: undefined, rosters: new Map(), bundle: undefined };
    const pending = this.pending;
    if (seed) pending.seed = seed;
    else if (header.type === 'ROSTER') pending.rosters.set(header.subject, message.roster!);
    else pending.bundle = message;
    return this.completeSeeding(pending);
  }

  private completeSeeding(pending: Pending): MemberOutcome {
    const { seed, epoch } = pending;
    if (!seed) return { status: 'held', epoch };
    let keys: MemberKeys;
    if (seed.kb) {
      const bundle = pending.bundle;
      if (!bundle) return { status: 'held', epoch };
      const opened = openItem(this.crypto, bundle, bundle.items[0]!, seed.kb);
      if (!opened) return rejected('DECRYPT_FAILED', 'BUNDLE does not open with the batch key of this meter\'s SEED');
      keys = expandSeed(this.crypto, this.id, epoch, seed, { first: bundle.header.subject, part: bundle.roster! }, decodeBundle(opened));
    } else {
      const part = [...pending.rosters].find(([first, roster]) => seed.subgroup >= first && seed.subgroup < first + roster.subgroups.length);
      if (!part) return { status: 'held', epoch };
      keys = expandSeed(this.crypto, this.id, epoch, seed, { first: part[0], part: part[1] });
    }
    this.keys = keys;
    this.pending = undefined;
    return { status: 'applied', epoch };
  }

  /**
   * Which item of a broadcast (or B) is for this member and under which of its keys, decided from the
   * tokens it holds: a member holds phi_h exactly when it is older than h in h's subgroup, and so on (§2).
   */
  private addressedItem(message: Message, keys: MemberKeys): { item: Item; key: Uint8Array } | 'not-addressed' | undefined {
    const { header, items } = message;
    const slot = (index: 0 | 1) => items.find((item) => item.slot === index);
    const pick = (index: 0 | 1, key: Uint8Array | undefined) => {
      const item = slot(index);
      return item && key ? { item, key } : undefined;
    };
    const tokenSide = (
      older: ReadonlyMap<number, Uint8Array>,
      younger: ReadonlyMap<number, Uint8Array>,
      olderOwner: number | undefined,
      youngerOwner: number | undefined,
    ) => {
      if (olderOwner !== undefined && older.has(olderOwner)) return pick(0, older.get(olderOwner));
      if (youngerOwner !== undefined && younger.has(youngerOwner)) return pick(1, younger.get(youngerOwner));
      return 'not-addressed' as const;
    };
    switch (header.type) {
      case 'J1':
        return items[0]!.owner === keys.subgroup ? pick(0, keys.ks) : 'not-addressed';
      case 'J2':
        return items[0]!.owner !== keys.subgroup ? pick(0, keys.kg) : 'not-addressed';
      case 'M1':
        return tokenSide(keys.nodeForward, keys.nodeBackward, header.subject, header.subject);
      case 'M2':
        if (header.subject === keys.subgroup) return 'not-addressed';
        return tokenSide(keys.subgroupForward, keys.subgroupBackward, header.subject, header.subject);
      case 'A':
        if (header.subject !== keys.subgroup) return 'not-addressed';
        return tokenSide(keys.nodeForward, keys.nodeBackward, slot(0)?.owner, slot(1)?.owner);
      case 'B':
        return pick(0, this.nodeKey);
      case 'C':
        return tokenSide(keys.subgroupForward, keys.subgroupBackward, slot(0)?.owner, slot(1)?.owner);
      case 'D':
        return header.subject === keys.subgroup ? pick(0, keys.ks) : 'not-addressed';
      case 'PERIODIC':
        return pick(0, keys.kg);
      default:
        return 'not-addressed';
    }
  }

  private parseRekey(message: Message, plaintext: Uint8Array): Rekey {
    const { header, notice } = message;
    const removal = { removedMembers: notice?.removedMembers ?? [], deletedSubgroups: notice?.deletedSubgroups ?? [] };
    switch (header.type) {
      case 'J1': {
        const [ks, kg, phi] = splitKeys(plaintext, 3);
        return { ks, kg: kg!, newNodeToken: { owner: header.subject, value: phi! }, refreshNode: false, refreshSubgroup: false };
      }
      case 'J2': {
        if (header.flags & Flag.SUBGROUP_NEW) {
          const [kg, forward] = splitKeys(plaintext, 2);
          const first = message.items[0]!.owner;
          // a batch join's new subgroups N_1..N_q: F_{N_1} hashes up to the others (§4)
          const last = header.flags & Flag.SUBGROUP_CHAIN ? header.subject : first;
          if (last < first || last - first > 0xffff) fail('MALFORMED', `J2 opens subgroups ${first} to ${last}`);
          const tokens = [{ owner: first, value: forward! }];
          for (let owner = first + 1; owner <= last; owner++) tokens.push({ owner, value: chainStep(this.crypto, 'subgroup forward', owner, header.epoch, tokens.at(-1)!.value) });
          return { kg: kg!, newSubgroupTokens: tokens, refreshNode: false, refreshSubgroup: false };
        }
        return { kg: splitKeys(plaintext, 1)[0]!, refreshNode: false, refreshSubgroup: false };
      }
      case 'M1': {
        const [ks, kg] = splitKeys(plaintext, 2);
        return { ks, kg: kg!, removedMembers: [header.subject], refreshNode: true, refreshSubgroup: true };
      }
      case 'M2': {
        const deleted = header.flags & Flag.SUBGROUP_DELETED ? [header.subject] : [];
        return { kg: splitKeys(plaintext, 1)[0]!, deletedSubgroups: deleted, refreshNode: false, refreshSubgroup: true };
      }
      case 'A':
      case 'B': {
        const [ks, kg] = splitKeys(plaintext, 2);
        return { ks, kg: kg!, ...removal, refreshNode: true, refreshSubgroup: true };
      }
      case 'C':
      case 'D':
        return { kg: splitKeys(plaintext, 1)[0]!, deletedSubgroups: removal.deletedSubgroups, refreshNode: false, refreshSubgroup: true };
      default:
        return { kg: splitKeys(plaintext, 1)[0]!, refreshNode: false, refreshSubgroup: true };
    }
  }

  private applyRekey(keys: MemberKeys, epoch: number, rekey: Rekey): MemberKeys {
    const ks = rekey.ks ?? keys.ks;
    const drop = (map: ReadonlyMap<number, Uint8Array>, owners: readonly number[] = []) => {
      const next = new Map(map);
      for (const owner of owners) next.delete(owner);
      return next;
    };
    const refresh = (map: Map<number, Uint8Array>, key: Uint8Array, label: 'grep node' | 'grep subgroup') => {
      for (const [owner, value] of map) map.set(owner, refreshToken(this.crypto, key, label, owner, epoch, value));
    };
    const nodeBackward = drop(keys.nodeBackward, rekey.removedMembers);
    const nodeForward = drop(keys.nodeForward, rekey.removedMembers);
    const subgroupBackward = drop(keys.subgroupBackward, rekey.deletedSubgroups);
    const subgroupForward = drop(keys.subgroupForward, rekey.deletedSubgroups);
    if (rekey.refreshNode) {
      refresh(nodeBackward, ks, 'grep node');
      refresh(nodeForward, ks, 'grep node');
    }
    if (rekey.refreshSubgroup) {
      refresh(subgroupBackward, rekey.kg, 'grep subgroup');
      refresh(subgroupForward, rekey.kg, 'grep subgroup');
    }
    if (rekey.newNodeToken) nodeForward.set(rekey.newNodeToken.owner, rekey.newNodeToken.value);
    for (const token of rekey.newSubgroupTokens ?? []) subgroupForward.set(token.owner, token.value);
    return { epoch, kg: rekey.kg, ks, subgroup: keys.subgroup, nodeBackward, nodeForward, subgroupBackward, subgroupForward };
  }
}
