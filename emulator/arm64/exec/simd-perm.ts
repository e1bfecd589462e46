// Advanced SIMD permute (UZP/TRN/ZIP), extract (EXT) and table lookup (TBL/TBX)
// (ARM ARM C4.1.6). Results are built in a scratch register because Vd may be a source.

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { scratchB } from './simd-lanes.ts';

export const UZP1 = 1, TRN1 = 2, ZIP1 = 3, UZP2 = 5, TRN2 = 6, ZIP2 = 7;

const perm16 = new Uint16Array(scratchB.buffer, scratchB.byteOffset, 8);
const w32 = new Uint32Array(scratchB.buffer, scratchB.byteOffset, 4);

function store(cpu: Cpu, d: number, bytes: number): void {
  const s = cpu.regs.vs;
  const o = d * 4;
  s[o] = w32[0]!;
  s[o + 1] = w32[1]!;
  s[o + 2] = bytes === 16 ? w32[2]! : 0;
  s[o + 3] = bytes === 16 ? w32[3]! : 0;
}

const perm32 = new Uint32Array(scratchB.buffer, scratchB.byteOffset, 4);

/** UZP1/UZP2/TRN1/TRN2/ZIP1/ZIP2 over elements of eb bytes (64-bit elements move as word pairs). */
export function permute(cpu: Cpu, f: Fields): void {
  const eb: number = f.eb, bytes: number = f.bytes, opc: number = f.opc;
  const wide = eb === 8;
  // Work on the view of the element size; a 64-bit element is two 32-bit words.
  const view = eb === 1 ? cpu.regs.vb : eb === 2 ? cpu.regs.vh : cpu.regs.vs;
  const out = eb === 1 ? scratchB : eb === 2 ? perm16 : perm32;
  const per = 16 / (wide ? 4 : eb);
  const n = f.n * per, m = f.m * per;
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
    if (wide) {
      out[2 * i] = view[src + 2 * e]!;
      out[2 * i + 1] = view[src + 2 * e + 1]!;
    } else out[i] = view[src + e]!;
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
