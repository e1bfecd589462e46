// Comparisons and maximum/minimum (ARM ARM J1: FPCompare, FPCompareEQ/GE/GT, FPMax, FPMin,
// FPMaxNum, FPMinNum).
import { type Fmt, D, FPSR, IOC, isNaNBits, isSNaN, pack, processNaNs, unpack, denormFlag } from './bits.ts';

/**
 * FPCompare: the NZCV nibble (0b0110 equal, 0b1000 less, 0b0010 greater, 0b0011 unordered).
 * Invalid for a signalling NaN, or any NaN when `signalNaNs` (FCMPE).
 */
export function compare(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number, signalNaNs: boolean): number {
  const an = isNaNBits(fmt, al, ah), bn = isNaNBits(fmt, bl, bh);
  if (an || bn) {
    denormFlag(r, fmt, al, ah);
    denormFlag(r, fmt, bl, bh);
    if (signalNaNs || isSNaN(fmt, al, ah) || isSNaN(fmt, bl, bh)) r[FPSR] |= IOC;
    return 0b0011;
  }
  const a = unpack(r, fmt, al, ah), b = unpack(r, fmt, bl, bh);
  return a === b ? 0b0110 : a < b ? 0b1000 : 0b0010;
}

/** Vector compares: 0 EQ, 1 GE, 2 GT; `abs` compares magnitudes (FACGE/FACGT). */
export function compareLane(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number, kind: number, abs: boolean): boolean {
  if (abs) {
    if (fmt === D) {
      ah &= 0x7fffffff;
      bh &= 0x7fffffff;
    } else {
      const m = fmt === 32 ? 0x7fffffff : 0x7fff;
      al &= m;
      bl &= m;
    }
  }
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) {
    denormFlag(r, fmt, al, ah);
    denormFlag(r, fmt, bl, bh);
    // FPCompareEQ is quiet; GE/GT signal on any NaN.
    if (kind !== 0 || isSNaN(fmt, al, ah) || isSNaN(fmt, bl, bh)) r[FPSR] |= IOC;
    return false;
  }
  const a = unpack(r, fmt, al, ah), b = unpack(r, fmt, bl, bh);
  return kind === 0 ? a === b : kind === 1 ? a >= b : a > b;
}

const NEG_INF = { 16: 0xfc00, 32: 0xff800000 | 0, 64: 0 } as const;
const POS_INF = { 16: 0x7c00, 32: 0x7f800000, 64: 0 } as const;

/** FPMax / FPMin, and FPMaxNum / FPMinNum (`num`: a single quiet NaN operand is ignored). */
export function maxMin(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number, isMax: boolean, num: boolean): number {
  if (num) {
    const aq = isNaNBits(fmt, al, ah) && !isSNaN(fmt, al, ah);
    const bq = isNaNBits(fmt, bl, bh) && !isSNaN(fmt, bl, bh);
    // The quiet NaN becomes the infinity that loses.
    if (aq && !bq) {
      al = isMax ? NEG_INF[fmt] : POS_INF[fmt];
      ah = fmt === D ? (isMax ? 0xfff00000 | 0 : 0x7ff00000) : 0;
    } else if (!aq && bq) {
      bl = isMax ? NEG_INF[fmt] : POS_INF[fmt];
      bh = fmt === D ? (isMax ? 0xfff00000 | 0 : 0x7ff00000) : 0;
    }
  }
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  const a = unpack(r, fmt, al, ah), b = unpack(r, fmt, bl, bh);
  if (a === 0 && b === 0) {
    const na = 1 / a < 0, nb = 1 / b < 0;
    return pack(fmt, (isMax ? na && nb : na || nb) ? -0 : 0);
  }
  return pack(fmt, isMax ? (a > b ? a : b) : a < b ? a : b);
}
