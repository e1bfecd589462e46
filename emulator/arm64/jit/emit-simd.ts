// Emitters for the Advanced SIMD instructions hot loops lean on, with WebAssembly's own 128-bit
// SIMD (the V registers live in the register file, V<n> at rb + V_OFFSET + 16n, lanes little-endian
// as in wasm's v128). Semantics as exec/simd-fast-elem.ts and exec/simd-perm.ts.
import * as fe from '../exec/simd-fast-elem.ts';
import { ext } from '../exec/simd-perm.ts';
import { moviWrite } from '../exec/simd-copy.ts';
import { fpEmitters } from './emit-fp.ts';
import { Op, SimdOp } from './wasm.ts';
import { V_OFFSET } from '../regs.ts';
import { type Emit, L_RB } from './emitter.ts';
import type { Emitter } from './emit-alu.ts';

/** Byte offset of V<n> in the register file. */
const vreg = (n: number): number => V_OFFSET + 16 * n;

/** Push V<n> as a v128. */
function vload(e: Emit, n: number): void {
  e.get(L_RB);
  e.simd(SimdOp.v128_load);
  e.u32(0);
  e.u32(vreg(n));
}

/** V<d> = the v128 `value` pushes; a 64-bit vector (lanes in the low half) zeroes the high half. */
function vstore(e: Emit, d: number, full: boolean, value: () => void): void {
  if (full) {
    e.get(L_RB);
    value();
    e.simd(SimdOp.v128_store);
    e.u32(0);
    e.u32(vreg(d));
    return;
  }
  e.get(L_RB);
  value();
  e.simd(SimdOp.i64x2_extract_lane);
  e.byte(0);
  e.mem(Op.i64_store, vreg(d));
  e.get(L_RB);
  e.i64(0);
  e.mem(Op.i64_store, vreg(d) + 8);
}

/** The SIMD&FP emitters (the FP ones from emit-fp.ts: translate.ts takes this one map). */
export const simdEmitters = new Map<unknown, Emitter>([
  ...fpEmitters,
  // MUL/MLA/MLS (by element), 32-bit lanes.
  [fe.mulElem32, (e, f) => {
    vstore(e, f.d, f.lanes === 4, () => {
      if (f.kind !== 0) vload(e, f.d);
      vload(e, f.n);
      e.get(L_RB);
      e.mem(Op.i32_load, vreg(f.m) + 4 * f.idx);
      e.simd(SimdOp.i32x4_splat);
      e.simd(SimdOp.i32x4_mul);
      if (f.kind === 1) e.simd(SimdOp.i32x4_add);
      else if (f.kind === 2) e.simd(SimdOp.i32x4_sub);
    });
    return true;
  }],
  // MOVI/MVNI: the expanded immediate (decode), repeated in the upper half when Q = 1.
  [moviWrite, (e, f) => {
    const v = (BigInt(f.hi >>> 0) << 32n) | BigInt(f.lo >>> 0);
    e.get(L_RB);
    e.i64(v);
    e.mem(Op.i64_store, vreg(f.d));
    e.get(L_RB);
    e.i64(f.q ? v : 0);
    e.mem(Op.i64_store, vreg(f.d) + 8);
    return true;
  }],
  // EXT Vd, Vn, Vm, #imm: bytes imm.. of the concatenation Vm:Vn, one shuffle with constant lanes.
  // The 8-byte form takes bytes imm..imm+7 of Vm<7:0>:Vn<7:0> (imm < 8, decode) and zeroes the
  // upper half (vstore); its shuffle's upper lanes are don't-cares.
  [ext, (e, f) => {
    const bytes: number = f.bytes, imm: number = f.imm;
    vstore(e, f.d, bytes === 16, () => {
      vload(e, f.n);
      vload(e, f.m);
      e.simd(SimdOp.i8x16_shuffle);
      for (let p = 0; p < 16; p++) {
        const j = p + imm;
        // Byte j of the concatenation: Vn's lane j below `bytes`, else Vm's lane j - bytes (16 + it).
        e.byte(p >= bytes ? 0 : j < bytes ? j : 16 + j - bytes);
      }
    });
    return true;
  }],
]);
