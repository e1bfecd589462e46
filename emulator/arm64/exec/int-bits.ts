// Decode-time helpers for immediates (ARM ARM J1 shared pseudocode), run once per decoded word.

/** DecodeBitMasks: [wmask, tmask] as 64-bit BigInts, or null for a reserved encoding. */
export function decodeBitMasks(n: number, imms: number, immr: number, immediate: boolean, datasize: number): [bigint, bigint] | null {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return null;
  const len = 31 - Math.clz32(combined);
  if (len < 1) return null;
  const levels = (1 << len) - 1;
  if (immediate && (imms & levels) === levels) return null;
  const s = imms & levels;
  const r = immr & levels;
  const esize = 1 << len;
  if (esize > datasize) return null;
  const d = (s - r) & (esize - 1);
  const emask = (1n << BigInt(esize)) - 1n;
  const welem = (1n << BigInt(s + 1)) - 1n;
  const telem = (1n << BigInt(d + 1)) - 1n;
  const rot = r === 0 ? welem : ((welem >> BigInt(r)) | (welem << BigInt(esize - r))) & emask;
  let wmask = 0n;
  let tmask = 0n;
  for (let i = 0; i < datasize; i += esize) {
    wmask |= rot << BigInt(i);
    tmask |= telem << BigInt(i);
  }
  return [wmask, tmask];
}

export const lo32 = (v: bigint): number => Number(v & 0xffffffffn) | 0;
export const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn) | 0;
