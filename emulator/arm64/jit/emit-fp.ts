// Emitters for double-precision FP arithmetic: fused multiply-add (FMLA/FMLS vector and by
// element, FMADD/FMSUB/FNMADD/FNMSUB) and FADD/FSUB/FMUL/FDIV (vector and scalar). They are the
// interpreter's fast paths (exec/fp-fast.ts fastFmaD / fastFp3D / fastArith, fp/arith.ts fusedD)
// in wasm, both lanes at once on f64x2. WebAssembly has no deterministic fused multiply-add, so
// the FMA result is built as fusedD builds it (Boldo-Melquiond: TwoProduct, TwoSum, round to odd,
// one final rounding), operation for operation, and the inexact flag of every operation comes
// from the same error-free transformations: IEEE-754 round-to-nearest f64 arithmetic (wasm's
// f64x2 lanes included) gives the same bits as JavaScript's, so results and FPSR.IXC are exactly
// the library's.
//
// All lanes are computed and checked before anything is written. A lane outside the domain (an
// operand not normal, operands or results near the overflow/underflow thresholds; FPCR.RMode not
// RN or FPCR.FZ set: what the fast paths decline) leaves the whole instruction to the
// interpreter's handler, which runs it from unchanged state.
//
// Intermediate vectors live in scratch slots of the CPU's slot, after the next-PC word and before
// the soft TLB (jit/guest-memory.ts): the page function has no v128 locals. The running "all
// lanes in domain" mask stays on the wasm operand stack.
import { FPCR, FPSR, V_OFFSET } from '../regs.ts';
import { D, IXC } from '../fp/bits.ts';
import { byElementFma, threeSameFma, threeSameArith, OP } from '../exec/fp-vector.ts';
import { fp2fast, fp3 } from '../exec/fp-basic.ts';
import { Op, SimdOp as V } from './wasm.ts';
import { type Emit, L_RB, SCRATCH_PC } from './emitter.ts';
import { SLOT_SP_EL0 } from './guest-memory.ts';
import type { Emitter } from './emit-alu.ts';

const SPLIT = 134217729; // 2^27 + 1, Veltkamp's splitter (fp/arith.ts twoProductErr)
const BIG = 2 ** 995;
const TINY = 2 ** -960;
const HUGE = 2 ** 1000;
const MIN_NORMAL = 2 ** -1022;
const RMODE_FZ = (3 << 22) | (1 << 24);

/** Scratch v128 slots (byte offsets from rb), 16-aligned after the next PC and the wasm interpreter's words (winterp-ops.ts). */
const SCRATCH = (SCRATCH_PC + 16 + 15) & ~15;
const enum S { P, AH, BH, UL, TH, BB, TL, VS, VERR, V, RES, COUNT }
const slot = (s: S): number => SCRATCH + 16 * s;
if (slot(S.COUNT) > SLOT_SP_EL0) throw new Error('emit-fp: scratch slots overlap the system registers in the CPU slot');

/** Byte offset of V<n> in the register file. */
const vreg = (n: number): number => V_OFFSET + 16 * n;

/** A double operand: both lanes from `off` (or one 64-bit value splatted), negated or not. */
interface Operand {
  off: number;
  splat: boolean;
  neg: boolean;
}

function memarg(e: Emit, off: number): void {
  e.u32(0);
  e.u32(off);
}
function load(e: Emit, x: Operand): void {
  e.get(L_RB);
  e.simd(x.splat ? V.v128_load64_splat : V.v128_load);
  memarg(e, x.off);
  if (x.neg) e.simd(V.f64x2_neg);
}
function get(e: Emit, s: S): void {
  e.get(L_RB);
  e.simd(V.v128_load);
  memarg(e, slot(s));
}
/** Scratch slot s = the v128 `value` pushes. */
function put(e: Emit, s: S, value: () => void): void {
  e.get(L_RB);
  value();
  e.simd(V.v128_store);
  memarg(e, slot(s));
}
/** x op y on f64x2, each pushed by its function. */
function bin(e: Emit, op: V, x: () => void, y: () => void): void {
  x();
  y();
  e.simd(op);
}
/** Push the lane mask lo < |x| < hi (<= at either end when asked). */
function absWithin(e: Emit, x: () => void, lo: number, hi: number, loIncl = false, hiIncl = false): void {
  x();
  e.simd(V.f64x2_abs);
  e.f64x2(lo);
  e.simd(loIncl ? V.f64x2_ge : V.f64x2_gt);
  x();
  e.simd(V.f64x2_abs);
  e.f64x2(hi);
  e.simd(hiIncl ? V.f64x2_le : V.f64x2_lt);
  e.simd(V.v128_and);
}
/** The running domain mask (under the value just pushed) &= that value. */
function andMask(e: Emit): void {
  e.simd(V.v128_and);
}

/**
 * Push x*y - p exactly for p = RN(x*y) (fp/arith.ts twoProductErr, inside its window): Veltkamp
 * high halves t - (t - x), t = SPLIT*x (recomputed: the same value), kept in S.AH / S.BH; low
 * halves x - hi recomputed; ah*bh - p + ah*bl + al*bh + al*bl, left to right.
 */
function productErr(e: Emit, x: () => void, y: () => void, p: () => void): void {
  const g = (s: S) => (): void => get(e, s);
  const high = (v: () => void): void => {
    const t = (): void => bin(e, V.f64x2_mul, () => e.f64x2(SPLIT), v);
    bin(e, V.f64x2_sub, t, () => bin(e, V.f64x2_sub, t, v));
  };
  put(e, S.AH, () => high(x));
  put(e, S.BH, () => high(y));
  const al = (): void => bin(e, V.f64x2_sub, x, g(S.AH));
  const bl = (): void => bin(e, V.f64x2_sub, y, g(S.BH));
  bin(e, V.f64x2_mul, g(S.AH), g(S.BH));
  p();
  e.simd(V.f64x2_sub);
  bin(e, V.f64x2_mul, g(S.AH), bl);
  e.simd(V.f64x2_add);
  bin(e, V.f64x2_mul, al, g(S.BH));
  e.simd(V.f64x2_add);
  bin(e, V.f64x2_mul, al, bl);
  e.simd(V.f64x2_add);
}

/**
 * c + a*b on both lanes into S.RES (fusedD's sequence), leaving on the stack the mask of the
 * lanes inside the domain (all ones) or not (zero).
 */
function fused(e: Emit, a: Operand, b: Operand, c: Operand): void {
  const A = (): void => load(e, a), B = (): void => load(e, b), C = (): void => load(e, c);
  const g = (s: S) => (): void => get(e, s);
  // Operands normal, |a|,|b| < 2^995 (fastFmaD's exponent checks with fusedD's bounds).
  absWithin(e, A, MIN_NORMAL, BIG, true);
  absWithin(e, B, MIN_NORMAL, BIG, true);
  andMask(e);
  absWithin(e, C, MIN_NORMAL, Number.MAX_VALUE, true, true);
  andMask(e);
  // p = RN(a*b), 2^-960 < |p| < 2^1000.
  put(e, S.P, () => bin(e, V.f64x2_mul, A, B));
  absWithin(e, g(S.P), TINY, HUGE);
  andMask(e);
  // ul = a*b - p exactly.
  put(e, S.UL, () => productErr(e, A, B, g(S.P)));
  // th = c + p, |th| < 2^1000; tl = c - (th - bb) + (p - bb), bb = th - c (TwoSum).
  put(e, S.TH, () => bin(e, V.f64x2_add, C, g(S.P)));
  absWithin(e, g(S.TH), 0, HUGE, true);
  andMask(e);
  put(e, S.BB, () => bin(e, V.f64x2_sub, g(S.TH), C));
  put(e, S.TL, () => bin(e, V.f64x2_add,
    () => bin(e, V.f64x2_sub, C, () => bin(e, V.f64x2_sub, g(S.TH), g(S.BB))),
    () => bin(e, V.f64x2_sub, g(S.P), g(S.BB))));
  // vs = tl + ul; verr = tl - (vs - bv) + (ul - bv), bv = vs - tl (recomputed).
  put(e, S.VS, () => bin(e, V.f64x2_add, g(S.TL), g(S.UL)));
  const bv = (): void => bin(e, V.f64x2_sub, g(S.VS), g(S.TL));
  put(e, S.VERR, () => bin(e, V.f64x2_add,
    () => bin(e, V.f64x2_sub, g(S.TL), () => bin(e, V.f64x2_sub, g(S.VS), bv)),
    () => bin(e, V.f64x2_sub, g(S.UL), bv)));
  // v = toOdd(vs, verr): an inexact vs with an even bit pattern steps one ulp towards the exact
  // sum: pattern + 1 when verr has vs's sign (the magnitude grows), else - 1 (fp/arith.ts toOdd).
  // As i64 lanes: step = (sign(vs) != sign(verr) ? -1 : 0) | 1, applied where needed.
  put(e, S.V, () => {
    get(e, S.VS);
    bin(e, V.v128_xor,
      () => bin(e, V.f64x2_gt, g(S.VS), () => e.f64x2(0)),
      () => bin(e, V.f64x2_gt, g(S.VERR), () => e.f64x2(0)));
    e.i64x2(1);
    e.simd(V.v128_or);
    bin(e, V.f64x2_ne, g(S.VERR), () => e.f64x2(0));
    e.simd(V.v128_and);
    bin(e, V.i64x2_eq, () => bin(e, V.v128_and, g(S.VS), () => e.i64x2(1)), () => e.i64x2(0));
    e.simd(V.v128_and);
    e.simd(V.i64x2_add);
  });
  // res = th + v: finite, |res| > 2^-960, and v zero or |v| > 2^-1000.
  put(e, S.RES, () => bin(e, V.f64x2_add, g(S.TH), g(S.V)));
  absWithin(e, g(S.RES), TINY, Infinity);
  andMask(e);
  bin(e, V.v128_or,
    () => bin(e, V.f64x2_eq, g(S.V), () => e.f64x2(0)),
    () => bin(e, V.f64x2_gt, () => {
      get(e, S.V);
      e.simd(V.f64x2_abs);
    }, () => e.f64x2(2 ** -1000)));
  andMask(e);
}

/** Push the lanes' inexact mask: verr != 0 or err2 = th - (res - b2) + (v - b2) != 0, b2 = res - th. */
function inexact(e: Emit): void {
  const g = (s: S) => (): void => get(e, s);
  const b2 = (): void => bin(e, V.f64x2_sub, g(S.RES), g(S.TH));
  bin(e, V.f64x2_add,
    () => bin(e, V.f64x2_sub, g(S.TH), () => bin(e, V.f64x2_sub, g(S.RES), b2)),
    () => bin(e, V.f64x2_sub, g(S.V), b2));
  e.f64x2(0);
  e.simd(V.f64x2_ne);
  bin(e, V.f64x2_ne, g(S.VERR), () => e.f64x2(0));
  e.simd(V.v128_or);
}

/**
 * The shape of every emitter here: FPCR.RMode = RN and FZ off, else the handler; `compute`
 * leaves the result in S.RES and pushes the mask of lanes in the domain; unless all are, the
 * handler; `inexact` pushes the inexact lanes' mask (FPSR.IXC |= any). Vd (byte offset d) = the
 * result, the upper half zeroed when `words` is 2 (one lane: computed on splatted operands,
 * lane 1 a copy of lane 0).
 */
function shell(e: Emit, compute: () => void, inexact: () => void, d: number, words: number): void {
  e.block(); // $done
  e.block(); // $slow
  e.get(L_RB);
  e.mem(Op.i32_load, FPCR * 4);
  e.i32(RMODE_FZ);
  e.op(Op.i32_and);
  e.op(Op.br_if);
  e.u32(0);
  compute();
  e.simd(V.i64x2_all_true);
  e.op(Op.i32_eqz);
  e.op(Op.br_if);
  e.u32(0);
  e.get(L_RB);
  e.get(L_RB);
  e.mem(Op.i32_load, FPSR * 4);
  inexact();
  e.simd(V.v128_any_true);
  e.i32(Math.log2(IXC));
  e.op(Op.i32_shl);
  e.op(Op.i32_or);
  e.mem(Op.i32_store, FPSR * 4);
  e.get(L_RB);
  get(e, S.RES);
  if (words === 4) {
    e.simd(V.v128_store);
    memarg(e, d);
  } else {
    e.simd(V.i64x2_extract_lane);
    e.byte(0);
    e.mem(Op.i64_store, d);
    e.get(L_RB);
    e.i64(0);
    e.mem(Op.i64_store, d + 8);
  }
  e.op(Op.br);
  e.u32(1);
  e.end();
  e.interp();
  e.end();
}

/** Vd = c + a*b per lane (FMLA family), or the handler. */
function fusedInsn(e: Emit, a: Operand, b: Operand, c: Operand, d: number, words: number): void {
  shell(e, () => fused(e, a, b, c), () => inexact(e), d, words);
}

/**
 * FADD/FSUB/FMUL/FDIV double lanes (exec/fp-fast.ts fastArith's double branch, the same domain
 * and the same error-free inexact tests): Vd = a op b, or the handler.
 */
function arith(e: Emit, op: number, a: Operand, b: Operand, d: number, words: number): void {
  const A = (): void => load(e, a), B = (): void => load(e, b);
  const g = (s: S) => (): void => get(e, s);
  const compute = (): void => {
    absWithin(e, A, MIN_NORMAL, Number.MAX_VALUE, true, true);
    absWithin(e, B, MIN_NORMAL, Number.MAX_VALUE, true, true);
    andMask(e);
    if (op === OP.MUL) {
      // 2^-960 < |v| < 2^1000, |a|,|b| < 2^995 (TwoProduct's window).
      put(e, S.RES, () => bin(e, V.f64x2_mul, A, B));
      absWithin(e, g(S.RES), TINY, HUGE);
      andMask(e);
      absWithin(e, A, 0, BIG, true);
      andMask(e);
      absWithin(e, B, 0, BIG, true);
      andMask(e);
    } else if (op === OP.DIV) {
      // 2^-960 < |v| < 2^995, |b| < 2^995, 2^-960 < |a| < 2^1000; p = v*b for the inexact test.
      put(e, S.RES, () => bin(e, V.f64x2_div, A, B));
      absWithin(e, g(S.RES), TINY, BIG);
      andMask(e);
      absWithin(e, B, 0, BIG, true);
      andMask(e);
      absWithin(e, A, TINY, HUGE);
      andMask(e);
      put(e, S.P, () => bin(e, V.f64x2_mul, g(S.RES), B));
    } else {
      // v = a + bx normal and finite.
      const bx = op === OP.SUB ? { ...b, neg: !b.neg } : b;
      put(e, S.RES, () => bin(e, V.f64x2_add, A, () => load(e, bx)));
      absWithin(e, g(S.RES), MIN_NORMAL, Infinity, true);
      andMask(e);
    }
  };
  const inexactLanes = (): void => {
    if (op === OP.MUL) productErr(e, A, B, g(S.RES));
    else if (op === OP.DIV) {
      // p != a, or p = v*b itself rounded.
      bin(e, V.f64x2_ne, g(S.P), A);
      productErr(e, g(S.RES), B, g(S.P));
      e.f64x2(0);
      e.simd(V.f64x2_ne);
      e.simd(V.v128_or);
      return;
    } else {
      // TwoSum's error: a - (v - t) + (bx - t), t = v - a (recomputed).
      const BX = (): void => load(e, op === OP.SUB ? { ...b, neg: !b.neg } : b);
      const t = (): void => bin(e, V.f64x2_sub, g(S.RES), A);
      bin(e, V.f64x2_add,
        () => bin(e, V.f64x2_sub, A, () => bin(e, V.f64x2_sub, g(S.RES), t)),
        () => bin(e, V.f64x2_sub, BX, t));
    }
    e.f64x2(0);
    e.simd(V.f64x2_ne);
  };
  shell(e, compute, inexactLanes, d, words);
}

/** FMLA/FMLS double lanes: idx < 0 the vector form (Vm lanes), else element idx of Vm. */
function fmla(e: Emit, f: { dbl: boolean; op: number; lanes: number; words: number; rn: number; rm: number; rd: number }, idx: number): boolean {
  if (!f.dbl) return false;
  const one = f.lanes === 1;
  fusedInsn(e,
    { off: vreg(f.rn), splat: one, neg: f.op === OP.FMLS },
    { off: vreg(f.rm) + 8 * Math.max(idx, 0), splat: one || idx >= 0, neg: false },
    { off: vreg(f.rd), splat: one, neg: false },
    vreg(f.rd), f.words);
  return true;
}

export const fpEmitters = new Map<unknown, Emitter>([
  // FADD/FSUB/FMUL/FDIV: vector (not pairwise: decode) and scalar.
  [threeSameArith, (e, f) => {
    if (!f.dbl) return false;
    arith(e, f.op, { off: vreg(f.rn), splat: false, neg: false }, { off: vreg(f.rm), splat: false, neg: false }, vreg(f.rd), f.words);
    return true;
  }],
  [fp2fast, (e, f) => {
    if (f.fmt !== D) return false;
    arith(e, f.fastOp, { off: vreg(f.rn), splat: true, neg: false }, { off: vreg(f.rm), splat: true, neg: false }, vreg(f.rd), 2);
    return true;
  }],
  [byElementFma, (e, f) => fmla(e, f, f.index)],
  [threeSameFma, (e, f) => fmla(e, f, -1)],
  // FMADD/FMSUB/FNMADD/FNMSUB: Da (negated by o1) + Dn (negated when o0 != o1) * Dm.
  [fp3, (e, f) => {
    if (f.fmt !== D) return false;
    fusedInsn(e,
      { off: vreg(f.rn), splat: true, neg: f.o0 !== f.o1 },
      { off: vreg(f.rm), splat: true, neg: false },
      { off: vreg(f.ra), splat: true, neg: f.o1 !== 0 },
      vreg(f.rd), 2);
    return true;
  }],
]);
