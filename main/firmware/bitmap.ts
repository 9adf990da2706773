/**
 * Missing-block bitmaps (DLMS image-transfer style): bit i (most significant bit first) set means block
 * i is missing. 1,024 blocks of a 256 KiB image take 128 bytes, whatever a meter has received.
 */

export function bitmapBytes(totalBlocks: number): number {
  return Math.ceil(totalBlocks / 8);
}

export function missingBitmap(totalBlocks: number, has: (index: number) => boolean): Uint8Array {
  const bitmap = new Uint8Array(bitmapBytes(totalBlocks));
  for (let index = 0; index < totalBlocks; index++) if (!has(index)) bitmap[index >> 3]! |= 0x80 >> (index & 7);
  return bitmap;
}

export function isMissing(bitmap: Uint8Array, index: number): boolean {
  return ((bitmap[index >> 3] ?? 0) & (0x80 >> (index & 7))) !== 0;
}

export function missingIndices(bitmap: Uint8Array, totalBlocks: number): number[] {
  const indices: number[] = [];
  for (let index = 0; index < totalBlocks; index++) if (isMissing(bitmap, index)) indices.push(index);
  return indices;
}
