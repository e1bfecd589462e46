// Emitters for MRS/MSR of the system registers kept in the CPU's slot of the wasm memory
// (SysregDef.slotOffset: SP_EL0, TPIDR_EL0/EL1, TPIDRRO_EL0 and the other value-only registers):
// a load or a store there, after the checks readSysreg/writeSysreg make (sysregs.ts). Linux reads
// SP_EL0 (`current`) and TPIDR_EL1 (the per-CPU offset) on every hot path: in Debian's generic
// kernel boot they were 1.5 M of the translated code's 5.5 M helper calls. Also PSTATE.DAIF (in
// the slot too: irqsave/irqrestore), constant registers (DCZID_EL0, CTR_EL0), ISB and IC: what
// may trap to EL2 or must end the block is decided from the run loop's CPU flags word.
//
// The EL check: an EL1 register at EL0 is UNDEFINED, which the handler raises. The page function
// does not know the EL, but its TLB context (L_CTX) is 0 exactly at EL0 (soft-tlb.ts
// setTlbContext; LDTR/STTR switch it only inside their own handler), so EL0 takes the handler.
import * as s from '../exec/int-sys.ts';
import { enc, type SysregDef } from '../sysregs-el1.ts';
import { Op } from './wasm.ts';
import { type Emit, L_CTX, L_RB } from './emitter.ts';
import { CPU_FLAG_IC, CPU_FLAG_ID, CPU_FLAG_IRQ, SLOT_CPU_FLAGS, SLOT_DAIF, SLOT_WASM_EXIT } from './guest-memory.ts';
import { HCR } from '../sysstate.ts';
import type { Emitter } from './emit-alu.ts';
import type { Fields } from '../decode/pattern.ts';

/** TPIDRRO_EL0 is read-only at EL0 (writeSysreg). */
const TPIDRRO_EL0 = enc(3, 3, 13, 0, 3);

const DAIF = enc(3, 3, 4, 2, 1);

/**
 * Unless the test pushed (i32) holds, `body`; else the handler. The handler's side is a whole
 * instruction (it ends the block or falls through, as the interpreter's would).
 */
function handlerIf(e: Emit, test: () => void, body: () => void): void {
  test();
  e.if();
  e.interp();
  e.else();
  body();
  e.end();
}

/** Push (i32) whether `flag` of the run loop's CPU flags word is clear (guest-memory.ts). */
const flagClear = (e: Emit, flag: number) => (): void => {
  e.get(L_RB);
  e.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
  e.i32(flag);
  e.op(Op.i32_and);
  e.op(Op.i32_eqz);
};

/** Push (i32) EL0 (TLB context 0: emit-sys.ts header). */
const atEl0 = (e: Emit) => (): void => {
  e.get(L_CTX);
  e.op(Op.i32_eqz);
};

/**
 * PSTATE.DAIF at EL1, in the CPU slot (pe.ts): MRS reads it; MSR DAIF, DAIFSet and DAIFClr write
 * it, and those that may unmask end the block as their handlers do when an interrupt may be taken
 * (SLOT_WASM_EXIT, the run loop makes it exitRequest), so it is taken at the next instruction.
 */
function daif(e: Emit, f: Fields, how: 'read' | 'write' | 'set' | 'clear'): boolean {
  handlerIf(e, atEl0(e), () => {
    if (how === 'read') {
      e.setX(f.rtw, () => {
        e.get(L_RB);
        e.mem(Op.i64_load32_u, SLOT_DAIF, 2);
      });
      return;
    }
    e.get(L_RB);
    if (how === 'write') {
      e.w(f.rtr);
      e.i32(0x3c0);
      e.op(Op.i32_and);
    } else {
      e.get(L_RB);
      e.mem(Op.i32_load, SLOT_DAIF, 2);
      e.i32(how === 'set' ? f.crm << 6 : ~(f.crm << 6));
      e.op(how === 'set' ? Op.i32_or : Op.i32_and);
    }
    e.mem(Op.i32_store, SLOT_DAIF, 2);
    if (how !== 'set') {
      // Only when an interrupt may be taken (int-sys.ts msrImm): else nothing unmasked can be.
      flagClear(e, CPU_FLAG_IRQ)();
      e.op(Op.i32_eqz);
      e.if();
      endBlock(e);
      e.end();
    }
  });
  return true;
}

/** Return after this instruction, telling the run loop the block ends here (SLOT_WASM_EXIT). */
function endBlock(e: Emit): void {
  e.get(L_RB);
  e.i32(1);
  e.mem(Op.i32_store, SLOT_WASM_EXIT, 2);
  e.returnAt((e.idx + 1) * 4, 1);
}

/** MRS/MSR as a load/store in the slot, at EL0 through the handler when EL1 only. */
function sysreg(write: boolean): Emitter {
  return (e: Emit, f: Fields): boolean => {
    if (f.enc === DAIF) return daif(e, f, write ? 'write' : 'read');
    const def = f.def as SysregDef | undefined;
    if (!write && def !== undefined && def.constant !== undefined && def.minEl === 0 && (def.trapRead === undefined || def.trapRead === HCR.TID2)) {
      // A read-only constant (DCZID_EL0, CTR_EL0): a move, unless HCR_EL2.TID2 traps it (the
      // run loop's CPU flags word).
      const move = (): void => e.setX(f.rtw, () => e.i64(def.constant!));
      if (def.trapRead === undefined) move();
      else handlerIf(e, flagClear(e, CPU_FLAG_ID), move);
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
  handlerIf(
    e,
    () => {
      atEl0(e)();
      flagClear(e, CPU_FLAG_IC)();
      e.op(Op.i32_or);
    },
    () => endBlock(e),
  );
  return true;
}

/** ISB: nothing, unless an interrupt may be taken (the CPU flags word): then the handler ends the block. */
function isb(e: Emit): boolean {
  handlerIf(
    e,
    () => {
      flagClear(e, CPU_FLAG_IRQ)();
      e.op(Op.i32_eqz);
    },
    () => {},
  );
  return true;
}

export const sysEmitters = new Map<unknown, Emitter>([
  [s.mrs, sysreg(false)],
  [s.msr, sysreg(true)],
  [s.icInvalidate, icInvalidate],
  [s.isb, isb],
  [s.msrImm, (e, f) => (f.field === 'daifset' ? daif(e, f, 'set') : f.field === 'daifclr' ? daif(e, f, 'clear') : false)],
]);
