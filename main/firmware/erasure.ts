import { firmwareFail } from './errors.js';

/**
 * The erasure code of coded campaigns (issue 13): a systematic Reed–Solomon code over GF(2^8) built
 * from a Cauchy matrix, applied per generation of at most `generationSize` source blocks.
 *
 * In a generation of k source blocks (k ≤ generationSize), symbol i < k is source block i itself and
 * repair symbol s (generationSize ≤ s < 256) is Σ_i C[s][i]·block_i with C[s][i] = 1 / (s ⊕ i): the
 * points {0..k-1} and {generationSize..255} are disjoint, so every square submatrix of C is a Cauchy
 * matrix and invertible, hence any k distinct symbols of a generation give back its k source blocks and
 * fewer than k never do (the code is MDS). A generation therefore has 256 − generationSize repair symbols.
 *
 * Decoding with e source blocks missing touches only the e missing blocks and e repair symbols:
 * e·(k − e) multiply-adds per byte to remove the known blocks, an e×e inversion (e³), then e² per
 * byte to solve. A meter holds at most k blocks and a k×k matrix per generation (erasureDecodingBytes).
 * Pure: no I/O, no randomness.
 */

export const SYMBOLS_PER_GENERATION = 256;
/** at least one repair symbol per generation; a meter's memory is what keeps it small (blocks.ts) */
export const MAX_GENERATION_SIZE = 255;

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  // x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the usual Reed–Solomon polynomial: 2 generates GF(2^8)*
  let value = 1;
  for (let power = 0; power < 255; power++) {
    EXP[power] = value;
    LOG[value] = power;
    value <<= 1;
    if (value & 0x100) value ^= 0x11d;
  }
  for (let power = 255; power < 512; power++) EXP[power] = EXP[power - 255]!;
}

/** MUL[a << 8 | b] = a·b: one row of it turns "add c·x to y" into a table lookup per byte */
const MUL = new Uint8Array(256 * 256);
for (let a = 1; a < 256; a++) for (let b = 1; b < 256; b++) MUL[(a << 8) | b] = EXP[LOG[a]! + LOG[b]!]!;

function inverse(value: number): number {
  if (value === 0) firmwareFail('BAD_ARGUMENT', 'zero has no inverse in GF(2^8)');
  return EXP[255 - LOG[value]!]!;
}

/** target ⊕= coefficient · source, bytewise */
function addScaled(target: Uint8Array, source: Uint8Array, coefficient: number): void {
  if (coefficient === 0) return;
  const row = MUL.subarray(coefficient << 8, (coefficient + 1) << 8);
  for (let byte = 0; byte < target.length; byte++) target[byte]! ^= row[source[byte]!]!;
}

function coefficient(symbol: number, source: number): number {
  return inverse(symbol ^ source);
}

export function checkGenerationSize(generationSize: number): void {
  if (!Number.isInteger(generationSize) || generationSize < 1 || generationSize > MAX_GENERATION_SIZE) firmwareFail('BAD_ARGUMENT', `generation size must be 1..${MAX_GENERATION_SIZE}`);
}

export function isRepairSymbol(generationSize: number, symbol: number): boolean {
  return Number.isInteger(symbol) && symbol >= generationSize && symbol < SYMBOLS_PER_GENERATION;
}

/** Repair symbol `symbol` of a generation whose source blocks are `sources` (all of one length: pad the last block). */
export function repairSymbol(generationSize: number, sources: readonly Uint8Array[], symbol: number): Uint8Array {
  checkGenerationSize(generationSize);
  if (sources.length === 0 || sources.length > generationSize) firmwareFail('BAD_ARGUMENT', `a generation holds 1..${generationSize} source blocks`);
  if (!isRepairSymbol(generationSize, symbol)) firmwareFail('BAD_ARGUMENT', `repair symbol ${symbol} is not in ${generationSize}..${SYMBOLS_PER_GENERATION - 1}`);
  const repair = new Uint8Array(sources[0]!.length);
  sources.forEach((source, index) => {
    if (source.length !== repair.length) firmwareFail('BAD_ARGUMENT', 'source blocks of a generation must be one length');
    addScaled(repair, source, coefficient(symbol, index));
  });
  return repair;
}

export interface RepairSymbol {
  readonly symbol: number;
  readonly bytes: Uint8Array;
}

/**
 * The generation's missing source blocks, from the ones held (undefined where missing) and at least as
 * many distinct repair symbols as blocks are missing; undefined while there are too few. Only the first
 * e repair symbols are used. The result maps missing index -> block; nothing given is modified.
 */
export function recoverGeneration(generationSize: number, sources: readonly (Uint8Array | undefined)[], repairs: readonly RepairSymbol[]): Map<number, Uint8Array> | undefined {
  checkGenerationSize(generationSize);
  const missing = sources.flatMap((source, index) => (source ? [] : [index]));
  const used = distinct(generationSize, repairs).slice(0, missing.length);
  if (used.length < missing.length) return undefined;
  const recovered = new Map<number, Uint8Array>();
  if (missing.length === 0) return recovered;
  const size = used[0]!.bytes.length;
  // syndromes: each repair symbol with the held blocks' share removed leaves C[R][M]·x
  const syndromes = used.map(({ symbol, bytes }) => {
    if (bytes.length !== size) firmwareFail('BAD_ARGUMENT', 'repair symbols of a generation must be one length');
    const syndrome = bytes.slice();
    sources.forEach((source, index) => {
      if (source) {
        if (source.length !== size) firmwareFail('BAD_ARGUMENT', 'source blocks must be as long as the repair symbols');
        addScaled(syndrome, source, coefficient(symbol, index));
      }
    });
    return syndrome;
  });
  const solve = invert(used.map(({ symbol }) => missing.map((index) => coefficient(symbol, index))));
  missing.forEach((index, row) => {
    const block = new Uint8Array(size);
    syndromes.forEach((syndrome, column) => addScaled(block, syndrome, solve[row]![column]!));
    recovered.set(index, block);
  });
  return recovered;
}

/** Repair symbols with a valid, not yet seen index, in the order given. */
function distinct(generationSize: number, repairs: readonly RepairSymbol[]): RepairSymbol[] {
  const seen = new Set<number>();
  return repairs.filter(({ symbol }) => isRepairSymbol(generationSize, symbol) && !seen.has(symbol) && seen.add(symbol));
}

/** Gauss–Jordan over GF(2^8); the matrices here are Cauchy, so a pivot always exists. */
function invert(matrix: readonly number[][]): number[][] {
  const n = matrix.length;
  const rows = matrix.map((row, index) => [...row, ...Array.from({ length: n }, (_, column) => (column === index ? 1 : 0))]);
  for (let column = 0; column < n; column++) {
    const pivot = rows.findIndex((row, index) => index >= column && row[column] !== 0);
    if (pivot < 0) firmwareFail('BAD_ARGUMENT', 'singular decoding matrix');
    [rows[column], rows[pivot]] = [rows[pivot]!, rows[column]!];
    const scale = inverse(rows[column]![column]!);
    rows[column] = rows[column]!.map((value) => MUL[(value << 8) | scale]!);
    for (let other = 0; other < n; other++) {
      const factor = rows[other]![column]!;
      if (other === column || factor === 0) continue;
      rows[other] = rows[other]!.map((value, index) => value ^ MUL[(factor << 8) | rows[column]![index]!]!);
    }
  }
  return rows.map((row) => row.slice(n));
}

/** What a meter must hold to decode one generation: its blocks and the k×k decoding matrix. */
export function erasureDecodingBytes(generationSize: number, blockSize: number): number {
  return generationSize * blockSize + generationSize * generationSize;
}

export function generationCount(totalBlocks: number, generationSize: number): number {
  return Math.ceil(totalBlocks / generationSize);
}

/** The source blocks of generation `generation`: first block index and how many. */
export function generationBlocks(totalBlocks: number, generationSize: number, generation: number): { readonly first: number; readonly count: number } {
  const first = generation * generationSize;
  return { first, count: Math.max(0, Math.min(generationSize, totalBlocks - first)) };
}
