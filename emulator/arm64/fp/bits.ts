// Floating-point formats, FPCR/FPSR bits and the operand side of the ARM ARM's FP pseudocode
// (J1 shared/functions/float: FPUnpack, FPProcessNaN(s), FPDefaultNaN).
//
// Operands and results are raw bit patterns: a format-N value is (lo, hi) 32-bit words (hi is
// only used by double precision). A primitive returns the low word and leaves the high word in
// `out.hi`. Values are never carried through a JS float32/float64 while they may be NaNs: a
// float32 -> float64 conversion quiets a signalling NaN.
import { FPCR, FPSR } from '../regs.ts';

export { FPCR, FPSR };

/** Format: its width N in bits (half, single, double). */
export type Fmt = 16 | 32 | 64;
export const H = 16, S = 32, D = 64;

// FPSR cumulative exception bits (ARM ARM D13.2.51).
export const IOC = 1, DZC = 2, OFC = 4, UFC = 8, IXC = 16, IDC = 128;
// FPCR control bits (D13.2.48).
export const FPCR_AHP = 1 << 26, FPCR_DN = 1 << 25, FPCR_FZ = 1 << 24, FPCR_FZ16 = 1 << 19;
export const RMODE_SHIFT = 22;
/** Rounding modes: FPCR.RMode values 0-3, then FPRounding_TIEAWAY and FPRounding_ODD. */
export const RN = 0, RP = 1, RM = 2, RZ = 3, RA = 4, RO = 5;

/** The high word of the last 64-bit result. */
export const out = { hi: 0 };

// Separate scratch buffers per width keep the element kinds of each access site stable.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const f32 = new Float32Array(1);
const s32 = new Uint32Array(f32.buffer);

export function isNaNBits(fmt: Fmt, lo: number, hi: number): boolean {
  if (fmt === D) return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0);
  if (fmt === S) return (lo & 0x7f800000) === 0x7f800000 && (lo & 0x7fffff) !== 0;
  return (lo & 0x7c00) === 0x7c00 && (lo & 0x3ff) !== 0;
}
/** Quiet bit clear (only meaningful for a NaN). */
export function isSignalling(fmt: Fmt, lo: number, hi: number): boolean {
  return fmt === D ? (hi & 0x80000) === 0 : fmt === S ? (lo & 0x400000) === 0 : (lo & 0x200) === 0;
}
export function isSNaN(fmt: Fmt, lo: number, hi: number): boolean {
  return isNaNBits(fmt, lo, hi) && isSignalling(fmt, lo, hi);
}
/** Exponent field zero and fraction non-zero. */
export function isDenormalBits(fmt: Fmt, lo: number, hi: number): boolean {
  if (fmt === D) return (hi & 0x7ff00000) === 0 && ((hi & 0xfffff) !== 0 || lo !== 0);
  if (fmt === S) return (lo & 0x7f800000) === 0 && (lo & 0x7fffff) !== 0;
  return (lo & 0x7c00) === 0 && (lo & 0x3ff) !== 0;
}
export function signOf(fmt: Fmt, lo: number, hi: number): number {
  return fmt === D ? hi >>> 31 : fmt === S ? lo >>> 31 : (lo >>> 15) & 1;
}

/** binary16 bits -> value (exact); AHP selects the alternative format (no Inf/NaN). */
export function halfValue(h: number, ahp = false): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  let v: number;
  if (e === 0) v = m * 2 ** -24;
  else if (e === 31 && !ahp) v = m ? NaN : Infinity;
  else v = (1024 + m) * 2 ** (e - 25);
  return h & 0x8000 ? -v : v;
}

/** 2^(e-1075) for a double's biased exponent e >= 1; 2^-1074 for e = 0 (denormals). */
const POW2 = new Float64Array(2048);
for (let e = 0; e < 2048; e++) POW2[e] = 2 ** (Math.max(e, 1) - 1075);

/**
 * The value of a non-NaN operand (exact). Doubles are assembled arithmetically: two 32-bit
 * stores followed by a 64-bit load of the same scratch defeat store-to-load forwarding.
 */
export function value(fmt: Fmt, lo: number, hi: number): number {
  if (fmt === D) {
    const e = (hi >>> 20) & 0x7ff;
    const m = (hi & 0xfffff) * 4294967296 + (lo >>> 0);
    const v = e === 2047 ? Infinity : (e === 0 ? m : m + 4503599627370496) * POW2[e]!;
    return hi < 0 ? -v : v;
  }
  if (fmt === S) {
    s32[0] = lo;
    return f32[0]!;
  }
  return halfValue(lo);
}

/**
 * FPUnpack's value with FPCR.FZ (FZ16 for half) flushing: a denormal input becomes a zero of
 * the same sign; FPSR.IDC is set for single and double only (FPUnpackBase raises no Input
 * Denormal for a half-precision flush). Operand must not be a NaN.
 */
export function unpack(r: Int32Array, fmt: Fmt, lo: number, hi: number): number {
  if (fmt === S) {
    if ((lo & 0x7f800000) === 0 && (lo & 0x7fffff) !== 0 && (r[FPCR]! & FPCR_FZ) !== 0) {
      r[FPSR] |= IDC;
      return lo < 0 ? -0 : 0;
    }
    s32[0] = lo;
    return f32[0]!;
  }
  if (fmt === D) {
    const e = (hi >>> 20) & 0x7ff;
    const m = (hi & 0xfffff) * 4294967296 + (lo >>> 0);
    if (e === 0 && m !== 0 && (r[FPCR]! & FPCR_FZ) !== 0) {
      r[FPSR] |= IDC;
      return hi < 0 ? -0 : 0;
    }
    const v = e === 2047 ? Infinity : (e === 0 ? m : m + 4503599627370496) * POW2[e]!;
    return hi < 0 ? -v : v;
  }
  return unpackHalf(r, lo);
}

function unpackHalf(r: Int32Array, lo: number): number {
  if ((r[FPCR]! & FPCR_FZ16) !== 0 && isDenormalBits(H, lo, 0)) return lo & 0x8000 ? -0 : 0;
  return halfValue(lo);
}

/**
 * Bits of a value exactly representable in fmt (the result of a rounding, ±0, ±Inf). Returns lo,
 * sets out.hi.
 */
export function pack(fmt: Fmt, v: number): number {
  if (fmt === D) {
    f64[0] = v;
    out.hi = u32[1]! | 0;
    return u32[0]! | 0;
  }
  out.hi = 0;
  if (fmt === S) {
    f32[0] = v;
    return s32[0]! | 0;
  }
  return halfBitsExact(v);
}

function halfBitsExact(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  if (a < 2 ** -14) return sign | (a * 2 ** 24);
  f64[0] = a; // normal: take exponent and top 10 fraction bits from the double
  const e = ((u32[1]! >>> 20) & 0x7ff) - 1023;
  return sign | ((e + 15) << 10) | ((u32[1]! >>> 10) & 0x3ff);
}

/** FPDefaultNaN. */
export function defaultNaN(fmt: Fmt): number {
  if (fmt === D) {
    out.hi = 0x7ff80000;
    return 0;
  }
  out.hi = 0;
  return fmt === S ? 0x7fc00000 : 0x7e00;
}

/** FPProcessNaN: quiet it (IOC if it was signalling), or the default NaN under FPCR.DN. */
export function processNaN(r: Int32Array, fmt: Fmt, lo: number, hi: number): number {
  if (isSignalling(fmt, lo, hi)) r[FPSR] |= IOC;
  if ((r[FPCR]! & FPCR_DN) !== 0) return defaultNaN(fmt);
  if (fmt === D) {
    out.hi = hi | 0x80000;
    return lo | 0;
  }
  out.hi = 0;
  return fmt === S ? lo | 0x400000 : lo | 0x200;
}

/** FPUnpack's input-denormal exception for an operand that is not used as a value (NaN paths). */
export function denormFlag(r: Int32Array, fmt: Fmt, lo: number, hi: number): void {
  if (fmt !== H && (r[FPCR]! & FPCR_FZ) !== 0 && isDenormalBits(fmt, lo, hi)) r[FPSR] |= IDC;
}

/** FPProcessNaNs: signalling NaNs first, then quiet ones, first operand first. Caller checked a NaN exists. */
export function processNaNs(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  denormFlag(r, fmt, al, ah);
  denormFlag(r, fmt, bl, bh);
  if (isSNaN(fmt, al, ah)) return processNaN(r, fmt, al, ah);
  if (isSNaN(fmt, bl, bh)) return processNaN(r, fmt, bl, bh);
  if (isNaNBits(fmt, al, ah)) return processNaN(r, fmt, al, ah);
  return processNaN(r, fmt, bl, bh);
}

/** FPProcessNaNs3 (operand order a, b, c). Caller checked a NaN exists. */
export function processNaNs3(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number, cl: number, ch: number): number {
  denormFlag(r, fmt, al, ah);
  denormFlag(r, fmt, bl, bh);
  denormFlag(r, fmt, cl, ch);
  if (isSNaN(fmt, al, ah)) return processNaN(r, fmt, al, ah);
  if (isSNaN(fmt, bl, bh)) return processNaN(r, fmt, bl, bh);
  if (isSNaN(fmt, cl, ch)) return processNaN(r, fmt, cl, ch);
  if (isNaNBits(fmt, al, ah)) return processNaN(r, fmt, al, ah);
  if (isNaNBits(fmt, bl, bh)) return processNaN(r, fmt, bl, bh);
  return processNaN(r, fmt, cl, ch);
}

/** Rounding mode of FPCR.RMode. */
export function fpcrRounding(r: Int32Array): number {
  return (r[FPCR]! >>> RMODE_SHIFT) & 3;
}

/** Sign bit of a format-N pattern, as a value to XOR into lo (S/H) or hi (D). */
export function signMask(fmt: Fmt): number {
  return fmt === H ? 0x8000 : 0x80000000 | 0;
}

/** Largest finite value and smallest normal of a format. */
export const MAX_NORMAL = { 16: 65504, 32: 3.4028234663852886e38, 64: Number.MAX_VALUE } as const;
export const MIN_NORMAL = { 16: 2 ** -14, 32: 2 ** -126, 64: 2 ** -1022 } as const;
