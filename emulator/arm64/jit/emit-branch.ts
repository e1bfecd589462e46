// Emitters for branches (ARM ARM C4.1.87: B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET) and
// hints. A taken direct branch into the same page is chained: the generated function dispatches
// to the target without returning to TypeScript (emitter.ts branch()); any other target ends
// the call with the next PC.
import * as s from '../exec/int-sys.ts';
import * as ls from '../exec/ls-single.ts';
import { Op } from './wasm.ts';
import { L_A, L_R } from './emitter.ts';
import type { Emitter } from './emit-alu.ts';

const LR = 30;

export const branchEmitters = new Map<unknown, Emitter>([
  [s.b, (e, f) => (e.branch(f.off), true)],
  [s.bl, (e, f) => {
    e.setX(LR, () => e.pcPlus(e.idx * 4 + 4));
    e.branch(f.off);
    return true;
  }],
  [s.bcond, (e, f) => {
    e.cond(f.cond);
    e.if();
    e.branch(f.off);
    e.end();
    return true;
  }],
  [s.cbz64, (e, f) => {
    e.x(f.rt);
    e.op(Op.i64_eqz);
    return cbTail(e, f.nz, f.off);
  }],
  [s.cbz32, (e, f) => {
    e.w(f.rt);
    e.op(Op.i32_eqz);
    return cbTail(e, f.nz, f.off);
  }],
  [s.tbz, (e, f) => {
    e.x(f.rt);
    e.i64(f.half * 32 + f.bit);
    e.op(Op.i64_shr_u);
    e.op(Op.i32_wrap_i64);
    e.i32(1);
    e.op(Op.i32_and);
    if (!f.nz) e.op(Op.i32_eqz);
    e.if();
    e.branch(f.off);
    e.end();
    return true;
  }],
  [s.br, (e, f) => {
    e.x(f.rn);
    e.set(L_R);
    e.branchToLocal(L_R);
    return true;
  }],
  [s.blr, (e, f) => {
    // The target is read before X30 is written (BLR X30).
    e.x(f.rn);
    e.set(L_A);
    e.setX(LR, () => e.pcPlus(e.idx * 4 + 4));
    e.branchToLocal(L_A);
    return true;
  }],
  [s.nop, () => true],
  [ls.prefetch, () => true],
]);

/** CBZ/CBNZ after `Rt == 0` was pushed. */
function cbTail(e: Parameters<Emitter>[0], nz: boolean, off: number): boolean {
  if (nz) e.op(Op.i32_eqz);
  e.if();
  e.branch(off);
  e.end();
  return true;
}
