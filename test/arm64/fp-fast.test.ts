// The native double FMA fast paths (emulator/arm64/exec/fp-fast.ts fastFmaD / fastFp3D, built on
// fp/arith.ts fusedD) against the FP library's fma, lane by lane: when a fast path answers, its
// result bits and FPSR must be exactly the library's; when it declines (an operand outside the
// normal range, FZ or a directed rounding mode, a result near overflow or underflow, in any
// lane), it must have changed nothing, neither Vd nor FPSR.
import { describe, expect, it } from 'vitest';
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { FPCR, FPSR } from '../../emulator/arm64/regs.ts';
import { fma, out, D } from '../../emulator/arm64/fp/index.ts';
import { fastFmaD, fastFp3D } from '../../emulator/arm64/exec/fp-fast.ts';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const bitsOf = (x: number): [number, number] => {
  f64[0] = x;
  return [u32[0]!, u32[1]!];
};
const fromBits = (lo: number, hi: number): number => {
  u32[0] = lo;
  u32[1] = hi;
  return f64[0]!;
};

/** A deterministic generator (xorshift32), so a failure reproduces. */
function rng(seed: number): () => number {
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
function operands(next: () => number): [number, number, number] {
  const rnd = (emin: number, emax: number): number => {
    const e = emin + (next() % (emax - emin + 1));
    return fromBits(next(), ((next() & 0x80000000) | ((e + 1023) << 20) | (next() & 0xfffff)) >>> 0);
  };
  const a = rnd(-30, 30), b = rnd(-30, 30);
  switch (next() % 8) {
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
function exactFma(c: number, a: number, b: number): { value: number; inexact: boolean } {
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

function newCpu(): Cpu {
  return new Cpu(new FlatMemory(1 << 16));
}
function setD(cpu: Cpu, reg: number, lane: number, x: number): void {
  cpu.regs.vf64[reg * 2 + lane] = x;
}
const vbits = (cpu: Cpu, reg: number): string => [...cpu.regs.vs.subarray(reg * 4, reg * 4 + 4)].map((w) => w.toString(16)).join(':');

/** The library's FMLA/FMLS lane: Vd[i] + (neg ? -Vn[i] : Vn[i]) * m, with its own FPSR bits. */
function libLane(fpcr: number, c: number, a: number, b: number, neg: boolean): { lo: number; hi: number; fpsr: number } {
  const r = new Int32Array(128);
  r[FPCR] = fpcr;
  const [cl, ch] = bitsOf(c), [al, ah] = bitsOf(a), [bl, bh] = bitsOf(b);
  const lo = fma(r, D, cl | 0, ch | 0, al | 0, ah | 0, bl | 0, bh | 0, 0, neg ? 0x80000000 | 0 : 0);
  return { lo: lo >>> 0, hi: out.hi >>> 0, fpsr: r[FPSR]! };
}

describe('double FMLA/FMLS fast path (fastFmaD) against the library fma', () => {
  it('by element and vector, random and edge operands: same bits and FPSR, or nothing changed', () => {
    const next = rng(0x5eed);
    const cpu = newCpu();
    let taken = 0, declined = 0, inexactSeen = 0, exactSeen = 0;
    for (let k = 0; k < 20000; k++) {
      const [a0, b0, c0] = operands(next);
      const [a1, b1, c1] = operands(next);
      const neg = (next() & 1) === 1;
      const byElement = (next() & 1) === 1;
      const idx = byElement ? next() & 1 : -1;
      const fpcr = next() % 16 === 0 ? [1 << 24, 1 << 22, 2 << 22, 3 << 22][next() & 3]! : 0;
      const priorFpsr = next() % 4 === 0 ? 0x10 : 0; // a flag already set stays set
      // V1 = Vn, V2 = Vm, V3 = Vd (also the addend).
      setD(cpu, 1, 0, a0); setD(cpu, 1, 1, a1);
      setD(cpu, 2, 0, b0); setD(cpu, 2, 1, b1);
      setD(cpu, 3, 0, c0); setD(cpu, 3, 1, c1);
      cpu.r[FPCR] = fpcr;
      cpu.r[FPSR] = priorFpsr;
      const m = (i: number): number => cpu.regs.vf64[2 * 2 + (idx < 0 ? i : idx)]!;
      const want = [libLane(fpcr, c0, a0, m(0), neg), libLane(fpcr, c1, a1, m(1), neg)];
      const before = vbits(cpu, 3);
      const ok = fastFmaD(cpu, neg, 2, 1, 2, idx, 3, 4);
      const what = `case ${k}: ${[a0, b0, c0, a1, b1, c1].join(' ')} neg=${neg} idx=${idx} fpcr=${fpcr.toString(16)}`;
      if (!ok) {
        declined++;
        expect(vbits(cpu, 3), what).toBe(before);
        expect(cpu.r[FPSR], what).toBe(priorFpsr);
        continue;
      }
      taken++;
      const got = cpu.regs.vs.subarray(12, 16);
      expect([...got].map((w) => w >>> 0), what).toEqual([want[0]!.lo, want[0]!.hi, want[1]!.lo, want[1]!.hi]);
      expect(cpu.r[FPSR], what).toBe(priorFpsr | want[0]!.fpsr | want[1]!.fpsr);
      for (const i of [0, 1]) {
        const x = exactFma([c0, c1][i]!, neg ? -[a0, a1][i]! : [a0, a1][i]!, m(i));
        expect(bitsOf(x.value).map((w) => w >>> 0), `${what} lane ${i} (exact)`).toEqual([got[2 * i]!, got[2 * i + 1]!]);
        expect(x.inexact ? 0x10 : 0, `${what} lane ${i} (exact IXC)`).toBe(want[i]!.fpsr);
      }
      if (want[0]!.fpsr | want[1]!.fpsr) inexactSeen++;
      else exactSeen++;
    }
    // The fast path must carry the common case (else the bench gains nothing) and the cases must
    // have exercised both flag outcomes and the refusals.
    expect(taken).toBeGreaterThan(5000);
    expect(declined).toBeGreaterThan(2000);
    expect(inexactSeen).toBeGreaterThan(1000);
    expect(exactSeen).toBeGreaterThan(100);
  });

  it('declines, changing nothing, when only the second lane is outside the domain', () => {
    const cpu = newCpu();
    for (const bad of [0, 2 ** -1074, Infinity, NaN, 2 ** 1000]) {
      setD(cpu, 1, 0, 1.5); setD(cpu, 1, 1, 3);
      setD(cpu, 2, 0, 1 / 3); setD(cpu, 2, 1, 2);
      setD(cpu, 3, 0, 7); setD(cpu, 3, 1, bad);
      cpu.r[FPCR] = 0;
      cpu.r[FPSR] = 0;
      const before = vbits(cpu, 3);
      expect(fastFmaD(cpu, false, 2, 1, 2, -1, 3, 4), String(bad)).toBe(false);
      expect(vbits(cpu, 3)).toBe(before);
      expect(cpu.r[FPSR]).toBe(0);
    }
  });

  it('a single lane (scalar by element) zeroes the upper half of Vd', () => {
    const cpu = newCpu();
    setD(cpu, 1, 0, 1.25); setD(cpu, 2, 1, 4); setD(cpu, 3, 0, 0.5); setD(cpu, 3, 1, 99);
    cpu.r[FPCR] = 0;
    cpu.r[FPSR] = 0;
    expect(fastFmaD(cpu, true, 1, 1, 2, 1, 3, 2)).toBe(true);
    expect([cpu.regs.vf64[6], cpu.regs.vf64[7]]).toEqual([-4.5, 0]);
    expect(cpu.r[FPSR]).toBe(0);
  });
});

describe('double FMADD/FMSUB/FNMADD/FNMSUB fast path (fastFp3D) against the library fma', () => {
  it('random and edge operands, every negation: same bits and FPSR, or nothing changed', () => {
    const next = rng(0xf3d);
    const cpu = newCpu();
    let taken = 0;
    for (let k = 0; k < 10000; k++) {
      const [a, b, c] = operands(next);
      const negA = (next() & 1) === 1, neg1 = (next() & 1) === 1;
      const fpcr = next() % 16 === 0 ? [1 << 24, 1 << 22, 2 << 22, 3 << 22][next() & 3]! : 0;
      setD(cpu, 1, 0, a); setD(cpu, 2, 0, b); setD(cpu, 3, 0, c);
      setD(cpu, 4, 0, 123); setD(cpu, 4, 1, 456);
      cpu.r[FPCR] = fpcr;
      cpu.r[FPSR] = 0;
      const r = new Int32Array(128);
      r[FPCR] = fpcr;
      const [cl, ch] = bitsOf(c), [al, ah] = bitsOf(a), [bl, bh] = bitsOf(b);
      const lo = fma(r, D, cl | 0, ch | 0, al | 0, ah | 0, bl | 0, bh | 0, negA ? 0x80000000 | 0 : 0, neg1 ? 0x80000000 | 0 : 0) >>> 0;
      const hi = out.hi >>> 0;
      const before = vbits(cpu, 4);
      const what = `case ${k}: ${a} ${b} ${c} negA=${negA} neg1=${neg1} fpcr=${fpcr.toString(16)}`;
      if (!fastFp3D(cpu, negA, neg1, 3, 1, 2, 4)) {
        expect(vbits(cpu, 4), what).toBe(before);
        expect(cpu.r[FPSR], what).toBe(0);
        continue;
      }
      taken++;
      expect([...cpu.regs.vs.subarray(16, 20)].map((w) => w >>> 0), what).toEqual([lo, hi, 0, 0]);
      expect(cpu.r[FPSR], what).toBe(r[FPSR]);
      const x = exactFma(negA ? -c : c, neg1 ? -a : a, b);
      expect(bitsOf(x.value).map((w) => w >>> 0), `${what} (exact)`).toEqual([lo, hi]);
      expect(x.inexact ? 0x10 : 0, `${what} (exact IXC)`).toBe(r[FPSR]);
    }
    expect(taken).toBeGreaterThan(3000);
  });
});
