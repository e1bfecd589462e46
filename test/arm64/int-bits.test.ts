// DecodeBitMasks on 32-bit words (exec/int-bits.ts) against the ARM ARM's pseudocode (J1.1.3)
// transliterated with BigInt below, for every operand combination of both data sizes.
import { expect, it } from 'vitest';
import { decodeBitMasks } from '../../emulator/arm64/exec/int-bits.ts';

/** DecodeBitMasks as the pseudocode writes it: [wmask, tmask], or null (reserved). */
function reference(n: number, imms: number, immr: number, immediate: boolean, datasize: number): [bigint, bigint] | null {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return null;
  const len = 31 - Math.clz32(combined); // HighestSetBit
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

const word = (lo: number, hi: number): bigint => ((BigInt(hi) & 0xffffffffn) << 32n) | (BigInt(lo) & 0xffffffffn);

it('DecodeBitMasks on words matches the pseudocode for every N, imms, immr, kind and size', () => {
  let checked = 0;
  let reserved = 0;
  for (const datasize of [32, 64]) {
    for (const immediate of [true, false]) {
      for (let n = 0; n < 2; n++) {
        for (let imms = 0; imms < 64; imms++) {
          for (let immr = 0; immr < 64; immr++) {
            const want = reference(n, imms, immr, immediate, datasize);
            const got = decodeBitMasks(n, imms, immr, immediate, datasize);
            if (want === null) {
              expect(got, `n=${n} imms=${imms} immr=${immr} ${immediate} ${datasize}`).toBeNull();
              reserved++;
              continue;
            }
            expect(got).not.toBeNull();
            const m = got!;
            for (const v of [m.wlo, m.whi, m.tlo, m.thi]) expect(v).toBe(v | 0); // int32 words
            expect([word(m.wlo, m.whi), word(m.tlo, m.thi)], `n=${n} imms=${imms} immr=${immr} ${immediate} ${datasize}`).toEqual(want);
            checked++;
          }
        }
      }
    }
  }
  expect(checked).toBeGreaterThan(10_000);
  expect(reserved).toBeGreaterThan(1000);
});
