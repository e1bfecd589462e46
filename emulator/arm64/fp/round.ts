// FPRoundBase (ARM ARM J1 shared/functions/float/fpround): an exact value rounded to a format in
// a rounding mode, with flush-to-zero of tiny results, overflow and the cumulative flags
// (UFC before rounding: the unrounded exponent is below the minimum and the result is inexact).
// This is the slow, exact path (BigInt); the callers keep round-to-nearest results computed
// natively when they can prove them correct.
import { type Fmt, D, H, S, FPSR, IOC, OFC, UFC, IXC, RN, RP, RM, RA, RO, out, pack, MIN_NORMAL, FPCR_FZ, FPCR_FZ16, FPCR, fpcrRounding } from './bits.ts';

const FRAC = { 16: 10, 32: 23, 64: 52 } as const;
const EXPW = { 16: 5, 32: 8, 64: 11 } as const;

const dv = new DataView(new ArrayBuffer(8));

/** |v| = mant * 2^exp for a finite non-zero double. */
export function decompose(v: number): [bigint, number] {
  dv.setFloat64(0, v);
  const hi = dv.getUint32(0);
  const lo = dv.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) return [m, -1074];
  m |= 1n << 52n;
  return [m, e - 1075];
}

export function bitLength(v: bigint): number {
  let n = 0;
  while (v >= 1n << 64n) {
    v >>= 64n;
    n += 64;
  }
  const hi = Number(v >> 32n);
  return hi ? n + 64 - Math.clz32(hi) : n + 32 - Math.clz32(Number(v));
}

/** Whether output flushing applies: FPCR.FZ for single/double, FZ16 for half. */
export function fzOf(r: Int32Array, fmt: Fmt): boolean {
  return (r[FPCR]! & (fmt === H ? FPCR_FZ16 : FPCR_FZ)) !== 0;
}

/**
 * Round (-1)^neg * mag * 2^exp (mag > 0) to fmt. `fz` flushes tiny results to zero (UFC only),
 * `ahp` selects the alternative half-precision format (no infinities: overflow is Invalid).
 * Returns lo; out.hi holds the high word.
 */
export function roundExact(r: Int32Array, fmt: Fmt, neg: boolean, mag: bigint, exp: number, mode: number, fz: boolean, ahp = false): number {
  const F = FRAC[fmt];
  const E = EXPW[fmt];
  const emin = 2 - (1 << (E - 1));
  const eVal = exp + bitLength(mag) - 1;
  if (fz && eVal < emin) {
    r[FPSR] |= UFC;
    return pack(fmt, neg ? -0 : 0);
  }
  const sh = Math.max(eVal, emin) - F - exp;
  let m: bigint;
  let err = 0; // 0 exact, 1 below half an ulp, 2 exactly half, 3 above half
  if (sh > 0) {
    const s = BigInt(sh);
    m = mag >> s;
    const rem = mag - (m << s);
    if (rem !== 0n) {
      const half = 1n << (s - 1n);
      err = rem < half ? 1 : rem === half ? 2 : 3;
    }
  } else m = mag << BigInt(-sh);
  const biased = eVal < emin ? 0 : eVal - emin + 1;
  if (biased === 0 && err !== 0) r[FPSR] |= UFC;
  let up = false;
  if (err !== 0) {
    if (mode === RN) up = err === 3 || (err === 2 && (m & 1n) === 1n);
    else if (mode === RA) up = err >= 2;
    else if (mode === RP) up = !neg;
    else if (mode === RM) up = neg;
  }
  if (up) m += 1n;
  if (mode === RO && err !== 0) m |= 1n;
  const bits = biased === 0 ? m : (BigInt(biased - 1) << BigInt(F)) + m;
  const expField = Number(bits >> BigInt(F));
  if (fmt === H && ahp) {
    if (expField >= 32) {
      r[FPSR] |= IOC;
      out.hi = 0;
      return neg ? 0xffff : 0x7fff;
    }
  } else if (expField >= (1 << E) - 1) {
    r[FPSR] |= OFC | IXC;
    const toInf = mode === RN || mode === RA || (mode === RP && !neg) || (mode === RM && neg);
    return pack(fmt, (neg ? -1 : 1) * (toInf ? Infinity : MAX_FINITE[fmt]));
  }
  if (err !== 0) r[FPSR] |= IXC;
  if (fmt === D) {
    out.hi = (Number(bits >> 32n) | (neg ? 0x80000000 : 0)) | 0;
    return Number(bits & 0xffffffffn) | 0;
  }
  out.hi = 0;
  return Number(bits) | (neg ? (fmt === S ? 0x80000000 : 0x8000) : 0);
}

const MAX_FINITE = { 16: 65504, 32: 3.4028234663852886e38, 64: Number.MAX_VALUE } as const;

/**
 * Round an exact finite double value to fmt in `mode` (FPRound / FPRoundCV). The common cases
 * (double results, single results in round-to-nearest away from the subnormal range) are native.
 */
export function roundValue(r: Int32Array, fmt: Fmt, v: number, mode: number, fz: boolean, ahp = false): number {
  if (v === 0) return pack(fmt, v);
  const a = Math.abs(v);
  if (fmt === D && (a >= MIN_NORMAL[64] || !fz) && mode !== RO) return pack(D, v);
  if (fmt === S && mode === RN) {
    const rv = Math.fround(v);
    const ra = Math.abs(rv);
    if (ra > MIN_NORMAL[32] && ra !== Infinity) {
      if (rv !== v) r[FPSR] |= IXC;
      return pack(S, rv);
    }
  }
  const [m, e] = decompose(v);
  return roundExact(r, fmt, v < 0, m, e, mode, fz, ahp);
}

/** roundValue in the FPCR rounding mode with the format's FZ control (FPRound). */
export function roundFpcr(r: Int32Array, fmt: Fmt, v: number): number {
  return roundValue(r, fmt, v, fpcrRounding(r), fzOf(r, fmt));
}

/** Zero result of an exact cancellation: -0 only when rounding towards minus infinity. */
export function exactZero(r: Int32Array, fmt: Fmt): number {
  return pack(fmt, fpcrRounding(r) === RM ? -0 : 0);
}

/** Signed exact value of a finite double as (signed mant, exp). */
export function exactSigned(v: number): [bigint, number] {
  if (v === 0) return [0n, 0];
  const [m, e] = decompose(v);
  return [v < 0 ? -m : m, e];
}

/** Round a signed exact value sm * 2^exp in the FPCR mode (zero: exact cancellation rule). */
export function roundSigned(r: Int32Array, fmt: Fmt, sm: bigint, exp: number): number {
  if (sm === 0n) return exactZero(r, fmt);
  return roundExact(r, fmt, sm < 0n, sm < 0n ? -sm : sm, exp, fpcrRounding(r), fzOf(r, fmt));
}
