// Load/store pair (ARM ARM C6.2 LDP/STP/LDPSW/LDNP/STNP, C7.2 LDP/STP/LDNP/STNP (SIMD&FP)).
// Fields prepared by decode/ls-pair.ts: b (base int32 index), t, t2 (register operands as in
// ls-access.ts), off (scaled byte offset), acc (a PairAccess), wb (0 offset, 1 pre, 2 post).
// Loads read both elements before writing either register, so a fault leaves them untouched.
// With Rt == Rt2 (CONSTRAINED UNPREDICTABLE) the register gets what QEMU gives it: for general
// registers the first element (QEMU loads Rt2, then moves the first value into Rt), for SIMD&FP
// registers the second (QEMU loads them in order).
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { setAddr, writeAddr } from './ls-access.ts';

/** A pair access at cpu.va (passed in that field, as ls-access.ts's Access). */
export type PairAccess = (cpu: Cpu, t: number, t2: number) => void;

const TWO32 = 4294967296;

export const ldpX: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  cpu.read128(va);
  const lo = cpu.q0;
  const hi = cpu.q1;
  const lo2 = cpu.q2;
  const r = cpu.r;
  r[t2] = lo2;
  r[t2 + 1] = cpu.q3;
  r[t] = lo;
  r[t + 1] = hi;
};
export const ldpW: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const v = cpu.read32(va);
  const v2 = cpu.read32(va + 4);
  const r = cpu.r;
  r[t2] = v2;
  r[t2 + 1] = 0;
  r[t] = v;
  r[t + 1] = 0;
};
export const ldpsw: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const v = cpu.read32(va) | 0;
  const v2 = cpu.read32(va + 4) | 0;
  const r = cpu.r;
  r[t2] = v2;
  r[t2 + 1] = v2 >> 31;
  r[t] = v;
  r[t + 1] = v >> 31;
};
export const stpX: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const r = cpu.r;
  cpu.write128(va, r[t]!, r[t + 1]!, r[t2]!, r[t2 + 1]!);
};
export const stpW: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const r = cpu.r;
  if ((va & 0xfff) > 4096 - 8) cpu.probeWrite(va, 8);
  cpu.write32(va, r[t]!);
  cpu.write32(va + 4, r[t2]!);
};

export const ldpVs: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const v = cpu.read32(va);
  const v2 = cpu.read32(va + 4);
  const s = cpu.regs.vsi;
  s.fill(0, t * 4, t * 4 + 4);
  s[t * 4] = v;
  s.fill(0, t2 * 4, t2 * 4 + 4);
  s[t2 * 4] = v2;
};
export const ldpVd: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  cpu.read128(va);
  const lo = cpu.q0;
  const hi = cpu.q1;
  const lo2 = cpu.q2;
  const s = cpu.regs.vsi;
  const hi2 = cpu.q3;
  let i = t * 4;
  s[i] = lo;
  s[i + 1] = hi;
  s[i + 2] = 0;
  s[i + 3] = 0;
  i = t2 * 4;
  s[i] = lo2;
  s[i + 1] = hi2;
  s[i + 2] = 0;
  s[i + 3] = 0;
};
export const ldpVq: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const a0 = cpu.read64(va);
  const a1 = cpu.hi;
  const a2 = cpu.read64(va + 8);
  const a3 = cpu.hi;
  const b0 = cpu.read64(va + 16);
  const b1 = cpu.hi;
  const b2 = cpu.read64(va + 24);
  const b3 = cpu.hi;
  const s = cpu.regs.vsi;
  let i = t * 4;
  s[i] = a0;
  s[i + 1] = a1;
  s[i + 2] = a2;
  s[i + 3] = a3;
  i = t2 * 4;
  s[i] = b0;
  s[i + 1] = b1;
  s[i + 2] = b2;
  s[i + 3] = b3;
};
export const stpVs: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const s = cpu.regs.vsi;
  if ((va & 0xfff) > 4096 - 8) cpu.probeWrite(va, 8);
  cpu.write32(va, s[t * 4]!);
  cpu.write32(va + 4, s[t2 * 4]!);
};
export const stpVd: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const s = cpu.regs.vsi;
  cpu.write128(va, s[t * 4]!, s[t * 4 + 1]!, s[t2 * 4]!, s[t2 * 4 + 1]!);
};
export const stpVq: PairAccess = (cpu, t, t2) => {
  const va = cpu.va;
  const s = cpu.regs.vsi;
  if ((va & 0xfff) > 4096 - 32) cpu.probeWrite(va, 32);
  const i = t * 4;
  const j = t2 * 4;
  cpu.write64(va, s[i]!, s[i + 1]!);
  cpu.write64(va + 8, s[i + 2]!, s[i + 3]!);
  cpu.write64(va + 16, s[j]!, s[j + 1]!);
  cpu.write64(va + 24, s[j + 2]!, s[j + 3]!);
};

// ---- addressing modes; X-register LDP/STP (prologues, epilogues, memcpy) get their own ----

export function ldpXOff(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  cpu.read128(va);
  const lo = cpu.q0;
  const hi = cpu.q1;
  const lo2 = cpu.q2;
  const t = f.t;
  const t2 = f.t2;
  r[t2] = lo2;
  r[t2 + 1] = cpu.q3;
  r[t] = lo;
  r[t + 1] = hi;
}
export function stpXOff(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  const t = f.t;
  const t2 = f.t2;
  cpu.write128(va, r[t]!, r[t + 1]!, r[t2]!, r[t2 + 1]!);
}

export function ldstPairOff(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  cpu.va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  f.acc(cpu, f.t, f.t2);
}
/** Pre-index: the access, then the base (a load with Rt or Rt2 == Rn leaves the address, as QEMU). */
export function ldstPairPre(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0) + f.off;
  cpu.va = va;
  f.acc(cpu, f.t, f.t2);
  writeAddr(r, b, va);
}
export function ldstPairPost(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const va = r[b + 1]! * TWO32 + (r[b]! >>> 0);
  cpu.va = va;
  f.acc(cpu, f.t, f.t2);
  writeAddr(r, b, va + f.off);
}

/** STP Xt, Xt2, [Xn|SP, #off]!  (function prologues) */
export function stpXPre(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const lo0 = r[b]!;
  const hi0 = r[b + 1]!;
  const va = hi0 * TWO32 + (lo0 >>> 0) + f.off;
  const t = f.t;
  const t2 = f.t2;
  cpu.write128(va, r[t]!, r[t + 1]!, r[t2]!, r[t2 + 1]!);
  setAddr(r, b, lo0, hi0, f.off);
}

/** LDP Xt, Xt2, [Xn|SP], #off  (function epilogues) */
export function ldpXPost(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  const b = f.b;
  const lo0 = r[b]!;
  const hi0 = r[b + 1]!;
  const va = hi0 * TWO32 + (lo0 >>> 0);
  cpu.read128(va);
  const lo = cpu.q0;
  const hi = cpu.q1;
  const lo2 = cpu.q2;
  const t = f.t;
  const t2 = f.t2;
  r[t2] = lo2;
  r[t2 + 1] = cpu.q3;
  r[t] = lo;
  r[t + 1] = hi;
  setAddr(r, b, lo0, hi0, f.off);
}
