import { ByteReader, ByteWriter } from '../grep/bytes.js';
import { type GrepCrypto, SIGNATURE_BYTES, SIGNING_KEY_BYTES, checkKey } from '../grep/crypto.js';
import { GrepError } from '../grep/errors.js';
import { FirmwareError, firmwareFail } from './errors.js';

/**
 * A firmware package, modelled on IETF SUIT (RFC 9124): a manifest saying what the image is (vendor,
 * device model, version, a monotonic sequence number against rollback, size, SHA-256) signed by the
 * vendor/operator key, and the image. Only the manifest is signed; the image is bound to it by the
 * digest, so a meter can check the signature before it holds the image and the digest once it does.
 *
 * Envelope (big-endian): magic "GRPF" (4) ‖ format version (1) ‖ manifest length (2) ‖ manifest ‖
 * signature (64) ‖ image (the rest). Manifest: vendor, model, version as length-prefixed UTF-8 (1 + n
 * each) ‖ sequence (4) ‖ size (4) ‖ digest (32). The manifest bytes are canonical: one encoding per
 * manifest, so the signature is over exactly what pack() wrote and parse() read.
 */

export const PACKAGE_MAGIC = Uint8Array.from([0x47, 0x52, 0x50, 0x46]);
export const PACKAGE_FORMAT_VERSION = 1;
export const DIGEST_BYTES = 32;
/** A meter's inactive slot is finite; 16 MiB bounds what a hostile package can make anyone allocate. */
export const MAX_IMAGE_BYTES = 16 << 20;
const MAX_TEXT_BYTES = 255;
const PREFIX_BYTES = PACKAGE_MAGIC.length + 1 + 2;
/** the largest manifest (its length is a u16) with the largest image */
export const MAX_PACKAGE_BYTES = PREFIX_BYTES + 0xffff + SIGNATURE_BYTES + MAX_IMAGE_BYTES;
/**
 * Domain separation: the same operator key may sign KM messages too, and a manifest signature must
 * never be mistaken for one of them.
 */
const SIGNING_CONTEXT = new TextEncoder().encode('GREP firmware manifest v1\0');

export interface Manifest {
  readonly vendor: string;
  /** device class/model: a meter installs only images for its own model */
  readonly model: string;
  /** for people; ordering comes from `sequence` */
  readonly version: string;
  /** strictly increasing per model; a meter refuses anything not above what it runs */
  readonly sequence: number;
  readonly size: number;
  readonly digest: Uint8Array;
}

export type ManifestFields = Omit<Manifest, 'size' | 'digest'>;

export interface FirmwarePackage {
  readonly manifest: Manifest;
  /** the canonical encoding the signature covers */
  readonly manifestBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly image: Uint8Array;
}

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });

function checkText(value: string, what: string): Uint8Array {
  const bytes = utf8.encode(value);
  if (bytes.length === 0 || bytes.length > MAX_TEXT_BYTES) firmwareFail('BAD_ARGUMENT', `${what} must be 1..${MAX_TEXT_BYTES} bytes of UTF-8`);
  return bytes;
}

function checkSequence(sequence: number): void {
  if (!Number.isInteger(sequence) || sequence < 1 || sequence > 0xffffffff) firmwareFail('BAD_ARGUMENT', 'sequence number must be an integer in 1..2^32-1');
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  const vendor = checkText(manifest.vendor, 'vendor');
  const model = checkText(manifest.model, 'model');
  const version = checkText(manifest.version, 'version');
  checkSequence(manifest.sequence);
  if (manifest.digest.length !== DIGEST_BYTES) firmwareFail('BAD_ARGUMENT', `digest must be ${DIGEST_BYTES} bytes`);
  const writer = new ByteWriter(3 + vendor.length + model.length + version.length + 4 + 4 + DIGEST_BYTES);
  for (const field of [vendor, model, version]) writer.u8(field.length).raw(field);
  return writer.u32(manifest.sequence).u32(manifest.size).raw(manifest.digest).done();
}

function readText(reader: ByteReader, what: string): string {
  const bytes = reader.raw(reader.u8(`${what} length`), what);
  try {
    return text.decode(bytes);
  } catch {
    firmwareFail('FORMAT', `${what} is not UTF-8`);
  }
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  return readingFormat(() => {
    const reader = new ByteReader(bytes);
    const vendor = readText(reader, 'vendor');
    const model = readText(reader, 'model');
    const version = readText(reader, 'version');
    const sequence = reader.u32('sequence');
    const size = reader.u32('size');
    const digest = reader.raw(DIGEST_BYTES, 'digest');
    reader.end('manifest');
    if (size > MAX_IMAGE_BYTES) firmwareFail('FORMAT', `manifest size ${size} exceeds ${MAX_IMAGE_BYTES}`);
    return { vendor, model, version, sequence, size, digest };
  });
}

/** What the vendor/operator key signs: context ‖ canonical manifest. */
export function manifestSigningInput(manifestBytes: Uint8Array): Uint8Array {
  return new ByteWriter(SIGNING_CONTEXT.length + manifestBytes.length).raw(SIGNING_CONTEXT).raw(manifestBytes).done();
}

export function pack(crypto: GrepCrypto, image: Uint8Array, fields: ManifestFields, signingKey: Uint8Array): Uint8Array {
  checkKey(signingKey, 'vendor signing key', SIGNING_KEY_BYTES);
  if (image.length === 0 || image.length > MAX_IMAGE_BYTES) firmwareFail('BAD_ARGUMENT', `image must be 1..${MAX_IMAGE_BYTES} bytes`);
  const manifestBytes = encodeManifest({ ...fields, size: image.length, digest: crypto.sha256(image) });
  const signature = crypto.sign(signingKey, manifestSigningInput(manifestBytes));
  return encodeEnvelope({ manifestBytes, signature, image });
}

export function encodeEnvelope(pkg: Pick<FirmwarePackage, 'manifestBytes' | 'signature' | 'image'>): Uint8Array {
  return new ByteWriter(PREFIX_BYTES + pkg.manifestBytes.length + SIGNATURE_BYTES + pkg.image.length)
    .raw(PACKAGE_MAGIC)
    .u8(PACKAGE_FORMAT_VERSION)
    .u16(pkg.manifestBytes.length)
    .raw(pkg.manifestBytes)
    .raw(pkg.signature)
    .raw(pkg.image)
    .done();
}

/** Structural parse: every length is checked before reading; nothing is verified here (verify.ts). */
export function parse(bytes: Uint8Array): FirmwarePackage {
  return readingFormat(() => {
    if (bytes.length > MAX_PACKAGE_BYTES) firmwareFail('FORMAT', 'package is larger than any valid package');
    const reader = new ByteReader(bytes);
    const magic = reader.raw(PACKAGE_MAGIC.length, 'magic');
    if (!magic.every((byte, index) => byte === PACKAGE_MAGIC[index])) firmwareFail('FORMAT', 'not a firmware package (bad magic)');
    const version = reader.u8('format version');
    if (version !== PACKAGE_FORMAT_VERSION) firmwareFail('FORMAT', `package format version ${version} is not supported`);
    const manifestBytes = reader.raw(reader.u16('manifest length'), 'manifest');
    const manifest = decodeManifest(manifestBytes);
    const signature = reader.raw(SIGNATURE_BYTES, 'signature');
    const image = reader.raw(reader.remaining, 'image');
    return { manifest, manifestBytes, signature, image };
  });
}

/** The codec's TRUNCATED/OVERSIZED become the staging check that failed: format. */
function readingFormat<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof GrepError || (error instanceof FirmwareError && error.code === 'FORMAT')) throw new FirmwareError('FORMAT', error.message, 'format');
    throw error;
  }
}
