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
import { bitsOf, exactFma, operands, rng } from './fp-operands.ts';

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
