import { checkKey, type GrepCrypto, KEY_BYTES, type Random } from '../crypto.js';
import { fail } from '../errors.js';
import { type Commissioning, type Executed, type Outgoing, type Plan, type PlannedMessage, summarisePlan } from '../plan.js';
import type { MemberIdentity } from '../member.js';
import { splitKeys } from '../payloads.js';
import { type Message, messageSize } from '../wire.js';
import { type BaselineConfig, BaselineKeyManager, BaselineMember, checkRemoval, grown } from './shared.js';

/**
 * The basic scheme, first baseline of the benchmark (GREP.md, sources): the KM shares nothing with a
 * member but Ku, so a rekey that must exclude someone costs one BASIC unicast E(Ku; KG*) per remaining
 * member. A join needs no exclusion: the joiner gets BASIC under its Kz and everyone else one PERIODIC
 * broadcast E(KG_old; KG*), which is exactly what PERIODIC means in GREP.
 */

/** Secrets a member of the basic scheme stores: Ku and KG, whatever n is. */
export const BASIC_MEMBER_SECRETS = 2;

export interface BasicMemberKeys {
  readonly epoch: number;
  readonly kg: Uint8Array;
}

export class BasicKeyManager extends BaselineKeyManager {
  private kg: Uint8Array;
  /** Ku of the member in slot i at [16i, 16i+16) and its id in ids[i]: 10^6 members in 20 MB, no per-member objects */
  private nodeKeys = new Uint8Array(0);
  private ids = new Uint32Array(0);
  private readonly slotOf = new Map<number, number>();

  constructor(config: BaselineConfig, random: Random) {
    super(config);
    this.kg = random(KEY_BYTES);
  }

  get size(): number {
    return this.slotOf.size;
  }

  has(member: number): boolean {
    return this.slotOf.has(member);
  }

  groupKey(): Uint8Array {
    return this.kg;
  }

  /** A group of n members at once, as if each had received BASIC: no message is encoded. */
  bootstrap(members: readonly Commissioning[], random: Random): void {
    this.checkRoster(members);
    this.reserve(members.length);
    members.forEach((member, slot) => this.place(member, slot));
    this.kg = random(KEY_BYTES);
    this.epochValue += 1;
  }

  memberState(member: number): BasicMemberKeys {
    this.slot(member);
    return { epoch: this.epochValue, kg: this.kg.slice() };
  }

  memberSecretCount(member: number): number {
    this.slot(member);
    return BASIC_MEMBER_SECRETS;
  }

  planJoin(member: number): Plan {
    this.checkJoiner(member);
    const messages: PlannedMessage[] = [];
    if (this.size > 0) messages.push({ type: 'PERIODIC', to: 'all', bytes: messageSize('PERIODIC', [KEY_BYTES]), audience: this.size });
    messages.push({ type: 'BASIC', to: member, bytes: messageSize('BASIC', [KEY_BYTES]), audience: 1 });
    return summarisePlan('join', this.epochValue, messages);
  }

  join(joiner: Commissioning, random: Random): Executed {
    const plan = this.planJoin(joiner.id);
    checkKey(joiner.nodeKey, `node key of meter ${joiner.id}`);
    const epoch = this.epochValue + 1;
    const kg = random(KEY_BYTES);
    const messages: Outgoing[] = [];
    if (this.size > 0) messages.push(this.encode('PERIODIC', epoch, joiner.id, [{ slot: 0, owner: 0, key: this.kg, plaintext: kg }]));
    messages.push(this.encode('BASIC', epoch, joiner.id, [{ slot: 0, owner: 0, key: joiner.nodeKey, plaintext: kg }]));
    this.reserve(this.size + 1);
    this.place(joiner, this.size);
    this.kg = kg;
    this.epochValue = epoch;
    return { plan, epoch, messages };
  }

  planRemove(members: readonly number[]): Plan {
    checkRemoval(members, (member) => this.has(member), this.size);
    const leaving = new Set(members);
    const bytes = messageSize('BASIC', [KEY_BYTES]);
    const messages: PlannedMessage[] = [];
    for (let slot = 0; slot < this.size; slot++) {
      const member = this.ids[slot]!;
      if (!leaving.has(member)) messages.push({ type: 'BASIC', to: member, bytes, audience: 1 });
    }
    return summarisePlan(members.length === 1 ? 'leave' : 'recover', this.epochValue, messages);
  }

  /** Every remaining member gets KG* under its own Ku; nothing the removed members hold opens any of it. */
  remove(members: readonly number[], random: Random): Executed {
    const plan = this.planRemove(members);
    const epoch = this.epochValue + 1;
    const kg = random(KEY_BYTES);
    const messages = plan.messages.map((planned) => {
      const key = this.nodeKeyOf(this.slotOf.get(planned.to as number)!);
      return this.encode('BASIC', epoch, planned.to as number, [{ slot: 0, owner: 0, key, plaintext: kg }]);
    });
    for (const member of members) this.drop(member);
    this.kg = kg;
    this.epochValue = epoch;
    return { plan, epoch, messages };
  }

  private slot(member: number): number {
    const slot = this.slotOf.get(member);
    if (slot === undefined) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
    return slot;
  }

  private nodeKeyOf(slot: number): Uint8Array {
    return this.nodeKeys.subarray(slot * KEY_BYTES, (slot + 1) * KEY_BYTES);
  }

  private reserve(count: number): void {
    if (this.ids.length >= count) return;
    const capacity = Math.max(count, 2 * this.ids.length);
    this.ids = grown(this.ids, capacity);
    this.nodeKeys = grown(this.nodeKeys, capacity * KEY_BYTES);
  }

  private place(member: Commissioning, slot: number): void {
    this.ids[slot] = member.id;
    this.nodeKeys.set(member.nodeKey, slot * KEY_BYTES);
    this.slotOf.set(member.id, slot);
  }

  /** The last slot fills the hole, so the slots stay dense; the departed Ku is wiped. */
  private drop(member: number): void {
    const slot = this.slot(member);
    const last = this.size - 1;
    if (slot !== last) {
      const moved = this.ids[last]!;
      this.ids[slot] = moved;
      this.nodeKeys.copyWithin(slot * KEY_BYTES, last * KEY_BYTES, (last + 1) * KEY_BYTES);
      this.slotOf.set(moved, slot);
    }
    this.nodeKeys.fill(0, last * KEY_BYTES, (last + 1) * KEY_BYTES);
    this.slotOf.delete(member);
  }
}

/** A meter of the basic scheme: Ku and KG. BASIC (under Ku) sets KG, PERIODIC (under KG, signed) replaces it. */
export class BasicMember extends BaselineMember<BasicMemberKeys> {
  protected readonly stateType = 'BASIC';
  protected readonly rekeyType = 'PERIODIC';

  constructor(identity: MemberIdentity, crypto: GrepCrypto, state?: BasicMemberKeys) {
    super(identity, crypto, state && { epoch: state.epoch, kg: checkKey(state.kg, 'KG').slice() });
  }

  get groupKey(): Uint8Array | undefined {
    return this.keys?.kg;
  }

  get secretCount(): number {
    return this.keys ? BASIC_MEMBER_SECRETS : 1;
  }

  protected parseState(epoch: number, plaintext: Uint8Array): BasicMemberKeys {
    return { epoch, kg: splitKeys(plaintext, 1)[0]! };
  }

  protected rekey(message: Message, keys: BasicMemberKeys): BasicMemberKeys {
    return { epoch: message.header.epoch, kg: this.unwrap(message, message.items[0]!, keys.kg) };
  }
}
