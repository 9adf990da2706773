import { ByteReader, ByteWriter } from '../grep/bytes.js';
import { checkKey, type GrepCrypto, KEY_BYTES, NONCE_BYTES, SIGNATURE_BYTES, TAG_BYTES } from '../grep/crypto.js';
import { fail } from '../grep/errors.js';
import { checkU32, HEADER_BYTES, PROTOCOL_VERSION, readHeader } from '../grep/wire.js';
import type { CampaignSend } from './campaign.js';
import { type Coding, CODING_BYTES, generationSources, readCoding, writeCoding } from './coding.js';
import { checkGenerationSize, generationCount, isRepairSymbol, repairSymbol } from './erasure.js';
import { decodeManifest, type FirmwarePackage, type Manifest } from './package.js';

/**
 * Campaign frames on the medium (GREP.md §10 "Firmware"). Every frame starts with the §8 header: type
 * FIRMWARE_TYPE_CODE, flags = frame kind, subject = campaign id.
 *
 * KEY      header(epoch = KG's) ‖ AEAD_KG(K_fw ‖ block size ‖ total blocks ‖ manifest ‖ vendor signature
 *          ‖ audience) ‖ KM signature. The audience (0 = every meter of the manifest's model, or 1 ‖ count ‖
 *          meter ids) is how a push to chosen meters stays theirs: every member holds KG and hears the
 *          frames, so without it the others would take the image too and switch on the activate frame. Nonce 0x41 ‖ epoch ‖ campaign id ‖ 0: 0x41 is outside wire.ts's 1..14 and
 *          command.ts's 0x40, so under one KG it never meets a rekey or a command nonce; one campaign id
 *          per epoch gets one KEY plaintext, and a resend is byte-identical. Signed because every
 *          member holds KG and could otherwise hand the group a content key of its own.
 * BLOCK    header(epoch 0) ‖ index (4) ‖ total (4) ‖ AEAD_Kfw(block bytes), AAD = all before it.
 *          Nonce 0x42 ‖ index ‖ 0. K_fw is fresh per campaign, so the block index alone keeps nonces
 *          unique: two campaigns never share a nonce space because they never share a key.
 *          Not signed (64 bytes on every 256 would cost a quarter of the airtime): an insider holds
 *          K_fw and could forge a block that opens, but the image is then checked against the
 *          vendor-signed digest, so a forgery can make a meter fail a campaign, never install a foreign image.
 * REPAIR   header(epoch 0) ‖ generation (4) ‖ symbol (4) ‖ AEAD_Kfw(repair symbol), AAD = all before it; only in
 *          a coded campaign (coding.ts, erasure.ts). Nonce 0x44 ‖ generation ‖ symbol: the first byte keeps
 *          it apart from every block nonce under the same K_fw, and (generation, symbol) names one
 *          plaintext, so a resend is byte-identical. Authenticated like a block, and for the same reason
 *          enough: a tampered repair symbol does not open and is never fed to the decoder.
 * QUERY    header(epoch = round) ‖ AEAD_Kfw(empty), nonce 0x43 ‖ round: "report your missing blocks".
 *          Sealed so only holders of K_fw can make meters spend uplink.
 * ACTIVATE header ‖ KM signature: switching slots is the KM's decision alone.
 */

export const FIRMWARE_TYPE_CODE = 0x41;
export const DEFAULT_BLOCK_SIZE = 256;
const BLOCK_NONCE_CODE = 0x42;
const QUERY_NONCE_CODE = 0x43;
const REPAIR_NONCE_CODE = 0x44;

export const FrameKind = { KEY: 1, BLOCK: 2, QUERY: 3, ACTIVATE: 4, REPAIR: 5 } as const;
type FrameKindCode = (typeof FrameKind)[keyof typeof FrameKind];

/** Everything a meter needs to receive and check the image: what the KEY frame carries. */
/** Who a campaign is for: every meter of the manifest's model, or exactly the listed meters. */
export type Audience = 'model' | readonly number[];

/** A listed audience rides in the KEY frame; past this a push goes to the whole model or is split. */
export const MAX_LISTED_AUDIENCE = 4096;

export interface CampaignKey {
  readonly kfw: Uint8Array;
  readonly blockSize: number;
  readonly totalBlocks: number;
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly audience: Audience;
  /** present in a coded campaign: meters then report per-generation counts and take repair symbols */
  readonly coding: Coding | undefined;
}

/** Whether a meter of `model` with id `meter` is in the campaign's audience. */
export function inAudience(key: Pick<CampaignKey, 'audience' | 'manifest'>, meter: number, model: string): boolean {
  return key.manifest.model === model && (key.audience === 'model' || key.audience.includes(meter));
}

export type FirmwareFrame =
  | { readonly kind: 'key'; readonly campaign: number; readonly epoch: number; readonly aad: Uint8Array; readonly sealed: Uint8Array; readonly signed: Uint8Array; readonly kmSignature: Uint8Array }
  | { readonly kind: 'block'; readonly campaign: number; readonly index: number; readonly total: number; readonly aad: Uint8Array; readonly sealed: Uint8Array }
  | { readonly kind: 'repair'; readonly campaign: number; readonly generation: number; readonly symbol: number; readonly aad: Uint8Array; readonly sealed: Uint8Array }
  | { readonly kind: 'query'; readonly campaign: number; readonly round: number; readonly aad: Uint8Array; readonly sealed: Uint8Array }
  | { readonly kind: 'activate'; readonly campaign: number; readonly signed: Uint8Array; readonly kmSignature: Uint8Array };

export function blockCount(imageBytes: number, blockSize: number): number {
  return Math.ceil(imageBytes / blockSize);
}

export function isFirmwareFrame(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[1] === FIRMWARE_TYPE_CODE;
}

function header(kind: FrameKindCode, groupId: number, epoch: number, campaign: number): ByteWriter {
  return new ByteWriter(HEADER_BYTES).u8(PROTOCOL_VERSION).u8(FIRMWARE_TYPE_CODE).u16(kind).u32(groupId).u32(epoch).u32(campaign);
}

function nonce(code: number, first: number, second = 0): Uint8Array {
  return new ByteWriter(NONCE_BYTES).u8(code).u32(first).u32(second).u8(0).u16(0).done();
}

function signedFrame(crypto: GrepCrypto, signingKey: Uint8Array, body: Uint8Array): Uint8Array {
  return new ByteWriter(body.length + SIGNATURE_BYTES).raw(body).raw(crypto.sign(signingKey, body)).done();
}

export interface SealerOptions {
  readonly crypto: GrepCrypto;
  readonly groupId: number;
  readonly campaign: number;
  /** the campaign's content key: fresh random per campaign */
  readonly kfw: Uint8Array;
  readonly pkg: FirmwarePackage;
  readonly blockSize: number;
  readonly kmSigningKey: Uint8Array;
  /** default 'model' */
  readonly audience?: Audience;
  /** an erasure-coded campaign; absent: block repair only, and a KEY frame meters without erasure support read */
  readonly coding?: Coding;
}

/** The KM's side: every frame of one campaign, deterministic, so a resend is byte-identical. */
export class CampaignSealer {
  readonly totalBlocks: number;
  private readonly audience: Audience;
  readonly coding: Coding | undefined;
  constructor(private readonly options: SealerOptions) {
    checkU32(options.groupId, 'group id');
    checkU32(options.campaign, 'campaign id');
    checkKey(options.kfw, 'K_fw');
    if (!Number.isInteger(options.blockSize) || options.blockSize < 16 || options.blockSize > 0xffff) fail('BAD_ARGUMENT', 'block size must be 16..65535');
    this.totalBlocks = blockCount(options.pkg.image.length, options.blockSize);
    const { audience = 'model' } = options;
    if (audience !== 'model') {
      if (audience.length === 0 || audience.length > MAX_LISTED_AUDIENCE) fail('BAD_ARGUMENT', `a listed audience holds 1..${MAX_LISTED_AUDIENCE} meters`);
      for (const meter of audience) checkU32(meter, 'meter id');
    }
    this.audience = audience;
    this.coding = options.coding;
    if (this.coding) checkGenerationSize(this.coding.generationSize);
  }

  key(epoch: number, kg: Uint8Array): Uint8Array {
    const { crypto, pkg, campaign } = this.options;
    checkKey(kg, 'KG');
    const listed = this.audience === 'model' ? [] : this.audience;
    const writer = new ByteWriter(KEY_BYTES + 2 + 4 + 2 + pkg.manifestBytes.length + SIGNATURE_BYTES + 1 + (listed.length > 0 ? 2 + 4 * listed.length : 0) + (this.coding ? CODING_BYTES : 0))
      .raw(this.options.kfw)
      .u16(this.options.blockSize)
      .u32(this.totalBlocks)
      .u16(pkg.manifestBytes.length)
      .raw(pkg.manifestBytes)
      .raw(pkg.signature)
      .u8(listed.length > 0 ? 1 : 0);
    if (listed.length > 0) {
      writer.u16(listed.length);
      for (const meter of listed) writer.u32(meter);
    }
    if (this.coding) writeCoding(writer, this.coding);
    const plaintext = writer.done();
    const aad = header(FrameKind.KEY, this.options.groupId, epoch, campaign).done();
    const sealed = crypto.seal(kg, nonce(FIRMWARE_TYPE_CODE, epoch, campaign), plaintext, aad);
    return signedFrame(crypto, this.options.kmSigningKey, new ByteWriter(aad.length + sealed.length).raw(aad).raw(sealed).done());
  }

  block(index: number): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.totalBlocks) fail('BAD_ARGUMENT', `block ${index} is not in 0..${this.totalBlocks - 1}`);
    const { blockSize, pkg } = this.options;
    const aad = new ByteWriter(HEADER_BYTES + 8).raw(header(FrameKind.BLOCK, this.options.groupId, 0, this.options.campaign).done()).u32(index).u32(this.totalBlocks).done();
    const sealed = this.options.crypto.seal(this.options.kfw, nonce(BLOCK_NONCE_CODE, index), pkg.image.subarray(index * blockSize, (index + 1) * blockSize), aad);
    return new ByteWriter(aad.length + sealed.length).raw(aad).raw(sealed).done();
  }

  /** Repair symbol `symbol` of `generation`: coded campaigns only. */
  repair(generation: number, symbol: number): Uint8Array {
    const { coding } = this;
    if (!coding) fail('BAD_ARGUMENT', 'a campaign without an erasure code has no repair symbols');
    const generations = generationCount(this.totalBlocks, coding.generationSize);
    if (!Number.isInteger(generation) || generation < 0 || generation >= generations) fail('BAD_ARGUMENT', `generation ${generation} is not in 0..${generations - 1}`);
    if (!isRepairSymbol(coding.generationSize, symbol)) fail('BAD_ARGUMENT', `repair symbol ${symbol} is outside the code's index space`);
    const { blockSize, pkg } = this.options;
    const bytes = repairSymbol(coding.generationSize, generationSources(pkg.image, blockSize, coding.generationSize, generation), symbol);
    const aad = new ByteWriter(HEADER_BYTES + 8).raw(header(FrameKind.REPAIR, this.options.groupId, 0, this.options.campaign).done()).u32(generation).u32(symbol).done();
    const sealed = this.options.crypto.seal(this.options.kfw, nonce(REPAIR_NONCE_CODE, generation, symbol), bytes, aad);
    return new ByteWriter(aad.length + sealed.length).raw(aad).raw(sealed).done();
  }

  query(round: number): Uint8Array {
    const aad = header(FrameKind.QUERY, this.options.groupId, round, this.options.campaign).done();
    const sealed = this.options.crypto.seal(this.options.kfw, nonce(QUERY_NONCE_CODE, round), new Uint8Array(0), aad);
    return new ByteWriter(aad.length + sealed.length).raw(aad).raw(sealed).done();
  }

  activate(): Uint8Array {
    return signedFrame(this.options.crypto, this.options.kmSigningKey, header(FrameKind.ACTIVATE, this.options.groupId, 0, this.options.campaign).done());
  }

  /** The frame an engine send stands for; `groupKey` is read only for a key frame, at the moment it is sealed. */
  frame(send: CampaignSend, groupKey: () => { readonly epoch: number; readonly kg: Uint8Array }): Uint8Array {
    switch (send.kind) {
      case 'key': {
        const { epoch, kg } = groupKey();
        return this.key(epoch, kg);
      }
      case 'block':
        return this.block(send.index);
      case 'repair':
        return this.repair(send.generation, send.symbol);
      case 'query':
        return this.query(send.round);
      case 'activate':
        return this.activate();
    }
  }
}

/** Structural decode: lengths and kinds checked, nothing verified or opened. */
export function decodeFirmwareFrame(bytes: Uint8Array, groupId: number): FirmwareFrame {
  const { reader, header: head } = readHeader(bytes, 'firmware frame');
  if (head.typeCode !== FIRMWARE_TYPE_CODE) fail('UNKNOWN_TYPE', `type ${head.typeCode} is not a firmware frame`);
  if (head.groupId !== groupId) fail('WRONG_GROUP', `firmware frame for group ${head.groupId}`);
  const campaign = head.subject;
  const rest = (what: string, least: number) => {
    if (reader.remaining < least) fail('TRUNCATED', `${what} is too short`);
    return reader.raw(reader.remaining, what);
  };
  switch (head.flags) {
    case FrameKind.KEY: {
      const aad = reader.since(0).slice();
      const sealed = rest('key frame', TAG_BYTES + SIGNATURE_BYTES);
      const body = sealed.subarray(0, sealed.length - SIGNATURE_BYTES);
      return { kind: 'key', campaign, epoch: head.epoch, aad, sealed: body, signed: bytes.slice(0, bytes.length - SIGNATURE_BYTES), kmSignature: sealed.subarray(body.length) };
    }
    case FrameKind.BLOCK: {
      const index = reader.u32('block index');
      const total = reader.u32('total blocks');
      if (index >= total) fail('MALFORMED', `block ${index} of ${total}`);
      const aad = reader.since(0).slice();
      return { kind: 'block', campaign, index, total, aad, sealed: rest('block', TAG_BYTES) };
    }
    case FrameKind.REPAIR: {
      const generation = reader.u32('generation');
      const symbol = reader.u32('repair symbol');
      const aad = reader.since(0).slice();
      return { kind: 'repair', campaign, generation, symbol, aad, sealed: rest('repair symbol', TAG_BYTES) };
    }
    case FrameKind.QUERY: {
      const aad = reader.since(0).slice();
      return { kind: 'query', campaign, round: head.epoch, aad, sealed: rest('query', TAG_BYTES) };
    }
    case FrameKind.ACTIVATE: {
      const signed = reader.since(0).slice();
      const kmSignature = reader.raw(SIGNATURE_BYTES, 'signature');
      reader.end('activate frame');
      return { kind: 'activate', campaign, signed, kmSignature };
    }
    default:
      fail('MALFORMED', `unknown firmware frame kind ${head.flags}`);
  }
}

/** Throws BAD_SIGNATURE (not the KM), DECRYPT_FAILED (not this KG), MALFORMED. */
export function openKeyFrame(crypto: GrepCrypto, frame: Extract<FirmwareFrame, { kind: 'key' }>, keys: { readonly kmPublicKey: Uint8Array; readonly kg: Uint8Array }): CampaignKey {
  if (!crypto.verify(keys.kmPublicKey, frame.signed, frame.kmSignature)) fail('BAD_SIGNATURE', 'key frame is not signed by the Key Manager');
  const plaintext = crypto.open(keys.kg, nonce(FIRMWARE_TYPE_CODE, frame.epoch, frame.campaign), frame.sealed, frame.aad);
  if (!plaintext) fail('DECRYPT_FAILED', 'key frame does not open under this group key');
  const reader = new ByteReader(plaintext);
  const kfw = reader.raw(KEY_BYTES, 'K_fw');
  const blockSize = reader.u16('block size');
  const totalBlocks = reader.u32('total blocks');
  const manifestBytes = reader.raw(reader.u16('manifest length'), 'manifest');
  const signature = reader.raw(SIGNATURE_BYTES, 'vendor signature');
  const audience = readAudience(reader);
  const coding = readCoding(reader);
  reader.end('key frame');
  const manifest = decodeManifest(manifestBytes);
  if (blockSize === 0 || totalBlocks !== blockCount(manifest.size, blockSize)) fail('MALFORMED', 'block layout does not match the manifest size');
  return { kfw, blockSize, totalBlocks, manifest, manifestBytes, signature, audience, coding };
}

function readAudience(reader: ByteReader): Audience {
  const kind = reader.u8('audience kind');
  if (kind === 0) return 'model';
  if (kind !== 1) fail('MALFORMED', `unknown audience kind ${kind}`);
  const count = reader.u16('audience size');
  if (count === 0 || count > MAX_LISTED_AUDIENCE) fail('MALFORMED', `audience of ${count} meters`);
  return Array.from({ length: count }, () => reader.u32('audience meter'));
}

/** The block's bytes, or undefined when it does not open under K_fw (tampered, or another campaign's). */
export function openBlock(crypto: GrepCrypto, frame: Extract<FirmwareFrame, { kind: 'block' }>, kfw: Uint8Array): Uint8Array | undefined {
  return crypto.open(kfw, nonce(BLOCK_NONCE_CODE, frame.index), frame.sealed, frame.aad);
}

/** The repair symbol's bytes, or undefined when it does not open under K_fw: never handed to the decoder then. */
export function openRepair(crypto: GrepCrypto, frame: Extract<FirmwareFrame, { kind: 'repair' }>, kfw: Uint8Array): Uint8Array | undefined {
  return crypto.open(kfw, nonce(REPAIR_NONCE_CODE, frame.generation, frame.symbol), frame.sealed, frame.aad);
}

export function queryIsGenuine(crypto: GrepCrypto, frame: Extract<FirmwareFrame, { kind: 'query' }>, kfw: Uint8Array): boolean {
  return crypto.open(kfw, nonce(QUERY_NONCE_CODE, frame.round), frame.sealed, frame.aad) !== undefined;
}

export function activateIsGenuine(crypto: GrepCrypto, frame: Extract<FirmwareFrame, { kind: 'activate' }>, kmPublicKey: Uint8Array): boolean {
  return crypto.verify(kmPublicKey, frame.signed, frame.kmSignature);
}
