// Fused multiply-add with a single rounding (IEEE 754 fusedMultiplyAdd, ARM ARM FPMulAdd), for
// binary64 and binary32 results, round to nearest even. JS has no fma: the exact value of
// a*b + c is formed with BigInt and rounded once. Special values take the plain path (their
// result needs no rounding).

const buf = new DataView(new ArrayBuffer(8));

/** A finite double as mant * 2^exp (mant a signed BigInt). */
function decompose(x: number): [bigint, number] {
  buf.setFloat64(0, x);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const e = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (e === 0) exp = -1074;
  else {
    m |= 1n << 52n;
    exp = e - 1075;
  }
  return [hi >>> 31 ? -m : m, exp];
}

const bitLength = (v: bigint): number => (v === 0n ? 0 : v.toString(2).length);

/**
 * Round mant*2^exp (exact) to `precision` significant bits with LSB exponent at least `minExp`
 * (subnormals), ties to even; returns a JS number (exact for precision <= 53).
 */
function roundExact(mant: bigint, exp: number, precision: number, minExp: number): number {
  if (mant === 0n) return 0;
  const neg = mant < 0n;
  let m = neg ? -mant : mant;
  const len = bitLength(m);
  const shift = Math.max(len - precision, minExp - exp);
  if (shift > 0) {
    const sh = BigInt(shift);
    const rem = m & ((1n << sh) - 1n);
    m >>= sh;
    const half = 1n << (sh - 1n);
    if (rem > half || (rem === half && (m & 1n) === 1n)) m += 1n;
    exp += shift;
  }
  // m * 2^exp in two steps so neither power of two under/overflows on its own.
  const h = Math.trunc(exp / 2);
  const v = Number(m) * 2 ** h * 2 ** (exp - h);
  return neg ? -v : v;
}

/** fma(a, b, c) = a*b + c rounded once to binary64 (single false) or binary32 (single true). */
export function fusedMulAdd(a: number, b: number, c: number, single: boolean): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) {
    const r = a * b + c;
    return single ? Math.fround(r) : r;
  }
  const [ma, ea] = decompose(a);
  const [mb, eb] = decompose(b);
  const [mc, ec] = decompose(c);
  let pm = ma * mb;
  let pe = ea + eb;
  if (pm === 0n) {
    // An exact zero product: the addition's own sign rules ((-0) + (+0) = +0) decide.
    const r = a * b + c;
    return single ? Math.fround(r) : r;
  }
  let cm = mc;
  if (pe > ec) {
    pm <<= BigInt(pe - ec);
    pe = ec;
  } else if (ec > pe) {
    cm <<= BigInt(ec - pe);
  }
  const sum = pm + cm;
  if (sum === 0n) return 0; // exact cancellation is +0 in round-to-nearest
  const r = single ? roundExact(sum, pe, 24, -149) : roundExact(sum, pe, 53, -1074);
  if (single && Math.abs(r) >= 2 ** 128) return r > 0 ? Infinity : -Infinity;
  return r;
}
