// The wasm interpreter's extension of the decode tables (winterp.ts): a packer per interpreter
// handler turns the instruction's decoded fields into its 16-byte slot -- the operation (its
// address arithmetic or variant fixed where the module is built, winterp-ops.ts) and the register
// slots, immediates and small fields its body reads. A handler without a packer, or fields a
// packer does not take, get OP_HELPER: the handler runs, through the translator's helper.
//
// Slot: op u8 | a u8 | b u8 | c u8 | imm i32 | imm2 i32 | p0 p1 p2 p3 u8 (a, b, c: register slots
// of regs.ts, XZR/SP already mapped by the decode).
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
import { PAIR, SINGLE } from './emit-mem.ts';
import { SLOT_DAIF } from './guest-memory.ts';
import { LDST_KINDS, MODES, PAIR_MODES, M_OFF, M_ORDERED, M_POST, M_PRE, M_REG, M_UNPRIV, OP_ADCSBC, OP_ADDI32, OP_ADDI64, OP_ADDSI, OP_ADDSUBR, OP_ADDSUBR_LSL, OP_DIV, OP_ADDSUBX, OP_ADR, OP_ADRP, OP_B, OP_BCOND, OP_BITFIELD, OP_BL, OP_BLR, OP_BR, OP_CAS, OP_CASP, OP_CBZ32, OP_CBZ64, OP_CCMP, OP_CSEL, OP_DP1, OP_EXTR, OP_HELPER, OP_LDST, OP_LDSTP, OP_LOGI, OP_LOGR, OP_LOGR_LSL, OP_MADD, OP_MADDL, OP_DCZVA, OP_DCVA, OP_ISB, OP_MRS_ID, OP_DAIFSET, OP_DAIFCLR, OP_MSR_DAIF, OP_IC, OP_MOVI, OP_MOVK, OP_MOVR32, OP_MOVR64, OP_MRS, OP_MSR, OP_NOP, OP_RMW, OP_LDXR, OP_STXR, OP_SHIFTI, OP_SHIFTV, OP_TBZ, PAIR_KINDS } from './winterp-ops.ts';

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

/** ADD/SUB(S) of a shifted or extended register: p3 the shift or the extension, by imm. */
function addSubRegister(f: Fields, s: Slot, p3: number, op: number): number {
  s.a = f.rd;
  s.b = f.rn;
  s.c = f.rm;
  s.imm = f.amt;
  s.p0 = f.sf;
  s.p1 = f.sub;
  s.p2 = f.s ? 1 : 0;
  s.p3 = p3;
  return op;
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
  [dp.addsImm64, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.uimm), (s.p0 = 1), (s.p1 = f.sub), OP_ADDSI + 1 + (f.sub << 1))],
  [dp.addsImm32, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.uimm), (s.p0 = 0), (s.p1 = f.sub), OP_ADDSI + (f.sub << 1))],
  [dp.addSubShifted, (f, s) => addSubRegister(f, s, f.shift, f.shift === 0 ? OP_ADDSUBR_LSL + (f.sf | (f.sub << 1) | ((f.s ? 1 : 0) << 2)) : OP_ADDSUBR)],
  [dp.adcSbc, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.p0 = f.sf), (s.p1 = f.sub), (s.p2 = f.s ? 1 : 0), OP_ADCSBC)],
  [dp.div, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.c = f.rm), (s.p0 = f.sf), (s.p1 = f.signed ? 1 : 0), OP_DIV)],
  [dp.movReg64, (f, s) => ((s.a = f.rd), (s.c = f.rm), OP_MOVR64)],
  [dp.movReg32, (f, s) => ((s.a = f.rd), (s.c = f.rm), OP_MOVR32)],
  [dp.movImm, (f, s) => ((s.a = f.rd), (s.imm = f.lo), (s.imm2 = f.hi), OP_MOVI)],
  [dp.movk, (f, s) => ((s.a = f.rd), (s.imm = f.imm16), (s.p0 = f.sf), (s.p1 = f.hw), OP_MOVK)],
  [dp.logImm, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.mlo), (s.imm2 = f.mhi), (s.p0 = f.sf), (s.p1 = f.opc), OP_LOGI + f.opc)],
  [dp.logReg, (f, s) => {
    s.a = f.rd;
    s.b = f.rn;
    s.c = f.rm;
    s.imm = f.amt;
    s.p0 = f.sf;
    s.p1 = f.opc;
    s.p2 = f.inv;
    s.p3 = f.shift;
    return f.shift === 0 ? OP_LOGR_LSL + f.opc : OP_LOGR;
  }],
  [dp.adrp, (f, s) => ((s.a = f.rd), (s.imm = f.imm / 4096), OP_ADRP)],
  [dp.adr, (f, s) => ((s.a = f.rd), (s.imm = f.imm), OP_ADR)],
  [sys.b, branch(OP_B)],
  [sys.bl, branch(OP_BL)],
  [sys.bcond, (f, s) => ((s.imm = f.off), (s.p0 = f.cond), OP_BCOND + f.cond)],
  [sys.cbz64, (f, s) => ((s.a = f.rt), (s.imm = f.off), (s.p0 = f.nz ? 1 : 0), OP_CBZ64 + s.p0)],
  [sys.cbz32, (f, s) => ((s.a = f.rt), (s.imm = f.off), (s.p0 = f.nz ? 1 : 0), OP_CBZ32 + s.p0)],
  [sys.tbz, (f, s) => ((s.a = f.rt), (s.imm = f.off), (s.p0 = f.nz ? 1 : 0), (s.p1 = f.half * 32 + f.bit), OP_TBZ + s.p0)],
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
  ...[...shiftKinds].map(([h, kind]): [unknown, Packer] => [h, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.imm = f.sh), (s.p0 = kind), OP_SHIFTI + kind)]),
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
  [dp.addSubExtended, (f, s) => addSubRegister(f, s, f.option, OP_ADDSUBX)],
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
  // LDXR/STXR (the pairs: the handler)
  [lx.loadExclusive, (f, s) => (f.pair ? OP_HELPER : ((s.a = f.t >> 1), (s.b = f.b >> 1), OP_LDXR + Math.log2(f.size)))],
  [lx.storeExclusive, (f, s) => (f.pair ? OP_HELPER : ((s.a = f.s >> 1), (s.b = f.b >> 1), (s.c = f.t >> 1), OP_STXR + Math.log2(f.size)))],
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
  [ls.ldstUnpriv, single(M_UNPRIV)],
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
