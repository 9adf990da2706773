import { fromHex, toHex } from '../grep/bytes.js';
import { PUBLIC_KEY_BYTES, SIGNING_KEY_BYTES } from '../grep/crypto.js';
import { GrepError } from '../grep/errors.js';
import { InputFileError, readInputFile } from './readBounded.js';

/*
 * Key files say what they hold. A vendor's secret seed and its public key are both 32 bytes of hex,
 * so without a type `fw pack --key vendor.pub` signed with the public key as a seed, and
 * `fw trust --key vendor.key` would have stored (and printed) the secret seed as a trusted key.
 * The type is PEM-like armor around the hex, which an operator can still compare by eye:
 *
 *   -----BEGIN GREP VENDOR PUBLIC KEY-----
 *   cabf0338117450f0841f46a03d57dae4a2cdbe35b3768f64fc70339e8addb15b
 *   -----END GREP VENDOR PUBLIC KEY-----
 *
 * Vendor keys are made by `grepctl fw keygen` and must carry their type. A pairing key comes from the
 * DC's configuration and a KM public key from what `group create` printed, so those may be bare hex;
 * a file armored as any other type is refused by name all the same.
 */

export const KEY_FILE_TYPES = {
  vendorSecret: { label: 'GREP VENDOR SECRET KEY', name: 'vendor secret key', bytes: [SIGNING_KEY_BYTES], bareHex: false, source: 'the <base>.key that grepctl fw keygen wrote' },
  vendorPublic: { label: 'GREP VENDOR PUBLIC KEY', name: 'vendor public key', bytes: [PUBLIC_KEY_BYTES], bareHex: false, source: 'the <base>.pub that grepctl fw keygen wrote' },
  pairing: { label: 'GREP DC PAIRING KEY', name: 'DC pairing key', bytes: [16, 32], bareHex: true, source: "the DC's pairing key, 16 or 32 bytes as hex" },
  kmPublic: { label: 'GREP KM PUBLIC KEY', name: 'KM public key', bytes: [PUBLIC_KEY_BYTES], bareHex: true, source: 'the KM public key that grepctl group create printed' },
} as const satisfies Record<string, { label: string; name: string; bytes: readonly number[]; bareHex: boolean; source: string }>;
export type KeyFileType = keyof typeof KEY_FILE_TYPES;

const ARMOR = /^-----(BEGIN|END) ([A-Z0-9 ]+)-----$/;

export function keyFileText(type: KeyFileType, key: Uint8Array): string {
  const { label } = KEY_FILE_TYPES[type];
  return `-----BEGIN ${label}-----\n${toHex(key)}\n-----END ${label}-----\n`;
}

/** The key in the file at `path`, which must be of `type`; every refusal names the file, never its content. */
export function readKeyFile(path: string, type: KeyFileType): Uint8Array {
  const expected = KEY_FILE_TYPES[type];
  const bad = (message: string) => new InputFileError('BAD_KEY_FILE', path, `${path}: ${message}`);
  const lines = readInputFile(path, 'key')
    .toString('utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const begin = ARMOR.exec(lines[0] ?? '');
  let hex: string;
  if (begin) {
    const label = begin[2]!;
    if (begin[1] !== 'BEGIN') throw bad('the key type line must come first');
    if (label !== expected.label) {
      const found = Object.values(KEY_FILE_TYPES).find((candidate) => candidate.label === label);
      const what = found ? `a ${found.name}` : `a "${label}", not a GREP key`;
      throw new InputFileError('WRONG_KEY_TYPE', path, `${path} is ${what}; this needs a ${expected.name} (${expected.source})`);
    }
    if (lines.length !== 3 || lines[2] !== `-----END ${label}-----`) throw bad(`a ${expected.name} file is the BEGIN line, one line of hex and the END line`);
    hex = lines[1]!;
  } else {
    if (!expected.bareHex) {
      throw bad(`no key type line: a ${expected.name} file starts with -----BEGIN ${expected.label}----- (a bare-hex key from an older fw keygen needs its BEGIN and END lines added)`);
    }
    if (lines.length !== 1) throw bad(`a ${expected.name} file holds one line of hex`);
    hex = lines[0]!;
  }
  let key: Uint8Array;
  try {
    key = fromHex(hex);
  } catch (error) {
    if (error instanceof GrepError) throw bad(`the ${expected.name} is not hex`);
    throw error;
  }
  if (!(expected.bytes as readonly number[]).includes(key.length)) throw bad(`a ${expected.name} is ${expected.bytes.join(' or ')} bytes of hex, not ${key.length}`);
  return key;
}
