// Advanced SIMD floating point (ARM ARM C7.2, vector and scalar forms): each lane is one call of
// the FP library (emulator/arm64/fp/), so lanes follow exactly the scalar rules (FPCR rounding,
// FZ, DN, NaN propagation, exact FPSR flags). Results are built in a scratch register first
// because sources and destination may overlap.
import type { Cpu } from '../cpu.ts';
import { type Fmt, D, H, S, RO, out } from '../fp/bits.ts';
import { add, sub, mul, div, mulx, fma, sqrt, recipStep, rsqrtStep } from '../fp/arith.ts';
import { fastArith, fastFmaS, fastFmaD } from './fp-fast.ts';
import { compareLane, maxMin } from '../fp/compare.ts';
import { convert, roundInt, toFixed, fromFixed } from '../fp/convert.ts';
import { recipEstimateFp, rsqrtEstimateFp, recpx } from '../fp/estimate.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const OP = { ADD: 0, SUB: 1, MUL: 2, DIV: 3, MAX: 4, MIN: 5, MAXNM: 6, MINNM: 7, ABD: 8, MULX: 9, RECPS: 10, RSQRTS: 11,
  FMLA: 12, FMLS: 13, CMEQ: 14, CMGE: 15, CMGT: 16, ACGE: 17, ACGT: 18 } as const;

/** Scratch result register. */
const res = new Uint32Array(4);
const res16 = new Uint16Array(res.buffer);

function laneLo(cpu: Cpu, n: number, i: number, dbl: boolean): number {
  return (dbl ? cpu.regs.vs[n * 4 + i * 2]! : cpu.regs.vs[n * 4 + i]!) | 0;
}
function laneHi(cpu: Cpu, n: number, i: number, dbl: boolean): number {
  return dbl ? cpu.regs.vs[n * 4 + i * 2 + 1]! | 0 : 0;
}
function setLane(i: number, dbl: boolean, lo: number, hi: number): void {
  if (dbl) {
    res[i * 2] = lo;
    res[i * 2 + 1] = hi;
  } else res[i] = lo;
}
/** Copy res into Vd: `words` 32-bit words (2 for a 64-bit vector, 4 for 128), the rest zeroed. */
function store(cpu: Cpu, d: number, words: number): void {
  const vs = cpu.regs.vs;
  for (let k = 0; k < 4; k++) vs[d * 4 + k] = k < words ? res[k]! : 0;
}

/** One lane of a two-operand operation; returns lo, out.hi. */
export function lane2(r: Int32Array, op: number, fmt: Fmt, al: number, ah: number, bl: number, bh: number): number {
  switch (op) {
    case OP.ADD: return add(r, fmt, al, ah, bl, bh);
    case OP.SUB: return sub(r, fmt, al, ah, bl, bh);
    case OP.MUL: return mul(r, fmt, al, ah, bl, bh);
    case OP.DIV: return div(r, fmt, al, ah, bl, bh);
    case OP.MAX: return maxMin(r, fmt, al, ah, bl, bh, true, false);
    case OP.MIN: return maxMin(r, fmt, al, ah, bl, bh, false, false);
    case OP.MAXNM: return maxMin(r, fmt, al, ah, bl, bh, true, true);
    case OP.MINNM: return maxMin(r, fmt, al, ah, bl, bh, false, true);
    case OP.ABD: {
      // FPAbs(FPSub()): the absolute value applies to a NaN result too.
      const lo = sub(r, fmt, al, ah, bl, bh);
      if (fmt === D) {
        out.hi &= 0x7fffffff;
        return lo;
      }
      return lo & (fmt === H ? 0x7fff : 0x7fffffff);
    }
    case OP.MULX: return mulx(r, fmt, al, ah, bl, bh);
    case OP.RECPS: return recipStep(r, fmt, al, ah, bl, bh);
    case OP.RSQRTS: return rsqrtStep(r, fmt, al, ah, bl, bh);
    default: {
      const kind = op === OP.CMEQ ? 0 : op === OP.CMGE || op === OP.ACGE ? 1 : 2;
      const t = compareLane(r, fmt, al, ah, bl, bh, kind, op === OP.ACGE || op === OP.ACGT);
      out.hi = t ? -1 : 0;
      return t ? -1 : 0;
    }
  }
}

function laneFma(cpu: Cpu, i: number, dbl: boolean, neg: boolean, nl: number, nh: number, ml: number, mh: number, rd: number): void {
  const fmt: Fmt = dbl ? D : S;
  const lo = fma(cpu.r, fmt, laneLo(cpu, rd, i, dbl), laneHi(cpu, rd, i, dbl), nl, nh, ml, mh, 0, neg ? 0x80000000 | 0 : 0);
  setLane(i, dbl, lo, out.hi);
}

/** FMLA/FMLS (vector): the fast path, else the per-lane library calls. */
export function threeSameFma(cpu: Cpu, f: F): void {
  if (!(f.dbl ? fastFmaD : fastFmaS)(cpu, f.op === OP.FMLS, f.lanes, f.rn, f.rm, -1, f.rd, f.words)) threeSame(cpu, f);
}
/** FMLA/FMLS (by element): the fast path, else the per-lane library calls. */
export function byElementFma(cpu: Cpu, f: F): void {
  if (!(f.dbl ? fastFmaD : fastFmaS)(cpu, f.op === OP.FMLS, f.lanes, f.rn, f.rm, f.index, f.rd, f.words)) byElement(cpu, f);
}


/** FADD/FSUB/FMUL/FDIV (vector): the fast path, else the per-lane library calls. */
export function threeSameArith(cpu: Cpu, f: F): void {
  if (!fastArith(cpu, f.op, f.dbl, f.lanes, f.rn, f.rm, f.rd, f.words)) threeSame(cpu, f);
}

/** Three same (vector or scalar): f.op, f.dbl, f.lanes, f.words, f.pairwise. */
export function threeSame(cpu: Cpu, f: F): void {
  const { dbl, lanes, rn, rm, rd } = f;
  const fmt: Fmt = dbl ? D : S;
  const op = f.op;
  for (let i = 0; i < lanes; i++) {
    if (op === OP.FMLA || op === OP.FMLS) {
      laneFma(cpu, i, dbl, op === OP.FMLS, laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl), laneLo(cpu, rm, i, dbl), laneHi(cpu, rm, i, dbl), rd);
      continue;
    }
    let an = rn, ai = i, bn = rm, bi = i;
    if (f.pairwise) {
      // Pairwise: the concatenation Vm:Vn, adjacent pairs.
      const half = lanes / 2;
      an = bn = i < half ? rn : rm;
      ai = (i % half) * 2;
      bi = ai + 1;
    }
    const lo = lane2(cpu.r, op, fmt, laneLo(cpu, an, ai, dbl), laneHi(cpu, an, ai, dbl), laneLo(cpu, bn, bi, dbl), laneHi(cpu, bn, bi, dbl));
    setLane(i, dbl, lo, out.hi);
  }
  store(cpu, rd, f.words);
}

/** By element: FMUL/FMULX/FMLA/FMLS Vd, Vn, Vm.T[index]. */
export function byElement(cpu: Cpu, f: F): void {
  const { dbl, lanes, rn, rm, rd, index } = f;
  const fmt: Fmt = dbl ? D : S;
  const ml = laneLo(cpu, rm, index, dbl), mh = laneHi(cpu, rm, index, dbl);
  for (let i = 0; i < lanes; i++) {
    if (f.op === OP.FMLA || f.op === OP.FMLS) laneFma(cpu, i, dbl, f.op === OP.FMLS, laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl), ml, mh, rd);
    else setLane(i, dbl, lane2(cpu.r, f.op, fmt, laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl), ml, mh), out.hi);
  }
  store(cpu, rd, f.words);
}

/** Pairwise reduction to a scalar (FADDP/FMAXP/... scalar) and across lanes (FMAXV...). */
export function reduce(cpu: Cpu, f: F): void {
  const { dbl, rn, rd } = f;
  const fmt: Fmt = dbl ? D : S;
  const r = cpu.r;
  if (f.lanes === 2) {
    setLane(0, dbl, lane2(r, f.op, fmt, laneLo(cpu, rn, 0, dbl), laneHi(cpu, rn, 0, dbl), laneLo(cpu, rn, 1, dbl), laneHi(cpu, rn, 1, dbl)), out.hi);
  } else {
    // Reduce() (ARM ARM shared pseudocode) on 4 lanes: (0 op 1) op (2 op 3).
    const x = lane2(r, f.op, fmt, laneLo(cpu, rn, 0, false), 0, laneLo(cpu, rn, 1, false), 0);
    const y = lane2(r, f.op, fmt, laneLo(cpu, rn, 2, false), 0, laneLo(cpu, rn, 3, false), 0);
    res[0] = lane2(r, f.op, fmt, x, 0, y, 0);
  }
  if (!dbl) res[1] = 0;
  store(cpu, rd, dbl ? 2 : 1);
}

const CMP0: Record<string, [number, boolean]> = { cmgt0: [2, false], cmge0: [1, false], cmeq0: [0, false], cmlt0: [2, true], cmle0: [1, true] };

/** Two-register misc (vector or scalar), f.kind selects the operation. */
export function misc(cpu: Cpu, f: F): void {
  const { dbl, lanes, rn, rd, kind } = f;
  const fmt: Fmt = dbl ? D : S;
  const r = cpu.r;
  const bits = dbl ? 64 : 32;
  for (let i = 0; i < lanes; i++) {
    const lo = laneLo(cpu, rn, i, dbl), hi = laneHi(cpu, rn, i, dbl);
    let v: number;
    switch (kind) {
      case 'abs':
        if (dbl) { setLane(i, true, lo, hi & 0x7fffffff); continue; }
        v = lo & 0x7fffffff;
        break;
      case 'neg':
        if (dbl) { setLane(i, true, lo, hi ^ 0x80000000); continue; }
        v = lo ^ 0x80000000;
        break;
      case 'sqrt': v = sqrt(r, fmt, lo, hi); break;
      case 'rint': v = roundInt(r, fmt, lo, hi, f.rmode, false); break;
      case 'rintx': v = roundInt(r, fmt, lo, hi, -1, true); break;
      case 'scvtf': v = fromFixed(r, fmt, lo, hi, f.fbits, false, bits); break;
      case 'ucvtf': v = fromFixed(r, fmt, lo, hi, f.fbits, true, bits); break;
      case 'fcvts': v = toFixed(r, fmt, lo, hi, f.fbits, false, bits, f.rmode); break;
      case 'fcvtu': v = toFixed(r, fmt, lo, hi, f.fbits, true, bits, f.rmode); break;
      case 'recpe': v = recipEstimateFp(r, fmt, lo, hi); break;
      case 'rsqrte': v = rsqrtEstimateFp(r, fmt, lo, hi); break;
      case 'recpx': v = recpx(r, fmt, lo, hi); break;
      default: {
        const [k, swap] = CMP0[kind]!;
        const t = swap ? compareLane(r, fmt, 0, 0, lo, hi, k, false) : compareLane(r, fmt, lo, hi, 0, 0, k, false);
        out.hi = t ? -1 : 0;
        v = t ? -1 : 0;
      }
    }
    setLane(i, dbl, v, out.hi);
  }
  store(cpu, rd, f.words);
}

/** FCVTL/FCVTL2: double lanes from the lower/upper single lanes. */
export function fcvtLong(cpu: Cpu, f: F): void {
  const base = f.upper ? 2 : 0;
  for (let i = 0; i < 2; i++) setLane(i, true, convert(cpu.r, S, D, laneLo(cpu, f.rn, base + i, false), 0), out.hi);
  store(cpu, f.rd, 4);
}

/** FCVTL/FCVTL2 from half: Vd.4S = Vn.4H (lower or upper half of Vn). */
export function fcvtLongHalf(cpu: Cpu, f: F): void {
  const vh = cpu.regs.vh;
  const base = f.rn * 8 + (f.upper ? 4 : 0);
  for (let i = 0; i < 4; i++) res[i] = convert(cpu.r, H, S, vh[base + i]!, 0);
  store(cpu, f.rd, 4);
}

/** FCVTN/FCVTN2 (double -> single), FCVTXN/FCVTXN2 (f.odd: round to odd). */
export function fcvtNarrow(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  const a = convert(cpu.r, D, S, vs[f.rn * 4]! | 0, vs[f.rn * 4 + 1]! | 0, f.odd ? RO : -1);
  const b = f.lanes === 1 ? 0 : convert(cpu.r, D, S, vs[f.rn * 4 + 2]! | 0, vs[f.rn * 4 + 3]! | 0, f.odd ? RO : -1);
  if (f.upper) {
    vs[f.rd * 4 + 2] = a;
    vs[f.rd * 4 + 3] = b;
  } else {
    vs[f.rd * 4] = a;
    vs[f.rd * 4 + 1] = b;
    vs[f.rd * 4 + 2] = 0;
    vs[f.rd * 4 + 3] = 0;
  }
}

/** FCVTN/FCVTN2 to half: Vd.4H (lower or upper half) = Vn.4S. */
export function fcvtNarrowHalf(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  for (let i = 0; i < 4; i++) res16[i] = convert(cpu.r, S, H, vs[f.rn * 4 + i]! | 0, 0);
  const vh = cpu.regs.vh;
  const base = f.rd * 8 + (f.upper ? 4 : 0);
  for (let i = 0; i < 4; i++) vh[base + i] = res16[i]!;
  if (!f.upper) {
    vs[f.rd * 4 + 2] = 0;
    vs[f.rd * 4 + 3] = 0;
  }
}

/** FMOV (vector, immediate). */
export function fmovVecImm(cpu: Cpu, f: F): void {
  for (let k = 0; k < 4; k++) res[k] = f.dbl ? (k & 1 ? f.hi : 0) : f.bits;
  store(cpu, f.rd, f.words);
}
