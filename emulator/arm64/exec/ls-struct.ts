// Advanced SIMD structure loads and stores (ARM ARM C7.2 LD1-LD4/ST1-ST4 multiple structures,
// single structure, LD1R-LD4R; pseudocode of C4.1.66 "Advanced SIMD load/store multiple/single
// structures"). Fields prepared by decode/ls-simd.ts:
//   b      base int32 index (Rn, 31 = SP)
//   t      first register; registers wrap modulo 32
//   regs   registers (multiple: selem * rpt), q = bytes per register (8 or 16)
//   selem  elements per structure, eb = element bytes, index = lane (single structure)
//   total  bytes accessed
//   wb     0 no writeback, 1 post-index by `total`, 2 post-index by Xm (m = int32 index)
// An access that crosses a page is translated in full first so a fault leaves registers and
// memory untouched; within one page the first element faults before anything is written.
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { addImm, addReg } from './ls-access.ts';

const TWO32 = 4294967296;

function loadElem(cpu: Cpu, va: number, reg: number, e: number, eb: number): void {
  const R = cpu.regs;
  if (eb === 1) R.vb[reg * 16 + e] = cpu.read8(va);
  else if (eb === 2) R.vh[reg * 8 + e] = cpu.read16(va);
  else if (eb === 4) R.vs[reg * 4 + e] = cpu.read32(va);
  else {
    const lo = cpu.read64(va);
    const i = reg * 4 + e * 2;
    R.vsi[i] = lo;
    R.vsi[i + 1] = cpu.hi;
  }
}

function storeElem(cpu: Cpu, va: number, reg: number, e: number, eb: number): void {
  const R = cpu.regs;
  if (eb === 1) cpu.write8(va, R.vb[reg * 16 + e]!);
  else if (eb === 2) cpu.write16(va, R.vh[reg * 8 + e]!);
  else if (eb === 4) cpu.write32(va, R.vsi[reg * 4 + e]!);
  else {
    const i = reg * 4 + e * 2;
    cpu.write64(va, R.vsi[i]!, R.vsi[i + 1]!);
  }
}

function writeback(r: Int32Array, f: Fields): void {
  if (f.wb === 1) addImm(r, f.b, f.total);
  else if (f.wb === 2) addReg(r, f.b, f.m);
}

/** LD1 (multiple structures, 1-4 registers): memory is the registers' bytes in order. */
export function ld1Multi(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeRead(va, f.total);
  const s = cpu.regs.vsi;
  const q = f.q;
  for (let k = 0; k < f.regs; k++) {
    const i = ((f.t + k) & 31) * 4;
    const lo = cpu.read64(va);
    s[i] = lo;
    s[i + 1] = cpu.hi;
    if (q === 16) {
      const lo2 = cpu.read64(va + 8);
      s[i + 2] = lo2;
      s[i + 3] = cpu.hi;
    } else {
      s[i + 2] = 0;
      s[i + 3] = 0;
    }
    va += q;
  }
  writeback(r, f);
}

/** ST1 (multiple structures, 1-4 registers). */
export function st1Multi(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeWrite(va, f.total);
  const s = cpu.regs.vsi;
  const q = f.q;
  for (let k = 0; k < f.regs; k++) {
    const i = ((f.t + k) & 31) * 4;
    cpu.write64(va, s[i]!, s[i + 1]!);
    if (q === 16) cpu.write64(va + 8, s[i + 2]!, s[i + 3]!);
    va += q;
  }
  writeback(r, f);
}

/** LD2/LD3/LD4 (multiple structures): element e of structure s goes to V[t+s] lane e. */
export function ldNMulti(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeRead(va, f.total);
  const eb = f.eb;
  const selem = f.selem;
  const n = f.q / eb;
  for (let e = 0; e < n; e++) {
    for (let s = 0; s < selem; s++) {
      loadElem(cpu, va, (f.t + s) & 31, e, eb);
      va += eb;
    }
  }
  if (f.q === 8) {
    const v = cpu.regs.vsi;
    for (let s = 0; s < selem; s++) {
      const i = ((f.t + s) & 31) * 4;
      v[i + 2] = 0;
      v[i + 3] = 0;
    }
  }
  writeback(r, f);
}

/** ST2/ST3/ST4 (multiple structures). */
export function stNMulti(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeWrite(va, f.total);
  const eb = f.eb;
  const selem = f.selem;
  const n = f.q / eb;
  for (let e = 0; e < n; e++) {
    for (let s = 0; s < selem; s++) {
      storeElem(cpu, va, (f.t + s) & 31, e, eb);
      va += eb;
    }
  }
  writeback(r, f);
}

/** LD1-LD4 (single structure) to one lane; the rest of each register is kept. */
export function ldLane(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeRead(va, f.total);
  for (let s = 0; s < f.selem; s++) {
    loadElem(cpu, va, (f.t + s) & 31, f.index, f.eb);
    va += f.eb;
  }
  writeback(r, f);
}

/** ST1-ST4 (single structure) from one lane. */
export function stLane(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeWrite(va, f.total);
  for (let s = 0; s < f.selem; s++) {
    storeElem(cpu, va, (f.t + s) & 31, f.index, f.eb);
    va += f.eb;
  }
  writeback(r, f);
}

/** LD1R-LD4R: one structure replicated to every lane; a 64-bit arrangement zeroes the upper half. */
export function ldRep(cpu: Cpu, f: Fields): void {
  const r = cpu.r;
  let va = r[f.b + 1]! * TWO32 + (r[f.b]! >>> 0);
  if ((va & 0xfff) + f.total > 4096) cpu.probeRead(va, f.total);
  const R = cpu.regs;
  const eb = f.eb;
  const q = f.q;
  for (let s = 0; s < f.selem; s++) {
    const reg = (f.t + s) & 31;
    loadElem(cpu, va, reg, 0, eb);
    va += eb;
    const o = reg * 16;
    // Double the filled prefix until the arrangement is full (copyWithin handles any lane size).
    for (let filled = eb; filled < q; filled *= 2) R.vb.copyWithin(o + filled, o, o + filled);
    if (q === 8) R.vb.fill(0, o + 8, o + 16);
  }
  writeback(r, f);
}
