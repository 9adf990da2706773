import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { keyFileText } from '../../main/files/keyFile.js';
import { CampaignSealer, decodeFirmwareFrame, FIRMWARE_TYPE_CODE, openBlock, openKeyFrame } from '../../main/firmware/blocks.js';
import { COMMAND_TYPE_CODE } from '../../main/grep/command.js';
import { generateSigningKey, readPublicKey, readSigningKey, writeSigningKeyFiles } from '../../main/firmware/keys.js';
import { encodeEnvelope, pack, parse, PACKAGE_MAGIC } from '../../main/firmware/package.js';
import { STAGING_CHECKS, stage, stagingReport } from '../../main/firmware/verify.js';
import { ByteWriter, MESSAGE_TYPES, seededRandom, toHex } from '../../main/grep/index.js';

const crypto = nodeCrypto;
const random = seededRandom(77);
const vendor = generateSigningKey(crypto, random);
const stranger = generateSigningKey(crypto, random);
const image = random(1000);
const fields = { vendor: 'Acme', model: 'GX-110', version: '2.1.0', sequence: 5 };
const good = pack(crypto, image, fields, vendor.secretKey);
const context = { trustedKeys: [vendor.publicKey], model: 'GX-110', runningSequence: 4 };

/** The refusal names the failed check in its code, its `check` and its message. */
function refusal(bytes: Uint8Array, overrides: Partial<typeof context> = {}) {
  try {
    stage(crypto, bytes, { ...context, ...overrides });
  } catch (error) {
    return error as { name: string; code: string; check: string; message: string };
  }
  throw new Error('package was accepted');
}

describe('firmware package (SUIT-like envelope)', () => {
  test('matches a hand-built layout: magic, format version, manifest length, canonical manifest, signature, image', () => {
    const text = (value: string) => [value.length, ...new TextEncoder().encode(value)];
    const manifest = Uint8Array.from([...text('Acme'), ...text('GX-110'), ...text('2.1.0'), 0, 0, 0, 5, 0, 0, 0x03, 0xe8, ...crypto.sha256(image)]);
    const context = new TextEncoder().encode('GREP firmware manifest v1\0');
    const signature = crypto.sign(vendor.secretKey, Uint8Array.from([...context, ...manifest]));
    const expected = new ByteWriter(4 + 1 + 2 + manifest.length + 64 + image.length).raw(PACKAGE_MAGIC).u8(1).u16(manifest.length).raw(manifest).raw(signature).raw(image).done();
    expect(good).toEqual(expected);
    const parsed = parse(good);
    expect(parsed.manifest).toEqual({ ...fields, size: 1000, digest: crypto.sha256(image) });
    expect(encodeEnvelope(parsed)).toEqual(good);
  });

  test('a valid package passes every check, in order', () => {
    const report = stagingReport(crypto, good, context);
    expect(report.checks.map((c) => [c.check, c.status])).toEqual(STAGING_CHECKS.map((check) => [check, 'passed']));
    expect(stage(crypto, good, context).image).toEqual(image);
  });

  test('corrupt (bad magic): refused by the format check, the rest reported as skipped', () => {
    const bytes = good.slice();
    bytes[0] = bytes[0]! ^ 1;
    expect(refusal(bytes)).toMatchObject({ name: 'FirmwareError', code: 'FORMAT', check: 'format', message: 'format check failed: not a firmware package (bad magic)' });
    expect(stagingReport(crypto, bytes, context).checks.map((c) => c.status)).toEqual(['failed', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  });

  test('truncated inside the manifest or the signature: format', () => {
    for (const length of [3, 20, 7 + 40, good.length - image.length - 10]) {
      expect(refusal(good.subarray(0, length))).toMatchObject({ code: 'FORMAT', check: 'format', message: expect.stringContaining('truncated') });
    }
  });

  test('truncated image: the size check names it, and the digest check fails too', () => {
    const error = refusal(good.subarray(0, good.length - 1));
    expect(error).toMatchObject({ code: 'SIZE', check: 'size', message: expect.stringContaining('999') });
    const statuses = Object.fromEntries(stagingReport(crypto, good.subarray(0, good.length - 1), context).checks.map((c) => [c.check, c.status]));
    expect(statuses).toEqual({ format: 'passed', signature: 'passed', size: 'failed', digest: 'failed', model: 'passed', sequence: 'passed' });
  });

  test('unsigned (zero signature) and wrongly signed: signature', () => {
    const parsed = parse(good);
    const unsigned = encodeEnvelope({ ...parsed, signature: new Uint8Array(64) });
    expect(refusal(unsigned)).toMatchObject({ code: 'SIGNATURE', check: 'signature', message: expect.stringContaining('trusted') });
    const foreign = pack(crypto, image, fields, stranger.secretKey);
    expect(refusal(foreign)).toMatchObject({ code: 'SIGNATURE', check: 'signature' });
    // the same package passes once its signer is trusted
    expect(stage(crypto, foreign, { ...context, trustedKeys: [vendor.publicKey, stranger.publicKey] }).manifest.version).toBe('2.1.0');
  });

  test('image swapped for one of the same size: digest', () => {
    const parsed = parse(good);
    const swapped = encodeEnvelope({ ...parsed, image: random(1000) });
    expect(refusal(swapped)).toMatchObject({ code: 'DIGEST', check: 'digest', message: expect.stringContaining('SHA-256') });
  });

  test('wrong model: model', () => {
    expect(refusal(good, { model: 'GX-310' })).toMatchObject({ code: 'MODEL', check: 'model', message: expect.stringContaining('GX-310') });
  });

  test('rolled back or replayed sequence: sequence (anti-rollback)', () => {
    expect(refusal(good, { runningSequence: 5 })).toMatchObject({ code: 'ROLLBACK', check: 'sequence', message: expect.stringContaining('rollback') });
    expect(refusal(pack(crypto, image, { ...fields, sequence: 3 }, vendor.secretKey))).toMatchObject({ code: 'ROLLBACK', check: 'sequence' });
  });

  test('pack refuses what no meter could take', () => {
    expect(() => pack(crypto, new Uint8Array(0), fields, vendor.secretKey)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => pack(crypto, image, { ...fields, sequence: 0 }, vendor.secretKey)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
    expect(() => pack(crypto, image, { ...fields, model: '' }, vendor.secretKey)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('signing key files', () => {
  test('written as typed hex, secret owner-only, read back; never overwritten; bad files refused', () => {
    const base = join(mkdtempSync(join(tmpdir(), 'fwkeys-')), 'vendor');
    const { secretPath, publicPath } = writeSigningKeyFiles(base, vendor);
    expect(readSigningKey(secretPath)).toEqual(vendor.secretKey);
    expect(readPublicKey(publicPath)).toEqual(vendor.publicKey);
    expect(statSync(secretPath).mode & 0o777).toBe(0o600);
    expect(() => writeSigningKeyFiles(base, stranger)).toThrow(/EEXIST/);
    expect(readFileSync(secretPath, 'utf8')).toBe(`-----BEGIN GREP VENDOR SECRET KEY-----\n${toHex(vendor.secretKey)}\n-----END GREP VENDOR SECRET KEY-----\n`);
    expect(readFileSync(publicPath, 'utf8')).toBe(`-----BEGIN GREP VENDOR PUBLIC KEY-----\n${toHex(vendor.publicKey)}\n-----END GREP VENDOR PUBLIC KEY-----\n`);
    writeFileSync(`${base}.bad`, keyFileText('vendorSecret', vendor.secretKey).replace(/[0-9a-f]{64}/, 'zz'));
    expect(() => readSigningKey(`${base}.bad`)).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE' }));
    // a small-order point would accept forged signatures
    writeFileSync(`${base}.weak`, keyFileText('vendorPublic', Uint8Array.of(1, ...new Uint8Array(31))));
    expect(() => readPublicKey(`${base}.weak`)).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE', message: expect.stringMatching(/small-order/) }));
  });

  test('a public key is never read as the secret one, nor the reverse', () => {
    const base = join(mkdtempSync(join(tmpdir(), 'fwkeys-')), 'vendor');
    const { secretPath, publicPath } = writeSigningKeyFiles(base, vendor);
    expect(() => readSigningKey(publicPath)).toThrow(expect.objectContaining({ code: 'WRONG_KEY_TYPE', message: `${publicPath} is a vendor public key; this needs a vendor secret key (the <base>.key that grepctl fw keygen wrote)` }));
    expect(() => readPublicKey(secretPath)).toThrow(expect.objectContaining({ code: 'WRONG_KEY_TYPE', message: expect.stringMatching(/is a vendor secret key; this needs a vendor public key/) }));
    // bare hex, as fw keygen wrote before key files were typed, says neither
    writeFileSync(`${base}.bare`, `${toHex(vendor.publicKey)}\n`);
    expect(() => readSigningKey(`${base}.bare`)).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE', message: expect.stringMatching(/no key type line/) }));
    expect(() => readPublicKey(`${base}.bare`)).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE', message: expect.stringMatching(/no key type line/) }));
  });
});

describe('campaign frames', () => {
  const kmKey = random(32);
  const kmPublicKey = crypto.publicKey(kmKey);
  const kg = random(16);
  const kfw = random(16);
  const sealer = new CampaignSealer({ crypto, groupId: 3, campaign: 9, kfw, pkg: parse(good), blockSize: 256, kmSigningKey: kmKey });

  test('the firmware type code is outside the rekey codes and the command code: no shared nonce under KG', () => {
    expect(FIRMWARE_TYPE_CODE).toBeGreaterThan(MESSAGE_TYPES.length);
    expect(FIRMWARE_TYPE_CODE).not.toBe(COMMAND_TYPE_CODE);
    expect(sealer.key(4, kg)[1]).toBe(FIRMWARE_TYPE_CODE);
  });

  test('a block is header ‖ index ‖ total ‖ AEAD under K_fw with nonce 0x42 ‖ index, and opens only untouched', () => {
    expect(sealer.totalBlocks).toBe(4);
    const bytes = sealer.block(3);
    const aad = new ByteWriter(24).u8(1).u8(FIRMWARE_TYPE_CODE).u16(2).u32(3).u32(0).u32(9).u32(3).u32(4).done();
    const nonce = Uint8Array.from([0x42, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
    expect(bytes).toEqual(Uint8Array.from([...aad, ...crypto.seal(kfw, nonce, image.subarray(768), aad)]));
    const frame = decodeFirmwareFrame(bytes, 3);
    if (frame.kind !== 'block') throw new Error('not a block');
    expect(openBlock(crypto, frame, kfw)).toEqual(image.subarray(768));
    expect(openBlock(crypto, frame, random(16))).toBeUndefined();
    const tampered = bytes.slice();
    tampered[30] = tampered[30]! ^ 1;
    expect(openBlock(crypto, decodeFirmwareFrame(tampered, 3) as typeof frame, kfw)).toBeUndefined();
    // the index is authenticated: block 3's body presented as block 2 does not open
    const moved = bytes.slice();
    moved[19] = 2;
    expect(openBlock(crypto, decodeFirmwareFrame(moved, 3) as typeof frame, kfw)).toBeUndefined();
  });

  test('the key frame opens under its KG with the KM signature, and under nothing else', () => {
    const frame = decodeFirmwareFrame(sealer.key(4, kg), 3);
    if (frame.kind !== 'key') throw new Error('not a key frame');
    const key = openKeyFrame(crypto, frame, { kmPublicKey, kg });
    expect(key).toMatchObject({ kfw, blockSize: 256, totalBlocks: 4, manifest: { model: 'GX-110', sequence: 5 } });
    expect(() => openKeyFrame(crypto, frame, { kmPublicKey, kg: random(16) })).toThrow(expect.objectContaining({ code: 'DECRYPT_FAILED' }));
    expect(() => openKeyFrame(crypto, frame, { kmPublicKey: vendor.publicKey, kg })).toThrow(expect.objectContaining({ code: 'BAD_SIGNATURE' }));
    expect(() => decodeFirmwareFrame(sealer.key(4, kg), 4)).toThrow(expect.objectContaining({ code: 'WRONG_GROUP' }));
    expect(() => decodeFirmwareFrame(sealer.key(4, kg).subarray(0, 40), 3)).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });
});
