// Addressing modes of the single-register loads and stores (ARM ARM C6.2: "immediate, unsigned
// offset", "unscaled", "pre-index", "post-index", "register", "literal").
// Fields prepared by decode/ls-single.ts:
//   b   int32 index of the base register's low word (Rn, 31 = SP)
//   t   register operand of the access (see ls-access.ts)
//   off byte offset (immediate forms, literal)
//   m   int32 index of Rm's low word (register offset, XZR mapped), mul = 2^shift
//   acc the Access
// The most frequent forms (LDR/STR X/W/B with an immediate offset) have their own handlers so the
// interpreter's hottest memory paths make no further call.
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { writeAddr } from './ls-access.ts';

const TWO32 = 4294967296;

export function ldrXImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const lo = cpu.read64(r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off);
  const t = f.t;
  r[t] = lo;
  r[t + 1] = cpu.hi;
}
export function ldrWImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const v = cpu.read32(r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off);
  const t = f.t;
  r[t] = v;
  r[t + 1] = 0;
}
export function ldrBImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const v = cpu.read8(r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off);
  const t = f.t;
  r[t] = v;
  r[t + 1] = 0;
}
export function strXImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const t = f.t;
  cpu.write64(r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off, r[t]!, r[t + 1]!);
}
export function strWImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.write32(r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off, r[f.t]!);
}
export function strBImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.write8(r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off, r[f.t]! & 0xff);
}

/** [Xn|SP, #off]: unsigned scaled and unscaled (LDUR/STUR) forms. */
export function ldstImm(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  f.acc(cpu, f.t);
}

/** LDTR/STTR [Xn|SP, #off]: at EL1 the access is checked with EL0 permissions (C6.2 LDTR). */
export function ldstUnpriv(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  cpu.beginUnprivileged();
  try {
    cpu.va = va;
    f.acc(cpu, f.t);
  } finally {
    cpu.endUnprivileged();
  }
}

/**
 * [Xn|SP, #off]!  The access completes before the base is written, so a load with Rt == Rn
 * leaves the address in Rn (what QEMU does for this CONSTRAINED UNPREDICTABLE case) and a store
 * with Rt == Rn stores the old value.
 */
export function ldstPre(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  cpu.va = va;
  f.acc(cpu, f.t);
  writeAddr(r, b, va);
}

/** [Xn|SP], #off  (the new base derives from the old one even when a load overwrote it) */
export function ldstPost(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0);
  cpu.va = va;
  f.acc(cpu, f.t);
  writeAddr(r, b, va + f.off);
}

/** [Xn|SP, Xm{, LSL|SXTX #s}] */
export function ldstRegX(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const m = f.m;
  const off = (r[m + 1]! * TWO32 + (r[m]! >>> 0)) * f.mul;
  cpu.va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + off;
  f.acc(cpu, f.t);
}
/** [Xn|SP, Wm, UXTW {#s}] */
export function ldstRegUxtw(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + (r[f.m]! >>> 0) * f.mul;
  f.acc(cpu, f.t);
}
/** [Xn|SP, Wm, SXTW {#s}] */
export function ldstRegSxtw(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + r[f.m]! * f.mul;
  f.acc(cpu, f.t);
}

/** LDR (literal): PC-relative; the PC is only known at execution (pages may be aliased). */
export function ldLiteral(cpu: Cpu, f: Fields): void {
  cpu.va = cpu.pc + f.off;
  f.acc(cpu, f.t);
}

/** PRFM (literal, immediate, register) and PRFUM: hints, executed as NOP. */
export function prefetch(_cpu: Cpu, _f: Fields): void {}

// Register-offset forms of the commonest accesses (array indexing), with the access inlined
// instead of going through f.acc: index kinds 0 = X (LSL), 1 = UXTW, 2 = SXTW.
function regIndex(r: Int32Array, m: number, kind: number): number {
  return kind === 0 ? r[m + 1]! * TWO32 + (r[m]! >>> 0) : kind === 1 ? r[m]! >>> 0 : r[m]!;
}
export function ldrWReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const v = cpu.read32(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul);
  r[f.t] = v;
  r[f.t + 1] = 0;
}
export function ldrXReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const lo = cpu.read64(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul);
  r[f.t] = lo;
  r[f.t + 1] = cpu.hi;
}
export function ldrBReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const v = cpu.read8(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul);
  r[f.t] = v;
  r[f.t + 1] = 0;
}
export function strWReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.write32(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul, r[f.t]!);
}
export function strXReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.write64(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul, r[f.t]!, r[f.t + 1]!);
}
export function ldrSReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const v = cpu.read32(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul);
  const vs = cpu.regs.vs;
  const o = f.t * 4;
  vs[o] = v;
  vs[o + 1] = 0;
  vs[o + 2] = 0;
  vs[o + 3] = 0;
}
export function ldrDReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const lo = cpu.read64(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul);
  const vs = cpu.regs.vs;
  const o = f.t * 4;
  vs[o] = lo;
  vs[o + 1] = cpu.hi;
  vs[o + 2] = 0;
  vs[o + 3] = 0;
}
export function ldrQReg(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.read128(r[b + 1]! * TWO32 + (r[b]! >>> 0) + regIndex(r, f.m, f.ik) * f.mul);
  const vs = cpu.regs.vs;
  const o = f.t * 4;
  vs[o] = cpu.q0;
  vs[o + 1] = cpu.q1;
  vs[o + 2] = cpu.q2;
  vs[o + 3] = cpu.q3;
}
