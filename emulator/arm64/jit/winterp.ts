// The interpreter of cold code, in WebAssembly (v86 runs its x86 interpreter as wasm the same way).
//
// Why: code that runs a few thousand times is too cold to translate (a page costs the worker ~2-3
// ms, and lukewarm translated code runs little faster than the JavaScript interpreter), and the
// JavaScript interpreter runs it at ~40 ns an instruction: every handler starts in V8's bytecode
// interpreter, the per-instruction dispatch is a megamorphic call. The kit boot interprets 18 M of
// its 66 M instructions that way (~0.7 s). This one module is compiled once, is fast from its
// first instruction, and runs the commonest instructions (~95 % of what the boot interprets) with
// the register file and the soft TLBs where translated code has them (guest-memory.ts).
//
// What it runs: one decoded page, from an entry to where the run loop's block would end (a branch
// out of the page, the end of the page, the budget, an exit request), with the calling convention
// of a translated page (chain.ts PageFn; the last argument is the page's slot table instead of a
// count): it returns the instructions executed and leaves the next PC at SCRATCH_PC. Everything
// it has no operation for -- and every memory access that misses the soft TLB or crosses a page --
// runs the interpreter's handler through the translator's helper (cpu.ts jitHelper), so faults,
// MMIO, system registers and exceptions are the interpreter's own, exactly.
//
// The decode tables stay the one description of the ISA: each instruction is decoded by them (in
// JavaScript, once per page) and its handler and prepared fields are packed into a 16-byte slot
// of the page's slot table (below, `pack`), which the wasm side reads. Handlers without a packer
// get the helper operation. A page's slot table lives in an arena at the end of the wasm memory
// (guest-memory.ts); a written page is a new DecodedPage with a fresh table (code-cache.ts).
//
// Slot: op u8 | a u8 | b u8 | c u8 | imm i32 | imm2 i32 | p0 p1 p2 p3 u8 (a, b, c: register slots
// of regs.ts, XZR/SP already mapped by the decode; op 0: not decoded yet, the function asks).
import type { Fields } from '../decode/pattern.ts';
import * as dp from '../exec/int-dp.ts';
import * as sys from '../exec/int-sys.ts';
import * as ls from '../exec/ls-single.ts';
import * as lp from '../exec/ls-pair.ts';
import * as lx from '../exec/ls-excl.ts';
import * as la from '../exec/ls-atomic.ts';
import type { SysregDef } from '../sysregs-el1.ts';
import { enc } from '../sysregs-el1.ts';
import { HCR } from '../sysstate.ts';
import { buildModule, Op, T, type WasmFunction } from './wasm.ts';
import { PAIR, SINGLE } from './emit-mem.ts';
import { aluBody } from './winterp-alu.ts';
import { memBody } from './winterp-mem.ts';
import { Asm, FN_DECODE, FN_FILL, FN_HELPER, L_BR, L_IDX, L_IMM, L_N, L_OP, L_PCB, L_RA, L_RBN, L_RC, L_S, L_T, L_TGT, MODULE_TYPES, P_BUDGET, P_CTX, P_ENTRY, P_PCHI, P_PCLO, P_RAM, P_RB, P_SLOTS, TYPE_DECODE, TYPE_FILL, TYPE_FN, TYPE_HELPER, condFunction, condHolds, exit, inc, jump, target } from './winterp-asm.ts';
import { LDST_KINDS, MODES, PAIR_MODES, M_OFF, M_ORDERED, M_POST, M_PRE, M_REG, OP_ADCSBC, OP_ADDI32, OP_ADDI64, OP_ADDSI, OP_ADDSUBR, OP_DIV, OP_ADDSUBX, OP_ADR, OP_ADRP, OP_B, OP_BCOND, OP_BITFIELD, OP_BL, OP_BLR, OP_BR, OP_CAS, OP_CASP, OP_CBZ32, OP_CBZ64, OP_CCMP, OP_COUNT, OP_CSEL, OP_DP1, OP_EXTR, OP_HELPER, OP_LDST, OP_LDSTP, OP_LOGI, OP_LOGR, OP_MADD, OP_MADDL, OP_DCZVA, OP_DCVA, OP_ISB, OP_MRS_ID, OP_DAIFSET, OP_DAIFCLR, OP_MSR_DAIF, OP_IC, OP_MOVI, OP_MOVK, OP_MOVR32, OP_MOVR64, OP_MRS, OP_MSR, OP_NONE, OP_NOP, OP_RMW, OP_SHIFTI, OP_SHIFTV, OP_TBZ, PAIR_KINDS, SCRATCH_BRANCHES, SCRATCH_MEMO } from './winterp-ops.ts';
import { CPU_FLAG_IC, CPU_FLAG_ID, CPU_FLAG_IRQ, MEMO_BITS, MEMO_ENTRY_BYTES, SLOT_CPU_FLAGS, SLOT_DAIF, SLOT_WASM_EXIT } from './guest-memory.ts';
export { SLOT_BYTES, SLOTS_BYTES } from './winterp-ops.ts';

type Packer = (f: Fields, s: Slot) => number;

/** The slot being filled (pack's view of 16 bytes). */
export class Slot {
  a = 0;
  b = 0;
  c = 0;
  imm = 0;
  imm2 = 0;
  p0 = 0;
  p1 = 0;
  p2 = 0;
  p3 = 0;
}

const shiftKinds = new Map<unknown, number>([
  [dp.lslImm64, 0], [dp.lsrImm64, 1], [dp.asrImm64, 2], [dp.lslImm32, 3], [dp.lsrImm32, 4], [dp.asrImm32, 5],
]);

function single(mode: number): Packer {
  return (f, s) => {
    const k = SINGLE.get(f.acc);
    const i = k === undefined ? -1 : LDST_KINDS.indexOf(k);
    if (i < 0) return OP_HELPER;
    s.a = f.t >> 1;
    s.b = f.b >> 1;
    s.imm = f.off;
    s.p1 = mode;
    return OP_LDST + i * MODES + mode;
  };
}

function regOffset(f: Fields, s: Slot): number {
  const op = single(M_REG)(f, s);
  if (op === OP_HELPER) return op;
  s.c = f.m >> 1;
  s.p2 = f.ik;
  s.p3 = Math.log2(f.mul);
  return op;
}

function ordered(f: Fields, s: Slot): number {
  const op = single(M_ORDERED)(f, s);
  s.imm = 0;
  return op;
}

/** TPIDRRO_EL0 is read-only at EL0 (sysregs.ts writeSysreg). */
const TPIDRRO_EL0 = enc(3, 3, 13, 0, 3);
const DAIF = enc(3, 3, 4, 2, 1);

/** MRS/MSR of a register kept in the CPU slot (as emit-sys.ts): p0 set when EL0 must take the handler. */
function sysreg(write: boolean): Packer {
  return (f, s) => {
    if (f.enc === DAIF) {
      // (PSTATE.DAIF: in the CPU slot, pe.ts; EL1 only.)
      s.a = write ? f.rtr : f.rtw;
      s.imm = SLOT_DAIF;
      s.p0 = 1;
      return write ? OP_MSR_DAIF : OP_MRS;
    }
    const def = f.def as SysregDef | undefined;
    if (!write && def !== undefined && def.constant !== undefined && def.minEl === 0 && (def.trapRead === undefined || def.trapRead === HCR.TID2)) {
      s.a = f.rtw;
      s.imm = def.constant;
      return def.trapRead === undefined ? OP_MOVI : OP_MRS_ID;
    }
    if (def === undefined || def.slotOffset === undefined) return OP_HELPER;
    if (write ? def.trapWrite || !def.write : def.trapRead || !def.read) return OP_HELPER;
    s.a = write ? f.rtr : f.rtw;
    s.imm = def.slotOffset;
    s.p0 = def.minEl > 0 || (write && f.enc === TPIDRRO_EL0) ? 1 : 0;
    return write ? OP_MSR : OP_MRS;
  };
}

function pair(mode: number): Packer {
  return (f, s) => {
    const k = PAIR.get(f.acc);
    const i = k === undefined ? -1 : PAIR_KINDS.indexOf(k);
    if (i < 0) return OP_HELPER;
    s.a = f.t >> 1;
    s.c = f.t2 >> 1;
    s.b = f.b >> 1;
    s.imm = f.off;
    s.p1 = mode;
    return OP_LDSTP + i * PAIR_MODES + mode;
  };
}

/** LD<op>/SWP: the operations without a comparison (the MIN/MAX forms take the handler). */
const RMW_OPS = [la.AtomicOp.ADD, la.AtomicOp.CLR, la.AtomicOp.EOR, la.AtomicOp.SET, la.AtomicOp.SWP] as number[];
const rmw: Packer = (f, s) => {
  const op = RMW_OPS.indexOf(f.op);
  if (op < 0) return OP_HELPER;
  s.a = f.tw >> 1;
  s.b = f.b >> 1;
  s.c = f.s >> 1;
  s.p1 = op;
  return OP_RMW + Math.log2(f.size);
};

const branch = (op: number): Packer => (f, s) => ((s.imm = f.off), op);

/** Packers by interpreter handler: the wasm interpreter's extension of the decode tables. */
const PACKERS = new Map<unknown, Packer>([
  [sys.nop, () => OP_NOP],
  [ls.prefetch, () => OP_NOP],
  [dp.addImm64, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.imm), OP_ADDI64)],
  [dp.addImm32, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.imm), OP_ADDI32)],
  [dp.addsImm64, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.uimm), (s.p0 = 1), (s.p1 = f.sub), OP_ADDSI)],
  [dp.addsImm32, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.uimm), (s.p0 = 0), (s.p1 = f.sub), OP_ADDSI)],
  [dp.addSubShifted, (f, s) => {
    s.a = f.rd;
    s.b = f.rn;
    s.c = f.rm;
    s.imm = f.amt;
    s.p0 = f.sf;
    s.p1 = f.sub;
    s.p2 = f.s ? 1 : 0;
    s.p3 = f.shift;
    return OP_ADDSUBR;
  }],
  [dp.adcSbc, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.p0 = f.sf), (s.p1 = f.sub), (s.p2 = f.s ? 1 : 0), OP_ADCSBC)],
  [dp.div, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.p0 = f.sf), (s.p1 = f.signed ? 1 : 0), OP_DIV)],
  [dp.movReg64, (f, s) => ((s.a = f.rd), (s.c = f.rm), OP_MOVR64)],
  [dp.movReg32, (f, s) => ((s.a = f.rd), (s.c = f.rm), OP_MOVR32)],
  [dp.movImm, (f, s) => ((s.a = f.rd), (s.imm = f.lo), (s.imm2 = f.hi), OP_MOVI)],
  [dp.movk, (f, s) => ((s.a = f.rd), (s.imm = f.imm16), (s.p0 = f.sf), (s.p1 = f.hw), OP_MOVK)],
  [dp.logImm, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.mlo), (s.imm2 = f.mhi), (s.p0 = f.sf), (s.p1 = f.opc), OP_LOGI)],
  [dp.logReg, (f, s) => {
    s.a = f.rd;
    s.b = f.rn;
    s.c = f.rm;
    s.imm = f.amt;
    s.p0 = f.sf;
    s.p1 = f.opc;
    s.p2 = f.inv;
    s.p3 = f.shift;
    return OP_LOGR;
  }],
  [dp.adrp, (f, s) => ((s.a = f.rd), (s.imm = f.imm / 4096), OP_ADRP)],
  [dp.adr, (f, s) => ((s.a = f.rd), (s.imm = f.imm), OP_ADR)],
  [sys.b, branch(OP_B)],
  [sys.bl, branch(OP_BL)],
  [sys.bcond, (f, s) => ((s.imm = f.off), (s.p0 = f.cond), OP_BCOND)],
  [sys.cbz64, (f, s) => ((s.a = f.rt), (s.imm = f.off), (s.p0 = f.nz ? 1 : 0), OP_CBZ64)],
  [sys.cbz32, (f, s) => ((s.a = f.rt), (s.imm = f.off), (s.p0 = f.nz ? 1 : 0), OP_CBZ32)],
  [sys.tbz, (f, s) => ((s.a = f.rt), (s.imm = f.off), (s.p0 = f.nz ? 1 : 0), (s.p1 = f.half * 32 + f.bit), OP_TBZ)],
  [sys.br, (f, s) => ((s.b = f.rn), OP_BR)],
  [sys.blr, (f, s) => ((s.b = f.rn), OP_BLR)],
  [dp.condSelect, (f, s) => {
    s.a = f.rd;
    s.b = f.rn;
    s.c = f.rm;
    s.p0 = f.sf;
    s.p1 = f.inv;
    s.p2 = f.inc;
    s.p3 = f.cond;
    return OP_CSEL;
  }],
  [dp.condCompare, (f, s) => {
    s.a = 33; // the result goes to the sink, as the handler's (regs.ts SINK)
    s.b = f.rn;
    s.c = f.rm;
    s.imm = f.imm5;
    s.imm2 = f.isImm ? 1 : 0;
    s.p0 = f.sf;
    s.p1 = f.sub;
    s.p2 = f.cond;
    s.p3 = f.nzcv;
    return OP_CCMP;
  }],
  ...[...shiftKinds].map(([h, kind]): [unknown, Packer] => [h, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.sh), (s.p0 = kind), OP_SHIFTI)]),
  [dp.bitfield, (f, s) => {
    s.a = f.rd;
    s.b = f.rn;
    s.c = f.rdr;
    s.p0 = f.sf;
    s.p1 = f.opc;
    s.p2 = f.immr;
    s.p3 = f.imms;
    return OP_BITFIELD;
  }],
  [dp.extr, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.p0 = f.sf), (s.p1 = f.imms), OP_EXTR)],
  [dp.shiftVar, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.p0 = f.sf), (s.p3 = f.shift), OP_SHIFTV)],
  [dp.addSubExtended, (f, s) => {
    s.a = f.rd;
    s.b = f.rn;
    s.c = f.rm;
    s.imm = f.amt;
    s.p0 = f.sf;
    s.p1 = f.sub;
    s.p2 = f.s ? 1 : 0;
    s.p3 = f.option;
    return OP_ADDSUBX;
  }],
  [la.cas, (f, s) => ((s.a = f.sw >> 1), (s.b = f.b >> 1), (s.c = f.t >> 1), (s.imm = f.s >> 1), OP_CAS + Math.log2(f.size))],
  [la.casp, (f, s) => {
    s.a = f.sw >> 1;
    s.b = f.b >> 1;
    s.c = f.t >> 1;
    s.p0 = f.t1 >> 1;
    s.p1 = f.s >> 1;
    s.p2 = f.s1 >> 1;
    s.p3 = f.sw1 >> 1;
    return f.size === 4 ? OP_CASP : OP_CASP + 1;
  }],
  [la.atomicSmall, rmw],
  [la.atomic64, rmw],
  [dp.dp1, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.p0 = f.sf), (s.p1 = f.op), OP_DP1)],
  [dp.maddl, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.imm = f.ra), (s.p0 = f.signed ? 1 : 0), (s.p1 = f.sub), OP_MADDL)],
  [sys.dcZva, (f, s) => ((s.b = f.rtr), OP_DCZVA)],
  [sys.isb, () => OP_ISB],
  [sys.msrImm, (f, s) => ((s.imm = f.crm << 6), f.field === 'daifset' ? OP_DAIFSET : f.field === 'daifclr' ? OP_DAIFCLR : OP_HELPER)],
  [sys.icInvalidate, () => OP_IC],
  [sys.dcByVa, (f, s) => ((s.b = f.rtr), (s.p0 = f.el1Only ? 1 : 0), OP_DCVA)],
  [dp.madd, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.imm = f.ra), (s.p0 = f.sf), (s.p1 = f.sub), OP_MADD)],
  [sys.mrs, sysreg(false)],
  [sys.msr, sysreg(true)],
  [lx.loadAcquire, ordered],
  [lx.storeRelease, ordered],
  [ls.ldstRegX, regOffset],
  [ls.ldstRegUxtw, regOffset],
  [ls.ldstRegSxtw, regOffset],
  [ls.ldrWReg, regOffset],
  [ls.ldrXReg, regOffset],
  [ls.ldrBReg, regOffset],
  [ls.strWReg, regOffset],
  [ls.strXReg, regOffset],
  [ls.ldstImm, single(M_OFF)],
  [ls.ldrXImm, single(M_OFF)],
  [ls.ldrWImm, single(M_OFF)],
  [ls.ldrBImm, single(M_OFF)],
  [ls.strXImm, single(M_OFF)],
  [ls.strWImm, single(M_OFF)],
  [ls.strBImm, single(M_OFF)],
  [ls.ldstPre, single(M_PRE)],
  [ls.ldstPost, single(M_POST)],
  [lp.ldstPairOff, pair(M_OFF)],
  [lp.ldpXOff, pair(M_OFF)],
  [lp.stpXOff, pair(M_OFF)],
  [lp.ldstPairPre, pair(M_PRE)],
  [lp.stpXPre, pair(M_PRE)],
  [lp.ldstPairPost, pair(M_POST)],
  [lp.ldpXPost, pair(M_POST)],
]);

const scratchSlot = new Slot();

/**
 * Fill slot `at` (a byte offset of `bytes`) for an instruction decoded to handler `fn` with
 * fields `f`; returns its operation.
 */
export function pack(fn: unknown, f: Fields, bytes: Uint8Array, view: DataView, at: number): number {
  const packer = PACKERS.get(fn);
  const s = scratchSlot;
  s.a = s.b = s.c = s.imm = s.imm2 = s.p0 = s.p1 = s.p2 = s.p3 = 0;
  const op = packer === undefined || f === undefined ? OP_HELPER : packer(f, s);
  bytes[at] = op;
  bytes[at + 1] = s.a;
  bytes[at + 2] = s.b;
  bytes[at + 3] = s.c;
  view.setInt32(at + 4, s.imm, true);
  view.setInt32(at + 8, s.imm2, true);
  bytes[at + 12] = s.p0;
  bytes[at + 13] = s.p1;
  bytes[at + 14] = s.p2;
  bytes[at + 15] = s.p3;
  return op;
}

// ---------------------------------------------------------------------------------------------
// The module.

/** The function: f(entry, budget, rb, ctx, pcBase low word, pcBase high word, slots, ram) -> instructions executed (ram: the page's RAM offset). */
export type WasmInterpreterFn = (entry: number, budget: number, rb: number, ctx: number, pcLo: number, pcHi: number, slots: number, ram: number) => number;

/** The operation bodies: each leaves by br next (done, fall through to the next instruction), top (jumped within the page), helper, or a return. */
function body(a: Asm, op: number, L: { next: number; top: number; helper: number }): void {
  if (!branchOrSysBody(a, op, L) && !aluBody(a, op) && !memBody(a, op, L.helper)) throw new Error(`winterp: no body for operation ${op}`);
  a.br(L.next);
}

/** Branches, hints and the slot registers' MRS/MSR (true), or false when `op` is not one. */
function branchOrSysBody(a: Asm, op: number, L: { next: number; top: number; helper: number }): boolean {
  switch (op) {
    case OP_NOP:
      return true;
    case OP_B:
      target(a);
      jump(a, L.top);
      return true;
    case OP_BL:
      a.get(P_RB);
      a.pc(4);
      a.mem(Op.i64_store, 30 * 8, 3);
      target(a);
      jump(a, L.top);
      return true;
    case OP_BCOND:
    case OP_CBZ64:
    case OP_CBZ32:
    case OP_TBZ:
      if (op === OP_BCOND) condHolds(a, () => a.p(0));
      else {
        if (op === OP_CBZ64) {
          a.x(L_RA);
          a.o(Op.i64_eqz);
        } else if (op === OP_CBZ32) {
          a.w(L_RA);
          a.o(Op.i32_eqz);
        } else {
          // the bit clear?
          a.x(L_RA);
          a.p(1);
          a.o(Op.i64_extend_i32_u, Op.i64_shr_u, Op.i32_wrap_i64);
          a.i32(1);
          a.o(Op.i32_and, Op.i32_eqz);
        }
        // taken when (zero/clear) != nz
        a.p(0);
        a.o(Op.i32_ne);
      }
      a.i32(0);
      a.o(Op.i32_eq);
      a.brIf(L.next);
      target(a);
      jump(a, L.top);
      return true;
    case OP_BR:
      a.x(L_RBN);
      a.set(L_TGT);
      jump(a, L.top);
      return true;
    case OP_BLR:
      // The target is read before X30 is written (BLR X30).
      a.x(L_RBN);
      a.set(L_TGT);
      a.get(P_RB);
      a.pc(4);
      a.mem(Op.i64_store, 30 * 8, 3);
      jump(a, L.top);
      return true;
    case OP_DAIFSET:
    case OP_DAIFCLR:
    case OP_MSR_DAIF:
    case OP_IC:
      // EL0 (UNDEFINED, or SCTLR_EL1.UCI for IC IVAU) and a trap of IC to EL2 take the handler.
      a.get(P_CTX);
      a.o(Op.i32_eqz);
      a.brIf(L.helper);
      if (op === OP_IC) {
        a.get(P_RB);
        a.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
        a.i32(CPU_FLAG_IC);
        a.o(Op.i32_and, Op.i32_eqz);
        a.brIf(L.helper);
      } else {
        a.get(P_RB);
        if (op === OP_MSR_DAIF) {
          a.w(L_RA);
          a.i32(0x3c0);
          a.o(Op.i32_and);
        } else {
          a.get(P_RB);
          a.mem(Op.i32_load, SLOT_DAIF, 2);
          a.get(L_IMM);
          a.o(Op.i32_wrap_i64);
          if (op === OP_DAIFSET) a.o(Op.i32_or);
          else {
            a.i32(-1);
            a.o(Op.i32_xor, Op.i32_and);
          }
        }
        a.mem(Op.i32_store, SLOT_DAIF, 2);
        if (op === OP_DAIFSET) return true;
      }
      // The block ends after it (the handlers' exitRequest), and the run loop is told so.
      a.get(P_RB);
      a.i32(1);
      a.mem(Op.i32_store, SLOT_WASM_EXIT, 2);
      exit(a, () => a.pc(4), 1);
      return true;
    case OP_MRS_ID:
      a.get(P_RB);
      a.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
      a.i32(CPU_FLAG_ID);
      a.o(Op.i32_and, Op.i32_eqz);
      a.brIf(L.helper);
      // the value, zero-extended from imm
      a.setX(L_RA, () => {
        a.get(L_IMM);
        a.i64(0xffffffff);
        a.o(Op.i64_and);
      });
      return true;
    case OP_ISB:
      a.get(P_RB);
      a.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
      a.i32(CPU_FLAG_IRQ);
      a.o(Op.i32_and);
      a.brIf(L.helper);
      return true;
    case OP_MRS:
    case OP_MSR:
      // EL1-only registers at EL0 (TLB context 0 exactly there: emit-sys.ts) take the handler.
      a.p(0);
      a.get(P_CTX);
      a.o(Op.i32_eqz, Op.i32_and);
      a.brIf(L.helper);
      a.get(L_IMM);
      a.o(Op.i32_wrap_i64);
      a.get(P_RB);
      a.o(Op.i32_add);
      a.set(L_T);
      if (op === OP_MRS) {
        a.setX(L_RA, () => {
          a.get(L_T);
          a.mem(Op.i64_load, 0, 3);
        });
      } else {
        a.get(L_T);
        a.x(L_RA);
        a.mem(Op.i64_store, 0, 3);
      }
      return true;
  }
  return false;
}

/** The interpreter function. */
function interpreterFunction(): WasmFunction {
  const a = new Asm();
  a.get(P_ENTRY);
  a.set(L_IDX);
  a.get(P_PCHI);
  a.o(Op.i64_extend_i32_s);
  a.i64(32);
  a.o(Op.i64_shl);
  a.get(P_PCLO);
  a.o(Op.i64_extend_i32_u, Op.i64_or);
  a.set(L_PCB);
  const top = a.loop();
  // The budget, exactly: the run loop's block would stop here too. (The end of the page is
  // checked where it can be reached, at $next: jumps land inside the page.)
  a.get(L_N);
  a.get(P_BUDGET);
  a.o(Op.i32_ge_s);
  a.if();
  exit(a, () => a.pc(), 0);
  a.end();
  // s = slots + idx * 16; op (decoded on first use)
  a.get(P_SLOTS);
  a.get(L_IDX);
  a.i32(4);
  a.o(Op.i32_shl, Op.i32_add);
  // L_OP = the slot's first word, op | a | b | c (one load for the four)
  a.tee(L_S);
  a.mem(Op.i32_load, 0, 2);
  a.tee(L_OP);
  a.i32(0xff);
  a.o(Op.i32_and, Op.i32_eqz);
  a.if();
  a.get(L_IDX);
  a.get(L_S);
  a.get(P_RAM);
  a.get(P_RB);
  a.mem(Op.i32_load, SCRATCH_MEMO, 2);
  a.byte(Op.call);
  a.u32(FN_FILL);
  a.o(Op.drop);
  a.get(L_S);
  a.mem(Op.i32_load, 0, 2);
  a.set(L_OP);
  a.end();
  // the registers' addresses: rb + slot * 8
  for (const [l, k] of [[L_RA, 1], [L_RBN, 2], [L_RC, 3]] as const) {
    a.get(L_OP);
    a.i32(8 * k - 3);
    a.o(Op.i32_shr_u);
    a.i32(0xff << 3);
    a.o(Op.i32_and);
    a.get(P_RB);
    a.o(Op.i32_add);
    a.set(l);
  }
  a.get(L_S);
  a.mem(Op.i64_load32_s, 4, 2);
  a.set(L_IMM);
  const next = a.block();
  const helper = a.block();
  const labels: number[] = [];
  for (let op = OP_COUNT - 1; op >= OP_NOP; op--) labels[op] = a.block();
  labels[OP_NONE] = helper;
  labels[OP_HELPER] = helper;
  a.get(L_OP);
  a.i32(0xff);
  a.o(Op.i32_and);
  a.brTable(labels, helper);
  for (let op = OP_NOP; op < OP_COUNT; op++) {
    a.end();
    body(a, op, { next, top, helper });
  }
  a.end();
  // $helper: the interpreter's handler; non-zero when the block ends there (the helper stored the PC).
  a.get(L_N);
  a.get(L_IDX);
  a.get(L_PCB);
  a.o(Op.f64_convert_i64_s);
  a.byte(Op.call);
  a.u32(FN_HELPER);
  a.if();
  a.get(P_RB);
  a.get(L_BR);
  a.mem(Op.i32_store, SCRATCH_BRANCHES, 2);
  a.get(L_N);
  a.i32(1);
  a.o(Op.i32_add, Op.return);
  a.end();
  a.end();
  // $next: the instruction is done; the next one, unless that is past the page.
  inc(a, L_N);
  a.get(L_IDX);
  a.i32(1);
  a.o(Op.i32_add);
  a.tee(L_IDX);
  a.i32(1024);
  a.o(Op.i32_ne);
  a.brIf(top);
  exit(a, () => a.pc(), 0);
  a.end();
  a.o(Op.unreachable);
  return { type: TYPE_FN, locals: [[11, T.i32], [8, T.i64]], body: a };
}

/**
 * fill(idx, s, ram, memo) -> op: slot s of instruction idx (its word at ram + idx * 4), from the
 * decoder's memo when it holds that word, else packed by the decode import (JavaScript: the
 * tables, then `pack`), which also enters it in the memo. A slot depends only on the word and the
 * decoder (fields are relative to the PC), and kernels repeat their words across pages: the kit
 * boot fills ~190 K slots from ~60 K distinct words, and a memo hit costs no call out of wasm.
 * Entry (MEMO_ENTRY_BYTES): the slot's 16 bytes, then the word; op 0 (never packed) is empty.
 */
function fillFunction(): WasmFunction {
  const a = new Asm();
  const IDX = 0, S = 1, RAM = 2, MEMO = 3, W = 4, E = 5, OPL = 6;
  a.get(MEMO);
  a.o(Op.i32_eqz);
  a.if();
  a.get(IDX);
  a.i32(0);
  a.byte(Op.call);
  a.u32(FN_DECODE);
  a.o(Op.return);
  a.end();
  a.get(RAM);
  a.get(IDX);
  a.i32(2);
  a.o(Op.i32_shl, Op.i32_add);
  a.mem(Op.i32_load, 0, 2);
  a.tee(W);
  // The JavaScript decoder's memo hash (decode/pattern.ts), entry-sized.
  a.i32(0x9e3779b1 | 0);
  a.o(Op.i32_mul);
  a.i32(32 - MEMO_BITS);
  a.o(Op.i32_shr_u);
  a.i32(Math.log2(MEMO_ENTRY_BYTES));
  a.o(Op.i32_shl);
  a.get(MEMO);
  a.o(Op.i32_add);
  a.set(E);
  a.get(E);
  a.mem(Op.i32_load, 16, 2);
  a.get(W);
  a.o(Op.i32_eq);
  a.get(E);
  a.mem(Op.i32_load8_u, 0);
  a.tee(OPL);
  a.i32(0);
  a.o(Op.i32_ne, Op.i32_and);
  a.if();
  for (const o of [0, 8]) {
    a.get(S);
    a.get(E);
    a.mem(Op.i64_load, o, 3);
    a.mem(Op.i64_store, o, 3);
  }
  a.get(OPL);
  a.o(Op.return);
  a.end();
  a.get(IDX);
  a.get(E);
  a.byte(Op.call);
  a.u32(FN_DECODE);
  return { type: TYPE_FILL, locals: [[3, T.i32]], body: a };
}

let moduleBytes: Uint8Array | null = null;
/** The module's bytes (built once per process). */
export function wasmInterpreterBytes(): Uint8Array {
  if (moduleBytes === null) {
    moduleBytes = buildModule(MODULE_TYPES, [
      { name: 'm', kind: 'memory' },
      { name: 'h', kind: 'func', type: TYPE_HELPER },
      { name: 'd', kind: 'func', type: TYPE_DECODE },
    ], [interpreterFunction(), condFunction(), fillFunction()]);
  }
  return moduleBytes;
}

/** Pack instruction idx of the page into its slot, and into memo entry `entry` unless 0; returns its op. */
export type DecodeImport = (idx: number, entry: number) => number;
export type HelperImport = (n: number, idx: number, pcBase: number) => number;

/** Instantiate the interpreter over a guest memory with the run loop's helper and decoder. */
export function instantiateWasmInterpreter(module: WebAssembly.Module, memory: WebAssembly.Memory, helper: HelperImport, decode: DecodeImport): WasmInterpreterFn {
  const inst = new WebAssembly.Instance(module, { e: { m: memory, h: helper, d: decode } });
  return inst.exports.f as unknown as WasmInterpreterFn;
}
