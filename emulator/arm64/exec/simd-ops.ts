// Element operations of the Advanced SIMD integer instructions, after the ARM ARM pseudocode
// (C7.2, "Shared pseudocode": SatQ, the shift-by-register rules of SSHL/SRSHL/SQSHL...).
// Each operation has a number form for 8..32-bit elements (inputs already sign- or zero-extended
// as the instruction reads them; the result is reduced modulo 2^es when written) and a BigInt form
// for 64-bit elements. `c` is the destination element, for the accumulating forms.

import { satN, satB, sat64 } from './simd-lanes.ts';

/** `r` is the executing CPU's register words (cpu.r): saturating operations set FPSR.QC there. */
export type ElemFn = (a: number, b: number, c: number, es: number, r: Int32Array) => number;
export type ElemFn64 = (a: bigint, b: bigint, c: bigint, r: Int32Array) => bigint;

export interface ElemOp {
  /** Elements are read as signed integers. */
  signed: boolean;
  n: ElemFn;
  b: ElemFn64;
}

const abs = Math.abs;
function babs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Polynomial (carry-less) multiply of two 8-bit values, low 8 bits (PMUL). */
export function pmul8(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) r ^= a << i;
  return r;
}

/** Shift by a signed register amount (SSHL/USHL/SRSHL/URSHL), es <= 32. */
function shlReg(a: number, b: number, es: number, round: boolean, saturate: boolean, signed: boolean, r: Int32Array): number {
  const s = (b << 24) >> 24;
  if (s >= 0) {
    const x = a * 2 ** s;
    return saturate ? satN(x, es, signed, r) : x % 2 ** es;
  }
  const rc = round ? 2 ** (-s - 1) : 0;
  return Math.floor((a + rc) / 2 ** -s);
}

function shlReg64(a: bigint, b: bigint, round: boolean, saturate: boolean, signed: boolean, r: Int32Array): bigint {
  const s = Number(BigInt.asIntN(8, b));
  if (s >= 0) {
    const x = a << BigInt(s);
    return saturate ? sat64(x, signed, r) : x;
  }
  const rc = round ? 1n << BigInt(-s - 1) : 0n;
  return (a + rc) >> BigInt(-s);
}

function pair(signed: boolean, n: ElemFn, b: ElemFn64): ElemOp {
  return { signed, n, b };
}

/** Both signedness variants of an operation written once over `signed`. */
function su(mk: (signed: boolean) => ElemOp): [ElemOp, ElemOp] {
  return [mk(true), mk(false)];
}

export const [SHADD, UHADD] = su((s) => pair(s, (a, b) => Math.floor((a + b) / 2), (a, b) => (a + b) >> 1n));
export const [SRHADD, URHADD] = su((s) => pair(s, (a, b) => Math.floor((a + b + 1) / 2), (a, b) => (a + b + 1n) >> 1n));
export const [SHSUB, UHSUB] = su((s) => pair(s, (a, b) => Math.floor((a - b) / 2), (a, b) => (a - b) >> 1n));
export const [SQADD, UQADD] = su((s) => pair(s, (a, b, _c, es, r) => satN(a + b, es, s, r), (a, b, _c, r) => sat64(a + b, s, r)));
export const [SQSUB, UQSUB] = su((s) => pair(s, (a, b, _c, es, r) => satN(a - b, es, s, r), (a, b, _c, r) => sat64(a - b, s, r)));
export const [CMGT, CMHI] = su((s) => pair(s, (a, b) => (a > b ? -1 : 0), (a, b) => (a > b ? -1n : 0n)));
export const [CMGE, CMHS] = su((s) => pair(s, (a, b) => (a >= b ? -1 : 0), (a, b) => (a >= b ? -1n : 0n)));
export const [SSHL, USHL] = su((s) =>
  pair(s, (a, b, _c, es, r) => shlReg(a, b, es, false, false, s, r), (a, b, _c, r) => shlReg64(a, b, false, false, s, r)),
);
export const [SRSHL, URSHL] = su((s) =>
  pair(s, (a, b, _c, es, r) => shlReg(a, b, es, true, false, s, r), (a, b, _c, r) => shlReg64(a, b, true, false, s, r)),
);
export const [SQSHL, UQSHL] = su((s) =>
  pair(s, (a, b, _c, es, r) => shlReg(a, b, es, false, true, s, r), (a, b, _c, r) => shlReg64(a, b, false, true, s, r)),
);
export const [SQRSHL, UQRSHL] = su((s) =>
  pair(s, (a, b, _c, es, r) => shlReg(a, b, es, true, true, s, r), (a, b, _c, r) => shlReg64(a, b, true, true, s, r)),
);
export const [SMAX, UMAX] = su((s) => pair(s, (a, b) => (a > b ? a : b), (a, b) => (a > b ? a : b)));
export const [SMIN, UMIN] = su((s) => pair(s, (a, b) => (a < b ? a : b), (a, b) => (a < b ? a : b)));
export const [SABD, UABD] = su((s) => pair(s, (a, b) => abs(a - b), (a, b) => babs(a - b)));
export const [SABA, UABA] = su((s) => pair(s, (a, b, c) => c + abs(a - b), (a, b, c) => c + babs(a - b)));

export const ADD = pair(false, (a, b) => a + b, (a, b) => a + b);
export const SUB = pair(false, (a, b) => a - b, (a, b) => a - b);
export const CMTST = pair(false, (a, b) => ((a & b) !== 0 ? -1 : 0), (a, b) => ((a & b) !== 0n ? -1n : 0n));
export const CMEQ = pair(false, (a, b) => (a === b ? -1 : 0), (a, b) => (a === b ? -1n : 0n));
export const MUL = pair(false, (a, b, _c, es) => (es === 32 ? Math.imul(a, b) : a * b), (a, b) => a * b);
export const MLA = pair(false, (a, b, c, es) => c + (es === 32 ? Math.imul(a, b) : a * b), (a, b, c) => c + a * b);
export const MLS = pair(false, (a, b, c, es) => c - (es === 32 ? Math.imul(a, b) : a * b), (a, b, c) => c - a * b);
export const PMUL = pair(false, (a, b) => pmul8(a, b), (a) => a);

/**
 * c + ((±2*a*b + rounding) >> es), saturated to es bits (signed): SQDMULH/SQRDMULH with c = 0,
 * SQRDMLAH/SQRDMLSH (FEAT_RDM) with c = Vd. (c << es) is a multiple of 2^es, so it is added after
 * the shift. For es = 32 the 62-bit product is kept exact without BigInt: with a = ah*2^16 + al and
 * b likewise, a*b = H*2^32 + M*2^16 + L, and (2ab + 2^31) >> 32 = 2H + floor((M*2^16 + L + 2^30) / 2^31).
 */
function qdmulhAcc(a: number, b: number, c: number, es: number, sub: boolean, round: boolean, r: Int32Array): number {
  if (es === 32) {
    const ah = a >> 16, al = a & 0xffff, bh = b >> 16, bl = b & 0xffff;
    const sg = sub ? -1 : 1;
    const t = 2 * sg * ah * bh + Math.floor((sg * ((ah * bl + al * bh) * 65536 + al * bl) + (round ? 2 ** 30 : 0)) / 2 ** 31);
    return satN(c + t, 32, true, r);
  }
  return satN(c + Math.floor(((sub ? -2 : 2) * a * b + (round ? 2 ** (es - 1) : 0)) / 2 ** es), es, true, r);
}
export const SQDMULH = pair(true, (a, b, _c, es, r) => qdmulhAcc(a, b, 0, es, false, false, r), (a) => a);
export const SQRDMULH = pair(true, (a, b, _c, es, r) => qdmulhAcc(a, b, 0, es, false, true, r), (a) => a);
/** SQRDMLAH / SQRDMLSH (FEAT_RDM): rounding doubling multiply accumulate / subtract, high half. */
export const SQRDMLAH = pair(true, (a, b, c, es, r) => qdmulhAcc(a, b, c, es, false, true, r), (a) => a);
export const SQRDMLSH = pair(true, (a, b, c, es, r) => qdmulhAcc(a, b, c, es, true, true, r), (a) => a);

// Two-register misc (b and c unused unless stated).
export const [ABS, NEG] = [
  pair(true, (a) => abs(a), (a) => babs(a)),
  pair(true, (a) => -a, (a) => -a),
];
export const [SQABS, SQNEG] = [
  pair(true, (a, _b, _c, es, r) => satN(abs(a), es, true, r), (a, _b, _c, r) => sat64(babs(a), true, r)),
  pair(true, (a, _b, _c, es, r) => satN(-a, es, true, r), (a, _b, _c, r) => sat64(-a, true, r)),
];
export const CMGT0 = pair(true, (a) => (a > 0 ? -1 : 0), (a) => (a > 0n ? -1n : 0n));
export const CMGE0 = pair(true, (a) => (a >= 0 ? -1 : 0), (a) => (a >= 0n ? -1n : 0n));
export const CMEQ0 = pair(true, (a) => (a === 0 ? -1 : 0), (a) => (a === 0n ? -1n : 0n));
export const CMLE0 = pair(true, (a) => (a <= 0 ? -1 : 0), (a) => (a <= 0n ? -1n : 0n));
export const CMLT0 = pair(true, (a) => (a < 0 ? -1 : 0), (a) => (a < 0n ? -1n : 0n));

function clz(a: number, es: number): number {
  return Math.clz32(a) - (32 - es);
}
export const CLZ = pair(false, (a, _b, _c, es) => clz(a, es), (a) => a);
/** CLS: leading bits equal to the sign bit, not counting the sign bit. */
export const CLS = pair(true, (a, _b, _c, es) => clz(a < 0 ? ~a & (2 ** es - 1) : a, es) - 1, (a) => a);
export const CNT = pair(false, (a) => {
  let n = 0;
  for (let x = a; x; x &= x - 1) n++;
  return n;
}, (a) => a);
export const NOT = pair(false, (a) => ~a, (a) => ~a);
export const RBIT = pair(false, (a) => {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((a >> i) & 1) << (7 - i);
  return r;
}, (a) => a);

/** SUQADD: signed saturating accumulate of an unsigned value (a = Vn element unsigned, c = Vd signed). */
export const SUQADD = pair(false, (a, _b, c, es, r) => satN(((c << (32 - es)) >> (32 - es)) + a, es, true, r), (a, _b, c, r) =>
  sat64(BigInt.asIntN(64, c) + a, true, r),
);
/** USQADD: unsigned saturating accumulate of a signed value. */
export const USQADD = pair(true, (a, _b, c, es, r) => satN((es === 32 ? c >>> 0 : c & (2 ** es - 1)) + a, es, false, r), (a, _b, c, r) =>
  sat64(BigInt.asUintN(64, c) + a, false, r),
);

/** URECPE (ARM ARM UnsignedRecipEstimate), 32-bit elements. */
export const URECPE = pair(false, (a) => {
  if (a < 0x80000000) return 0xffffffff;
  const x = Math.floor(a / 2 ** 23); // operand<31:23>, 256..511
  const est = recipEstimate(x);
  return est * 2 ** 23;
}, (a) => a);

/** URSQRTE (ARM ARM UnsignedRSqrtEstimate), 32-bit elements. */
export const URSQRTE = pair(false, (a) => {
  if (a < 0x40000000) return 0xffffffff;
  const x = Math.floor(a / 2 ** 23); // operand<31:23>, 128..511
  return rsqrtEstimate(x) * 2 ** 23;
}, (a) => a);

/** RecipEstimate (ARM ARM shared pseudocode): a is 9 bits, 256..511; result 256..511. */
export function recipEstimate(a0: number): number {
  const a = a0 * 2 + 1;
  const b = Math.floor(2 ** 19 / a);
  return Math.floor((b + 1) / 2);
}

/** RecipSqrtEstimate: a is 9 bits, 128..511; result 256..511. */
export function rsqrtEstimate(a0: number): number {
  let a: number;
  if (a0 < 256) a = a0 * 2 + 1;
  else a = (a0 >> 1) * 4 + 2;
  let b = 512;
  while (a * (b + 1) * (b + 1) < 2 ** 28) b++;
  return Math.floor((b + 1) / 2);
}
