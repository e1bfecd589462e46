// FP arithmetic with FPCR/FPSR semantics (ARM ARM J1: FPAdd, FPSub, FPMul, FPDiv, FPSqrt,
// FPMulAdd, FPMulX, FPRecipStepFused, FPRSqrtStepFused). Operands are bit patterns (bits.ts);
// the result is returned as lo with out.hi.
//
// Fast path: round-to-nearest results computed natively, with the rounding error found exactly by
// error-free transformations (TwoSum; Dekker's TwoProduct with Veltkamp splitting, valid inside
// the exponent window checked before use) so IXC is exact; anything near the subnormal range, an
// overflow, directed rounding or half precision takes the exact BigInt path (round.ts).
import {
  type Fmt, D, S, FPCR, FPSR, IOC, DZC, IXC, RN, MIN_NORMAL, out, pack, unpack, value, isNaNBits, processNaNs, processNaNs3, defaultNaN,
  signMask, fpcrRounding, isSNaN,
} from './bits.ts';
import { decompose, exactSigned, exactZero, fzOf, roundExact, roundSigned } from './round.ts';

const SPLIT = 134217729; // 2^27 + 1
const RMODE_MASK = 3 << 22;
const BIG = 2 ** 995;
const TINY = 2 ** -960;
/** Products and sums below this cannot overflow inside the error-free transformations. */
const HUGE = 2 ** 1000;

/** Exact a*b - p for p = RN(a*b), valid when |a|,|b| < 2^995 and 2^-960 < |p| < 2^1000. */
export function twoProductErr(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Sign bit of a value (including -0 and -Inf). */
const isNeg = (x: number): boolean => x < 0 || 1 / x < 0;

function invalid(r: Int32Array, fmt: Fmt): number {
  r[FPSR] |= IOC;
  return defaultNaN(fmt);
}

// ---- add / subtract ----

export function add(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  return addValues(r, fmt, unpack(r, fmt, al, ah), unpack(r, fmt, bl, bh));
}
export function sub(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  return addValues(r, fmt, unpack(r, fmt, al, ah), -unpack(r, fmt, bl, bh));
}

/** FPAdd on unpacked (non-NaN) values. */
export function addValues(r: Int32Array, fmt: Fmt, a: number, b: number): number {
  const v = a + b;
  if (v !== v) return invalid(r, fmt); // +Inf + -Inf
  if (a === 0 && b === 0) return 1 / a < 0 === 1 / b < 0 ? pack(fmt, a) : exactZero(r, fmt);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return pack(fmt, v);
  if (b === 0) return pack(fmt, a);
  if (a === 0) return pack(fmt, b);
  if (fpcrRounding(r) === RN && Number.isFinite(v)) {
    const bb = v - a;
    const err = a - (v - bb) + (b - bb);
    if (fmt === D) {
      // A sum in the subnormal range is exact; only FZ would change it.
      if (Math.abs(v) >= MIN_NORMAL[64] || v === 0) {
        if (err !== 0) r[FPSR] |= IXC;
        return pack(D, v);
      }
    } else if (fmt === S) {
      const rv = Math.fround(v);
      if (Math.abs(rv) > MIN_NORMAL[32] && Math.abs(rv) !== Infinity) {
        if (err !== 0 || rv !== v) r[FPSR] |= IXC;
        return pack(S, rv);
      }
      if (v === 0) return pack(S, 0);
    }
  }
  const [ma, ea] = exactSigned(a);
  const [mb, eb] = exactSigned(b);
  const e = Math.min(ea, eb);
  return roundSigned(r, fmt, (ma << BigInt(ea - e)) + (mb << BigInt(eb - e)), e);
}

// ---- multiply ----

export function mul(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  return mulValues(r, fmt, unpack(r, fmt, al, ah), unpack(r, fmt, bl, bh), false);
}
/** FMULX: Inf * 0 is 2.0 with the product's sign instead of Invalid. */
export function mulx(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  return mulValues(r, fmt, unpack(r, fmt, al, ah), unpack(r, fmt, bl, bh), true);
}
export function nmul(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  // FPNeg(FPMul()): NaN results are negated too.
  const lo = mul(r, fmt, al, ah, bl, bh);
  if (fmt === D) {
    out.hi ^= signMask(D);
    return lo;
  }
  return lo ^ signMask(fmt);
}

export function mulValues(r: Int32Array, fmt: Fmt, a: number, b: number, x: boolean): number {
  const v = a * b;
  if (v !== v) {
    if (!x) return invalid(r, fmt); // Inf * 0
    return pack(fmt, isNeg(a) !== isNeg(b) ? -2 : 2);
  }
  if (a === 0 || b === 0 || !Number.isFinite(a) || !Number.isFinite(b)) return pack(fmt, v);
  if (fpcrRounding(r) === RN && Number.isFinite(v)) {
    if (fmt === D) {
      const av = Math.abs(v);
      if (av > TINY && av < HUGE && Math.abs(a) < BIG && Math.abs(b) < BIG) {
        if (twoProductErr(a, b, v) !== 0) r[FPSR] |= IXC;
        return pack(D, v);
      }
    } else if (fmt === S) {
      const rv = Math.fround(v); // v is exact: 24x24 bits
      if (Math.abs(rv) > MIN_NORMAL[32] && Math.abs(rv) !== Infinity) {
        if (rv !== v) r[FPSR] |= IXC;
        return pack(S, rv);
      }
    }
  }
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  return roundExact(r, fmt, a < 0 !== b < 0, ma * mb, ea + eb, fpcrRounding(r), fzOf(r, fmt));
}

// ---- divide ----

export function div(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  const a = unpack(r, fmt, al, ah), b = unpack(r, fmt, bl, bh);
  const q = a / b;
  if (q !== q) return invalid(r, fmt); // 0/0, Inf/Inf
  if (!Number.isFinite(a) || a === 0 || !Number.isFinite(b)) return pack(fmt, q);
  if (b === 0) {
    r[FPSR] |= DZC;
    return pack(fmt, q);
  }
  if (fpcrRounding(r) === RN && Number.isFinite(q)) {
    if (fmt === D) {
      const aq = Math.abs(q);
      const aa = Math.abs(a);
      if (aq > TINY && aq < BIG && Math.abs(b) < BIG && aa > TINY && aa < HUGE) {
        const p = q * b;
        if (p !== a || twoProductErr(q, b, p) !== 0) r[FPSR] |= IXC;
        return pack(D, q);
      }
    } else if (fmt === S) {
      const rq = Math.fround(q);
      if (Math.abs(rq) > MIN_NORMAL[32] && Math.abs(rq) !== Infinity) {
        if (rq * b !== a) r[FPSR] |= IXC; // the product of two singles is exact in double
        return pack(S, rq);
      }
    }
  }
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const k = 120n;
  const quo = (ma << k) / mb;
  const sticky = (ma << k) - quo * mb !== 0n ? 1n : 0n;
  return roundExact(r, fmt, a < 0 !== b < 0, (quo << 1n) | sticky, ea - eb - 121, fpcrRounding(r), fzOf(r, fmt));
}

// ---- square root ----

/** floor(sqrt(n)) for n >= 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.ceil(Math.sqrt(Number(n)) * (1 + 2 ** -40))) + 1n;
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  return x;
}

export function sqrt(r: Int32Array, fmt: Fmt, al: number, ah: number): number {
  if (isNaNBits(fmt, al, ah)) return processNaNs(r, fmt, al, ah, al, ah);
  const a = unpack(r, fmt, al, ah);
  if (a === 0 || a === Infinity) return pack(fmt, a);
  if (a < 0) return invalid(r, fmt);
  const s = Math.sqrt(a);
  if (fpcrRounding(r) === RN) {
    if (fmt === D && a > TINY) {
      const p = s * s;
      if (p !== a || twoProductErr(s, s, p) !== 0) r[FPSR] |= IXC;
      return pack(D, s);
    }
    if (fmt === S) {
      const rs = Math.fround(s); // never subnormal: sqrt(2^-149) is normal
      if (rs * rs !== a) r[FPSR] |= IXC;
      return pack(S, rs);
    }
  }
  let [m, e] = decompose(a);
  let shift = 240;
  if ((e - shift) & 1) shift++;
  m <<= BigInt(shift);
  e -= shift;
  const root = isqrt(m);
  const sticky = root * root !== m ? 1n : 0n;
  return roundExact(r, fmt, false, (root << 1n) | sticky, e / 2 - 1, fpcrRounding(r), fzOf(r, fmt));
}

// ---- fused multiply-add ----

/**
 * FPMulAdd(addend, op1, op2) = addend + op1*op2 rounded once. negA/neg1 negate the addend /
 * op1 before NaN processing (FNMADD, FMSUB, FMLS...): pass the sign mask or 0.
 */
export function fma(r: Int32Array, fmt: Fmt, al: number, ah: number, nl: number, nh: number, ml: number, mh: number, negA = 0, neg1 = 0): number {
  if (fmt === D) {
    ah ^= negA;
    nh ^= neg1;
    // Fast path: three normal operands, round to nearest (no NaN, infinity or FZ effects).
    if (((ah >>> 20) & 0x7ff) - 1 >>> 0 < 2046 && ((nh >>> 20) & 0x7ff) - 1 >>> 0 < 2046 && ((mh >>> 20) & 0x7ff) - 1 >>> 0 < 2046 &&
      (r[FPCR]! & RMODE_MASK) === 0) {
      const a = value(D, nl, nh), b = value(D, ml, mh);
      const v = fmaFast(r, D, value(D, al, ah), a, b, a * b);
      if (v !== null) return v;
    }
  } else {
    al ^= negA;
    nl ^= neg1;
    if (fmt === S && ((al >>> 23) & 0xff) - 1 >>> 0 < 254 && ((nl >>> 23) & 0xff) - 1 >>> 0 < 254 && ((ml >>> 23) & 0xff) - 1 >>> 0 < 254 &&
      (r[FPCR]! & RMODE_MASK) === 0) {
      const a = value(S, nl, 0), b = value(S, ml, 0);
      const v = fmaFast(r, S, value(S, al, 0), a, b, a * b);
      if (v !== null) return v;
    }
  }
  const nanA = isNaNBits(fmt, al, ah);
  if (nanA || isNaNBits(fmt, nl, nh) || isNaNBits(fmt, ml, mh)) {
    const lo = processNaNs3(r, fmt, al, ah, nl, nh, ml, mh);
    // A quiet NaN addend with Inf * 0 is still Invalid (the default NaN).
    if (nanA && !isSNaN(fmt, al, ah) && !isNaNBits(fmt, nl, nh) && !isNaNBits(fmt, ml, mh)) {
      const x = unpack(r, fmt, nl, nh), y = unpack(r, fmt, ml, mh);
      if ((x === 0 && !Number.isFinite(y)) || (y === 0 && !Number.isFinite(x))) return invalid(r, fmt);
    }
    return lo;
  }
  const c = unpack(r, fmt, al, ah), a = unpack(r, fmt, nl, nh), b = unpack(r, fmt, ml, mh);
  return fmaValues(r, fmt, c, a, b, 0);
}

/** c + a*b (times 2^scale) rounded once, on unpacked non-NaN values. */
export function fmaValues(r: Int32Array, fmt: Fmt, c: number, a: number, b: number, scale: number): number {
  const p = a * b;
  if (p !== p) return invalid(r, fmt); // Inf * 0
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    if (c + p !== c + p) return invalid(r, fmt); // Inf - Inf
    return pack(fmt, p);
  }
  if (!Number.isFinite(c)) return pack(fmt, c);
  if (a === 0 || b === 0) {
    if (c === 0) return 1 / c < 0 === 1 / p < 0 ? pack(fmt, c) : exactZero(r, fmt);
    if (scale === 0) return pack(fmt, c);
  }
  if (fpcrRounding(r) === RN && scale === 0) {
    const v = fmaFast(r, fmt, c, a, b, p);
    if (v !== null) return v;
  }
  const [ma, ea] = exactSigned(a);
  const [mb, eb] = exactSigned(b);
  const [mc, ec] = exactSigned(c);
  const pm = ma * mb;
  const pe = ea + eb;
  if (mc === 0n) return roundSigned(r, fmt, pm, pe + scale);
  const e = Math.min(pe, ec);
  return roundSigned(r, fmt, (pm << BigInt(pe - e)) + (mc << BigInt(ec - e)), e + scale);
}

const odd = new Float64Array(1);
const oddBits = new Uint32Array(odd.buffer); // [0] low word, [1] high word (little-endian hosts)

/** Round-to-odd of s = RN(x + y) given the exact error err = x + y - s (s finite, non-zero). */
export function toOdd(s: number, err: number): number {
  if (err === 0) return s;
  odd[0] = s;
  const lo = oddBits[0]!;
  if ((lo & 1) === 1) return s;
  // Step one ulp towards the exact value: the magnitude grows iff err has the sign of s.
  if (s > 0 === err > 0) oddBits[0] = lo + 1;
  else if (lo !== 0) oddBits[0] = lo - 1;
  else {
    oddBits[0] = 0xffffffff;
    oddBits[1] = oddBits[1]! - 1;
  }
  return odd[0]!;
}

/** Native round-to-nearest FMA (Boldo-Melquiond: RN(th + RO(tl + ul))) or null. */
function fmaFast(r: Int32Array, fmt: Fmt, c: number, a: number, b: number, p: number): number | null {
  if (fmt === S) {
    // p is exact (24x24 bits); round the double sum to odd, then to single.
    const s = p + c;
    if (!Number.isFinite(s)) return null;
    const bb = s - p;
    const err = p - (s - bb) + (c - bb);
    const so = toOdd(s, err);
    const rv = Math.fround(so);
    if (!(Math.abs(rv) > MIN_NORMAL[32]) || Math.abs(rv) === Infinity) return null;
    if (err !== 0 || rv !== s) r[FPSR] |= IXC;
    return pack(S, rv);
  }
  if (fmt !== D) return null;
  const res = fusedD(c, a, b, p);
  if (res !== res) return null;
  if (fused.inexact) r[FPSR] |= IXC;
  return pack(D, res);
}

/** What the last fusedD call that returned a number found: true when its result was rounded. */
export const fused = { inexact: false };

/**
 * RN(c + a*b) for doubles, p = RN(a*b), by Boldo-Melquiond: RN(th + RO(tl + ul)) with
 * th + tl = c + p (TwoSum) and ul = a*b - p (TwoProduct), so the sum is rounded once. NaN when
 * the error-free transformations could leave their exact window or the result is not safely
 * normal (|a|,|b| >= 2^995, |p| outside (2^-960, 2^1000), |res| <= 2^-960, overflow): the caller
 * then takes the exact path. Writes no FPSR, so a vector caller can try every lane first; the
 * inexact flag is left in `fused`. The translator's FMLA emitter (jit/emit-fp.ts) is this same
 * sequence of operations in wasm: keep the two in step.
 */
export function fusedD(c: number, a: number, b: number, p: number): number {
  const ap = Math.abs(p);
  if (!(ap > TINY) || !(ap < HUGE) || Math.abs(a) >= BIG || Math.abs(b) >= BIG) return NaN;
  const ul = twoProductErr(a, b, p);
  const th = c + p;
  if (!(Math.abs(th) < HUGE)) return NaN;
  const bb = th - c;
  const tl = c - (th - bb) + (p - bb);
  const vs = tl + ul;
  const bv = vs - tl;
  const verr = tl - (vs - bv) + (ul - bv);
  const v = toOdd(vs, verr);
  const res = th + v;
  if (!Number.isFinite(res) || !(Math.abs(res) > TINY) || (v !== 0 && !(Math.abs(v) > 2 ** -1000))) return NaN;
  const b2 = res - th;
  const err2 = th - (res - b2) + (v - b2);
  fused.inexact = err2 !== 0 || verr !== 0;
  return res;
}

// ---- reciprocal / reciprocal square root steps (FRECPS, FRSQRTS) ----

/** FPRecipStepFused: 2 - op1*op2, fused. */
export function recipStep(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  return step(r, fmt, al, ah, bl, bh, 2, 0);
}
/** FPRSqrtStepFused: (3 - op1*op2) / 2, fused. */
export function rsqrtStep(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  return step(r, fmt, al, ah, bl, bh, 3, -1);
}

function step(r: Int32Array, fmt: Fmt, al: number, ah: number, bl: number, bh: number, k: number, scale: number): number {
  if (fmt === D) ah ^= signMask(D);
  else al ^= signMask(fmt);
  if (isNaNBits(fmt, al, ah) || isNaNBits(fmt, bl, bh)) return processNaNs(r, fmt, al, ah, bl, bh);
  const a = unpack(r, fmt, al, ah), b = unpack(r, fmt, bl, bh);
  const inf1 = !Number.isFinite(a), inf2 = !Number.isFinite(b);
  if ((inf1 && b === 0) || (inf2 && a === 0)) return pack(fmt, scale ? 1.5 : 2);
  if (inf1 || inf2) return pack(fmt, a * b);
  return fmaValues(r, fmt, k, a, b, scale);
}
