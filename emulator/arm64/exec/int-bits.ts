// Decode-time helpers for immediates (ARM ARM J1 shared pseudocode), run once per decoded word.

/** DecodeBitMasks' result as int32 words: wmask and tmask, low and high halves. */
export interface Masks {
  wlo: number;
  whi: number;
  tlo: number;
  thi: number;
}

/**
 * DecodeBitMasks (ARM ARM J1.1.3) on 32-bit words, or null for a reserved encoding. Numbers, not
 * BigInt: each distinct logical immediate or bitfield word of a boot goes through it once (the
 * BigInt form cost ~15 ms of a kit boot's decoding; test/arm64/int-bits.test.ts compares them).
 */
export function decodeBitMasks(n: number, imms: number, immr: number, immediate: boolean, datasize: number): Masks | null {
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
  if (esize === 64) {
    // One element: Ones(s + 1) rotated right by r (welem), Ones(d + 1) (telem).
    let wlo = s >= 31 ? -1 : (1 << (s + 1)) - 1;
    let whi = s >= 63 ? -1 : s >= 32 ? (1 << (s - 31)) - 1 : 0;
    let k = r;
    if (k >= 32) {
      [wlo, whi] = [whi, wlo];
      k -= 32;
    }
    if (k > 0) [wlo, whi] = [(wlo >>> k) | (whi << (32 - k)), (whi >>> k) | (wlo << (32 - k))];
    const tlo = d >= 31 ? -1 : (1 << (d + 1)) - 1;
    const thi = d >= 63 ? -1 : d >= 32 ? (1 << (d - 31)) - 1 : 0;
    return { wlo: wlo | 0, whi: whi | 0, tlo: tlo | 0, thi: thi | 0 };
  }
  // esize <= 32: the element in the low word, rotated within esize bits, then replicated.
  const emask = esize === 32 ? -1 : (1 << esize) - 1;
  const welem = s === 31 ? -1 : (1 << (s + 1)) - 1;
  let w = r === 0 ? welem : ((welem >>> r) | (welem << (esize - r))) & emask;
  let t = d === 31 ? -1 : (1 << (d + 1)) - 1;
  for (let e = esize; e < 32; e *= 2) {
    w |= w << e;
    t |= t << e;
  }
  const wide = datasize === 64;
  return { wlo: w | 0, whi: wide ? w | 0 : 0, tlo: t | 0, thi: wide ? t | 0 : 0 };
}
