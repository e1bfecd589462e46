// Single-register memory accesses of the load/store group (ARM ARM C6.2 LDR/STR and their size
// and sign variants, C7.2 LDR/STR (SIMD&FP)), independent of how the address was formed.
// An Access makes the access at cpu.va with a pre-computed register operand (the address is
// passed in that field rather than as an argument: a call V8 does not inline, as a call through
// fields.acc never is, boxes a double argument -- a heap allocation per access):
//  - general registers: t = int32 index of the low word (2 * slot; XZR mapped with rz()/wz()),
//  - SIMD&FP registers: t = register number.
// Addresses are JS numbers holding the signed 64-bit value (see cpu.ts).
import type { Cpu } from '../cpu.ts';

export type Access = (cpu: Cpu, t: number) => void;

const TWO32 = 4294967296;

/** The 64-bit register at int32 index b as an address. */
export function addrOf(r: Int32Array, b: number): number {
  return r[b + 1]! * TWO32 + (r[b]! >>> 0);
}

/** Store address `va` (exact signed 64-bit value) into the register at int32 index b. */
export function writeAddr(r: Int32Array, b: number, va: number): void {
  r[b] = va | 0;
  r[b + 1] = ((va - (va >>> 0)) / TWO32) | 0;
}

/** X[b] += imm (imm a signed integer, |imm| < 2^32), exact modulo 2^64. */
export function addImm(r: Int32Array, b: number, imm: number): void {
  setAddr(r, b, r[b]!, r[b + 1]!, imm);
}

/** X[b] = (hi:lo) + imm, for |imm| < 2^32: writeback from a base read before the access. */
export function setAddr(r: Int32Array, b: number, lo: number, hi: number, imm: number): void {
  const sum = (lo >>> 0) + imm;
  r[b] = sum | 0;
  r[b + 1] = (hi + (sum >= TWO32 ? 1 : sum < 0 ? -1 : 0)) | 0;
}

/** X[b] += X[m] (int32 indices), exact modulo 2^64. */
export function addReg(r: Int32Array, b: number, m: number): void {
  const lo = (r[b]! >>> 0) + (r[m]! >>> 0);
  r[b + 1] = (r[b + 1]! + r[m + 1]! + (lo >= TWO32 ? 1 : 0)) | 0;
  r[b] = lo | 0;
}

// ---- general registers ----

export const strb: Access = (cpu, t) => cpu.write8(cpu.va, cpu.r[t]! & 0xff);
export const strh: Access = (cpu, t) => cpu.write16(cpu.va, cpu.r[t]! & 0xffff);
export const strw: Access = (cpu, t) => cpu.write32(cpu.va, cpu.r[t]!);
export const strx: Access = (cpu, t) => cpu.write64(cpu.va, cpu.r[t]!, cpu.r[t + 1]!);

export const ldrb: Access = (cpu, t) => {
  const va = cpu.va;
  const v = cpu.read8(va);
  cpu.r[t] = v;
  cpu.r[t + 1] = 0;
};
export const ldrh: Access = (cpu, t) => {
  const va = cpu.va;
  const v = cpu.read16(va);
  cpu.r[t] = v;
  cpu.r[t + 1] = 0;
};
export const ldrw: Access = (cpu, t) => {
  const va = cpu.va;
  const v = cpu.read32(va);
  cpu.r[t] = v;
  cpu.r[t + 1] = 0;
};
export const ldrx: Access = (cpu, t) => {
  const va = cpu.va;
  const lo = cpu.read64(va);
  cpu.r[t] = lo;
  cpu.r[t + 1] = cpu.hi;
};
export const ldrsbw: Access = (cpu, t) => {
  const va = cpu.va;
  const v = (cpu.read8(va) << 24) >> 24;
  cpu.r[t] = v;
  cpu.r[t + 1] = 0;
};
export const ldrsbx: Access = (cpu, t) => {
  const va = cpu.va;
  const v = (cpu.read8(va) << 24) >> 24;
  cpu.r[t] = v;
  cpu.r[t + 1] = v >> 31;
};
export const ldrshw: Access = (cpu, t) => {
  const va = cpu.va;
  const v = (cpu.read16(va) << 16) >> 16;
  cpu.r[t] = v;
  cpu.r[t + 1] = 0;
};
export const ldrshx: Access = (cpu, t) => {
  const va = cpu.va;
  const v = (cpu.read16(va) << 16) >> 16;
  cpu.r[t] = v;
  cpu.r[t + 1] = v >> 31;
};
export const ldrsw: Access = (cpu, t) => {
  const va = cpu.va;
  const v = cpu.read32(va) | 0;
  cpu.r[t] = v;
  cpu.r[t + 1] = v >> 31;
};
/** PRFM/PRFUM: a hint; no access, no fault (C6.2.248). */
export const prfm: Access = () => {};

// ---- SIMD&FP registers: a load writes the element and zeroes the rest of V<t> ----

export const strVb: Access = (cpu, t) => cpu.write8(cpu.va, cpu.regs.vb[t * 16]!);
export const strVh: Access = (cpu, t) => cpu.write16(cpu.va, cpu.regs.vh[t * 8]!);
export const strVs: Access = (cpu, t) => cpu.write32(cpu.va, cpu.regs.vsi[t * 4]!);
export const strVd: Access = (cpu, t) => cpu.write64(cpu.va, cpu.regs.vsi[t * 4]!, cpu.regs.vsi[t * 4 + 1]!);
export const strVq: Access = (cpu, t) => {
  const va = cpu.va;
  const v = cpu.regs.vsi;
  const i = t * 4;
  if ((va & 0xfff) > 4096 - 16) cpu.probeWrite(va, 16);
  cpu.write64(va, v[i]!, v[i + 1]!);
  cpu.write64(va + 8, v[i + 2]!, v[i + 3]!);
};

function setV(cpu: Cpu, t: number, w0: number, w1: number, w2: number, w3: number): void {
  const v = cpu.regs.vsi;
  const i = t * 4;
  v[i] = w0;
  v[i + 1] = w1;
  v[i + 2] = w2;
  v[i + 3] = w3;
}

export const ldrVb: Access = (cpu, t) => setV(cpu, t, cpu.read8(cpu.va), 0, 0, 0);
export const ldrVh: Access = (cpu, t) => setV(cpu, t, cpu.read16(cpu.va), 0, 0, 0);
export const ldrVs: Access = (cpu, t) => setV(cpu, t, cpu.read32(cpu.va), 0, 0, 0);
export const ldrVd: Access = (cpu, t) => {
  const va = cpu.va;
  const lo = cpu.read64(va);
  setV(cpu, t, lo, cpu.hi, 0, 0);
};
export const ldrVq: Access = (cpu, t) => {
  const va = cpu.va;
  cpu.read128(va);
  setV(cpu, t, cpu.q0, cpu.q1, cpu.q2, cpu.q3);
};
