import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCoding, writeCoding } from '../../main/firmware/coding.js';
import { erasureDecodingBytes, generationBlocks, generationCount, recoverGeneration, repairSymbol, SYMBOLS_PER_GENERATION } from '../../main/firmware/erasure.js';
import { FirmwareError } from '../../main/firmware/errors.js';
import { ByteReader, ByteWriter, fromHex } from '../../main/grep/index.js';
import { codeOf, errorCodeOf } from '../support/grepError.js';

const firmwareCode = errorCodeOf(FirmwareError);

/** A generation: `count` source blocks under a code of generation size `size`, and the symbols a meter heard. */
const generation = fc
  .record({ size: fc.integer({ min: 1, max: 40 }), blockSize: fc.integer({ min: 1, max: 48 }), seed: fc.integer() })
  .chain(({ size, blockSize, seed }) =>
    fc.record({
      size: fc.constant(size),
      sources: fc.array(fc.uint8Array({ minLength: blockSize, maxLength: blockSize }), { minLength: 1, maxLength: size }),
      seed: fc.constant(seed),
    }),
  );

/** Every symbol index of the generation: its sources 0..count-1 and every repair symbol. */
const symbolIndices = (size: number, count: number) => [...Array.from({ length: count }, (_, index) => index), ...Array.from({ length: SYMBOLS_PER_GENERATION - size }, (_, index) => size + index)];

/** A deterministic shuffle from fast-check's seed, so a failure replays. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const copy = [...items];
  let state = seed >>> 0 || 1;
  for (let index = copy.length - 1; index > 0; index--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const other = state % (index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/** What a meter holding exactly the symbols `held` passes to the decoder. */
function heard(size: number, sources: readonly Uint8Array[], held: readonly number[]) {
  const kept = new Set(held);
  return {
    sources: sources.map((source, index) => (kept.has(index) ? source : undefined)),
    repairs: held.filter((symbol) => symbol >= size).map((symbol) => ({ symbol, bytes: repairSymbol(size, sources, symbol) })),
  };
}

describe('systematic Reed–Solomon erasure code over GF(2^8)', () => {
  it('any k of the 256 symbols recover the k source blocks exactly', () => {
    fc.assert(
      fc.property(generation, ({ size, sources, seed }) => {
        const held = shuffled(symbolIndices(size, sources.length), seed).slice(0, sources.length);
        const { sources: partial, repairs } = heard(size, sources, held);
        const recovered = recoverGeneration(size, partial, repairs)!;
        expect(recovered).toBeDefined();
        const whole = partial.map((source, index) => source ?? recovered.get(index));
        expect(whole).toEqual(sources);
      }),
      { numRuns: 200 },
    );
  });

  it('fewer than k symbols never decode', () => {
    fc.assert(
      fc.property(generation, ({ size, sources, seed }) => {
        const held = shuffled(symbolIndices(size, sources.length), seed).slice(0, sources.length - 1);
        const { sources: partial, repairs } = heard(size, sources, held);
        // one repair symbol twice is still one symbol
        const doubled = repairs.length > 0 ? [...repairs, repairs[0]!] : repairs;
        expect(recoverGeneration(size, partial, doubled)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('decodes a whole lost generation of 64 blocks of 256 bytes', () => {
    const sources = Array.from({ length: 64 }, (_, index) => Uint8Array.from({ length: 256 }, (_, byte) => (index * 31 + byte * 7) & 0xff));
    const repairs = Array.from({ length: 64 }, (_, index) => ({ symbol: 255 - index, bytes: repairSymbol(64, sources, 255 - index) }));
    const recovered = recoverGeneration(64, new Array<undefined>(64).fill(undefined), repairs)!;
    expect([...recovered.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, index) => index));
    expect(Array.from({ length: 64 }, (_, index) => recovered.get(index))).toEqual(sources);
  });

  it('matches hand-made vectors of the field (x^8+x^4+x^3+x^2+1) and the Cauchy rows', () => {
    // one source block: repair symbol s is block / (s ⊕ 0); 1/1 = 1, 1/2 = 0x8e, 1/3 = 0xf4
    expect(repairSymbol(1, [fromHex('01ff')], 1)).toEqual(fromHex('01ff'));
    expect(repairSymbol(1, [fromHex('01')], 2)).toEqual(fromHex('8e'));
    expect(repairSymbol(1, [fromHex('01')], 3)).toEqual(fromHex('f4'));
    // two blocks, symbol 2: 1/(2⊕0)·a ⊕ 1/(2⊕1)·b = 0x8e·1 ⊕ 0xf4·1
    expect(repairSymbol(2, [fromHex('01'), fromHex('01')], 2)).toEqual(fromHex('7a'));
  });

  it('refuses symbols outside the index space and bad generations', () => {
    const sources = [new Uint8Array(4), new Uint8Array(4)];
    expect(firmwareCode(() => repairSymbol(2, sources, 1))).toBe('BAD_ARGUMENT');
    expect(firmwareCode(() => repairSymbol(2, sources, 256))).toBe('BAD_ARGUMENT');
    expect(firmwareCode(() => repairSymbol(1, sources, 5))).toBe('BAD_ARGUMENT');
    expect(firmwareCode(() => repairSymbol(256, sources, 5))).toBe('BAD_ARGUMENT');
    expect(firmwareCode(() => repairSymbol(2, [new Uint8Array(4), new Uint8Array(3)], 5))).toBe('BAD_ARGUMENT');
    // a symbol index outside the space is not counted, so it cannot stand in for a real one
    expect(recoverGeneration(2, [sources[0], undefined], [{ symbol: 1, bytes: new Uint8Array(4) }])).toBeUndefined();
  });

  it('lays generations over the blocks and sizes a meter\'s decoding memory', () => {
    expect(generationCount(1024, 64)).toBe(16);
    expect(generationCount(1000, 64)).toBe(16);
    expect(generationBlocks(1000, 64, 15)).toEqual({ first: 960, count: 40 });
    expect(erasureDecodingBytes(64, 256)).toBe(64 * 256 + 64 * 64);
  });

  it('names the code in a KEY frame trailer, and refuses one it cannot run', () => {
    const writer = new ByteWriter(5);
    writeCoding(writer, { code: 'reed-solomon', generationSize: 64 });
    const bytes = writer.done();
    expect(bytes).toEqual(fromHex('01' + '0040' + '00c0'));
    expect(readCoding(new ByteReader(bytes))).toEqual({ code: 'reed-solomon', generationSize: 64 });
    expect(readCoding(new ByteReader(new Uint8Array(0)))).toBeUndefined();
    expect(codeOf(() => readCoding(new ByteReader(fromHex('02' + '0040' + '00c0'))))).toBe('MALFORMED');
    expect(codeOf(() => readCoding(new ByteReader(fromHex('01' + '0040' + '00c1'))))).toBe('MALFORMED');
    expect(codeOf(() => readCoding(new ByteReader(fromHex('01' + '0000' + '0100'))))).toBe('MALFORMED');
    expect(codeOf(() => readCoding(new ByteReader(fromHex('01' + '0040'))))).toBe('TRUNCATED');
  });
});
