// Conversions (ARM ARM J1: FPConvert, FPConvertNaN, FPRoundInt, FPToFixed, FixedToFP) between
// half/single/double and to/from 32/64-bit integers and fixed point.
import {
  type Fmt, D, H, S, FPCR, FPSR, IOC, IXC, FPCR_AHP, FPCR_DN, FPCR_FZ, RN, RP, RM, RZ, out, pack, unpack, value, halfValue,
  isNaNBits, isSNaN, defaultNaN, processNaN, signOf, isDenormalBits, IDC, fpcrRounding,
} from './bits.ts';
import { roundExact, roundValue, fzOf } from './round.ts';

const PAYLOAD = { 16: 9, 32: 22, 64: 51 } as const;

/** Payload (fraction below the quiet bit) of a NaN, left-aligned to 51 bits. */
function nanPayload(fmt: Fmt, lo: number, hi: number): bigint {
  if (fmt === D) return (BigInt(hi & 0x7ffff) << 32n) | BigInt(lo >>> 0);
  if (fmt === S) return BigInt(lo & 0x3fffff) << 29n;
  return BigInt(lo & 0x1ff) << 42n;
}

/** FPConvertNaN: sign, quiet, payload truncated or zero-extended at the bottom. */
function convertNaN(to: Fmt, sign: number, p: bigint): number {
  const q = p >> BigInt(51 - PAYLOAD[to]);
  if (to === D) {
    out.hi = ((sign << 31) | 0x7ff80000 | Number(q >> 32n)) | 0;
    return Number(q & 0xffffffffn) | 0;
  }
  out.hi = 0;
  if (to === S) return ((sign << 31) | 0x7fc00000 | Number(q)) | 0;
  return (sign << 15) | 0x7e00 | Number(q);
}

/**
 * FPConvert from one format to another (FCVT, FCVTL/N, FCVTXN with mode RO). `mode` < 0 means
 * FPCR.RMode. Half precision honours FPCR.AHP; FZ applies to single/double only (FPUnpackCV,
 * FPRoundCV).
 */
export function convert(r: Int32Array, from: Fmt, to: Fmt, lo: number, hi: number, mode = -1): number {
  const fpcr = r[FPCR]!;
  const ahp = (fpcr & FPCR_AHP) !== 0;
  const sign = signOf(from, lo, hi);
  if (!(from === H && ahp) && isNaNBits(from, lo, hi)) {
    const snan = isSNaN(from, lo, hi);
    let res: number;
    if (to === H && ahp) {
      res = pack(H, sign ? -0 : 0);
      r[FPSR] |= IOC;
    } else if ((fpcr & FPCR_DN) !== 0) res = defaultNaN(to);
    else res = convertNaN(to, sign, nanPayload(from, lo, hi));
    if (snan) r[FPSR] |= IOC;
    return res;
  }
  let v: number;
  if (from === H) v = halfValue(lo, ahp);
  else if ((fpcr & FPCR_FZ) !== 0 && isDenormalBits(from, lo, hi)) {
    r[FPSR] |= IDC;
    v = sign ? -0 : 0;
  } else v = value(from, lo, hi);
  if (!Number.isFinite(v)) {
    if (to === H && ahp) {
      r[FPSR] |= IOC;
      out.hi = 0;
      return sign ? 0xffff : 0x7fff;
    }
    return pack(to, v);
  }
  const rm = mode < 0 ? fpcrRounding(r) : mode;
  return roundValue(r, to, v, rm, to !== H && (fpcr & FPCR_FZ) !== 0, to === H && ahp);
}

/** Round to an integral value in mode rm (0 N, 1 P, 2 M, 3 Z, 4 A: ties away). */
export function roundToIntegral(v: number, rm: number): number {
  switch (rm) {
    case RP:
      return Math.ceil(v);
    case RM:
      return Math.floor(v);
    case RZ:
      return Math.trunc(v);
    case RN: {
      const fl = Math.floor(v);
      const d = v - fl;
      return d < 0.5 ? fl : d > 0.5 ? fl + 1 : fl % 2 === 0 ? fl : fl + 1;
    }
    default: {
      const t = Math.trunc(v);
      return Math.abs(v - t) >= 0.5 ? t + Math.sign(v) : t;
    }
  }
}

/** FPRoundInt (FRINT*): mode < 0 means FPCR.RMode; `exact` raises Inexact (FRINTX). */
export function roundInt(r: Int32Array, fmt: Fmt, lo: number, hi: number, mode: number, exact: boolean): number {
  if (isNaNBits(fmt, lo, hi)) return processNaN(r, fmt, lo, hi);
  const v = unpack(r, fmt, lo, hi);
  if (v === 0 || !Number.isFinite(v)) return pack(fmt, v);
  const res = roundToIntegral(v, mode < 0 ? fpcrRounding(r) : mode);
  if (exact && res !== v) r[FPSR] |= IXC;
  return pack(fmt, res === 0 ? (v < 0 ? -0 : 0) : res);
}

/**
 * FPToFixed (FCVT[NPMZA][SU], fixed point with fbits): saturating, NaN -> 0 with Invalid,
 * Invalid on overflow, Inexact otherwise when rounding changed the value. `bits` is 16, 32 or 64;
 * returns lo, out.hi (0 for 16/32-bit results; a 16-bit result is not masked).
 */
export function toFixed(r: Int32Array, fmt: Fmt, lo: number, hi: number, fbits: number, unsigned: boolean, bits: number, mode: number): number {
  out.hi = 0;
  if (isNaNBits(fmt, lo, hi)) {
    r[FPSR] |= IOC;
    return 0;
  }
  const x = unpack(r, fmt, lo, hi);
  const v = fbits === 0 ? x : x * 2 ** fbits;
  const res = Number.isFinite(v) ? roundToIntegral(v, mode) : v;
  const max = bits === 32 ? (unsigned ? 4294967296 : 2147483648) : bits === 64 ? (unsigned ? 18446744073709551616 : 9223372036854775808) : unsigned ? 65536 : 32768;
  const min = unsigned ? 0 : -max;
  if (res >= max || res < min) {
    r[FPSR] |= IOC;
    if (bits === 16) return res >= max ? max - 1 : min;
    return saturate(res >= max ? 1 : -1, unsigned, bits);
  }
  if (res !== v) r[FPSR] |= IXC;
  if (bits <= 32) return res | 0;
  const h = Math.floor(res / 4294967296);
  out.hi = h | 0;
  return (res - h * 4294967296) | 0;
}

function saturate(dir: number, unsigned: boolean, bits: number): number {
  if (bits === 32) {
    out.hi = 0;
    if (unsigned) return dir > 0 ? -1 : 0;
    return dir > 0 ? 0x7fffffff : 0x80000000 | 0;
  }
  if (unsigned) {
    out.hi = dir > 0 ? -1 : 0;
    return dir > 0 ? -1 : 0;
  }
  out.hi = dir > 0 ? 0x7fffffff : 0x80000000 | 0;
  return dir > 0 ? -1 : 0;
}

/**
 * FixedToFP (SCVTF/UCVTF, fixed point with fbits): the integer in (lo, hi) (`bits` 32 or 64,
 * hi ignored for 32) divided by 2^fbits, rounded in FPCR.RMode (mode < 0) or `mode`.
 */
export function fromFixed(r: Int32Array, fmt: Fmt, lo: number, hi: number, fbits: number, unsigned: boolean, bits: number, mode = -1): number {
  const rm = mode < 0 ? fpcrRounding(r) : mode;
  const fz = fzOf(r, fmt);
  let v: number;
  if (bits === 32) v = unsigned ? lo >>> 0 : lo | 0;
  else if (bits === 16) v = unsigned ? lo & 0xffff : (lo << 16) >> 16;
  else {
    const h = unsigned ? hi >>> 0 : hi | 0;
    if (h === 0 || (h === -1 && lo < 0)) v = h * 4294967296 + (lo >>> 0);
    else if (Math.abs(h) < 0x200000) v = h * 4294967296 + (lo >>> 0);
    else {
      // Beyond 2^53: exact BigInt value, one rounding.
      let big = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      if (!unsigned) big = BigInt.asIntN(64, big);
      const neg = big < 0n;
      return roundExact(r, fmt, neg, neg ? -big : big, -fbits, rm, fz);
    }
  }
  if (v === 0) return pack(fmt, 0);
  return roundValue(r, fmt, v * 2 ** -fbits, rm, fz);
}
