// Advanced SIMD copy (DUP, INS, UMOV, SMOV, scalar DUP) and modified immediate (MOVI, MVNI,
// ORR/BIC immediate) (ARM ARM C4.1.6 "Advanced SIMD copy", "... modified immediate").
// Fields: d, n (V or X register slot), eb (element bytes), idx/idx2 (lanes), q.

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { clearHigh } from './simd-lanes.ts';

/** DUP (element): every lane of Vd = Vn[idx]; with f.scalar, the scalar DUP (MOV) form. */
export function dupElement(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const eb: number = f.eb;
  const src = f.n * 16 + f.idx * eb;
  const d = f.d * 16;
  let b0 = vb[src]!, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
  if (eb > 1) b1 = vb[src + 1]!;
  if (eb > 2) { b2 = vb[src + 2]!; b3 = vb[src + 3]!; }
  if (eb > 4) { b4 = vb[src + 4]!; b5 = vb[src + 5]!; b6 = vb[src + 6]!; b7 = vb[src + 7]!; }
  const bytes = f.bytes;
  for (let p = 0; p < bytes; p += eb) {
    vb[d + p] = b0;
    if (eb > 1) vb[d + p + 1] = b1;
    if (eb > 2) { vb[d + p + 2] = b2; vb[d + p + 3] = b3; }
    if (eb > 4) { vb[d + p + 4] = b4; vb[d + p + 5] = b5; vb[d + p + 6] = b6; vb[d + p + 7] = b7; }
  }
  for (let p = bytes; p < 16; p++) vb[d + p] = 0;
}

/** DUP (general): every lane of Vd = the low eb bytes of Xn/Wn. */
export function dupGeneral(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const lo = cpu.r[2 * f.n]! >>> 0, hi = cpu.r[2 * f.n + 1]! >>> 0;
  let w0: number, w1: number;
  switch (f.eb) {
    case 1: w0 = w1 = (lo & 0xff) * 0x01010101; break;
    case 2: w0 = w1 = ((lo & 0xffff) | (lo << 16)) >>> 0; break;
    case 4: w0 = w1 = lo; break;
    default: w0 = lo; w1 = hi;
  }
  const d = f.d * 4;
  s[d] = w0;
  s[d + 1] = w1;
  s[d + 2] = f.q ? w0 : 0;
  s[d + 3] = f.q ? w1 : 0;
}

/** INS (general): Vd[idx] = Xn/Wn, other lanes unchanged. */
export function insGeneral(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const d = f.d * 16 + f.idx * f.eb;
  const lo = cpu.r[2 * f.n]!, hi = cpu.r[2 * f.n + 1]!;
  for (let k = 0; k < f.eb; k++) vb[d + k] = k < 4 ? lo >>> (8 * k) : hi >>> (8 * (k - 4));
}

/** INS (element): Vd[idx] = Vn[idx2]. */
export function insElement(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const d = f.d * 16 + f.idx * f.eb, s = f.n * 16 + f.idx2 * f.eb;
  if (d === s) return;
  for (let k = 0; k < f.eb; k++) vb[d + k] = vb[s + k]!;
}

/** UMOV/SMOV: Wd/Xd = Vn[idx] zero- or sign-extended to 32 (x = 0) or 64 bits. */
export function movToGeneral(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const r = cpu.r;
  const i = f.n * (16 / f.eb) + f.idx;
  let lo: number, hi = 0;
  switch (f.eb) {
    case 1: lo = f.signed ? (v.vb[i]! << 24) >> 24 : v.vb[i]!; break;
    case 2: lo = f.signed ? (v.vh[i]! << 16) >> 16 : v.vh[i]!; break;
    case 4: lo = v.vsi[i]!; break;
    default: lo = v.vsi[2 * i]!; hi = v.vsi[2 * i + 1]!;
  }
  if (f.x && f.eb < 8) hi = f.signed ? lo >> 31 : 0;
  r[2 * f.d] = lo;
  r[2 * f.d + 1] = f.x ? hi : 0;
}

/** MOVI/MVNI: Vd = the expanded 64-bit immediate (lo, hi words), repeated when q = 1. */
export function moviWrite(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4;
  s[d] = f.lo;
  s[d + 1] = f.hi;
  s[d + 2] = f.q ? f.lo : 0;
  s[d + 3] = f.q ? f.hi : 0;
}

/** ORR (vector, immediate). */
export function orrImm(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4;
  s[d] |= f.lo;
  s[d + 1] |= f.hi;
  if (f.q) {
    s[d + 2] |= f.lo;
    s[d + 3] |= f.hi;
  } else clearHigh(cpu.regs, f.d);
}

/** BIC (vector, immediate). */
export function bicImm(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4;
  s[d] &= ~f.lo;
  s[d + 1] &= ~f.hi;
  if (f.q) {
    s[d + 2] &= ~f.lo;
    s[d + 3] &= ~f.hi;
  } else clearHigh(cpu.regs, f.d);
}
