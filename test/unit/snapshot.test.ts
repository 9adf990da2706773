import { describe, expect, it } from 'vitest';
import { GrepError, KeyManager, nobleCrypto, seededRandom } from '../../main/grep/index.js';
import { Fleet } from '../support/fleet.js';

const configOf = (fleet: Fleet, signingKey: Uint8Array) => ({ groupId: fleet.km.groupId, signingKey, subgroupCap: fleet.km.subgroupCap, crypto: nobleCrypto });

describe('Key Manager snapshot (the state the store seals, §11)', () => {
  it('restores a KM that holds the same values and sends byte-identical messages from then on', () => {
    // the Fleet draws the signing key first from seed 1
    const signingKey = seededRandom(1)(32);
    const fleet = new Fleet({ seed: 1, cap: 4 });
    for (let id = 1; id <= 17; id++) fleet.join(id);
    fleet.remove([3], false);
    fleet.remove([6, 11], true);
    fleet.periodic();
    expect(fleet.km.pendingRefreshes).toBeGreaterThan(0);
    const restored = KeyManager.restore(configOf(fleet, signingKey), fleet.km.snapshot(), seededRandom(5));
    expect(restored.epoch).toBe(fleet.km.epoch);
    expect(restored.suspicion).toEqual(fleet.km.suspicion);
    // the place of meter 3, which left by a plain leave, survives: it can still be suspected after a restart
    expect([restored.hasDeparted(3), restored.hasDeparted(6)]).toEqual([true, false]);
    expect([...restored.subgroups()].map((s) => [...s.members])).toEqual([...fleet.km.subgroups()].map((s) => [...s.members]));
    for (const { members } of fleet.km.subgroups()) for (const id of members) expect(restored.memberState(id)).toEqual(fleet.km.memberState(id));
    const original = fleet.km.remove([2], { suspected: false }, seededRandom(9));
    const again = restored.remove([2], { suspected: false }, seededRandom(9));
    expect(again.messages).toEqual(original.messages);
    fleet.deliver(original);
    expect(fleet.mismatches()).toEqual([]);
  });

  it('reads a version 1 snapshot (before departed places were kept) as having none', () => {
    const signingKey = seededRandom(3)(32);
    const fleet = new Fleet({ seed: 3, cap: 4 });
    for (let id = 1; id <= 9; id++) fleet.join(id);
    fleet.remove([6], true);
    const current = fleet.km.snapshot();
    // version 1 is version 2 without the departed count that follows the suspicion record (one entry here):
    // magic, version, group, cap, epoch, next subgroup, KG; the subgroup family (start, steps, 20 B a step)
    const familyAt = 4 + 1 + 4 * 4 + 16;
    const steps = new DataView(current.buffer, current.byteOffset).getUint32(familyAt + 4);
    const departedAt = familyAt + 8 + steps * 20 + 4 + 12;
    const legacy = new Uint8Array([...current.subarray(0, departedAt), ...current.subarray(departedAt + 4)]);
    legacy[4] = 1;
    const restored = KeyManager.restore(configOf(fleet, signingKey), legacy, seededRandom(5));
    expect(restored.suspicion).toEqual(fleet.km.suspicion);
    expect(restored.hasDeparted(6)).toBe(false);
    for (const { members } of fleet.km.subgroups()) for (const id of members) expect(restored.memberState(id)).toEqual(fleet.km.memberState(id));
  });

  it('refuses a snapshot of another group, a truncated one and one with a token outside its refresh log', () => {
    const fleet = new Fleet({ seed: 2 });
    for (let id = 1; id <= 6; id++) fleet.join(id);
    const snapshot = fleet.km.snapshot();
    const config = configOf(fleet, seededRandom(2)(32));
    const code = (bytes: Uint8Array, groupId = config.groupId) => {
      try {
        KeyManager.restore({ ...config, groupId }, bytes, seededRandom(1));
      } catch (error) {
        expect(error).toBeInstanceOf(GrepError);
        return (error as GrepError).code;
      }
      return 'restored';
    };
    expect(code(snapshot)).toBe('restored');
    expect(code(snapshot, config.groupId + 1)).toBe('WRONG_GROUP');
    expect(code(snapshot.subarray(0, snapshot.length - 3))).toBe('TRUNCATED');
    expect(code(new Uint8Array([...snapshot, 0]))).toBe('OVERSIZED');
    const skewed = snapshot.slice();
    // magic, version, group, cap, epoch, next subgroup, KG; family header; suspicion, departed and subgroup counts; id, KS, B value
    const offset = 4 + 1 + 4 * 4 + 16 + 8 + 4 + 4 + 4 + 4 + 16 + 16;
    new DataView(skewed.buffer).setUint32(offset, 999);
    expect(code(skewed)).toBe('MALFORMED');
  });
});
