import { ByteReader, ByteWriter } from './bytes.js';
import { type GrepCrypto, NONCE_BYTES, SIGNATURE_BYTES, TAG_BYTES } from './crypto.js';
import { fail } from './errors.js';

/**
 * GREP wire format (GREP.md §8), with one documented deviation: an item carries no selector byte and
 * carries its owner id only where the header's subject does not already name it. Which slots are
 * present is in the header flags. The spec's literal item format makes a leave 340 bytes; this one
 * makes it exactly 320 (see README "Protocol" and test/unit/wire.test.ts).
 */
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 16;
export const MAX_MESSAGE_BYTES = 1 << 20;

/**
 * GREP's messages, then the baselines' (basic: KG under each Ku; LKH: wrapped tree keys) sharing this
 * codec, then the compact re-seed and batch join of §7 and §4 (appended: a type's code is its place).
 */
export const MESSAGE_TYPES = ['J1', 'J2', 'J3', 'M1', 'M2', 'A', 'B', 'C', 'D', 'PERIODIC', 'RESYNC', 'BASIC', 'LKH', 'LKH_STATE', 'ROSTER', 'SEED', 'BUNDLE'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
const TYPE_CODE = new Map<MessageType, number>(MESSAGE_TYPES.map((type, index) => [type, index + 1]));

export const Flag = {
  /** slot 0: the older side (phi, F) or the only item */
  SLOT0: 1 << 0,
  /** slot 1: the younger side (beta, B) */
  SLOT1: 1 << 1,
  /** J2: the joiner opened a new subgroup; the payload carries its forward token */
  SUBGROUP_NEW: 1 << 2,
  /** M2: the leaver's subgroup is now empty and deleted */
  SUBGROUP_DELETED: 1 << 3,
  /**
   * J2 of a batch join (§4): new subgroups from the item's owner (N_1) up to the subject (N_q), their
   * forward tokens one hash chain, so the payload's F_{N_1} gives every existing member all of them
   */
  SUBGROUP_CHAIN: 1 << 4,
} as const;
const KNOWN_FLAGS = Flag.SLOT0 | Flag.SLOT1 | Flag.SUBGROUP_NEW | Flag.SUBGROUP_DELETED | Flag.SUBGROUP_CHAIN;

type OwnerRule = 'explicit' | 'subject' | 'none';
interface Layout {
  readonly delivery: 'broadcast' | 'unicast';
  /** 'many': an item count follows the notice and every slot is present (LKH); 0: no sealed item (ROSTER) */
  readonly slots: 0 | 1 | 2 | 'many';
  readonly owner: OwnerRule;
  readonly notice: boolean;
  /** a roster part in clear after the header (ROSTER, BUNDLE): signed and bound as AAD */
  readonly roster?: true;
  /** plaintext bytes per item; 'rest' = the single item spans the rest of the message */
  readonly payload: (flags: number) => number | 'rest';
}

const fixed = (bytes: number) => () => bytes;
export const LAYOUT: Record<MessageType, Layout> = {
  J1: { delivery: 'broadcast', slots: 1, owner: 'explicit', notice: false, payload: fixed(48) },
  J2: {
    delivery: 'broadcast', slots: 1, owner: 'explicit', notice: false,
    payload: (flags) => (flags & Flag.SUBGROUP_NEW ? 32 : 16),
  },
  J3: { delivery: 'unicast', slots: 1, owner: 'none', notice: false, payload: () => 'rest' },
  M1: { delivery: 'broadcast', slots: 2, owner: 'subject', notice: false, payload: fixed(32) },
  M2: { delivery: 'broadcast', slots: 2, owner: 'subject', notice: false, payload: fixed(16) },
  A: { delivery: 'broadcast', slots: 2, owner: 'explicit', notice: true, payload: fixed(32) },
  B: { delivery: 'unicast', slots: 1, owner: 'none', notice: true, payload: fixed(32) },
  C: { delivery: 'broadcast', slots: 2, owner: 'explicit', notice: true, payload: fixed(16) },
  D: { delivery: 'broadcast', slots: 1, owner: 'subject', notice: true, payload: fixed(16) },
  PERIODIC: { delivery: 'broadcast', slots: 1, owner: 'none', notice: false, payload: fixed(16) },
  RESYNC: { delivery: 'unicast', slots: 1, owner: 'none', notice: false, payload: () => 'rest' },
  BASIC: { delivery: 'unicast', slots: 1, owner: 'none', notice: false, payload: fixed(16) },
  LKH: { delivery: 'broadcast', slots: 'many', owner: 'explicit', notice: false, payload: fixed(16) },
  LKH_STATE: { delivery: 'unicast', slots: 1, owner: 'none', notice: false, payload: () => 'rest' },
  ROSTER: { delivery: 'broadcast', slots: 0, owner: 'none', notice: false, roster: true, payload: fixed(0) },
  SEED: { delivery: 'unicast', slots: 1, owner: 'none', notice: false, payload: () => 'rest' },
  BUNDLE: { delivery: 'broadcast', slots: 1, owner: 'none', notice: false, roster: true, payload: () => 'rest' },
};
export const MAX_ITEMS = 0xffff;

export interface Header {
  readonly type: MessageType;
  readonly flags: number;
  readonly groupId: number;
  readonly epoch: number;
  /** joiner, leaver, subgroup or unicast recipient, by type */
  readonly subject: number;
}

/** Group, meter and subgroup ids travel in the header's 4-byte fields: an id outside them could not be addressed. */
export function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) fail('BAD_ARGUMENT', `${what} must be an integer in 0..2^32-1`);
}

/** What a recovery tells everyone in clear (signed, or bound as AAD): who left, which subgroups are gone. */
export interface Notice {
  readonly removedMembers: readonly number[];
  readonly deletedSubgroups: readonly number[];
}

export const EMPTY_NOTICE: Notice = { removedMembers: [], deletedSubgroups: [] };

/**
 * Who is where after a re-seed or a batch join (§7 ROSTER, §4 BUNDLE): subgroups with consecutive ids
 * (rangeFirst .. rangeFirst + rangeCount - 1), each with its members in join order. Public: ids travel
 * in headers anyway. A large roster is cut into parts; the header's subject is the part's first
 * subgroup, and every part names the whole range, so a member needs only the part of its subgroup.
 */
export interface RosterPart {
  readonly rangeFirst: number;
  readonly rangeCount: number;
  readonly subgroups: readonly (readonly number[])[];
}

/** Members per roster part: a part stays well inside the DC link's frame (4 bytes a member). */
export const ROSTER_PART_MEMBERS = 8_192;

export interface Item {
  readonly slot: number;
  readonly owner: number;
  readonly sealed: Uint8Array;
}

export interface Message {
  readonly header: Header;
  readonly notice: Notice | undefined;
  readonly roster: RosterPart | undefined;
  readonly items: readonly Item[];
  /** header ‖ notice: the AAD of every item */
  readonly aad: Uint8Array;
  /** bytes covered by the KM signature (broadcasts) */
  readonly signed: Uint8Array;
  readonly signature: Uint8Array | undefined;
}

export function isBroadcast(type: MessageType): boolean {
  return LAYOUT[type].delivery === 'broadcast';
}

/** msg type (1) ‖ epoch (4) ‖ item index (2) ‖ group id (4) ‖ 0 (§8). */
export function itemNonce(header: Header, slot: number): Uint8Array {
  return new ByteWriter(NONCE_BYTES)
    .u8(TYPE_CODE.get(header.type)!)
    .u32(header.epoch)
    .u16(slot)
    .u32(header.groupId)
    .u8(0)
    .done();
}

function noticeBytes(notice: Notice): number {
  return 4 + 4 * (notice.removedMembers.length + notice.deletedSubgroups.length);
}

export function rosterBytes(subgroups: readonly (readonly number[])[]): number {
  return 8 + subgroups.reduce((sum, members) => sum + 2 + 4 * members.length, 0);
}

function ownerBytes(layout: Layout): number {
  return layout.owner === 'explicit' ? 4 : 0;
}

/** Exact encoded size, so a plan can state bytes before any key is drawn. */
export function messageSize(type: MessageType, itemPayloads: readonly number[], notice?: Notice, roster?: readonly (readonly number[])[]): number {
  const layout = LAYOUT[type];
  let size = HEADER_BYTES + (layout.notice ? noticeBytes(notice ?? EMPTY_NOTICE) : 0) + (layout.roster ? rosterBytes(roster ?? []) : 0);
  if (layout.slots === 'many') size += 2;
  for (const payload of itemPayloads) size += ownerBytes(layout) + payload + TAG_BYTES;
  if (layout.delivery === 'broadcast') size += SIGNATURE_BYTES;
  return size;
}

function encodeHeader(writer: ByteWriter, header: Header): void {
  writer
    .u8(PROTOCOL_VERSION)
    .u8(TYPE_CODE.get(header.type)!)
    .u16(header.flags)
    .u32(header.groupId)
    .u32(header.epoch)
    .u32(header.subject);
}

function encodeRoster(writer: ByteWriter, roster: RosterPart): void {
  writer.u32(roster.rangeFirst).u16(roster.rangeCount).u16(roster.subgroups.length);
  for (const members of roster.subgroups) {
    writer.u16(members.length);
    for (const id of members) writer.u32(id);
  }
}

function decodeRoster(reader: ByteReader, firstOfPart: number): RosterPart {
  const rangeFirst = reader.u32('roster range');
  const rangeCount = reader.u16('roster range count');
  const count = reader.u16('roster subgroup count');
  if (count === 0 || firstOfPart < rangeFirst || firstOfPart - rangeFirst + count > rangeCount) fail('MALFORMED', 'roster part outside its range');
  const subgroups = Array.from({ length: count }, () => Array.from({ length: reader.u16('roster member count') }, () => reader.u32('roster member')));
  const ids = subgroups.flat();
  if (subgroups.some((members) => members.length === 0) || new Set(ids).size !== ids.length) fail('MALFORMED', 'roster with an empty subgroup or a member named twice');
  return { rangeFirst, rangeCount, subgroups };
}

function encodeNotice(writer: ByteWriter, notice: Notice): void {
  writer.u16(notice.removedMembers.length);
  for (const id of notice.removedMembers) writer.u32(id);
  writer.u16(notice.deletedSubgroups.length);
  for (const id of notice.deletedSubgroups) writer.u32(id);
}

export interface ItemToSeal {
  readonly slot: number;
  readonly owner: number;
  readonly key: Uint8Array;
  readonly plaintext: Uint8Array;
}

/**
 * Seals the items under header ‖ notice as AAD and, for broadcasts, signs header ‖ notice ‖ items with
 * the KM key. Slot flags are derived from the items, so header and body cannot disagree.
 */
export function encodeMessage(
  crypto: GrepCrypto,
  header: Omit<Header, 'flags'> & { readonly flags?: number },
  items: readonly ItemToSeal[],
  signingKey: Uint8Array | undefined,
  notice?: Notice,
  roster?: RosterPart,
): Uint8Array {
  const layout = LAYOUT[header.type];
  const sorted = [...items].sort((a, b) => a.slot - b.slot);
  const maxItems = layout.slots === 'many' ? MAX_ITEMS : layout.slots;
  const minItems = layout.slots === 0 ? 0 : 1;
  if (sorted.length < minItems || sorted.length > maxItems) throw new Error(`${header.type} takes ${minItems}..${maxItems} items`);
  if (layout.roster && !roster) throw new Error(`${header.type} carries a roster`);
  if (layout.slots === 'many' && sorted.some((item, index) => item.slot !== index)) throw new Error(`${header.type} slots must be 0..n-1`);
  let flags = header.flags ?? 0;
  if (layout.slots !== 'many') for (const item of sorted) flags |= item.slot === 0 ? Flag.SLOT0 : Flag.SLOT1;
  const fullHeader: Header = { ...header, flags };
  const fullNotice = layout.notice ? (notice ?? EMPTY_NOTICE) : undefined;
  const size = messageSize(header.type, sorted.map((item) => item.plaintext.length), fullNotice, roster?.subgroups);
  if (size > MAX_MESSAGE_BYTES) fail('OVERSIZED', `${header.type} of ${size} bytes exceeds ${MAX_MESSAGE_BYTES}: no decoder would accept it`);
  const writer = new ByteWriter(size);
  encodeHeader(writer, fullHeader);
  if (fullNotice) encodeNotice(writer, fullNotice);
  if (layout.roster) encodeRoster(writer, roster!);
  if (layout.slots === 'many') writer.u16(sorted.length);
  const aad = writer.bytes.slice(0, HEADER_BYTES + (fullNotice ? noticeBytes(fullNotice) : 0) + (layout.roster ? rosterBytes(roster!.subgroups) : 0) + (layout.slots === 'many' ? 2 : 0));
  for (const item of sorted) {
    if (layout.owner === 'explicit') writer.u32(item.owner);
    writer.raw(crypto.seal(item.key, itemNonce(fullHeader, item.slot), item.plaintext, aad));
  }
  if (layout.delivery === 'broadcast') {
    if (!signingKey) throw new Error(`${header.type} is a broadcast and must be signed`);
    const signedLength = size - SIGNATURE_BYTES;
    writer.raw(crypto.sign(signingKey, writer.bytes.subarray(0, signedLength)));
  }
  return writer.done();
}

function decodeType(code: number): MessageType {
  const type = MESSAGE_TYPES[code - 1];
  if (type === undefined) fail('UNKNOWN_TYPE', `unknown message type ${code}`);
  return type;
}

/** Structural decode only: lengths, counts and flags are checked; nothing is decrypted or verified here. */
/** The 16-byte header every KM message shares (rekeys here, group commands in command.ts), as raw fields. */
export interface RawHeader {
  readonly typeCode: number;
  readonly flags: number;
  readonly groupId: number;
  readonly epoch: number;
  readonly subject: number;
}

/** Checks size and version and reads the header; the reader is left at the body. */
export function readHeader(bytes: Uint8Array, what: string): { reader: ByteReader; header: RawHeader } {
  if (!(bytes instanceof Uint8Array)) fail('MALFORMED', `${what} must be bytes`);
  if (bytes.length > MAX_MESSAGE_BYTES) fail('OVERSIZED', `${what} of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
  const reader = new ByteReader(bytes);
  const version = reader.u8('version');
  if (version !== PROTOCOL_VERSION) fail('UNSUPPORTED_VERSION', `protocol version ${version} is not supported`);
  const header: RawHeader = {
    typeCode: reader.u8('type'),
    flags: reader.u16('flags'),
    groupId: reader.u32('group id'),
    epoch: reader.u32('epoch'),
    subject: reader.u32('subject'),
  };
  return { reader, header };
}

export function decodeMessage(bytes: Uint8Array): Message {
  const { reader, header: raw } = readHeader(bytes, 'message');
  const type = decodeType(raw.typeCode);
  const flags = raw.flags;
  const header: Header = { type, flags, groupId: raw.groupId, epoch: raw.epoch, subject: raw.subject };
  if (flags & ~KNOWN_FLAGS) fail('MALFORMED', `unknown flags 0x${flags.toString(16)}`);
  if (flags & Flag.SUBGROUP_NEW && type !== 'J2') fail('MALFORMED', `${type} cannot open a subgroup`);
  if (flags & Flag.SUBGROUP_DELETED && type !== 'M2') fail('MALFORMED', `${type} cannot delete a subgroup`);
  if (flags & Flag.SUBGROUP_CHAIN && !(type === 'J2' && flags & Flag.SUBGROUP_NEW)) fail('MALFORMED', `${type} cannot open a chain of subgroups`);
  const layout = LAYOUT[type];
  let notice: Notice | undefined;
  if (layout.notice) {
    const removedMembers = Array.from({ length: reader.u16('removed count') }, () => reader.u32('removed member'));
    const deletedSubgroups = Array.from({ length: reader.u16('deleted count') }, () => reader.u32('deleted subgroup'));
    notice = { removedMembers, deletedSubgroups };
  }
  const roster = layout.roster ? decodeRoster(reader, header.subject) : undefined;
  const slots: number[] = [];
  if (layout.slots === 0) {
    if (flags & (Flag.SLOT0 | Flag.SLOT1)) fail('MALFORMED', `${type} takes no slot flags`);
  } else if (layout.slots === 'many') {
    if (flags & (Flag.SLOT0 | Flag.SLOT1)) fail('MALFORMED', `${type} takes no slot flags`);
    const count = reader.u16('item count');
    for (let slot = 0; slot < count; slot++) slots.push(slot);
  } else {
    if (layout.slots === 1 && flags & Flag.SLOT1) fail('MALFORMED', `${type} has a single item slot`);
    if (flags & Flag.SLOT0) slots.push(0);
    if (flags & Flag.SLOT1) slots.push(1);
  }
  if ((layout.slots !== 0 && slots.length === 0) || (layout.slots !== 'many' && slots.length > layout.slots)) fail('MALFORMED', `${type} has no valid item slots`);
  const aad = reader.since(0).slice();
  const trailer = layout.delivery === 'broadcast' ? SIGNATURE_BYTES : 0;
  const items: Item[] = [];
  for (const slot of slots) {
    const owner = layout.owner === 'explicit' ? reader.u32('item owner') : layout.owner === 'subject' ? header.subject : 0;
    const payload = layout.payload(flags);
    const sealedLength = payload === 'rest' ? reader.remaining - trailer : payload + TAG_BYTES;
    if (sealedLength < TAG_BYTES) fail('TRUNCATED', `${type} item is shorter than its tag`);
    items.push({ slot, owner, sealed: reader.raw(sealedLength, `${type} item`) });
  }
  const signed = reader.since(0).slice();
  const signature = trailer ? reader.raw(SIGNATURE_BYTES, 'signature') : undefined;
  reader.end(type);
  return { header, notice, roster, items, aad, signed, signature };
}

/** Opens one item; undefined when the key is wrong or the item was tampered with. */
export function openItem(crypto: GrepCrypto, message: Message, item: Item, key: Uint8Array): Uint8Array | undefined {
  return crypto.open(key, itemNonce(message.header, item.slot), item.sealed, message.aad);
}
