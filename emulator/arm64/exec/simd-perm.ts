// Advanced SIMD permute (UZP/TRN/ZIP), extract (EXT) and table lookup (TBL/TBX)
// (ARM ARM C4.1.6). Results are built in a scratch register because Vd may be a source.

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { scratchB } from './simd-lanes.ts';

export const UZP1 = 1, TRN1 = 2, ZIP1 = 3, UZP2 = 5, TRN2 = 6, ZIP2 = 7;

function store(cpu: Cpu, d: number, bytes: number): void {
  const vb = cpu.regs.vb;
  const o = d * 16;
  for (let p = 0; p < bytes; p++) vb[o + p] = scratchB[p]!;
  for (let p = bytes; p < 16; p++) vb[o + p] = 0;
}

/** UZP1/UZP2/TRN1/TRN2/ZIP1/ZIP2 over elements of eb bytes. */
export function permute(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const eb: number = f.eb, bytes: number = f.bytes, opc: number = f.opc;
  const n = f.n * 16, m = f.m * 16;
  const lanes = bytes / eb;
  const part = opc >> 2; // 0 = "1" forms, 1 = "2" forms
  for (let i = 0; i < lanes; i++) {
    let src: number, e: number;
    switch (opc & 3) {
      case 1: { // UZP: even (or odd) elements of the concatenation Vm:Vn
        const j = 2 * i + part;
        src = j < lanes ? n : m;
        e = j < lanes ? j : j - lanes;
        break;
      }
      case 2: // TRN
        src = i & 1 ? m : n;
        e = (i & ~1) + part;
        break;
      default: // ZIP
        src = i & 1 ? m : n;
        e = (i >> 1) + part * (lanes >> 1);
    }
    for (let k = 0; k < eb; k++) scratchB[i * eb + k] = vb[src + e * eb + k]!;
  }
  store(cpu, f.d, bytes);
}

/** EXT: bytes imm.. of the concatenation Vm:Vn. */
export function ext(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const bytes: number = f.bytes;
  const n = f.n * 16, m = f.m * 16;
  for (let p = 0; p < bytes; p++) {
    const j = p + f.imm;
    scratchB[p] = j < bytes ? vb[n + j]! : vb[m + j - bytes]!;
  }
  store(cpu, f.d, bytes);
}

/** TBL/TBX with 1-4 consecutive table registers (wrapping at V31). */
export function tbl(cpu: Cpu, f: Fields): void {
  const vb = cpu.regs.vb;
  const bytes: number = f.bytes, regs: number = f.regs;
  const m = f.m * 16, d = f.d * 16;
  const limit = regs * 16;
  for (let p = 0; p < bytes; p++) {
    const x = vb[m + p]!;
    if (x < limit) scratchB[p] = vb[((f.n + (x >> 4)) & 31) * 16 + (x & 15)]!;
    else scratchB[p] = f.tbx ? vb[d + p]! : 0;
  }
  store(cpu, f.d, bytes);
}
