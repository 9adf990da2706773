import type { ByteReader, ByteWriter } from '../grep/bytes.js';
import { fail } from '../grep/errors.js';
import { checkGenerationSize, generationBlocks, MAX_GENERATION_SIZE, SYMBOLS_PER_GENERATION } from './erasure.js';

/**
 * How a coded campaign's KEY frame names its erasure code (blocks.ts): an optional trailer after the
 * audience, code (1: systematic Reed–Solomon over GF(2^8), Cauchy, erasure.ts) ‖ generation size (2) ‖
 * repair symbols per generation (2: symbol indices generationSize..255). A KEY frame without it is
 * byte for byte today's, so a meter model without erasure support gets the campaign it always got.
 */

export interface Coding {
  readonly code: 'reed-solomon';
  /** source blocks per generation: a meter decodes any generationSize symbols of a generation */
  readonly generationSize: number;
}

const REED_SOLOMON = 1;
export const CODING_BYTES = 1 + 2 + 2;

/** Chosen by bench:firmware (README): 16 KiB of blocks and a 4 KiB matrix at 256-byte blocks. */
export const DEFAULT_GENERATION_SIZE = 64;

export function repairSymbols(coding: Coding): number {
  return SYMBOLS_PER_GENERATION - coding.generationSize;
}

export function writeCoding(writer: ByteWriter, coding: Coding): void {
  checkGenerationSize(coding.generationSize);
  writer.u8(REED_SOLOMON).u16(coding.generationSize).u16(repairSymbols(coding));
}

/** The trailer if the frame has one; every field checked, so a meter never sets up a decoder it cannot run. */
export function readCoding(reader: ByteReader): Coding | undefined {
  if (reader.remaining === 0) return undefined;
  const code = reader.u8('erasure code');
  if (code !== REED_SOLOMON) fail('MALFORMED', `unknown erasure code ${code}`);
  const generationSize = reader.u16('generation size');
  const repair = reader.u16('repair symbols');
  if (generationSize < 1 || generationSize > MAX_GENERATION_SIZE || repair !== SYMBOLS_PER_GENERATION - generationSize) fail('MALFORMED', `generation of ${generationSize} blocks with ${repair} repair symbols`);
  return { code: 'reed-solomon', generationSize };
}

/** A generation's source blocks as the code sees them: the image's last block zero-padded to blockSize. */
export function generationSources(image: Uint8Array, blockSize: number, generationSize: number, generation: number): Uint8Array[] {
  const { first, count } = generationBlocks(Math.ceil(image.length / blockSize), generationSize, generation);
  return Array.from({ length: count }, (_, offset) => {
    const start = (first + offset) * blockSize;
    const block = new Uint8Array(blockSize);
    block.set(image.subarray(start, start + blockSize));
    return block;
  });
}
