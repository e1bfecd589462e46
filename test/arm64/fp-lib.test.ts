// The FP library API (emulator/arm64/fp/index.ts) on cases worked by hand from IEEE 754-2008 and
// the ARM ARM pseudocode (FPRoundBase, FPProcessNaN, FPUnpack, FPMulAdd, FPToFixed, FixedToFP).
// The instruction-level oracle tests are in fp.test.ts.
import { describe, expect, it } from 'vitest';
import { FPCR, FPSR } from '../../emulator/arm64/regs.ts';
import { add, sub, mul, div, fma, sqrt, convert, toFixed, fromFixed, out, S, D, H, IOC, DZC, OFC, UFC, IXC, IDC } from '../../emulator/arm64/fp/index.ts';

const FZ = 1 << 24, DN = 1 << 25;
const mode = (m: number): number => m << 22;

function regs(fpcr: number): Int32Array {
  const r = new Int32Array(128);
  r[FPCR] = fpcr;
  return r;
}
const hex = (lo: number): string => (lo >>> 0).toString(16);
const hex64 = (lo: number): string => (BigInt(out.hi >>> 0) << 32n | BigInt(lo >>> 0)).toString(16);

describe('FP library, single precision rounding', () => {
  // 1 + 2^-24 is exactly half an ulp above 1.0f: a tie.
  const ONE = 0x3f800000, HALF_ULP = 0x33800000;
  it('ties to even in RN, away from zero in RP, down in RM/RZ; always inexact', () => {
    for (const [m, want] of [[0, '3f800000'], [1, '3f800001'], [2, '3f800000'], [3, '3f800000']] as const) {
      const r = regs(mode(m));
      expect(hex(add(r, S, ONE, 0, HALF_ULP, 0))).toBe(want);
      expect(r[FPSR]).toBe(IXC);
    }
  });
  it('overflow is judged after rounding: RN gives infinity, RZ the largest finite value', () => {
    const MAX = 0x7f7fffff, HALF_ULP_MAX = 0x73000000, ULP_MAX = 0x73800000; // 2^103, 2^104
    let r = regs(0);
    expect(hex(add(r, S, MAX, 0, HALF_ULP_MAX, 0))).toBe('7f800000'); // tie, MAX is odd: up to 2^128
    expect(r[FPSR]).toBe(OFC | IXC);
    r = regs(mode(3));
    expect(hex(add(r, S, MAX, 0, HALF_ULP_MAX, 0))).toBe('7f7fffff'); // truncates to MAX: no overflow
    expect(r[FPSR]).toBe(IXC);
    r = regs(mode(3));
    expect(hex(add(r, S, MAX, 0, ULP_MAX, 0))).toBe('7f7fffff'); // exactly 2^128: overflow
    expect(r[FPSR]).toBe(OFC | IXC);
  });
  it('underflow is tininess before rounding and needs inexact; FZ flushes with UFC only', () => {
    // 2^-126 * 0.5 = 2^-127: exact denormal, no flags.
    let r = regs(0);
    expect(hex(mul(r, S, 0x00800000, 0, 0x3f000000, 0))).toBe('400000');
    expect(r[FPSR]).toBe(0);
    // 2^-126 * (1 - 2^-24) rounds up to 2^-126 in RN but was tiny and inexact: UFC|IXC.
    r = regs(0);
    expect(hex(mul(r, S, 0x00800000, 0, 0x3f7fffff, 0))).toBe('800000');
    expect(r[FPSR]).toBe(UFC | IXC);
    // With FZ the tiny result is a zero of the same sign, UFC and no IXC.
    r = regs(FZ);
    expect(hex(mul(r, S, 0x80800000, 0, 0x3f000000, 0))).toBe('80000000');
    expect(r[FPSR]).toBe(UFC);
  });
  it('FZ flushes denormal inputs (IDC); x - x is -0 only when rounding towards minus infinity', () => {
    let r = regs(FZ);
    expect(hex(add(r, S, 0x00000001, 0, 0x3f800000, 0))).toBe('3f800000');
    expect(r[FPSR]).toBe(IDC);
    r = regs(mode(2));
    expect(hex(sub(r, S, ONE, 0, ONE, 0))).toBe('80000000');
    r = regs(0);
    expect(hex(sub(r, S, ONE, 0, ONE, 0))).toBe('0');
  });
});

describe('FP library, NaNs and exceptions', () => {
  it('a signalling NaN is quieted with IOC and wins over a quiet NaN; DN gives the default NaN', () => {
    let r = regs(0);
    expect(hex(add(r, S, 0x7fc00001, 0, 0xff800002, 0))).toBe('ffc00002');
    expect(r[FPSR]).toBe(IOC);
    r = regs(DN);
    expect(hex(add(r, S, 0x7fc00001, 0, 0x3f800000, 0))).toBe('7fc00000');
    expect(r[FPSR]).toBe(0);
  });
  it('Inf - Inf and 0 * Inf are Invalid (default NaN); x / 0 is DZC', () => {
    let r = regs(0);
    expect(hex(sub(r, S, 0x7f800000, 0, 0x7f800000, 0))).toBe('7fc00000');
    expect(r[FPSR]).toBe(IOC);
    r = regs(0);
    expect(hex(div(r, S, 0xbf800000, 0, 0, 0))).toBe('ff800000');
    expect(r[FPSR]).toBe(DZC);
    r = regs(0);
    expect(hex(sqrt(r, S, 0xbf800000, 0))).toBe('7fc00000');
    expect(r[FPSR]).toBe(IOC);
  });
});

describe('FP library, fused multiply-add and conversions', () => {
  it('fma is rounded once: (1+2^-52)(1-2^-53) - 1 = 2^-53 - 2^-105 exactly (unfused: 0)', () => {
    const r = regs(0);
    // addend -1.0, op1 1+2^-52, op2 1-2^-53 (the predecessor of 1.0)
    const lo = fma(r, D, 0, 0xbff00000 | 0, 1, 0x3ff00000, 0xffffffff | 0, 0x3fefffff);
    expect(hex64(lo)).toBe('3c9ffffffffffffe');
    expect(r[FPSR]).toBe(0);
  });
  it('FCVT double -> half rounds per FPCR.RMode and overflows to infinity in RN', () => {
    let r = regs(0);
    expect(hex(convert(r, D, H, 0, 0x40f00000))).toBe('7c00'); // 65536
    expect(r[FPSR]).toBe(OFC | IXC);
    r = regs(mode(3));
    expect(hex(convert(r, D, H, 0, 0x40f00000))).toBe('7bff');
  });
  it('FCVTZS saturates with IOC, NaN gives 0 with IOC, a fraction is IXC', () => {
    let r = regs(0);
    expect(hex(toFixed(r, D, 0, 0x41e00000, 0, false, 32, 3))).toBe('7fffffff'); // 2^31
    expect(r[FPSR]).toBe(IOC);
    r = regs(0);
    expect(toFixed(r, S, 0x7fc00000, 0, 0, false, 64, 3)).toBe(0);
    expect(out.hi).toBe(0);
    expect(r[FPSR]).toBe(IOC);
    r = regs(0);
    expect(toFixed(r, S, 0xbfc00000 | 0, 0, 0, false, 32, 0)).toBe(-2); // -1.5 ties to even
    expect(r[FPSR]).toBe(IXC);
  });
  it('SCVTF of 2^63 - 1 to double rounds once (to 2^63), inexact', () => {
    const r = regs(0);
    const lo = fromFixed(r, D, -1, 0x7fffffff, 0, false, 64);
    expect(hex64(lo)).toBe('43e0000000000000');
    expect(r[FPSR]).toBe(IXC);
  });
});
