import { checkKey, checkSigningPublicKey, type GrepCrypto, KEY_BYTES, type Random, SIGNING_KEY_BYTES } from '../crypto.js';
import { fail, GrepError } from '../errors.js';
import type { KeyManagerConfig } from '../keyManager.js';
import type { MemberIdentity, MemberOutcome } from '../member.js';
import { splitKeys } from '../payloads.js';
import { type Commissioning, everyMember, oneMember, type Outgoing } from '../plan.js';
import { checkU32, decodeMessage, encodeMessage, type Item, type ItemToSeal, isBroadcast, type Message, type MessageType, messageSize, openItem } from '../wire.js';

/**
 * What both baselines share with GREP's codec: the KM's signing identity, plan accounting, the member's
 * screening of messages in member.ts's order; so basic.ts and lkh.ts differ only in their rekeying
 * rule and the benchmark compares like with like.
 */

export type BaselineConfig = Omit<KeyManagerConfig, 'subgroupCap'>;

/** The same refusals as GREP's remove(): nothing is drawn or changed for a bad set. */
export function checkRemoval(members: readonly number[], isMember: (member: number) => boolean, size: number): void {
  if (members.length === 0) fail('EMPTY_SET', 'remove() needs at least one member');
  for (const member of members) checkU32(member, 'meter id');
  if (new Set(members).size !== members.length) fail('BAD_ARGUMENT', 'a member is named twice');
  for (const member of members) if (!isMember(member)) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
  if (members.length === size) fail('GROUP_WOULD_BE_EMPTY', 'removing every member would leave no group; re-initialise instead');
}

/** A copy with room for `length` entries: both KMs keep 10^6 members in flat typed arrays, not per-member objects. */
export function grown<T extends Uint8Array | Uint32Array>(array: T, length: number): T {
  const larger = (array instanceof Uint32Array ? new Uint32Array(length) : new Uint8Array(length)) as T;
  larger.set(array);
  return larger;
}

/** The KM identity both baselines share with GREP: group id, Ed25519 key signing every broadcast (§8), epoch. */
export abstract class BaselineKeyManager {
  readonly groupId: number;
  readonly publicKey: Uint8Array;
  protected readonly crypto: GrepCrypto;
  private readonly signingKey: Uint8Array;
  protected epochValue = 0;

  constructor(config: BaselineConfig) {
    checkU32(config.groupId, 'group id');
    this.groupId = config.groupId;
    this.crypto = config.crypto;
    this.signingKey = checkKey(config.signingKey, 'KM signing key', SIGNING_KEY_BYTES);
    this.publicKey = config.crypto.publicKey(config.signingKey);
  }

  get epoch(): number {
    return this.epochValue;
  }

  abstract get size(): number;
  abstract has(member: number): boolean;

  protected checkJoiner(member: number): void {
    checkU32(member, 'meter id');
    if (this.has(member)) fail('DUPLICATE_MEMBER', `meter ${member} is already a member`);
  }

  /** bootstrap() stands for the commissioning of a whole group, so it only starts a group, never replaces one. */
  protected checkRoster(members: readonly Commissioning[]): void {
    if (this.size > 0) fail('BAD_ARGUMENT', 'bootstrap builds a new group; this one already has members');
    if (members.length === 0) fail('EMPTY_SET', 'a group needs at least one member');
    const seen = new Set<number>();
    for (const member of members) {
      checkU32(member.id, 'meter id');
      checkKey(member.nodeKey, `node key of meter ${member.id}`);
      if (seen.has(member.id)) fail('DUPLICATE_MEMBER', `meter ${member.id} is named twice`);
      seen.add(member.id);
    }
  }

  /** A unicast goes to its subject, the member whose Ku seals it; a broadcast is for every member (the baselines have no subgroups). */
  protected encode(type: MessageType, epoch: number, subject: number, items: readonly ItemToSeal[]): Outgoing {
    const broadcast = isBroadcast(type);
    const header = { type, groupId: this.groupId, epoch, subject };
    const bytes = encodeMessage(this.crypto, header, items, broadcast ? this.signingKey : undefined);
    return broadcast ? { type, to: 'all', epoch, audience: everyMember, bytes } : { type, to: subject, epoch, audience: oneMember(subject), bytes };
  }
}

const rejected = (code: GrepError['code'], reason: string): MemberOutcome => ({ status: 'rejected', code, reason });

function rejectedBy(error: unknown): MemberOutcome {
  if (error instanceof GrepError) return rejected(error.code, error.message);
  throw error;
}

/**
 * The meter side both baselines share with member.ts: one unicast type carries a member's whole state
 * under Ku, one signed broadcast type carries rekeys. `receive` never throws on bad input; subclasses
 * compute the next keys as a new value (or throw a GrepError), so a failure halfway changes nothing.
 */
export abstract class BaselineMember<Keys extends { readonly epoch: number }> {
  readonly id: number;
  readonly groupId: number;
  protected readonly nodeKey: Uint8Array;
  private readonly kmPublicKey: Uint8Array;
  protected keys: Keys | undefined;
  protected abstract readonly stateType: MessageType;
  protected abstract readonly rekeyType: MessageType;

  constructor(identity: MemberIdentity, protected readonly crypto: GrepCrypto, keys: Keys | undefined) {
    this.id = identity.id;
    this.groupId = identity.groupId;
    this.nodeKey = checkKey(identity.nodeKey, 'node key').slice();
    this.kmPublicKey = checkSigningPublicKey(identity.kmPublicKey, 'KM public key').slice();
    this.keys = keys;
  }

  get epoch(): number {
    return this.keys?.epoch ?? 0;
  }

  get secrets(): Keys | undefined {
    return this.keys;
  }

  get ownNodeKey(): Uint8Array {
    return this.nodeKey;
  }

  abstract get groupKey(): Uint8Array | undefined;
  /** secrets stored, Ku included */
  abstract get secretCount(): number;

  receive(bytes: Uint8Array): MemberOutcome {
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      return rejectedBy(error);
    }
    const { header } = message;
    if (header.groupId !== this.groupId) return rejected('WRONG_GROUP', `message for group ${header.groupId}`);
    if (header.type === this.stateType) return this.receiveState(message);
    if (header.type !== this.rekeyType) return { status: 'ignored', reason: 'not-addressed' };
    if (!this.keys) return { status: 'ignored', reason: 'not-commissioned' };
    if (header.epoch <= this.keys.epoch) return { status: 'ignored', reason: 'stale' };
    if (!this.crypto.verify(this.kmPublicKey, message.signed, message.signature!)) {
      return rejected('BAD_SIGNATURE', `${header.type} is not signed by the Key Manager`);
    }
    if (header.epoch > this.keys.epoch + 1) return { status: 'gap', epoch: header.epoch };
    const keys = this.keys;
    return this.adopt(() => this.rekey(message, keys));
  }

  /**
   * The state unicast is the member's whole state, so like J3 it is taken at any newer epoch: a
   * member that missed rekeys is repaired by it instead of reporting a gap. Only Ku authenticates it.
   */
  private receiveState(message: Message): MemberOutcome {
    const { header } = message;
    if (header.subject !== this.id) return { status: 'ignored', reason: 'not-addressed' };
    if (this.keys && header.epoch <= this.keys.epoch) return { status: 'ignored', reason: 'stale' };
    const plaintext = openItem(this.crypto, message, message.items[0]!, this.nodeKey);
    if (!plaintext) return rejected('DECRYPT_FAILED', `${header.type} does not open with this meter's node key`);
    return this.adopt(() => this.parseState(header.epoch, plaintext));
  }

  private adopt(next: () => Keys | 'not-addressed'): MemberOutcome {
    let keys: Keys | 'not-addressed';
    try {
      keys = next();
    } catch (error) {
      return rejectedBy(error);
    }
    if (keys === 'not-addressed') return { status: 'ignored', reason: 'not-addressed' };
    this.keys = keys;
    return { status: 'applied', epoch: keys.epoch };
  }

  /** One wrapped key: every item of both baselines carries exactly one 16-byte key. */
  protected unwrap(message: Message, item: Item, key: Uint8Array): Uint8Array {
    const plaintext = openItem(this.crypto, message, item, key);
    if (!plaintext) fail('DECRYPT_FAILED', `${message.header.type} item does not open with this meter's key`);
    return splitKeys(plaintext, 1)[0]!;
  }

  protected abstract parseState(epoch: number, plaintext: Uint8Array): Keys;
  protected abstract rekey(message: Message, keys: Keys): Keys | 'not-addressed';
}

