// Native fast paths for the most frequent FP operations (scalar and vector FADD/FSUB/FMUL/FDIV,
// FMLA/FMLS, double FMADD/FMSUB/FNMADD/FNMSUB): normal operands, round to nearest, FZ off, normal results. Results and flags
// are exactly what the FP library computes (inexact found with error-free transformations); any
// lane outside that domain makes the caller take the library path with nothing changed.
import type { Cpu } from '../cpu.ts';
import { FPCR, FPSR, IXC } from '../fp/bits.ts';
import { twoProductErr, toOdd, fusedD, fused } from '../fp/arith.ts';

/** Operation codes (the values of OP in fp-vector.ts). */
const OP = { ADD: 0, SUB: 1, MUL: 2, DIV: 3 } as const;

const RMODE_FZ = (3 << 22) | (1 << 24);

/**
 * FADD/FSUB/FMUL/FDIV on normal operands with normal results in round-to-nearest, all lanes at once:
 * native arithmetic with exact inexact detection (TwoSum; single products are exact in double;
 * Dekker's TwoProduct inside its exponent window). Returns false, having changed nothing, when
 * any lane needs the general path.
 */
export function fastArith(cpu: Cpu, op: number, dbl: boolean, lanes: number, rn: number, rm: number, rd: number, words: number): boolean {
  const r = cpu.r;
  if ((r[FPCR]! & RMODE_FZ) !== 0) return false;
  const vs = cpu.regs.vs;
  let inexact = false;
  if (!dbl) {
    const vf = cpu.regs.vf32;
    for (let i = 0; i < lanes; i++) {
      const ab = vs[rn * 4 + i]!, bb = vs[rm * 4 + i]!;
      if (((ab >>> 23) & 0xff) - 1 >>> 0 >= 254 || ((bb >>> 23) & 0xff) - 1 >>> 0 >= 254) return false;
      const a = vf[rn * 4 + i]!, b = vf[rm * 4 + i]!;
      let v: number;
      if (op === OP.MUL) v = a * b; // exact: 24x24 bits
      else if (op === OP.DIV) {
        v = a / b;
        if (Math.fround(v) * b !== a) inexact = true; // the product of two singles is exact in double
      } else {
        const bx = op === OP.SUB ? -b : b;
        v = a + bx;
        const t = v - a;
        if (a - (v - t) + (bx - t) !== 0) inexact = true;
      }
      const x = Math.fround(v);
      const ax = Math.abs(x);
      if (!(ax > 1.1754943508222875e-38) || ax === Infinity) return false;
      if (x !== v) inexact = true;
      fres[i] = x;
    }
  } else {
    const vd = cpu.regs.vf64;
    for (let i = 0; i < lanes; i++) {
      const ah = vs[rn * 4 + i * 2 + 1]!, bh = vs[rm * 4 + i * 2 + 1]!;
      if (((ah >>> 20) & 0x7ff) - 1 >>> 0 >= 2046 || ((bh >>> 20) & 0x7ff) - 1 >>> 0 >= 2046) return false;
      const a = vd[rn * 2 + i]!, b = vd[rm * 2 + i]!;
      let v: number;
      if (op === OP.MUL) {
        v = a * b;
        const av = Math.abs(v);
        if (!(av > 2 ** -960 && av < 2 ** 1000) || Math.abs(a) >= 2 ** 995 || Math.abs(b) >= 2 ** 995) return false;
        if (twoProductErr(a, b, v) !== 0) inexact = true;
      } else if (op === OP.DIV) {
        v = a / b;
        const av = Math.abs(v), aa = Math.abs(a);
        if (!(av > 2 ** -960 && av < 2 ** 995) || Math.abs(b) >= 2 ** 995 || !(aa > 2 ** -960 && aa < 2 ** 1000)) return false;
        const p = v * b;
        if (p !== a || twoProductErr(v, b, p) !== 0) inexact = true;
      } else {
        const bx = op === OP.SUB ? -b : b;
        v = a + bx;
        const t = v - a;
        if (a - (v - t) + (bx - t) !== 0) inexact = true;
        const av = Math.abs(v);
        if (!(av >= 2.2250738585072014e-308) || av === Infinity) return false;
      }
      dres[i] = v;
    }
  }
  if (inexact) r[FPSR] |= IXC;
  if (dbl) {
    const vd = cpu.regs.vf64;
    vd[rd * 2] = dres[0]!;
    vd[rd * 2 + 1] = words === 4 ? dres[1]! : 0;
  } else {
    const vf = cpu.regs.vf32;
    for (let k = 0; k < 4; k++) vf[rd * 4 + k] = k < words ? fres[k]! : 0;
  }
  if (words < 4) {
    vs[rd * 4 + 2] = 0;
    vs[rd * 4 + 3] = 0;
    if (words === 1) vs[rd * 4 + 1] = 0;
  }
  return true;
}
/**
 * FMLA/FMLS single lanes (idx < 0: Vm lanes, else element idx of Vm) on normal operands with
 * normal results in round-to-nearest: the product is exact in double, the sum is rounded to odd
 * in double (TwoSum) and then to single, which is the correctly rounded fused result.
 */
export function fastFmaS(cpu: Cpu, neg: boolean, lanes: number, rn: number, rm: number, idx: number, rd: number, words: number): boolean {
  const r = cpu.r;
  if ((r[FPCR]! & RMODE_FZ) !== 0) return false;
  const vs = cpu.regs.vs;
  const vf = cpu.regs.vf32;
  let inexact = false;
  for (let i = 0; i < lanes; i++) {
    const m = rm * 4 + (idx < 0 ? i : idx);
    const ab = vs[rn * 4 + i]!, bb = vs[m]!, cb = vs[rd * 4 + i]!;
    if (((ab >>> 23) & 0xff) - 1 >>> 0 >= 254 || ((bb >>> 23) & 0xff) - 1 >>> 0 >= 254 || ((cb >>> 23) & 0xff) - 1 >>> 0 >= 254) return false;
    const a = vf[rn * 4 + i]!, c = vf[rd * 4 + i]!;
    const p = (neg ? -a : a) * vf[m]!;
    const sum = p + c;
    const t = sum - p;
    const err = p - (sum - t) + (c - t);
    const x = Math.fround(toOdd(sum, err));
    const ax = Math.abs(x);
    if (!(ax > 1.1754943508222875e-38) || ax === Infinity) return false;
    if (err !== 0 || x !== sum) inexact = true;
    fres[i] = x;
  }
  if (inexact) r[FPSR] |= IXC;
  for (let k = 0; k < 4; k++) vf[rd * 4 + k] = k < words ? fres[k]! : 0;
  if (words === 1) vs[rd * 4 + 1] = 0;
  return true;
}

/** A double with a normal exponent field (not zero, subnormal, infinite or NaN), from its high word. */
const normalD = (hi: number): boolean => ((hi >>> 20) & 0x7ff) - 1 >>> 0 < 2046;

/**
 * FMLA/FMLS double lanes (idx < 0: Vm lanes, else element idx of Vm) on normal operands in
 * round-to-nearest, FZ off: fusedD per lane (the library's own fast path, fp/arith.ts), all lanes
 * computed before anything is written so that a lane outside its domain leaves Vd and FPSR as they
 * were for the library path.
 */
export function fastFmaD(cpu: Cpu, neg: boolean, lanes: number, rn: number, rm: number, idx: number, rd: number, words: number): boolean {
  const r = cpu.r;
  if ((r[FPCR]! & RMODE_FZ) !== 0) return false;
  const vs = cpu.regs.vs;
  const vd = cpu.regs.vf64;
  let inexact = false;
  for (let i = 0; i < lanes; i++) {
    const m = rm * 2 + (idx < 0 ? i : idx);
    if (!normalD(vs[rn * 4 + i * 2 + 1]!) || !normalD(vs[m * 2 + 1]!) || !normalD(vs[rd * 4 + i * 2 + 1]!)) return false;
    const a = neg ? -vd[rn * 2 + i]! : vd[rn * 2 + i]!, b = vd[m]!;
    const v = fusedD(vd[rd * 2 + i]!, a, b, a * b);
    if (v !== v) return false;
    if (fused.inexact) inexact = true;
    dres[i] = v;
  }
  if (inexact) r[FPSR] |= IXC;
  vd[rd * 2] = dres[0]!;
  vd[rd * 2 + 1] = words === 4 ? dres[1]! : 0;
  return true;
}

/**
 * FMADD/FMSUB/FNMADD/FNMSUB double: Da + Dn*Dm with Da negated (negA) and/or Dn negated (neg1)
 * as the library's fma; same domain as fastFmaD.
 */
export function fastFp3D(cpu: Cpu, negA: boolean, neg1: boolean, ra: number, rn: number, rm: number, rd: number): boolean {
  const r = cpu.r;
  if ((r[FPCR]! & RMODE_FZ) !== 0) return false;
  const vs = cpu.regs.vs;
  if (!normalD(vs[rn * 4 + 1]!) || !normalD(vs[rm * 4 + 1]!) || !normalD(vs[ra * 4 + 1]!)) return false;
  const vd = cpu.regs.vf64;
  const a = neg1 ? -vd[rn * 2]! : vd[rn * 2]!, b = vd[rm * 2]!;
  const v = fusedD(negA ? -vd[ra * 2]! : vd[ra * 2]!, a, b, a * b);
  if (v !== v) return false;
  if (fused.inexact) r[FPSR] |= IXC;
  vd[rd * 2] = v;
  vd[rd * 2 + 1] = 0;
  return true;
}

const fres = new Float32Array(4);
const dres = new Float64Array(2);
