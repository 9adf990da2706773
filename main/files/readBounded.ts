import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';

/*
 * Every file a person names on a command line (grepctl, the console, the simulator) is read here and
 * nowhere else. Such a path may name /dev/zero, a FIFO nobody writes to, a directory, or a sparse file
 * of terabytes: a plain readFileSync would hang on the FIFO or fill the memory. So the file is opened
 * non-blocking (a FIFO opens at once instead of waiting for a writer), the OPENED descriptor is
 * fstat()ed (no window between the check and the read), anything but a regular file is refused, and
 * at most cap + 1 bytes are ever read, so a file that grows while it is read is refused too.
 */

const KiB = 1 << 10;
const MiB = 1 << 20;

/**
 * The one table of caps: what each kind of input file may weigh at most. This module sits below the
 * domain (the store reads backups through it), so the caps that mirror a domain limit are numbers
 * here and test/unit/inputFiles.test.ts holds them to that limit.
 */
export const INPUT_FILES = {
  /** what one commissioning plan takes (COMMISSION_LIMIT.csvBytes) */
  csv: { what: 'commissioning CSV', maxBytes: 16 * MiB },
  /** just above the largest valid package (MAX_PACKAGE_BYTES, 16 MiB + 64 KiB): parse() refuses what lies between */
  firmwarePackage: { what: 'firmware package', maxBytes: 17 * MiB },
  /** MAX_IMAGE_BYTES: what a meter's inactive slot holds */
  firmwareImage: { what: 'firmware image', maxBytes: 16 * MiB },
  /** a key file is one armored line of hex: a few hundred bytes */
  key: { what: 'key file', maxBytes: 4 * KiB },
  passphrase: { what: 'passphrase file', maxBytes: 4 * KiB },
  /** the whole store, sealed in one box that restore opens in memory: readFileSync's own limit, as before */
  backup: { what: 'backup', maxBytes: 2048 * MiB - 1 },
} as const satisfies Record<string, { readonly what: string; readonly maxBytes: number }>;
export type InputFileKind = keyof typeof INPUT_FILES;

export type InputFileErrorCode =
  | 'NOT_FOUND'
  /** a FIFO, a device, a directory, a socket */
  | 'NOT_A_FILE'
  | 'TOO_LARGE'
  | 'UNREADABLE'
  /** key files (keyFile.ts): not hex, wrong length, unknown armor */
  | 'BAD_KEY_FILE'
  /** a key file of another type: a public key where the secret one is needed, or the reverse */
  | 'WRONG_KEY_TYPE';

export class InputFileError extends Error {
  override readonly name = 'InputFileError';
  constructor(
    readonly code: InputFileErrorCode,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function sizeText(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function fileType(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notAFile(path: string, type: string, kind: InputFileKind): InputFileError {
  return new InputFileError('NOT_A_FILE', path, `${path} is ${type}, not a regular file: a ${INPUT_FILES[kind].what} must be a file`);
}

function opened(path: string, kind: InputFileKind): number {
  try {
    // O_NOCTTY: naming a terminal must not make it this process's controlling terminal
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputFileError('NOT_FOUND', path, `${path}: no such file`);
    // a UNIX socket cannot be opened at all; this stat only words the refusal
    const stats = code === 'ENXIO' ? statSync(path, { throwIfNoEntry: false }) : undefined;
    if (stats) throw notAFile(path, fileType(stats), kind);
    throw new InputFileError('UNREADABLE', path, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function tooLarge(path: string, kind: InputFileKind, size: string): InputFileError {
  const { what, maxBytes } = INPUT_FILES[kind];
  return new InputFileError('TOO_LARGE', path, `${path} is ${size}: a ${what} is at most ${sizeText(maxBytes)}`);
}

/** The bytes of the regular file at `path`, at most the cap of its kind; refusals are InputFileErrors that name the file. */
export function readInputFile(path: string, kind: InputFileKind): Buffer {
  const cap = INPUT_FILES[kind].maxBytes;
  const fd = opened(path, kind);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notAFile(path, fileType(stats), kind);
    if (stats.size > cap) throw tooLarge(path, kind, sizeText(stats.size));
    // one byte past what fstat promised shows a file that grew; zeroed, so no pool memory rides along
    let buffer = Buffer.alloc(Math.min(stats.size + 1, cap + 1));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > cap) throw tooLarge(path, kind, `over ${sizeText(cap)} (it grew while being read)`);
        const grown = Buffer.alloc(Math.min(buffer.length * 2, cap + 1));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) return buffer.subarray(0, length);
      length += read;
    }
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    throw new InputFileError('UNREADABLE', path, `cannot read ${path}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
