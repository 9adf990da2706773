import { ByteReader, ByteWriter } from './bytes.js';
import { KEY_BYTES } from './crypto.js';
import { fail } from './errors.js';

/** A token value and the member (node token) or subgroup (subgroup token) it belongs to. */
export interface TokenEntry {
  readonly owner: number;
  readonly value: Uint8Array;
}

/**
 * Everything a member holds (§2), as sent in J3 to a joiner and in RESYNC to a member that fell behind:
 * KG, its KS, its subgroup, beta of every older and phi of every younger member of its subgroup,
 * B of every older and F of every younger subgroup.
 */
export interface MemberStatePayload {
  readonly kg: Uint8Array;
  readonly ks: Uint8Array;
  readonly subgroup: number;
  readonly nodeBackward: readonly TokenEntry[];
  readonly nodeForward: readonly TokenEntry[];
  readonly subgroupBackward: readonly TokenEntry[];
  readonly subgroupForward: readonly TokenEntry[];
}

const ENTRY_BYTES = 4 + KEY_BYTES;
const LISTS = ['nodeBackward', 'nodeForward', 'subgroupBackward', 'subgroupForward'] as const;

export function memberStateSize(tokenCount: number): number {
  return 2 * KEY_BYTES + 4 + LISTS.length * 2 + tokenCount * ENTRY_BYTES;
}

export function encodeMemberState(state: MemberStatePayload): Uint8Array {
  const count = LISTS.reduce((sum, list) => sum + state[list].length, 0);
  const writer = new ByteWriter(memberStateSize(count)).raw(state.kg).raw(state.ks).u32(state.subgroup);
  for (const list of LISTS) {
    writer.u16(state[list].length);
    for (const entry of state[list]) writer.u32(entry.owner).raw(entry.value);
  }
  return writer.done();
}

export function decodeMemberState(bytes: Uint8Array): MemberStatePayload {
  const reader = new ByteReader(bytes);
  const kg = reader.raw(KEY_BYTES, 'KG');
  const ks = reader.raw(KEY_BYTES, 'KS');
  const subgroup = reader.u32('subgroup');
  const lists = LISTS.map((list) => {
    const entries = Array.from({ length: reader.u16(`${list} count`) }, () => ({
      owner: reader.u32(`${list} owner`),
      value: reader.raw(KEY_BYTES, `${list} token`),
    }));
    if (new Set(entries.map((entry) => entry.owner)).size !== entries.length) fail('MALFORMED', `${list} repeats an owner`);
    return entries;
  });
  reader.end('member state');
  const [nodeBackward, nodeForward, subgroupBackward, subgroupForward] = lists as [TokenEntry[], TokenEntry[], TokenEntry[], TokenEntry[]];
  return { kg, ks, subgroup, nodeBackward, nodeForward, subgroupBackward, subgroupForward };
}

/** Fixed-size rekey payloads: KS* ‖ KG* (M1, A, B), KS* ‖ KG* ‖ phi_z (J1), KG* [‖ F_S] (J2), KG* (M2, C, D, PERIODIC). */
export function splitKeys(plaintext: Uint8Array, count: number): Uint8Array[] {
  if (plaintext.length !== count * KEY_BYTES) fail('MALFORMED', `expected ${count} keys, got ${plaintext.length} bytes`);
  return Array.from({ length: count }, (_, index) => plaintext.slice(index * KEY_BYTES, (index + 1) * KEY_BYTES));
}

/**
 * SEED (§7 compact re-seed, §4 batch join): what one member at position u of subgroup t needs to hash
 * down to all it must hold. Each token is the first of its chain on the member's side: beta_{u-1},
 * phi_{u+1}, B_{t-1}, F_{t+1}; absent where the member is the first of that side. KB opens a batch
 * join's BUNDLE.
 */
export interface SeedPayload {
  readonly kg: Uint8Array;
  readonly ks: Uint8Array;
  readonly subgroup: number;
  readonly kb?: Uint8Array | undefined;
  readonly nodeBackward?: Uint8Array | undefined;
  readonly nodeForward?: Uint8Array | undefined;
  readonly subgroupBackward?: Uint8Array | undefined;
  readonly subgroupForward?: Uint8Array | undefined;
}

const SEED_KEYS = ['kb', 'nodeBackward', 'nodeForward', 'subgroupBackward', 'subgroupForward'] as const;

export function seedSize(present: number): number {
  return 2 * KEY_BYTES + 4 + 1 + present * KEY_BYTES;
}

export function encodeSeed(seed: SeedPayload): Uint8Array {
  const present = SEED_KEYS.filter((key) => seed[key] !== undefined);
  const writer = new ByteWriter(seedSize(present.length)).raw(seed.kg).raw(seed.ks).u32(seed.subgroup);
  writer.u8(SEED_KEYS.reduce((bits, key, index) => (seed[key] ? bits | (1 << index) : bits), 0));
  for (const key of present) writer.raw(seed[key]!);
  return writer.done();
}

export function decodeSeed(bytes: Uint8Array): SeedPayload {
  const reader = new ByteReader(bytes);
  const kg = reader.raw(KEY_BYTES, 'KG');
  const ks = reader.raw(KEY_BYTES, 'KS');
  const subgroup = reader.u32('subgroup');
  const bits = reader.u8('seed presence');
  if (bits >> SEED_KEYS.length) fail('MALFORMED', `unknown seed presence bits 0x${bits.toString(16)}`);
  const seed: Record<string, Uint8Array> = {};
  SEED_KEYS.forEach((key, index) => {
    if (bits & (1 << index)) seed[key] = reader.raw(KEY_BYTES, key);
  });
  reader.end('seed');
  return { kg, ks, subgroup, ...seed };
}

/** BUNDLE's sealed part (§4 batch join): B_T of every existing subgroup T, for the joiners. */
export function bundleSize(entries: number): number {
  return 2 + entries * ENTRY_BYTES;
}

export function encodeBundle(entries: readonly TokenEntry[]): Uint8Array {
  const writer = new ByteWriter(bundleSize(entries.length)).u16(entries.length);
  for (const entry of entries) writer.u32(entry.owner).raw(entry.value);
  return writer.done();
}

export function decodeBundle(bytes: Uint8Array): TokenEntry[] {
  const reader = new ByteReader(bytes);
  const entries = Array.from({ length: reader.u16('bundle count') }, () => ({ owner: reader.u32('bundle owner'), value: reader.raw(KEY_BYTES, 'bundle token') }));
  reader.end('bundle');
  if (new Set(entries.map((entry) => entry.owner)).size !== entries.length) fail('MALFORMED', 'bundle repeats a subgroup');
  return entries;
}
