// Emitters for the Advanced SIMD instructions hot loops lean on, with WebAssembly's own 128-bit
// SIMD (the V registers live in the register file, V<n> at rb + V_OFF + 16n, lanes little-endian
// as in wasm's v128). Semantics as exec/simd-fast-elem.ts.
import * as fe from '../exec/simd-fast-elem.ts';
import { Op } from './wasm.ts';
import { type Emit, L_RB } from './emitter.ts';
import type { Emitter } from './emit-alu.ts';

/** Byte offset of V<n> in the register file (regs.ts V_OFFSET). */
export const V_OFF = 512;
const vreg = (n: number): number => V_OFF + 16 * n;

// SIMD opcodes (0xfd prefix; WebAssembly SIMD proposal, final opcode table).
const V128_LOAD = 0x00;
const V128_STORE = 0x0b;
const I32X4_SPLAT = 0x11;
const I64X2_EXTRACT_LANE = 0x1d;
const I32X4_ADD = 0xae;
const I32X4_SUB = 0xb1;
const I32X4_MUL = 0xb5;

function simd(e: Emit, op: number): void {
  e.byte(0xfd);
  e.u32(op);
}
function vload(e: Emit, n: number): void {
  e.get(L_RB);
  simd(e, V128_LOAD);
  e.u32(0);
  e.u32(vreg(n));
}

/** V<d> = the v128 `value` pushes; a 64-bit vector (lanes in the low half) zeroes the high half. */
function vstore(e: Emit, d: number, full: boolean, value: () => void): void {
  if (full) {
    e.get(L_RB);
    value();
    simd(e, V128_STORE);
    e.u32(0);
    e.u32(vreg(d));
    return;
  }
  e.get(L_RB);
  value();
  simd(e, I64X2_EXTRACT_LANE);
  e.byte(0);
  e.mem(Op.i64_store, vreg(d));
  e.get(L_RB);
  e.i64(0);
  e.mem(Op.i64_store, vreg(d) + 8);
}

export const simdEmitters = new Map<unknown, Emitter>([
  // MUL/MLA/MLS (by element), 32-bit lanes.
  [fe.mulElem32, (e, f) => {
    vstore(e, f.d, f.lanes === 4, () => {
      if (f.kind !== 0) vload(e, f.d);
      vload(e, f.n);
      e.get(L_RB);
      e.mem(Op.i32_load, vreg(f.m) + 4 * f.idx);
      simd(e, I32X4_SPLAT);
      simd(e, I32X4_MUL);
      if (f.kind === 1) simd(e, I32X4_ADD);
      else if (f.kind === 2) simd(e, I32X4_SUB);
    });
    return true;
  }],
]);
