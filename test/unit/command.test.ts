import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import {
  acceptCommand,
  COMMAND_TYPE_CODE,
  type CommandReceiver,
  commandDetail,
  decodeCommand,
  encodeCommand,
  readCommandDetail,
} from '../../main/grep/command.js';
import { ByteWriter, KeyManager, MESSAGE_TYPES, seededRandom } from '../../main/grep/index.js';
import { Fleet } from '../../sim/fleet.js';

const crypto = nodeCrypto;
const random = seededRandom(41);
const signingKey = random(32);
const kmPublicKey = crypto.publicKey(signingKey);
const kg = random(16);
const sealing = { groupId: 3, epoch: 9, kg, signingKey };
const receiver = (id: number, overrides: Partial<CommandReceiver> = {}): CommandReceiver => ({
  id,
  groupId: 3,
  kmPublicKey,
  epoch: 9,
  kg,
  lastSeq: 0,
  ...overrides,
});

/** The typed error of the core: a GrepError with this code. */
const grepError = (code: string) => expect.objectContaining({ name: 'GrepError', code });

describe('group command codec (§10)', () => {
  test('matches a hand-built vector: header, clear seq, body sealed under KG with the command nonce, KM signature', () => {
    const bytes = encodeCommand(crypto, sealing, { seq: 0x01020304, selector: [7, 0x0a0b0c0d], action: 'open' });
    const aad = new ByteWriter(20).u8(1).u8(0x40).u16(0).u32(3).u32(9).u32(0).u32(0x01020304).done();
    const nonce = Uint8Array.from([0x40, 0, 0, 0, 9, 1, 2, 3, 4, 0, 0, 0]);
    const body = Uint8Array.from([1, 0, 2, 0, 0, 0, 7, 0x0a, 0x0b, 0x0c, 0x0d, 0]);
    const sealed = crypto.seal(kg, nonce, body, aad);
    const signed = new Uint8Array([...aad, ...sealed]);
    expect(bytes).toEqual(new Uint8Array([...signed, ...crypto.sign(signingKey, signed)]));
    // a nonce space of its own: no rekey type code can collide with it under the same KG
    expect(COMMAND_TYPE_CODE).toBeGreaterThan(MESSAGE_TYPES.length);
  });

  test('round trip for both selectors and both actions', () => {
    for (const command of [
      { seq: 1, selector: 'all' as const, action: 'close' as const },
      { seq: 2, selector: [4, 8, 15], action: 'open' as const },
    ]) {
      expect(decodeCommand(crypto, encodeCommand(crypto, sealing, command), { kmPublicKey, kg })).toEqual(command);
    }
  });

  test('refuses to encode what no meter could act on', () => {
    expect(() => encodeCommand(crypto, sealing, { seq: 0, selector: 'all', action: 'open' })).toThrow(grepError('BAD_ARGUMENT'));
    expect(() => encodeCommand(crypto, sealing, { seq: 1, selector: [], action: 'open' })).toThrow(grepError('BAD_ARGUMENT'));
    expect(() => encodeCommand(crypto, sealing, { seq: 1, selector: [-1], action: 'open' })).toThrow(grepError('BAD_ARGUMENT'));
  });

  test('corrupt input fails with a typed error, and acceptCommand reports it without throwing', () => {
    const bytes = encodeCommand(crypto, sealing, { seq: 5, selector: 'all', action: 'open' });
    const patched = (offset: number, value: number) => {
      const copy = bytes.slice();
      copy[offset] = value;
      return copy;
    };
    const keys = { kmPublicKey, kg };
    expect(() => decodeCommand(crypto, bytes.slice(0, 30), keys)).toThrow(grepError('TRUNCATED'));
    expect(() => decodeCommand(crypto, patched(0, 2), keys)).toThrow(grepError('UNSUPPORTED_VERSION'));
    expect(() => decodeCommand(crypto, patched(1, 4), keys)).toThrow(grepError('UNKNOWN_TYPE'));
    expect(() => decodeCommand(crypto, patched(3, 1), keys)).toThrow(grepError('MALFORMED'));
    expect(() => decodeCommand(crypto, patched(15, 1), keys)).toThrow(grepError('MALFORMED'));
    expect(() => decodeCommand(crypto, patched(20, bytes[20]! ^ 1), keys)).toThrow(grepError('BAD_SIGNATURE'));
    expect(acceptCommand(crypto, bytes.slice(0, 30), receiver(1))).toMatchObject({ status: 'rejected', code: 'TRUNCATED' });
  });

  test('a body the KM signed but that does not parse is MALFORMED', () => {
    const aad = new ByteWriter(20).u8(1).u8(0x40).u16(0).u32(3).u32(9).u32(0).u32(6).done();
    const nonce = Uint8Array.from([0x40, 0, 0, 0, 9, 0, 0, 0, 6, 0, 0, 0]);
    const sealed = crypto.seal(kg, nonce, Uint8Array.from([1, 0, 0, 1]), aad);
    const signed = new Uint8Array([...aad, ...sealed]);
    const bytes = new Uint8Array([...signed, ...crypto.sign(signingKey, signed)]);
    expect(() => decodeCommand(crypto, bytes, { kmPublicKey, kg })).toThrow(grepError('MALFORMED'));
  });

  test('the report detail carries seq and disconnector state', () => {
    expect(readCommandDetail(commandDetail(12345, true))).toEqual({ seq: 12345, closed: true });
    expect(readCommandDetail(commandDetail(7, false))).toEqual({ seq: 7, closed: false });
  });
});

describe('a meter accepts a command only when it should (§10)', () => {
  test('addressing: listed meters execute, others ignore; "all" reaches everyone', () => {
    const listed = encodeCommand(crypto, sealing, { seq: 3, selector: [2, 5], action: 'open' });
    expect(acceptCommand(crypto, listed, receiver(2))).toMatchObject({ status: 'executed', command: { seq: 3, action: 'open' } });
    expect(acceptCommand(crypto, listed, receiver(5)).status).toBe('executed');
    expect(acceptCommand(crypto, listed, receiver(3))).toEqual({ status: 'ignored', reason: 'not-addressed' });
    const all = encodeCommand(crypto, sealing, { seq: 4, selector: 'all', action: 'close' });
    expect(acceptCommand(crypto, all, receiver(3)).status).toBe('executed');
  });

  test('replay: a seq at or below the last executed one is not executed again; a later one is', () => {
    const bytes = encodeCommand(crypto, sealing, { seq: 10, selector: 'all', action: 'open' });
    // the last one executed is confirmed again (its confirmation may have been lost), never run again
    expect(acceptCommand(crypto, bytes, receiver(1, { lastSeq: 10 }))).toMatchObject({ status: 'repeated', command: { seq: 10 } });
    const forged = bytes.slice();
    forged[forged.length - 1]! ^= 1;
    expect(acceptCommand(crypto, forged, receiver(1, { lastSeq: 10 })).status).toBe('rejected');
    expect(acceptCommand(crypto, bytes, receiver(1, { lastSeq: 11 }))).toEqual({ status: 'ignored', reason: 'replayed' });
    expect(acceptCommand(crypto, bytes, receiver(1, { lastSeq: 9 })).status).toBe('executed');
  });

  test('forgery: an insider holding KG seals a valid command but cannot sign it as the KM', () => {
    const insiderKey = random(32);
    const forged = encodeCommand(crypto, { ...sealing, signingKey: insiderKey }, { seq: 20, selector: 'all', action: 'open' });
    expect(acceptCommand(crypto, forged, receiver(1))).toMatchObject({ status: 'rejected', code: 'BAD_SIGNATURE' });
    const genuine = encodeCommand(crypto, sealing, { seq: 20, selector: 'all', action: 'open' });
    const resigned = genuine.slice();
    resigned[resigned.length - 1]! ^= 1;
    expect(acceptCommand(crypto, resigned, receiver(1))).toMatchObject({ status: 'rejected', code: 'BAD_SIGNATURE' });
  });

  test('a member evicted before the command can neither read nor execute it', () => {
    const keyManager = new KeyManager({ groupId: 3, signingKey, subgroupCap: 4, crypto }, random);
    const fleet = new Fleet({ seed: 41, meters: 10, groupId: 3, kmPublicKey, crypto });
    keyManager.reseed(fleet.commissioning(), random);
    fleet.hand(keyManager.reseedMessages());
    const evicted = fleet.get(6);
    const oldKg = evicted.member.groupKey!;
    for (const message of keyManager.remove([6], { suspected: false }, random).messages) {
      for (const meter of fleet.meters.values()) meter.receive(message.bytes);
    }
    const later = { groupId: 3, epoch: keyManager.epoch, kg: keyManager.groupKey(), signingKey };
    const bytes = encodeCommand(crypto, later, { seq: 1, selector: 'all', action: 'open' });
    // it stays at the old epoch, so the command is not even for its key ...
    expect(evicted.member.epoch).toBe(keyManager.epoch - 1);
    expect(evicted.receive(bytes)).toBeUndefined();
    expect(evicted.disconnector).toBe('closed');
    // ... and claiming the new epoch does not help: its KG does not open the command
    expect(() => decodeCommand(crypto, bytes, { kmPublicKey, kg: oldKg })).toThrow(grepError('DECRYPT_FAILED'));
    expect(acceptCommand(crypto, bytes, receiver(6, { epoch: keyManager.epoch, kg: oldKg }))).toMatchObject({ code: 'DECRYPT_FAILED' });
    // a remaining member executes it
    expect(fleet.get(7).receive(bytes)).toMatchObject({ member: 7, event: 'command', detail: commandDetail(1, false) });
    expect(fleet.get(7).disconnector).toBe('open');
  });
});
