// Reciprocal and reciprocal square root estimates and FRECPX (ARM ARM J1: FPRecipEstimate,
// RecipEstimate, FPRSqrtEstimate, RecipSqrtEstimate, FPRecpX), without FEAT_RPRES.
import {
  type Fmt, D, H, S, FPSR, IOC, DZC, OFC, UFC, IXC, RN, RP, RM, FPCR, FPCR_FZ, FPCR_FZ16, out, pack, unpack, isNaNBits, processNaN,
  defaultNaN, fpcrRounding, MAX_NORMAL,
} from './bits.ts';

/** RecipEstimate: a in 256..511 (0.5 <= x < 1 in 1/512 steps) -> 256..511. */
export function recipEstimate(a: number): number {
  a = a * 2 + 1;
  const b = Math.floor(2 ** 19 / a);
  return (b + 1) >> 1;
}

/** RecipSqrtEstimate: a in 128..511 -> 256..511. */
export function recipSqrtEstimate(a: number): number {
  if (a < 256) a = a * 2 + 1;
  else {
    a = (a >> 1) << 1;
    a = (a + 1) * 2;
  }
  let b = 512;
  while (a * (b + 1) * (b + 1) < 2 ** 28) b++;
  return (b + 1) >> 1;
}

/** The operand as (exponent field, 52-bit fraction) in the double layout of the pseudocode. */
function fields(fmt: Fmt, lo: number, hi: number): [number, number] {
  if (fmt === D) return [(hi >>> 20) & 0x7ff, (hi & 0xfffff) * 4294967296 + (lo >>> 0)];
  if (fmt === S) return [(lo >>> 23) & 0xff, (lo & 0x7fffff) * 2 ** 29];
  return [(lo >>> 10) & 0x1f, (lo & 0x3ff) * 2 ** 42];
}

const F52 = 2 ** 52;

/** Build sign : exp : fraction<51:..> for fmt from a 52-bit fraction. */
function assemble(fmt: Fmt, sign: number, exp: number, frac52: number): number {
  if (fmt === D) {
    out.hi = ((sign << 31) | (exp << 20) | Math.floor(frac52 / 4294967296)) | 0;
    return (frac52 % 4294967296) | 0;
  }
  out.hi = 0;
  if (fmt === S) return ((sign << 31) | (exp << 23) | Math.floor(frac52 / 2 ** 29)) | 0;
  return (sign << 15) | (exp << 10) | Math.floor(frac52 / 2 ** 42);
}

export function recipEstimateFp(r: Int32Array, fmt: Fmt, lo: number, hi: number): number {
  if (isNaNBits(fmt, lo, hi)) return processNaN(r, fmt, lo, hi);
  const v = unpack(r, fmt, lo, hi);
  const neg = v < 0 || 1 / v < 0;
  const sign = neg ? 1 : 0;
  if (!Number.isFinite(v)) return pack(fmt, neg ? -0 : 0);
  if (v === 0) {
    r[FPSR] |= DZC;
    return pack(fmt, neg ? -Infinity : Infinity);
  }
  const a = Math.abs(v);
  if (a < (fmt === H ? 2 ** -16 : fmt === S ? 2 ** -128 : 2 ** -1024)) {
    const m = fpcrRounding(r);
    const toInf = m === RN || (m === RP && !neg) || (m === RM && neg);
    r[FPSR] |= OFC | IXC;
    return pack(fmt, (neg ? -1 : 1) * (toInf ? Infinity : MAX_NORMAL[fmt]));
  }
  const fz = (r[FPCR]! & (fmt === H ? FPCR_FZ16 : FPCR_FZ)) !== 0;
  if (fz && a >= (fmt === H ? 2 ** 14 : fmt === S ? 2 ** 126 : 2 ** 1022)) {
    r[FPSR] |= UFC;
    return pack(fmt, neg ? -0 : 0);
  }
  let [exp, frac] = fields(fmt, lo, hi);
  if (exp === 0) {
    if (frac < 2 ** 51) {
      exp = -1;
      frac = (frac % 2 ** 50) * 4;
    } else frac = (frac % 2 ** 51) * 2;
  }
  const scaled = 256 + Math.floor(frac / 2 ** 44);
  let resultExp = (fmt === H ? 29 : fmt === S ? 253 : 2045) - exp;
  const est = recipEstimate(scaled);
  let f = (est & 0xff) * 2 ** 44;
  if (resultExp === 0) f = F52 / 2 + Math.floor(f / 2);
  else if (resultExp === -1) {
    f = F52 / 4 + Math.floor(f / 4);
    resultExp = 0;
  }
  return assemble(fmt, sign, resultExp, f);
}

export function rsqrtEstimateFp(r: Int32Array, fmt: Fmt, lo: number, hi: number): number {
  if (isNaNBits(fmt, lo, hi)) return processNaN(r, fmt, lo, hi);
  const v = unpack(r, fmt, lo, hi);
  if (v === 0) {
    r[FPSR] |= DZC;
    return pack(fmt, 1 / v < 0 ? -Infinity : Infinity);
  }
  if (v < 0) {
    r[FPSR] |= IOC;
    return defaultNaN(fmt);
  }
  if (v === Infinity) return pack(fmt, 0);
  let [exp, frac] = fields(fmt, lo, hi);
  if (exp === 0) {
    while (frac < 2 ** 51) {
      frac *= 2;
      exp--;
    }
    frac = (frac % 2 ** 51) * 2;
  }
  const scaled = (exp & 1) === 0 ? 256 + Math.floor(frac / 2 ** 44) : 128 + Math.floor(frac / 2 ** 45);
  const resultExp = Math.floor(((fmt === H ? 44 : fmt === S ? 380 : 3068) - exp) / 2);
  const est = recipSqrtEstimate(scaled);
  return assemble(fmt, 0, resultExp, (est & 0xff) * 2 ** 44);
}

/** FRECPX: exponent inverted, fraction zero (the exponent of a zero/denormal becomes max-1). */
export function recpx(r: Int32Array, fmt: Fmt, lo: number, hi: number): number {
  if (isNaNBits(fmt, lo, hi)) return processNaN(r, fmt, lo, hi);
  const v = unpack(r, fmt, lo, hi);
  const sign = v < 0 || 1 / v < 0 ? 1 : 0;
  const [exp] = fields(fmt, lo, hi);
  const emax = fmt === H ? 0x1f : fmt === S ? 0xff : 0x7ff;
  const e = exp === 0 || v === 0 ? emax - 1 : ~exp & emax;
  return assemble(fmt, sign, e, 0);
}
