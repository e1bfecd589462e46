// Double operands for the FMA fast-path tests (fp-fast.test.ts, jit-fp.test.ts): a seeded
// generator of the cases that matter to a fused multiply-add, and an exact BigInt reference.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
export const bitsOf = (x: number): [number, number] => {
  f64[0] = x;
  return [u32[0]!, u32[1]!];
};
export const fromBits = (lo: number, hi: number): number => {
  u32[0] = lo;
  u32[1] = hi;
  return f64[0]!;
};

/** A deterministic generator (xorshift32), so a failure reproduces. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/**
 * Operands that exercise the fused rounding: random normals of moderate exponent, products that
 * nearly cancel the addend (c = -RN(a*b) nudged by a few ulps), short mantissas whose exact sums
 * land on ties, and now and then an operand or scale that the fast path must refuse.
 */
export function operands(next: () => number): [number, number, number] {
  const rnd = (emin: number, emax: number): number => {
    const e = emin + (next() % (emax - emin + 1));
    return fromBits(next(), ((next() & 0x80000000) | ((e + 1023) << 20) | (next() & 0xfffff)) >>> 0);
  };
  const a = rnd(-30, 30), b = rnd(-30, 30);
  switch (next() % 10) {
    case 0: case 1: { // cancellation: c close to -a*b
      const [lo, hi] = bitsOf(-(a * b));
      return [a, b, fromBits((lo + (next() % 7) - 3) >>> 0, hi)];
    }
    case 2: { // short mantissas: the exact sum often sits on a tie
      const s = (x: number): number => Math.round(x * 64) / 64 || 1;
      return [s(a), s(b), fromBits(0, bitsOf(rnd(-20, 20))[1] & 0xfff00000)];
    }
    case 3: { // an edge operand somewhere
      const edge = [0, -0, Infinity, -Infinity, NaN, 2 ** -1074, -(2 ** -1040), 2 ** -1022, 2 ** 1000, 2 ** 600, 2 ** -600, 2 ** -500][next() % 12]!;
      const which = next() % 3;
      return [which === 0 ? edge : a, which === 1 ? edge : b, which === 2 ? edge : rnd(-40, 40)];
    }
    case 4: // products near overflow or underflow
      return next() & 1 ? [rnd(500, 540), rnd(460, 500), rnd(900, 1023)] : [rnd(-540, -500), rnd(-480, -440), rnd(-1022, -950)];
    case 5: // a subnormal times a huge operand: a product in range from an operand that is not
      return [fromBits(next(), next() & 0x800fffff), rnd(900, 1000), rnd(-150, -100)];
    case 6: { // cancellation near the underflow threshold: a tiny or subnormal exact result
      const x = rnd(-500, -470), y = rnd(-490, -460);
      const [lo, hi] = bitsOf(-(x * y));
      return [x, y, fromBits((lo + (next() % 5) - 2) >>> 0, hi)];
    }
    case 7: // an operand at or beyond 2^995 with a product in range (TwoProduct could overflow)
      return next() & 1 ? [rnd(990, 1023), rnd(-80, -30), rnd(900, 990)] : [rnd(-80, -30), rnd(990, 1023), rnd(900, 990)];
    default:
      return [a, b, rnd(-60, 60)];
  }
}

/** A finite double as m * 2^e with integer m. */
function exact(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  const [lo, hi] = bitsOf(x);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) m |= 1n << 52n;
  return [hi >>> 31 ? -m : m, Math.max(biased, 1) - 1075];
}

/**
 * c + a*b rounded once to nearest-even, worked with BigInts independently of the library (which
 * uses the same error-free algorithm as the fast path), for normal results: the exact sum is cut
 * to 64 significant bits with a sticky bit (enough for RNE to 53), converted by Number() (which
 * rounds to nearest even) and scaled by a power of two (exact in the normal range).
 */
export function exactFma(c: number, a: number, b: number): { value: number; inexact: boolean } {
  const [ma, ea] = exact(a), [mb, eb] = exact(b), [mc, ec] = exact(c);
  const ep = ea + eb, e = Math.min(ep, ec);
  const sum = ((ma * mb) << BigInt(ep - e)) + (mc << BigInt(ec - e));
  const mag = sum < 0n ? -sum : sum;
  const len = mag.toString(2).length;
  const shift = Math.max(0, len - 64);
  let cut = mag >> BigInt(shift);
  if ((cut << BigInt(shift)) !== mag) cut |= 1n;
  const rounded = Number(cut); // < 2^64: finite; RNE at 53 bits
  const scale = e + shift;
  const value = (sum < 0n ? -rounded : rounded) * 2 ** Math.trunc(scale / 2) * 2 ** (scale - Math.trunc(scale / 2));
  const [mv, ev] = exact(rounded);
  const k = ev + shift; // rounded * 2^shift against the exact magnitude, both scaled by 2^-e
  const inexact = k >= 0 ? (mv << BigInt(k)) !== mag : mv !== (mag << BigInt(-k));
  return { value, inexact };
}
