// Emitters for MRS/MSR of the system registers kept in the CPU's slot of the wasm memory
// (SysregDef.slotOffset: SP_EL0, TPIDR_EL0/EL1, TPIDRRO_EL0 and the other value-only registers):
// a load or a store there, after the checks readSysreg/writeSysreg make (sysregs.ts). Linux reads
// SP_EL0 (`current`) and TPIDR_EL1 (the per-CPU offset) on every hot path: in Debian's generic
// kernel boot they were 1.5 M of the translated code's 5.5 M helper calls.
//
// The EL check: an EL1 register at EL0 is UNDEFINED, which the handler raises. The page function
// does not know the EL, but its TLB context (L_CTX) is 0 exactly at EL0 (soft-tlb.ts
// setTlbContext; LDTR/STTR switch it only inside their own handler), so EL0 takes the handler.
import * as s from '../exec/int-sys.ts';
import { enc, type SysregDef } from '../sysregs-el1.ts';
import { Op } from './wasm.ts';
import { type Emit, L_CTX, L_RB } from './emitter.ts';
import { CPU_FLAG_IC, SLOT_CPU_FLAGS, SLOT_WASM_EXIT } from './guest-memory.ts';
import type { Emitter } from './emit-alu.ts';
import type { Fields } from '../decode/pattern.ts';

/** TPIDRRO_EL0 is read-only at EL0 (writeSysreg). */
const TPIDRRO_EL0 = enc(3, 3, 13, 0, 3);

/** MRS/MSR as a load/store in the slot, at EL0 through the handler when EL1 only. */
function sysreg(write: boolean): Emitter {
  return (e: Emit, f: Fields): boolean => {
    const def = f.def as SysregDef | undefined;
    if (!write && def !== undefined && def.constant !== undefined && def.minEl === 0 && def.trapRead === undefined) {
      // A read-only constant (DCZID_EL0): a move.
      e.setX(f.rtw, () => e.i64(def.constant!));
      return true;
    }
    if (def === undefined || def.slotOffset === undefined) return false;
    if (write ? def.trapWrite || !def.write : def.trapRead || !def.read) return false;
    const off = def.slotOffset;
    const access = (): void => {
      if (write) {
        e.get(L_RB);
        e.x(f.rtr);
        e.mem(Op.i64_store, off);
      } else {
        e.setX(f.rtw, () => {
          e.get(L_RB);
          e.mem(Op.i64_load, off);
        });
      }
    };
    const el1Only = def.minEl > 0 || (write && f.enc === TPIDRRO_EL0);
    if (!el1Only) {
      access();
      return true;
    }
    e.get(L_CTX);
    e.op(Op.i32_eqz);
    e.if();
    e.interp();
    e.else();
    access();
    e.end();
    return true;
  };
}

/**
 * IC IVAU/IALLU/IALLUIS (exec/int-sys.ts icInvalidate): decoded code is already coherent, so at
 * EL1 with no HCR_EL2.TPU trap (the run loop's CPU flags word) all it does is end the block, which
 * the run loop is told through SLOT_WASM_EXIT (the handler's exitRequest); else the handler.
 */
function icInvalidate(e: Emit): boolean {
  e.get(L_CTX);
  e.op(Op.i32_eqz);
  e.get(L_RB);
  e.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
  e.i32(CPU_FLAG_IC);
  e.op(Op.i32_and);
  e.op(Op.i32_eqz);
  e.op(Op.i32_or);
  e.if();
  e.interp();
  e.else();
  e.get(L_RB);
  e.i32(1);
  e.mem(Op.i32_store, SLOT_WASM_EXIT, 2);
  e.returnAt((e.idx + 1) * 4, 1);
  e.end();
  return true;
}

export const sysEmitters = new Map<unknown, Emitter>([
  [s.mrs, sysreg(false)],
  [s.msr, sysreg(true)],
  [s.icInvalidate, icInvalidate],
]);
