// Lane access shared by the Advanced SIMD integer handlers. V<n> lane k of an element of `es` bits
// lives at index n*(128/es)+k of the view of that width (regs.ts). Lanes of 8..32 bits are handled
// as JS numbers (exact); 64-bit lanes are read and written as two 32-bit words, and the rare
// operations that need full 64-bit arithmetic on them go through BigInt.
//
// Saturation (ARM ARM C7.2 shared pseudocode SatQ) sets FPSR.QC directly in the executing CPU's
// register words: the saturating helpers take `r` (cpu.r), so no flag is ever held outside the
// CPU that saturated (two CPUs never share QC) and nothing is left to fold after the handler.

import { FPSR } from '../regs.ts';
import type { RegisterFile } from '../regs.ts';

/** FPSR.QC, the cumulative saturation bit (ARM ARM C5.2.8). */
export const FPSR_QC = 1 << 27;

/** 128-bit scratch registers for results that overlap their sources. */
export const scratch = new Uint32Array(8);
export const scratchB = new Uint8Array(scratch.buffer);

/** Read lane i of V<reg> (es = 8, 16 or 32 bits), zero- or sign-extended. */
export function getLane(v: RegisterFile, reg: number, i: number, es: number, signed: boolean): number {
  if (es === 8) {
    const x = v.vb[reg * 16 + i]!;
    return signed ? (x << 24) >> 24 : x;
  }
  if (es === 16) {
    const x = v.vh[reg * 8 + i]!;
    return signed ? (x << 16) >> 16 : x;
  }
  return signed ? v.vsi[reg * 4 + i]! : v.vs[reg * 4 + i]!;
}

/** Write lane i of V<reg>; `x` is an exact integer, reduced modulo 2^es. */
export function setLane(v: RegisterFile, reg: number, i: number, es: number, x: number): void {
  if (es === 8) v.vb[reg * 16 + i] = x;
  else if (es === 16) v.vh[reg * 8 + i] = x;
  else v.vs[reg * 4 + i] = x;
}

/** 64-bit lane as BigInt. */
export function getLane64(v: RegisterFile, reg: number, i: number, signed: boolean): bigint {
  const x = v.vd[reg * 2 + i]!;
  return signed ? BigInt.asIntN(64, x) : x;
}

export function setLane64(v: RegisterFile, reg: number, i: number, x: bigint): void {
  v.vd[reg * 2 + i] = BigInt.asUintN(64, x);
}

/** Write a 64-bit lane from an exact integer number (|x| < 2^53), two's complement. */
export function setLane64n(v: RegisterFile, reg: number, i: number, x: number): void {
  const lo = x % 4294967296;
  v.vs[reg * 4 + 2 * i] = lo;
  v.vs[reg * 4 + 2 * i + 1] = (x - lo) / 4294967296 - (lo < 0 ? 1 : 0);
}

/** 64-bit lane as an exact number when it is known to fit 53 bits (small values). */
export function getLane64n(v: RegisterFile, reg: number, i: number, signed: boolean): number {
  const lo = v.vs[reg * 4 + 2 * i]!;
  const hi = signed ? v.vsi[reg * 4 + 2 * i + 1]! : v.vs[reg * 4 + 2 * i + 1]!;
  return hi * 4294967296 + lo;
}

/** A 64-bit result (vector with Q=0, or scalar up to 64 bits) clears bits 127:64. */
export function clearHigh(v: RegisterFile, reg: number): void {
  v.vs[reg * 4 + 2] = 0;
  v.vs[reg * 4 + 3] = 0;
}

/** Copy the 16 scratch bytes to V<reg> (whole register, upper half included). */
export function fromScratch(v: RegisterFile, reg: number): void {
  const o = reg * 4;
  const s = v.vs;
  s[o] = scratch[0]!;
  s[o + 1] = scratch[1]!;
  s[o + 2] = scratch[2]!;
  s[o + 3] = scratch[3]!;
}

// SatQ bounds per element size (index = es): `2 ** es` with a variable exponent is a Math.pow call.
const SMAX = new Float64Array(65);
const UMAX = new Float64Array(65);
for (let e = 1; e <= 64; e++) {
  SMAX[e] = 2 ** (e - 1) - 1;
  UMAX[e] = 2 ** e - 1;
}

/** Saturate an exact integer to es bits, signed or unsigned; saturating sets FPSR.QC in r (cpu.r). */
export function satN(x: number, es: number, signed: boolean, r: Int32Array): number {
  const hi = signed ? SMAX[es]! : UMAX[es]!;
  const lo = signed ? -hi - 1 : 0;
  if (x > hi) {
    r[FPSR] |= FPSR_QC;
    return hi;
  }
  if (x < lo) {
    r[FPSR] |= FPSR_QC;
    return lo;
  }
  return x;
}

const S64_MAX = (1n << 63n) - 1n;
const S64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/** Saturate to 64 bits; saturating sets FPSR.QC in r (cpu.r). */
export function sat64(x: bigint, signed: boolean, r: Int32Array): bigint {
  const lo = signed ? S64_MIN : 0n;
  const hi = signed ? S64_MAX : U64_MAX;
  if (x > hi) {
    r[FPSR] |= FPSR_QC;
    return hi;
  }
  if (x < lo) {
    r[FPSR] |= FPSR_QC;
    return lo;
  }
  return x;
}

/** Saturate a BigInt to es bits (any es up to 64); saturating sets FPSR.QC in r (cpu.r). */
export function satB(x: bigint, es: number, signed: boolean, r: Int32Array): bigint {
  const e = BigInt(es);
  const hi = signed ? (1n << (e - 1n)) - 1n : (1n << e) - 1n;
  const lo = signed ? -(1n << (e - 1n)) : 0n;
  if (x > hi) {
    r[FPSR] |= FPSR_QC;
    return hi;
  }
  if (x < lo) {
    r[FPSR] |= FPSR_QC;
    return lo;
  }
  return x;
}
