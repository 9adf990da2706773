import { ByteReader, ByteWriter } from '../bytes.js';
import { checkKey, type GrepCrypto, KEY_BYTES, type Random } from '../crypto.js';
import { fail } from '../errors.js';
import { type Commissioning, type Executed, type Outgoing, type Plan, type PlannedMessage, summarisePlan } from '../plan.js';
import type { MemberIdentity } from '../member.js';
import { type Item, type ItemToSeal, MAX_ITEMS, MAX_MESSAGE_BYTES, type Message, messageSize } from '../wire.js';
import { type BaselineConfig, BaselineKeyManager, BaselineMember, checkRemoval, grown } from './shared.js';

/**
 * LKH, the second baseline (Wong, Gouda, Lam, "Secure group communications using key graphs";
 * RFC 2627): a binary key tree, group-oriented rekeying, one LKH broadcast per operation.
 *
 * Node ids are heap numbers: the root is 1 and holds KG, the children of k are 2k and 2k+1. With m
 * leaf slots the tree is nodes 1..2m-1 and the slots are m..2m-1, so leaf depths differ by at most
 * one. A member's leaf key is its Ku. A join takes the shallowest vacant slot; when none is vacant
 * it splits slot m (the shallowest leaf): its member moves to 2m, the joiner takes 2m+1, m grows by
 * one. A removal only vacates slots, so members never move on a removal; a group that shrinks keeps
 * its depth until joins refill it (rebalancing would be a full re-initialisation).
 *
 * An LKH item is sealed under the key of its owner node. Join (header subject = the joiner's leaf):
 * the item of node k carries the new key of k under its old key, so every holder updates in place.
 * Removal (header subject = 0, never a node): the item of node c carries the new key of c's parent,
 * under c's new key if c was rekeyed too, else its current one; a member opens its items bottom-up.
 */

export const REMOVAL_SUBJECT = 0;
/** the item count is a u16 on the wire */
const MAX_LKH_ITEMS = MAX_ITEMS;

export function depthOf(node: number): number {
  return 31 - Math.clz32(node);
}

/** From the parent of `node` up to the root. */
export function ancestorsOf(node: number): number[] {
  const ancestors: number[] = [];
  for (let ancestor = node >>> 1; ancestor >= 1; ancestor >>>= 1) ancestors.push(ancestor);
  return ancestors;
}

function isAncestor(node: number, of: number): boolean {
  return node < of && of >>> (depthOf(of) - depthOf(node)) === node;
}

/** What a member needs besides Ku: its leaf and the keys of its ancestors, parent first, KG last. */
export interface LkhState {
  readonly leaf: number;
  readonly path: readonly Uint8Array[];
}

export interface LkhMemberKeys extends LkhState {
  readonly epoch: number;
}

export function lkhStateSize(leaf: number): number {
  return 4 + depthOf(leaf) * KEY_BYTES;
}

/** LKH_STATE payload: leaf (4) ‖ one key per ancestor; the leaf fixes the count, so no count is sent. */
export function encodeLkhState(state: LkhState): Uint8Array {
  if (state.path.length !== depthOf(state.leaf)) throw new Error(`leaf ${state.leaf} has ${depthOf(state.leaf)} ancestors`);
  const writer = new ByteWriter(lkhStateSize(state.leaf)).u32(state.leaf);
  for (const key of state.path) writer.raw(key);
  return writer.done();
}

export function decodeLkhState(bytes: Uint8Array): LkhState {
  const reader = new ByteReader(bytes);
  const leaf = reader.u32('leaf');
  if (leaf < 2) fail('MALFORMED', `node ${leaf} cannot be a leaf: the root holds KG`);
  const path = ancestorsOf(leaf).map((node) => reader.raw(KEY_BYTES, `key of node ${node}`));
  reader.end('LKH state');
  return { leaf, path };
}

function checkState(state: LkhMemberKeys): LkhMemberKeys {
  if (!Number.isInteger(state.leaf) || state.leaf < 2 || state.path.length !== depthOf(state.leaf)) {
    fail('BAD_ARGUMENT', `leaf ${state.leaf} does not match ${state.path.length} path keys`);
  }
  return { epoch: state.epoch, leaf: state.leaf, path: state.path.map((key) => checkKey(key, 'path key').slice()) };
}

/** Which nodes a removal rekeys (children before parents) and under which surviving children. */
interface RemovalShape {
  readonly vacated: readonly number[];
  readonly rekeyed: readonly { readonly node: number; readonly under: readonly number[] }[];
  readonly emptied: readonly number[];
  readonly items: number;
}

export class LkhKeyManager extends BaselineKeyManager {
  private slots = 2;
  /** key of node k at [16k, 16k+16); present[k] = 1 while some member sits at or below k */
  private nodeKeys = new Uint8Array(0);
  private present = new Uint8Array(0);
  /** member id at each occupied leaf */
  private occupant = new Uint32Array(0);
  private readonly leaves = new Map<number, number>();
  /** vacant slots, largest first, so pop() yields the shallowest */
  private vacant: number[] = [3, 2];

  /** `random` draws a KG for the empty group, as KeyManager does; the first member gets a fresh one. */
  constructor(config: BaselineConfig, random: Random) {
    super(config);
    this.reserve(4);
    this.nodeKeys.set(random(KEY_BYTES), KEY_BYTES);
  }

  get size(): number {
    return this.leaves.size;
  }

  /** leaf slots m; the tree is nodes 1..2m-1 */
  get slotCount(): number {
    return this.slots;
  }

  has(member: number): boolean {
    return this.leaves.has(member);
  }

  groupKey(): Uint8Array {
    return this.keyAt(1);
  }

  leafOf(member: number): number {
    const leaf = this.leaves.get(member);
    if (leaf === undefined) fail('UNKNOWN_MEMBER', `meter ${member} is not a member of the group`);
    return leaf;
  }

  /** A complete tree of n members at once (slots m = max(2, n)), as if each had received LKH_STATE: no message is encoded. */
  bootstrap(members: readonly Commissioning[], random: Random): void {
    this.checkRoster(members);
    const slots = Math.max(2, members.length);
    this.reserve(2 * slots);
    this.slots = slots;
    this.nodeKeys.set(random((slots - 1) * KEY_BYTES), KEY_BYTES);
    this.present.fill(1, 1, slots);
    members.forEach((member, index) => this.occupy(slots + index, member.id, member.nodeKey));
    this.vacant = [];
    for (let leaf = 2 * slots - 1; leaf >= slots + members.length; leaf--) this.vacant.push(leaf);
    this.epochValue += 1;
  }

  memberState(member: number): LkhMemberKeys {
    const leaf = this.leafOf(member);
    return { epoch: this.epochValue, leaf, path: ancestorsOf(leaf).map((node) => this.keyAt(node)) };
  }

  /** Ku plus one key per ancestor, KG included. */
  memberSecretCount(member: number): number {
    return 1 + depthOf(this.leafOf(member));
  }

  // ---- join: backward secrecy, every key on the joiner's path is replaced ----

  private joinTarget(): { readonly leaf: number; readonly split: boolean } {
    const vacancy = this.vacant.at(-1);
    return vacancy === undefined ? { leaf: 2 * this.slots + 1, split: true } : { leaf: vacancy, split: false };
  }

  planJoin(member: number): Plan {
    this.checkJoiner(member);
    const { leaf } = this.joinTarget();
    // Only ancestors that have a key have holders to update; when splitting, slot m has one: the moved member's Ku.
    const held = ancestorsOf(leaf).filter((node) => this.present[node] === 1);
    const messages: PlannedMessage[] = [];
    if (held.length > 0) messages.push({ type: 'LKH', to: 'all', bytes: messageSize('LKH', held.map(() => KEY_BYTES)), audience: this.size });
    messages.push({ type: 'LKH_STATE', to: member, bytes: messageSize('LKH_STATE', [lkhStateSize(leaf)]), audience: 1 });
    return summarisePlan('join', this.epochValue, messages);
  }

  join(joiner: Commissioning, random: Random): Executed {
    const plan = this.planJoin(joiner.id);
    checkKey(joiner.nodeKey, `node key of meter ${joiner.id}`);
    const { leaf, split } = this.joinTarget();
    const path = ancestorsOf(leaf);
    const pool = random(path.length * KEY_BYTES);
    const fresh = path.map((_, index) => pool.slice(index * KEY_BYTES, (index + 1) * KEY_BYTES));
    const epoch = this.epochValue + 1;
    const items: ItemToSeal[] = [];
    path.forEach((node, index) => {
      if (this.present[node] === 1) items.push({ slot: items.length, owner: node, key: this.keyAt(node), plaintext: fresh[index]! });
    });
    const messages: Outgoing[] = items.length > 0 ? [this.encode('LKH', epoch, leaf, items)] : [];

    if (split) {
      this.reserve(2 * this.slots + 2);
      this.occupy(2 * this.slots, this.occupant[this.slots]!, this.keyAt(this.slots));
      this.slots += 1;
    } else {
      this.vacant.pop();
    }
    this.occupy(leaf, joiner.id, joiner.nodeKey);
    path.forEach((node, index) => this.setKey(node, fresh[index]!));
    this.epochValue = epoch;
    const state = encodeLkhState(this.memberState(joiner.id));
    messages.push(this.encode('LKH_STATE', epoch, joiner.id, [{ slot: 0, owner: 0, key: joiner.nodeKey, plaintext: state }]));
    return { plan, epoch, messages };
  }

  // ---- removal: forward secrecy, every key on a removed member's path is replaced ----

  private shapeRemoval(members: readonly number[]): RemovalShape {
    checkRemoval(members, (member) => this.has(member), this.size);
    const vacated = members.map((member) => this.leaves.get(member)!);
    const gone = new Set(vacated);
    const touched = new Set<number>();
    for (const leaf of vacated) {
      for (let node = leaf >>> 1; node >= 1 && !touched.has(node); node >>>= 1) touched.add(node);
    }
    const stays = new Map<number, boolean>();
    const stillHeld = (node: number) => !gone.has(node) && (stays.get(node) ?? this.present[node] === 1);
    const rekeyed: { node: number; under: number[] }[] = [];
    const emptied: number[] = [];
    let items = 0;
    // Children have larger heap numbers than parents, so descending order settles every child first.
    for (const node of [...touched].sort((a, b) => b - a)) {
      const under = [2 * node, 2 * node + 1].filter(stillHeld);
      stays.set(node, under.length > 0);
      if (under.length === 0) emptied.push(node);
      else rekeyed.push({ node, under });
      items += under.length;
    }
    return { vacated, rekeyed, emptied, items };
  }

  planRemove(members: readonly number[]): Plan {
    const { items } = this.shapeRemoval(members);
    const bytes = messageSize('LKH', new Array<number>(items).fill(KEY_BYTES));
    if (items > MAX_LKH_ITEMS || bytes > MAX_MESSAGE_BYTES) {
      fail('OVERSIZED', `removing ${members.length} members needs ${items} wrapped keys (${bytes} bytes), more than one LKH broadcast holds`);
    }
    const message: PlannedMessage = { type: 'LKH', to: 'all', bytes, audience: this.size - members.length };
    return summarisePlan(members.length === 1 ? 'leave' : 'recover', this.epochValue, [message]);
  }

  remove(members: readonly number[], random: Random): Executed {
    const plan = this.planRemove(members);
    const shape = this.shapeRemoval(members);
    const pool = random(shape.rekeyed.length * KEY_BYTES);
    const fresh = new Map(shape.rekeyed.map(({ node }, index) => [node, pool.slice(index * KEY_BYTES, (index + 1) * KEY_BYTES)] as const));
    const epoch = this.epochValue + 1;
    const items: ItemToSeal[] = [];
    for (const { node, under } of shape.rekeyed) {
      for (const child of under) items.push({ slot: items.length, owner: child, key: fresh.get(child) ?? this.keyAt(child), plaintext: fresh.get(node)! });
    }
    const message = this.encode('LKH', epoch, REMOVAL_SUBJECT, items);

    for (const member of members) this.leaves.delete(member);
    for (const node of [...shape.vacated, ...shape.emptied]) this.wipe(node);
    for (const [node, key] of fresh) this.setKey(node, key);
    this.vacant.push(...shape.vacated);
    this.vacant.sort((a, b) => b - a);
    this.epochValue = epoch;
    return { plan, epoch, messages: [message] };
  }

  // ---- node storage: flat typed arrays (21 bytes per node), no per-node objects even at 10^6 members ----

  private keyAt(node: number): Uint8Array {
    return this.nodeKeys.slice(node * KEY_BYTES, (node + 1) * KEY_BYTES);
  }

  private setKey(node: number, key: Uint8Array): void {
    this.nodeKeys.set(key, node * KEY_BYTES);
    this.present[node] = 1;
  }

  private wipe(node: number): void {
    this.nodeKeys.fill(0, node * KEY_BYTES, (node + 1) * KEY_BYTES);
    this.present[node] = 0;
  }

  private occupy(leaf: number, member: number, nodeKey: Uint8Array): void {
    this.setKey(leaf, nodeKey);
    this.occupant[leaf] = member;
    this.leaves.set(member, leaf);
  }

  private reserve(nodes: number): void {
    if (this.present.length >= nodes) return;
    const capacity = Math.max(nodes, 2 * this.present.length);
    this.nodeKeys = grown(this.nodeKeys, capacity * KEY_BYTES);
    this.present = grown(this.present, capacity);
    this.occupant = grown(this.occupant, capacity);
  }
}

/** A meter of LKH: Ku (its leaf key) and the keys of its ancestors, up to KG. */
export class LkhMember extends BaselineMember<LkhMemberKeys> {
  protected readonly stateType = 'LKH_STATE';
  protected readonly rekeyType = 'LKH';

  constructor(identity: MemberIdentity, crypto: GrepCrypto, state?: LkhMemberKeys) {
    super(identity, crypto, state && checkState(state));
  }

  get groupKey(): Uint8Array | undefined {
    return this.keys?.path.at(-1);
  }

  get secretCount(): number {
    return 1 + (this.keys?.path.length ?? 0);
  }

  protected parseState(epoch: number, plaintext: Uint8Array): LkhMemberKeys {
    return { epoch, ...decodeLkhState(plaintext) };
  }

  protected rekey(message: Message, keys: LkhMemberKeys): LkhMemberKeys | 'not-addressed' {
    const byOwner = new Map<number, Item>();
    for (const item of message.items) {
      if (byOwner.has(item.owner)) fail('MALFORMED', `LKH wraps two keys under node ${item.owner}`);
      byOwner.set(item.owner, item);
    }
    const { subject } = message.header;
    if (subject === REMOVAL_SUBJECT) return this.afterRemoval(message, keys, byOwner);
    if (subject < 2) fail('MALFORMED', `node ${subject} cannot be a joiner's leaf`);
    return this.afterJoin(message, keys, byOwner);
  }

  /** Every ancestor shared with the joiner's leaf is replaced, each under its own old key; the split member moves down. */
  private afterJoin(message: Message, keys: LkhMemberKeys, byOwner: ReadonlyMap<number, Item>): LkhMemberKeys {
    const joinerLeaf = message.header.subject;
    const replace = (node: number, oldKey: Uint8Array) => {
      const item = byOwner.get(node);
      if (!item) fail('MALFORMED', `LKH join leaves node ${node} on the joiner's path without a new key`);
      return this.unwrap(message, item, oldKey);
    };
    const path = keys.path.map((key, index) => {
      const node = keys.leaf >>> (index + 1);
      return isAncestor(node, joinerLeaf) ? replace(node, key) : key;
    });
    if (joinerLeaf >>> 1 !== keys.leaf) return { epoch: message.header.epoch, leaf: keys.leaf, path };
    return { epoch: message.header.epoch, leaf: joinerLeaf ^ 1, path: [replace(keys.leaf, this.nodeKey), ...path] };
  }

  /** Bottom-up, so a key learnt from a lower item opens the next one; the last one must be KG. */
  private afterRemoval(message: Message, keys: LkhMemberKeys, byOwner: ReadonlyMap<number, Item>): LkhMemberKeys | 'not-addressed' {
    const path = [...keys.path];
    let highest = -1;
    for (let index = 0; index < path.length; index++) {
      const item = byOwner.get(keys.leaf >>> index);
      if (!item) continue;
      path[index] = this.unwrap(message, item, index === 0 ? this.nodeKey : path[index - 1]!);
      highest = index;
    }
    if (highest < 0) return 'not-addressed';
    if (highest !== path.length - 1) fail('MALFORMED', 'LKH removal leaves this meter without the new group key');
    return { epoch: message.header.epoch, leaf: keys.leaf, path };
  }
}
