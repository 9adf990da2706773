import { ByteReader, ByteWriter } from './bytes.js';
import { KEY_BYTES, type Random } from './crypto.js';
import { fail } from './errors.js';
import { GroupState, type KeyManagerConfig } from './groupState.js';
import { type LazyToken, RefreshFamily, type TokenLabel } from './tokens.js';

/**
 * The whole Key Manager state as bytes, for the store to seal and commit with each operation (§11).
 * Lazy tokens travel as (value, refresh step) with their families' pending steps, so a restored KM
 * reads exactly the values the members hold. The signing key is not in it: the store seals it apart.
 */
const MAGIC = 0x474b4d53; // "GKMS"
/** 2 adds the departed members' places (§6); a version 1 snapshot reads as having none */
const VERSION = 2;

function familyBytes(family: RefreshFamily): number {
  return 8 + family.pending * (4 + KEY_BYTES);
}

export function encodeGroupSnapshot(state: GroupState): Uint8Array {
  let size = 4 + 1 + 4 * 4 + KEY_BYTES + familyBytes(state.subgroupFamily) + 4 + state.suspicion.length * 12 + 4 + state.departed.size * 12 + 4;
  for (const subgroup of state.subgroups.values()) {
    size += 4 + KEY_BYTES + 2 * (KEY_BYTES + 4) + 4 + familyBytes(subgroup.nodeFamily) + 4;
    size += subgroup.members.length * (8 + KEY_BYTES + 2 * (KEY_BYTES + 4));
  }
  const writer = new ByteWriter(size).u32(MAGIC).u8(VERSION);
  writer.u32(state.groupId).u32(state.subgroupCap).u32(state.epoch).u32(state.nextSubgroupId).raw(state.kg);
  const family = (f: RefreshFamily) => {
    const { first, steps } = f.snapshot();
    writer.u32(first).u32(steps.length);
    for (const step of steps) writer.u32(step.epoch).raw(step.key);
  };
  const token = (t: LazyToken) => writer.raw(t.value).u32(t.at);
  family(state.subgroupFamily);
  writer.u32(state.suspicion.length);
  for (const entry of state.suspicion) writer.u32(entry.member).u32(entry.subgroup).u32(entry.position);
  writer.u32(state.departed.size);
  for (const entry of state.departed.values()) writer.u32(entry.member).u32(entry.subgroup).u32(entry.position);
  writer.u32(state.subgroups.size);
  for (const subgroup of state.subgroups.values()) {
    writer.u32(subgroup.id).raw(subgroup.ks);
    token(subgroup.backward);
    token(subgroup.forward);
    writer.u32(subgroup.nextPosition);
    family(subgroup.nodeFamily);
    writer.u32(subgroup.members.length);
    for (const id of subgroup.members) {
      const member = state.members.get(id)!;
      writer.u32(id).u32(member.position).raw(member.nodeKey);
      token(member.backward);
      token(member.forward);
    }
  }
  return writer.done();
}

/** Rebuilds the state; `config` must name the same group (the signing key comes from it). */
export function decodeGroupSnapshot(bytes: Uint8Array, config: KeyManagerConfig, random: Random): GroupState {
  const reader = new ByteReader(bytes);
  if (reader.u32('magic') !== MAGIC) fail('MALFORMED', 'not a Key Manager snapshot');
  const version = reader.u8('version');
  if (version !== 1 && version !== VERSION) fail('UNSUPPORTED_VERSION', `snapshot version ${version} is not supported`);
  const groupId = reader.u32('group id');
  if (groupId !== config.groupId) fail('WRONG_GROUP', `snapshot of group ${groupId}, expected ${config.groupId}`);
  const state = new GroupState({ ...config, subgroupCap: reader.u32('subgroup cap') }, random);
  state.epoch = reader.u32('epoch');
  state.nextSubgroupId = reader.u32('next subgroup');
  state.kg = reader.raw(KEY_BYTES, 'KG');
  const family = (label: TokenLabel) => {
    const first = reader.u32('family start');
    const steps = Array.from({ length: reader.u32('family steps') }, () => ({ epoch: reader.u32('step epoch'), key: reader.raw(KEY_BYTES, 'step key') }));
    return RefreshFamily.restore(label, first, steps);
  };
  const token = (f: RefreshFamily): LazyToken => {
    const value = reader.raw(KEY_BYTES, 'token');
    const at = reader.u32('token step');
    if (at < f.head - f.pending || at > f.head) fail('MALFORMED', 'token refresh step outside its family');
    return { value, at };
  };
  state.subgroupFamily = family('grep subgroup');
  const places = (what: string) =>
    Array.from({ length: reader.u32(`${what} count`) }, () => ({
      member: reader.u32(what),
      subgroup: reader.u32(`${what} subgroup`),
      position: reader.u32(`${what} position`),
    }));
  state.suspicion = places('suspect');
  if (version >= 2) for (const entry of places('departed')) state.departed.set(entry.member, entry);
  const subgroupCount = reader.u32('subgroup count');
  for (let index = 0; index < subgroupCount; index++) {
    const id = reader.u32('subgroup id');
    const ks = reader.raw(KEY_BYTES, 'KS');
    const backward = token(state.subgroupFamily);
    const forward = token(state.subgroupFamily);
    const nextPosition = reader.u32('next position');
    const nodeFamily = family('grep node');
    const subgroup = { id, ks, backward, forward, members: [] as number[], positions: [] as number[], nextPosition, nodeFamily };
    const memberCount = reader.u32('member count');
    for (let m = 0; m < memberCount; m++) {
      const memberId = reader.u32('member id');
      const position = reader.u32('position');
      const nodeKey = reader.raw(KEY_BYTES, 'node key');
      if (state.members.has(memberId)) fail('MALFORMED', `member ${memberId} appears twice`);
      state.members.set(memberId, { id: memberId, nodeKey, subgroup: id, position, backward: token(nodeFamily), forward: token(nodeFamily) });
      subgroup.members.push(memberId);
      subgroup.positions.push(position);
    }
    state.subgroups.set(id, subgroup);
  }
  reader.end('snapshot');
  return state;
}
