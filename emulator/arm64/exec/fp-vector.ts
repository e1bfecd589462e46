// Advanced SIMD floating point (ARM ARM C7.2, vector and scalar forms): each lane follows the
// same rules as the scalar instructions in fp-basic.ts (round to nearest, NaN propagation with
// the first signalling operand winning, FPCR.DN, FPSR.IOC/DZC).
import type { Cpu } from '../cpu.ts';
import { FPCR, FPSR } from '../regs.ts';
import { fusedMulAdd } from '../fp/fma.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const IOC = 1;
const DZC = 2;
const FPCR_DN = 1 << 25;

const tmp = new ArrayBuffer(8);
const tf64 = new Float64Array(tmp);
const tf32 = new Float32Array(tmp);
const tu32 = new Uint32Array(tmp);
/** Scratch result register (sources and destination may overlap). */
const res = new Uint32Array(4);

// ---- lane access: a lane is (hi, lo) raw bits; values go through raw bits to keep sNaNs ----

function laneHi(cpu: Cpu, n: number, i: number, dbl: boolean): number {
  return dbl ? cpu.regs.vs[n * 4 + i * 2 + 1]! : 0;
}
function laneLo(cpu: Cpu, n: number, i: number, dbl: boolean): number {
  return dbl ? cpu.regs.vs[n * 4 + i * 2]! : cpu.regs.vs[n * 4 + i]!;
}
function value(lo: number, hi: number, dbl: boolean): number {
  if (dbl) {
    tu32[0] = lo;
    tu32[1] = hi;
    return tf64[0]!;
  }
  tu32[0] = lo;
  return tf32[0]!;
}
function isNaNBits(lo: number, hi: number, dbl: boolean): boolean {
  return dbl ? (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0) : (lo & 0x7f800000) === 0x7f800000 && (lo & 0x7fffff) !== 0;
}
function isSNaNBits(lo: number, hi: number, dbl: boolean): boolean {
  return isNaNBits(lo, hi, dbl) && (dbl ? (hi & 0x80000) === 0 : (lo & 0x400000) === 0);
}
function setRes(i: number, dbl: boolean, v: number): void {
  if (dbl) {
    tf64[0] = v;
    res[i * 2] = tu32[0]!;
    res[i * 2 + 1] = tu32[1]!;
  } else {
    tf32[0] = v;
    res[i] = tu32[0]!;
  }
}
function setResBits(i: number, dbl: boolean, lo: number, hi: number): void {
  if (dbl) {
    res[i * 2] = lo >>> 0;
    res[i * 2 + 1] = hi >>> 0;
  } else res[i] = lo >>> 0;
}
function defaultNaN(i: number, dbl: boolean): void {
  setResBits(i, dbl, dbl ? 0 : 0x7fc00000, 0x7ff80000);
}
/** Copy res into Vd: `words` 32-bit words (2 for a 64-bit vector, 4 for 128), the rest zeroed. */
function store(cpu: Cpu, d: number, words: number): void {
  const vs = cpu.regs.vs;
  for (let k = 0; k < 4; k++) vs[d * 4 + k] = k < words ? res[k]! : 0;
}

/** NaN operands of a lane: writes the result lane and returns true if there was one. */
function laneNaN(cpu: Cpu, i: number, dbl: boolean, a: [number, number], b: [number, number] | null, c: [number, number] | null = null): boolean {
  const ops = c ? [c, a, b!] : b ? [a, b] : [a];
  let pick: [number, number] | null = null;
  for (const o of ops) if (isSNaNBits(o[0], o[1], dbl)) { pick = o; break; }
  if (pick) cpu.r[FPSR] |= IOC;
  else for (const o of ops) if (isNaNBits(o[0], o[1], dbl)) { pick = o; break; }
  if (!pick) return false;
  if ((cpu.r[FPCR]! & FPCR_DN) !== 0) defaultNaN(i, dbl);
  else setResBits(i, dbl, dbl ? pick[0] : pick[0] | 0x400000, dbl ? pick[1] | 0x80000 : 0);
  return true;
}

function arith(cpu: Cpu, op: number, a: number, b: number): number {
  switch (op) {
    case OP.ADD: return a + b;
    case OP.SUB: return a - b;
    case OP.MUL: return a * b;
    case OP.DIV:
      if (b === 0 && a !== 0 && Number.isFinite(a)) cpu.r[FPSR] |= DZC;
      return a / b;
    case OP.MAX: case OP.MAXNM:
      return a === 0 && b === 0 ? (Object.is(a, -0) && Object.is(b, -0) ? -0 : 0) : a > b ? a : b;
    case OP.MIN: case OP.MINNM:
      return a === 0 && b === 0 ? (Object.is(a, -0) || Object.is(b, -0) ? -0 : 0) : a < b ? a : b;
    case OP.ABD: return Math.abs(a - b);
    case OP.MULX: return (a === 0 && !Number.isFinite(b)) || (b === 0 && !Number.isFinite(a)) ? (Math.sign(a) * Math.sign(b) < 0 || Object.is(a * b, -0) ? -2 : 2) : a * b;
    // FPRecipStepFused / FPRSqrtStepFused: 2 + (-a)*b and (3 + (-a)*b) / 2, rounded once.
    case OP.RECPS: return (a === 0 && !Number.isFinite(b)) || (b === 0 && !Number.isFinite(a)) ? 2 : fusedMulAdd(-a, b, 2, false);
    case OP.RSQRTS: return (a === 0 && !Number.isFinite(b)) || (b === 0 && !Number.isFinite(a)) ? 1.5 : fusedMulAdd(-a, b, 3, false) / 2;
  }
  return NaN;
}

export const OP = { ADD: 0, SUB: 1, MUL: 2, DIV: 3, MAX: 4, MIN: 5, MAXNM: 6, MINNM: 7, ABD: 8, MULX: 9, RECPS: 10, RSQRTS: 11,
  FMLA: 12, FMLS: 13, CMEQ: 14, CMGE: 15, CMGT: 16, ACGE: 17, ACGT: 18 } as const;

/** One lane of a two-operand operation, honouring NaN rules; returns nothing (writes res). */
function lane2(cpu: Cpu, op: number, i: number, dbl: boolean, al: number, ah: number, bl: number, bh: number): void {
  if (op >= OP.CMEQ) {
    const an = isNaNBits(al, ah, dbl), bn = isNaNBits(bl, bh, dbl);
    if ((an || bn) && (op !== OP.CMEQ || isSNaNBits(al, ah, dbl) || isSNaNBits(bl, bh, dbl))) cpu.r[FPSR] |= IOC;
    let a = value(al, ah, dbl), b = value(bl, bh, dbl);
    if (op === OP.ACGE || op === OP.ACGT) { a = Math.abs(a); b = Math.abs(b); }
    const t = an || bn ? false : op === OP.CMEQ ? a === b : op === OP.CMGE || op === OP.ACGE ? a >= b : a > b;
    setResBits(i, dbl, t ? -1 : 0, t ? -1 : 0);
    return;
  }
  if (op === OP.MAXNM || op === OP.MINNM) {
    const aq = isNaNBits(al, ah, dbl) && !isSNaNBits(al, ah, dbl), bq = isNaNBits(bl, bh, dbl) && !isSNaNBits(bl, bh, dbl);
    if (aq && !isNaNBits(bl, bh, dbl)) return setRes(i, dbl, value(bl, bh, dbl));
    if (bq && !isNaNBits(al, ah, dbl)) return setRes(i, dbl, value(al, ah, dbl));
  }
  // FRECPS/FRSQRTS negate the first operand before anything else (FPRecipStepFused).
  if (op === OP.RECPS || op === OP.RSQRTS) {
    if (dbl) ah ^= 0x80000000;
    else al ^= 0x80000000;
  }
  if (laneNaN(cpu, i, dbl, [al, ah], [bl, bh])) {
    // FABD is FPAbs(FPSub()): the absolute value applies to a NaN result too.
    if (op === OP.ABD) {
      if (dbl) res[i * 2 + 1] = res[i * 2 + 1]! & 0x7fffffff;
      else res[i] = res[i]! & 0x7fffffff;
    }
    return;
  }
  let a = value(al, ah, dbl);
  const b = value(bl, bh, dbl);
  if (op === OP.RECPS || op === OP.RSQRTS) a = -a; // undo: arith() applies the formula to the original
  const r = arith(cpu, op, a, b);
  if (Number.isNaN(r)) {
    cpu.r[FPSR] |= IOC;
    return defaultNaN(i, dbl);
  }
  setRes(i, dbl, dbl ? r : Math.fround(r));
}

/** FMLA/FMLS lane: d + (±n * m). The product of two singles is exact in binary64. */
function laneFma(cpu: Cpu, i: number, dbl: boolean, neg: boolean, dl: number, dh: number, nl: number, nh: number, ml: number, mh: number): void {
  if (neg) nh = dbl ? nh ^ 0x80000000 : 0, nl = dbl ? nl : nl ^ 0x80000000;
  if (laneNaN(cpu, i, dbl, [nl, nh], [ml, mh], [dl, dh])) return;
  const n = value(nl, nh, dbl), m = value(ml, mh, dbl), d = value(dl, dh, dbl);
  if ((n === 0 && !Number.isFinite(m)) || (m === 0 && !Number.isFinite(n))) { cpu.r[FPSR] |= IOC; return defaultNaN(i, dbl); }
  const r = fusedMulAdd(n, m, d, !dbl);
  if (Number.isNaN(r)) { cpu.r[FPSR] |= IOC; return defaultNaN(i, dbl); }
  setRes(i, dbl, r);
}

/** Three same (vector or scalar): f.op, f.dbl, f.lanes, f.words, f.pairwise. */
export function threeSame(cpu: Cpu, f: F): void {
  const { dbl, lanes, rn, rm, rd } = f;
  for (let i = 0; i < lanes; i++) {
    if (f.op === OP.FMLA || f.op === OP.FMLS) {
      laneFma(cpu, i, dbl, f.op === OP.FMLS, laneLo(cpu, rd, i, dbl), laneHi(cpu, rd, i, dbl), laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl), laneLo(cpu, rm, i, dbl), laneHi(cpu, rm, i, dbl));
      continue;
    }
    let an = rn, ai = i, bn = rn, bi = i;
    if (f.pairwise) {
      // Pairwise: the concatenation Vm:Vn, adjacent pairs.
      const half = lanes / 2;
      const src = i < half ? rn : rm;
      const j = (i % half) * 2;
      an = src; ai = j; bn = src; bi = j + 1;
    } else bn = rm;
    lane2(cpu, f.op, i, dbl, laneLo(cpu, an, ai, dbl), laneHi(cpu, an, ai, dbl), laneLo(cpu, bn, bi, dbl), laneHi(cpu, bn, bi, dbl));
  }
  store(cpu, rd, f.words);
}

/** By element: FMUL/FMULX/FMLA/FMLS Vd, Vn, Vm.T[index]. */
export function byElement(cpu: Cpu, f: F): void {
  const { dbl, lanes, rn, rm, rd, index } = f;
  const ml = laneLo(cpu, rm, index, dbl), mh = laneHi(cpu, rm, index, dbl);
  for (let i = 0; i < lanes; i++) {
    if (f.op === OP.FMLA || f.op === OP.FMLS) laneFma(cpu, i, dbl, f.op === OP.FMLS, laneLo(cpu, rd, i, dbl), laneHi(cpu, rd, i, dbl), laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl), ml, mh);
    else lane2(cpu, f.op, i, dbl, laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl), ml, mh);
  }
  store(cpu, rd, f.words);
}

/** Pairwise reduction to a scalar (FADDP/FMAXP/... scalar) and across lanes (FMAXV...). */
export function reduce(cpu: Cpu, f: F): void {
  const { dbl, rn, rd } = f;
  const n = f.lanes;
  let vals: [number, number][] = [];
  for (let i = 0; i < n; i++) vals.push([laneLo(cpu, rn, i, dbl), laneHi(cpu, rn, i, dbl)]);
  // FMAXV etc. reduce recursively in halves, as the pseudocode's Reduce() does.
  while (vals.length > 1) {
    const next: [number, number][] = [];
    const pairs = vals.length / 2;
    for (let k = 0; k < pairs; k++) {
      // Reduce() (ARM ARM shared pseudocode) combines adjacent elements, lowest first.
      const [a, b] = [vals[2 * k]!, vals[2 * k + 1]!];
      lane2(cpu, f.op, 0, dbl, a[0], a[1], b[0], b[1]);
      next.push(dbl ? [res[0]!, res[1]!] : [res[0]!, 0]);
    }
    vals = next;
  }
  setResBits(0, dbl, vals[0]![0], vals[0]![1]);
  if (!dbl) res[1] = 0;
  res[2] = 0;
  res[3] = 0;
  store(cpu, rd, dbl ? 2 : 1);
}

function roundInt(v: number, rm: number): number {
  switch (rm) {
    case 1: return Math.ceil(v);
    case 2: return Math.floor(v);
    case 3: return Math.trunc(v);
    case 4: { const t = Math.trunc(v); return Math.abs(v - t) >= 0.5 ? t + Math.sign(v) : t; }
    default: { const fl = Math.floor(v); const d = v - fl; return d < 0.5 ? fl : d > 0.5 ? fl + 1 : fl % 2 === 0 ? fl : fl + 1; }
  }
}

/** Two-register misc (vector or scalar), f.kind selects the operation. */
export function misc(cpu: Cpu, f: F): void {
  const { dbl, lanes, rn, rd, kind } = f;
  const rmode = f.rmode < 0 ? (cpu.r[FPCR]! >>> 22) & 3 : f.rmode;
  for (let i = 0; i < lanes; i++) {
    const lo = laneLo(cpu, rn, i, dbl), hi = laneHi(cpu, rn, i, dbl);
    switch (kind) {
      case 'abs': setResBits(i, dbl, dbl ? lo : lo & 0x7fffffff, dbl ? hi & 0x7fffffff : 0); break;
      case 'neg': setResBits(i, dbl, dbl ? lo : lo ^ 0x80000000, dbl ? hi ^ 0x80000000 : 0); break;
      case 'sqrt': {
        if (laneNaN(cpu, i, dbl, [lo, hi], null)) break;
        const v = value(lo, hi, dbl);
        if (v < 0) { cpu.r[FPSR] |= IOC; defaultNaN(i, dbl); } else setRes(i, dbl, Math.sqrt(v));
        break;
      }
      case 'rint': {
        if (laneNaN(cpu, i, dbl, [lo, hi], null)) break;
        const v = value(lo, hi, dbl);
        let r = Number.isFinite(v) ? roundInt(v, rmode) : v;
        if (r === 0 && (v < 0 || Object.is(v, -0))) r = -0;
        setRes(i, dbl, r);
        break;
      }
      case 'scvtf': case 'ucvtf': {
        let v: number;
        if (dbl) {
          let b = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
          if (kind === 'scvtf') b = BigInt.asIntN(64, b);
          v = Number(b);
        } else v = kind === 'scvtf' ? lo | 0 : lo >>> 0;
        setRes(i, dbl, v / 2 ** f.fbits);
        break;
      }
      case 'fcvts': case 'fcvtu': {
        const bits = dbl ? 64 : 32;
        const unsigned = kind === 'fcvtu';
        if (isNaNBits(lo, hi, dbl)) { cpu.r[FPSR] |= IOC; setResBits(i, dbl, 0, 0); break; }
        let v = value(lo, hi, dbl) * 2 ** f.fbits;
        v = Number.isFinite(v) ? roundInt(v, rmode) : v;
        const lim = unsigned ? 2 ** bits : 2 ** (bits - 1);
        const min = unsigned ? 0 : -lim;
        let big: bigint;
        if (v >= lim) { cpu.r[FPSR] |= IOC; big = BigInt(lim) - 1n; }
        else if (v < min) { cpu.r[FPSR] |= IOC; big = BigInt(min); }
        else big = BigInt(v === 0 ? 0 : v);
        big = BigInt.asUintN(bits, big);
        setResBits(i, dbl, Number(big & 0xffffffffn), Number(big >> 32n));
        break;
      }
      default: {
        // compare against zero: cmgt0, cmeq0, cmlt0, cmge0, cmle0
        if (isNaNBits(lo, hi, dbl)) {
          if (kind !== 'cmeq0' || isSNaNBits(lo, hi, dbl)) cpu.r[FPSR] |= IOC;
          setResBits(i, dbl, 0, 0);
          break;
        }
        const v = value(lo, hi, dbl);
        const t = kind === 'cmgt0' ? v > 0 : kind === 'cmeq0' ? v === 0 : kind === 'cmlt0' ? v < 0 : kind === 'cmge0' ? v >= 0 : v <= 0;
        setResBits(i, dbl, t ? -1 : 0, t ? -1 : 0);
      }
    }
  }
  store(cpu, rd, f.words);
}

/** FCVTL/FCVTL2 (single → double of the lower/upper half) and FCVTN/FCVTN2 (double → single). */
export function fcvtLong(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  const base = f.upper ? 2 : 0;
  for (let i = 0; i < 2; i++) {
    const bits = vs[f.rn * 4 + base + i]!;
    if (isNaNBits(bits, 0, false)) {
      if (isSNaNBits(bits, 0, false)) cpu.r[FPSR] |= IOC;
      if ((cpu.r[FPCR]! & FPCR_DN) !== 0) { res[i * 2] = 0; res[i * 2 + 1] = 0x7ff80000; continue; }
      const frac = bits & 0x3fffff;
      res[i * 2] = (frac << 29) >>> 0;
      res[i * 2 + 1] = ((bits & 0x80000000) | 0x7ff80000 | (frac >>> 3)) >>> 0;
      continue;
    }
    tu32[0] = bits;
    setRes(i, true, tf32[0]!);
  }
  store(cpu, f.rd, 4);
}

export function fcvtNarrow(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  const out = [0, 0];
  for (let i = 0; i < 2; i++) {
    const lo = vs[f.rn * 4 + i * 2]!, hi = vs[f.rn * 4 + i * 2 + 1]!;
    if (isNaNBits(lo, hi, true)) {
      if (isSNaNBits(lo, hi, true)) cpu.r[FPSR] |= IOC;
      out[i] = (cpu.r[FPCR]! & FPCR_DN) !== 0 ? 0x7fc00000 : ((hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29)) >>> 0;
      continue;
    }
    tf32[0] = Math.fround(value(lo, hi, true));
    out[i] = tu32[0]!;
  }
  if (f.upper) {
    vs[f.rd * 4 + 2] = out[0]!;
    vs[f.rd * 4 + 3] = out[1]!;
  } else {
    vs[f.rd * 4] = out[0]!;
    vs[f.rd * 4 + 1] = out[1]!;
    vs[f.rd * 4 + 2] = 0;
    vs[f.rd * 4 + 3] = 0;
  }
}

/** FMOV (vector, immediate). */
export function fmovVecImm(cpu: Cpu, f: F): void {
  for (let k = 0; k < 4; k++) res[k] = f.dbl ? (k & 1 ? f.hi : 0) : f.bits;
  store(cpu, f.rd, f.words);
}

// ---- half precision conversions (IEEE binary16, FPCR.AHP = 0), part of the base FP ----

/** binary16 bits → JS number (exact). NaN payloads are handled by the callers. */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** JS number → binary16 bits, round to nearest even (overflow → infinity, as RNE does). */
export function numberToHalf(v: number): number {
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  let a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a === 0) return sign;
  // Scale to the integer significand at the target exponent and round half-even.
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  if (e < -14) e = -14; // subnormal range shares the minimum exponent
  const q = a / 2 ** (e - 10);
  let m = Math.floor(q);
  const frac = q - m;
  if (frac > 0.5 || (frac === 0.5 && (m & 1) === 1)) m++;
  if (m >= 2048) {
    m >>>= 1;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  if (m < 1024) return sign | m; // subnormal (e == -14)
  return sign | ((e + 15) << 10) | (m - 1024);
}

/** FCVTL/FCVTL2 from half: Vd.4S = Vn.4H (lower or upper half of Vn). */
export function fcvtLongHalf(cpu: Cpu, f: F): void {
  const vh = cpu.regs.vh;
  const base = f.rn * 8 + (f.upper ? 4 : 0);
  for (let i = 0; i < 4; i++) {
    const h = vh[base + i]!;
    if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) {
      if ((h & 0x200) === 0) cpu.r[FPSR] |= IOC;
      res[i] = (cpu.r[FPCR]! & FPCR_DN) !== 0 ? 0x7fc00000 : ((h & 0x8000) << 16) | 0x7fc00000 | ((h & 0x3ff) << 13);
      continue;
    }
    setRes(i, false, halfToNumber(h));
  }
  store(cpu, f.rd, 4);
}

/** FCVTN/FCVTN2 to half: Vd.4H (lower or upper half) = Vn.4S. */
export function fcvtNarrowHalf(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  const out = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const bits = vs[f.rn * 4 + i]!;
    if (isNaNBits(bits, 0, false)) {
      if (isSNaNBits(bits, 0, false)) cpu.r[FPSR] |= IOC;
      out[i] = (cpu.r[FPCR]! & FPCR_DN) !== 0 ? 0x7e00 : ((bits >>> 16) & 0x8000) | 0x7e00 | ((bits >>> 13) & 0x1ff);
      continue;
    }
    tu32[0] = bits;
    out[i] = numberToHalf(tf32[0]!);
  }
  const vh = cpu.regs.vh;
  const base = f.rd * 8 + (f.upper ? 4 : 0);
  for (let i = 0; i < 4; i++) vh[base + i] = out[i]!;
  if (!f.upper) {
    vs[f.rd * 4 + 2] = 0;
    vs[f.rd * 4 + 3] = 0;
  }
}
