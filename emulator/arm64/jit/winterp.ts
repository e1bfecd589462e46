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
import { CF, NF, VF, ZF } from '../regs.ts';
import { Bytes, buildModule, Op, T, type WasmFunction } from './wasm.ts';
import { TYPES } from './chain.ts';
import { SCRATCH_PC } from './emitter.ts';
import { PAIR, SINGLE, probeFunction, type Kind } from './emit-mem.ts';

export const SLOT_BYTES = 16;
export const SLOTS_BYTES = 1024 * SLOT_BYTES;
/** Where the function leaves the count of taken branches within the page (the run loop's heat). */
export const SCRATCH_BRANCHES = SCRATCH_PC + 8;

// Operations. OP_NONE: not decoded yet; OP_HELPER: the interpreter's handler.
const OP_NONE = 0;
const OP_HELPER = 1;
const OP_NOP = 2;
const OP_ADDI64 = 3;
const OP_ADDI32 = 4;
const OP_ADDSI = 5;
const OP_ADDSUBR = 6;
const OP_MOVR64 = 7;
const OP_MOVR32 = 8;
const OP_MOVI = 9;
const OP_MOVK = 10;
const OP_LOGI = 11;
const OP_LOGR = 12;
const OP_ADRP = 13;
const OP_ADR = 14;
const OP_B = 15;
const OP_BL = 16;
const OP_BCOND = 17;
const OP_CBZ64 = 18;
const OP_CBZ32 = 19;
const OP_TBZ = 20;
const OP_BR = 21;
const OP_BLR = 22;
const OP_CSEL = 23;
const OP_CCMP = 24;
const OP_SHIFTI = 25;
const OP_BITFIELD = 26;
const OP_EXTR = 27;
const OP_SHIFTV = 28;
const OP_ADDSUBX = 29;
const OP_MADD = 30;
const OP_MRS = 31;
const OP_MSR = 32;
const OP_DP1 = 33;
/** CAS of 1, 2, 4, 8 bytes: OP_CAS + log2(size). */
const OP_CAS = 34;
/** LDADD, LDCLR, LDEOR, LDSET, SWP (p1: 0..4) of 1, 2, 4, 8 bytes: OP_RMW + log2(size). */
const OP_RMW = 38;
/** Single loads/stores: OP_LDST + the index of their Kind in LDST_KINDS. */
const OP_LDST = 42;
const LDST_KINDS: Kind[] = [...SINGLE.values()].filter((k) => !k.vec);
/** Pairs: OP_LDSTP + the index of their Kind in PAIR_KINDS. */
const OP_LDSTP = OP_LDST + LDST_KINDS.length;
const PAIR_KINDS: Kind[] = [...PAIR.values()].filter((k) => !k.vec);
const OP_COUNT = OP_LDSTP + PAIR_KINDS.length;

/** Memory-access modes (p1): offset, pre-index (writeback of the address), post-index (address + imm). */
const M_OFF = 0;
const M_PRE = 1;
const M_POST = 2;
/** Register offset: base + (index register, extended by p2: 0 X, 1 UXTW, 2 SXTW) << p3. */
const M_REG = 3;
/** LDAR/STLR: [base], which must be aligned to the access size (else the handler faults). */
const M_ORDERED = 4;

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
    return OP_LDST + i;
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

/** MRS/MSR of a register kept in the CPU slot (as emit-sys.ts): p0 set when EL0 must take the handler. */
function sysreg(write: boolean): Packer {
  return (f, s) => {
    const def = f.def as SysregDef | undefined;
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
    return OP_LDSTP + i;
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
  [la.atomicSmall, rmw],
  [la.atomic64, rmw],
  [dp.dp1, (f, s) => ((s.a = f.rd), (s.b = f.rn), (s.p0 = f.sf), (s.p1 = f.op), OP_DP1)],
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

/** The function: f(entry, budget, rb, ctx, pcBase, slots) -> instructions executed. */
export type WasmInterpreterFn = (entry: number, budget: number, rb: number, ctx: number, pcBase: number, slots: number) => number;

const TYPE_FN = TYPES.length;
const TYPE_DECODE = TYPE_FN + 1;
const TYPE_COND = TYPE_FN + 2;
const MODULE_TYPES: [T[], T][] = [
  ...TYPES,
  [[T.i32, T.i32, T.i32, T.i32, T.f64, T.i32], T.i32],
  [[T.i32], T.i32],
  [[T.i32, T.i32], T.i32],
];
const FN_HELPER = 0;
const FN_DECODE = 1;
const FN_COND = 3;
const PROBE_SIZES = [1, 2, 4, 8, 16];
/** Function index of the probe for an access of `size` bytes (emit-mem.ts probeFunction). */
const probeIndex = (size: number, write: boolean): number => 4 + PROBE_SIZES.indexOf(size) * 2 + (write ? 1 : 0);

// Parameters and locals of the function.
const P_ENTRY = 0, P_BUDGET = 1, P_RB = 2, P_CTX = 3, P_PCBF = 4, P_SLOTS = 5;
const L_IDX = 6, L_N = 7, L_S = 8, L_OP = 9, L_RA = 10, L_RBN = 11, L_RC = 12, L_T = 13, L_U = 14, L_ADDR = 15, L_BR = 16;
const L_PCB = 17, L_IMM = 18, L_A = 19, L_B = 20, L_R = 21, L_VA = 22, L_TGT = 23, L_C = 24;

const FLAG = { n: NF * 4, z: ZF * 4, c: CF * 4, v: VF * 4 };

/** A structured-control assembler over Bytes: labels are resolved to br depths. */
class Asm extends Bytes {
  private readonly ctl: number[] = [];
  private nextLabel = 1;
  o(...ops: Op[]): void {
    for (const x of ops) this.byte(x);
  }
  get(l: number): void {
    this.byte(Op.local_get);
    this.u32(l);
  }
  set(l: number): void {
    this.byte(Op.local_set);
    this.u32(l);
  }
  tee(l: number): void {
    this.byte(Op.local_tee);
    this.u32(l);
  }
  i32(v: number): void {
    this.byte(Op.i32_const);
    this.s32(v);
  }
  i64(v: number | bigint): void {
    this.byte(Op.i64_const);
    this.s64(v);
  }
  mem(o: Op, offset: number, align = 0): void {
    this.byte(o);
    this.u32(align);
    this.u32(offset);
  }
  private open(o: Op, type: T = T.void): number {
    this.byte(o);
    this.byte(type);
    const id = this.nextLabel++;
    this.ctl.push(id);
    return id;
  }
  block(type: T = T.void): number {
    return this.open(Op.block, type);
  }
  loop(): number {
    return this.open(Op.loop);
  }
  if(type: T = T.void): number {
    return this.open(Op.if, type);
  }
  else(): void {
    this.byte(Op.else);
  }
  end(): void {
    this.byte(Op.end);
    this.ctl.pop();
  }
  private depth(label: number): number {
    const i = this.ctl.lastIndexOf(label);
    if (i < 0) throw new Error('winterp: branch to a closed label');
    return this.ctl.length - 1 - i;
  }
  br(label: number): void {
    this.byte(Op.br);
    this.u32(this.depth(label));
  }
  brIf(label: number): void {
    this.byte(Op.br_if);
    this.u32(this.depth(label));
  }
  /** br_table: targets[i] for i, dflt otherwise. */
  brTable(targets: number[], dflt: number): void {
    this.byte(Op.br_table);
    this.u32(targets.length);
    for (const t of targets) this.u32(this.depth(t));
    this.u32(this.depth(dflt));
  }
  // Registers: the i64 at the address in local l (an register's address in the register file).
  x(l: number): void {
    this.get(l);
    this.mem(Op.i64_load, 0, 3);
  }
  /** x(l) as the low 32 bits, i32. */
  w(l: number): void {
    this.get(l);
    this.mem(Op.i32_load, 0, 2);
  }
  setX(l: number, value: () => void): void {
    this.get(l);
    value();
    this.mem(Op.i64_store, 0, 3);
  }
  flag(f: keyof typeof FLAG): void {
    this.get(P_RB);
    this.mem(Op.i32_load, FLAG[f], 2);
  }
  setFlag(f: keyof typeof FLAG, value: () => void): void {
    this.get(P_RB);
    value();
    this.mem(Op.i32_store, FLAG[f], 2);
  }
  /** Push slot byte `k` (12..15: p0..p3) of the current instruction, i32. */
  p(k: number): void {
    this.get(L_S);
    this.mem(Op.i32_load8_u, 12 + k);
  }
  /** Push the current instruction's address + delta, i64. */
  pc(delta = 0): void {
    this.get(L_PCB);
    this.get(L_IDX);
    this.o(Op.i64_extend_i32_u);
    this.i64(2);
    this.o(Op.i64_shl, Op.i64_add);
    if (delta !== 0) {
      this.i64(delta);
      this.o(Op.i64_add);
    }
  }
}

/** Return n + `after` with the next PC stored from `pushPc` (i64) and the branch count. */
function exit(a: Asm, pushPc: () => void, after: number): void {
  a.get(P_RB);
  pushPc();
  a.mem(Op.i64_store, SCRATCH_PC, 3);
  a.get(P_RB);
  a.get(L_BR);
  a.mem(Op.i32_store, SCRATCH_BRANCHES, 2);
  a.get(L_N);
  if (after !== 0) {
    a.i32(after);
    a.o(Op.i32_add);
  }
  a.o(Op.return);
}

/**
 * Go to the address in L_TGT, this instruction done: on in the loop when it is in this page (and
 * word aligned: an unaligned one is the run loop's to fault on), else return with it.
 */
function jump(a: Asm, top: number): void {
  a.get(L_TGT);
  a.get(L_PCB);
  a.o(Op.i64_sub);
  a.tee(L_C);
  a.i64(4096);
  a.o(Op.i64_lt_u);
  a.get(L_TGT);
  a.o(Op.i32_wrap_i64);
  a.i32(3);
  a.o(Op.i32_and, Op.i32_eqz, Op.i32_and);
  a.if();
  a.get(L_C);
  a.o(Op.i32_wrap_i64);
  a.i32(2);
  a.o(Op.i32_shr_u);
  a.set(L_IDX);
  inc(a, L_N);
  inc(a, L_BR);
  a.br(top);
  a.end();
  exit(a, () => a.get(L_TGT), 1);
}

function inc(a: Asm, l: number): void {
  a.get(l);
  a.i32(1);
  a.o(Op.i32_add);
  a.set(l);
}

/** L_TGT = this instruction's address + imm. */
function target(a: Asm): void {
  a.pc();
  a.get(L_IMM);
  a.o(Op.i64_add);
  a.set(L_TGT);
}

/** Push the i64 in local l zero-extended from 32 bits. */
function zext(a: Asm): void {
  a.i64(0xffffffff);
  a.o(Op.i64_and);
}

/**
 * AddWithCarry (as emit-alu.ts): R = A + B + cin with A, B in locals (32-bit forms zero-extended
 * already); cin in local L_T (0 or 1); flags when `flags` (an i32 pushed by the pusher) is set;
 * 64-bit when local sf (pushed by `sf`) is set.
 */
function addWithCarry(a: Asm, sf: () => void, flags: (() => void) | null, rd: number | null): void {
  a.get(L_A);
  a.get(L_B);
  a.o(Op.i64_add);
  a.get(L_T);
  a.o(Op.i64_extend_i32_u, Op.i64_add);
  a.set(L_R);
  const setFlags = (): void => {
    // top bit index: 63 or 31
    a.setFlag('n', () => {
      a.get(L_R);
      sf();
      a.if(T.i64);
      a.i64(63);
      a.else();
      a.i64(31);
      a.end();
      a.o(Op.i64_shr_u, Op.i32_wrap_i64);
      a.i32(1);
      a.o(Op.i32_and);
    });
    a.setFlag('z', () => {
      a.get(L_R);
      sf();
      a.if(T.i64);
      a.i64(-1);
      a.else();
      a.i64(0xffffffff);
      a.end();
      a.o(Op.i64_and, Op.i64_eqz);
    });
    a.setFlag('c', () => {
      sf();
      a.if(T.i32);
      // carry out of 64 bits: R < A, or R == A with a carry in
      a.get(L_R);
      a.get(L_A);
      a.o(Op.i64_lt_u);
      a.get(L_R);
      a.get(L_A);
      a.o(Op.i64_eq);
      a.get(L_T);
      a.o(Op.i32_and, Op.i32_or);
      a.else();
      a.get(L_R);
      a.i64(32);
      a.o(Op.i64_shr_u, Op.i32_wrap_i64);
      a.end();
    });
    a.setFlag('v', () => {
      a.get(L_A);
      a.get(L_R);
      a.o(Op.i64_xor);
      a.get(L_B);
      a.get(L_R);
      a.o(Op.i64_xor, Op.i64_and);
      sf();
      a.if(T.i64);
      a.i64(63);
      a.else();
      a.i64(31);
      a.end();
      a.o(Op.i64_shr_u, Op.i32_wrap_i64);
      a.i32(1);
      a.o(Op.i32_and);
    });
  };
  if (flags !== null) {
    flags();
    a.if();
    setFlags();
    a.end();
  }
  if (rd !== null) {
    a.setX(rd, () => {
      a.get(L_R);
      sf();
      a.if(T.i64);
      a.i64(-1);
      a.else();
      a.i64(0xffffffff);
      a.end();
      a.o(Op.i64_and);
    });
  }
}

/** A + B or A - B (p1) with A, B in locals, into Ra: the common tail of the ADD/SUB forms. */
function addSubTail(a: Asm, sf: () => void, flags: () => void): void {
  a.p(1);
  a.tee(L_T);
  a.if();
  a.get(L_B);
  a.i64(-1);
  a.o(Op.i64_xor);
  a.set(L_B);
  a.end();
  sf();
  a.i32(0);
  a.o(Op.i32_eq);
  a.if();
  a.get(L_A);
  zext(a);
  a.set(L_A);
  a.get(L_B);
  zext(a);
  a.set(L_B);
  a.end();
  addWithCarry(a, sf, flags, L_RA);
}

/**
 * SBFM/BFM/UBFM (p1: 0, 1, 2) by their aliases' arithmetic, which is the ARM ARM's ROR and masks
 * for every valid immr (p2) and imms (p3) in a width W of 64 or 32 (sf): with imms >= immr the
 * field Rn<imms:immr> goes to bit 0 (SBFX, BFXIL, UBFX), else Rn<imms:0> goes to bit W - immr
 * (SBFIZ, BFI, UBFIZ). Computed in 64 bits for both widths, the 32-bit result's top half cleared.
 */
function bitfieldBody(a: Asm): void {
  // L_A = Rn; L_B = 64 - W; L_C = 63 - imms, the shift that puts the field's top bit (imms < W)
  // at bit 63, dropping the bits above it.
  a.x(L_RBN);
  a.set(L_A);
  a.p(0);
  a.o(Op.i32_eqz);
  a.if(T.i64);
  a.i64(32);
  a.else();
  a.i64(0);
  a.end();
  a.set(L_B);
  a.i64(63);
  a.p(3);
  a.o(Op.i64_extend_i32_u, Op.i64_sub);
  a.set(L_C);
  // width of the field: imms >= immr ? imms - immr + 1 : imms + 1; its lsb in the result:
  // imms >= immr ? 0 : W - immr.
  a.p(3);
  a.p(2);
  a.o(Op.i32_ge_s);
  a.set(L_T);
  // R = the field at the top (Rn << c), brought down to bit 0 (signed for SBFM), unsigned width.
  // shift down by 64 - width
  a.get(L_A);
  a.get(L_C);
  a.o(Op.i64_shl);
  a.set(L_R);
  // L_VA = 64 - width
  a.i64(64);
  a.p(3);
  a.get(L_T);
  a.if(T.i32);
  a.p(2);
  a.else();
  a.i32(0);
  a.end();
  a.o(Op.i32_sub, Op.i32_const);
  a.s32(1);
  a.o(Op.i32_add, Op.i64_extend_i32_u, Op.i64_sub);
  a.set(L_VA);
  // L_TGT = the field's lsb in the result
  a.get(L_T);
  a.if(T.i64);
  a.i64(0);
  a.else();
  a.i64(64);
  a.get(L_B);
  a.o(Op.i64_sub);
  a.p(2);
  a.o(Op.i64_extend_i32_u, Op.i64_sub);
  a.end();
  a.set(L_TGT);
  // mask of the field in place: ((1 << width) - 1) << lsb, width < 64 or all ones
  a.i64(-1);
  a.get(L_VA);
  a.o(Op.i64_shr_u);
  a.get(L_TGT);
  a.o(Op.i64_shl);
  a.set(L_IMM);
  // the field, zero-extended and in place
  a.get(L_R);
  a.get(L_VA);
  a.o(Op.i64_shr_u);
  a.get(L_TGT);
  a.o(Op.i64_shl);
  a.set(L_A);
  a.setX(L_RA, () => {
    const done = a.block(T.i64);
    const bfm = a.block();
    const sbfm = a.block();
    const ubfm = a.block();
    a.p(1);
    a.brTable([sbfm, bfm, ubfm], ubfm);
    a.end();
    // UBFM: the field alone
    a.get(L_A);
    a.br(done);
    a.end();
    // SBFM: the field, with its top bit copied above it: (R >>s (64 - width)) << lsb
    a.get(L_R);
    a.get(L_VA);
    a.o(Op.i64_shr_s);
    a.get(L_TGT);
    a.o(Op.i64_shl);
    a.br(done);
    a.end();
    // BFM: the field into Rd (read from c: Rd or XZR)
    a.x(L_RC);
    a.get(L_IMM);
    a.i64(-1);
    a.o(Op.i64_xor, Op.i64_and);
    a.get(L_A);
    a.o(Op.i64_or);
    a.end();
    // 32-bit: the low word only
    a.p(0);
    a.if(T.i64);
    a.i64(-1);
    a.else();
    a.i64(0xffffffff);
    a.end();
    a.o(Op.i64_and);
  });
}

/** L_R = ((L_R >>> sh) & m) | ((L_R & m) << sh): one step of a byte or bit swap. */
function swapStep(a: Asm, sh: number, m: bigint): void {
  a.get(L_R);
  a.i64(sh);
  a.o(Op.i64_shr_u);
  a.i64(m);
  a.o(Op.i64_and);
  a.get(L_R);
  a.i64(m);
  a.o(Op.i64_and);
  a.i64(sh);
  a.o(Op.i64_shl, Op.i64_or);
  a.set(L_R);
}

/** L_R = L_R with its 8 bytes reversed. */
function bswap64(a: Asm): void {
  swapStep(a, 8, 0x00ff00ff00ff00ffn);
  swapStep(a, 16, 0x0000ffff0000ffffn);
  a.get(L_R);
  a.i64(32);
  a.o(Op.i64_rotr);
  a.set(L_R);
}

/**
 * RBIT, REV16, REV32 (64-bit) / REV (32-bit), REV, CLZ, CLS (p1: 0..5, as exec/int-dp.ts dp1) on
 * Rn in 64 bits (a 32-bit form's value zero-extended, its result taken from where the 64-bit
 * operation leaves it).
 */
function dp1Body(a: Asm): void {
  // L_R = the operand; L_T = 32-bit form
  a.x(L_RBN);
  a.p(0);
  a.o(Op.i32_eqz);
  a.tee(L_T);
  a.if(T.i64);
  a.i64(0xffffffff);
  a.else();
  a.i64(-1);
  a.end();
  a.o(Op.i64_and);
  a.set(L_R);
  const done = a.block();
  const cases: number[] = [];
  for (let i = 5; i >= 0; i--) cases[i] = a.block();
  a.p(1);
  a.brTable(cases, cases[5]!);
  const w32Top = (): void => {
    // a 32-bit form reversed in 64 bits: its result is in the top half
    a.get(L_T);
    a.if();
    a.get(L_R);
    a.i64(32);
    a.o(Op.i64_shr_u);
    a.set(L_R);
    a.end();
  };
  // 0 RBIT
  a.end();
  swapStep(a, 1, 0x5555555555555555n);
  swapStep(a, 2, 0x3333333333333333n);
  swapStep(a, 4, 0x0f0f0f0f0f0f0f0fn);
  bswap64(a);
  w32Top();
  a.br(done);
  // 1 REV16
  a.end();
  swapStep(a, 8, 0x00ff00ff00ff00ffn);
  a.br(done);
  // 2 REV32 (64-bit), REV (32-bit): each word reversed
  a.end();
  bswap64(a);
  a.get(L_R);
  a.i64(32);
  a.o(Op.i64_rotr);
  a.set(L_R);
  a.br(done);
  // 3 REV (64-bit)
  a.end();
  bswap64(a);
  a.br(done);
  // 4 CLZ
  a.end();
  a.get(L_T);
  a.if(T.i64);
  a.get(L_R);
  a.o(Op.i32_wrap_i64, Op.i32_clz, Op.i64_extend_i32_u);
  a.else();
  a.get(L_R);
  a.o(Op.i64_clz);
  a.end();
  a.set(L_R);
  a.br(done);
  // 5 CLS: leading bits equal to the sign bit, not counting it
  a.end();
  a.get(L_T);
  a.if(T.i64);
  a.get(L_R);
  a.o(Op.i32_wrap_i64);
  a.tee(L_U);
  a.get(L_U);
  a.i32(31);
  a.o(Op.i32_shr_s, Op.i32_xor, Op.i32_clz, Op.i64_extend_i32_u);
  a.else();
  a.get(L_R);
  a.get(L_R);
  a.i64(63);
  a.o(Op.i64_shr_s, Op.i64_xor, Op.i64_clz);
  a.end();
  a.i64(1);
  a.o(Op.i64_sub);
  a.set(L_R);
  a.end();
  a.setX(L_RA, () => a.get(L_R));
}

/** Push local B shifted by type (p3: LSL LSR ASR ROR) and the amount in L_IMM; 64 or 32-bit by sf (p0). */
function shiftB(a: Asm): void {
  a.p(0);
  a.if(T.i64);
  shiftBy(a, false);
  a.else();
  shiftBy(a, true);
  a.end();
}
function shiftBy(a: Asm, w32: boolean): void {
  const done = a.block(T.i64);
  const b3 = a.block();
  const b2 = a.block();
  const b1 = a.block();
  const b0 = a.block();
  a.p(3);
  a.brTable([b0, b1, b2, b3], b3);
  a.end();
  pushShift(a, w32, 0);
  a.br(done);
  a.end();
  pushShift(a, w32, 1);
  a.br(done);
  a.end();
  pushShift(a, w32, 2);
  a.br(done);
  a.end();
  pushShift(a, w32, 3);
  a.end();
}
function pushShift(a: Asm, w32: boolean, type: number): void {
  if (w32) {
    a.get(L_B);
    a.o(Op.i32_wrap_i64);
    a.get(L_IMM);
    a.o(Op.i32_wrap_i64);
    a.o([Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s, Op.i32_rotr][type]!);
    a.o(Op.i64_extend_i32_u);
  } else {
    a.get(L_B);
    a.get(L_IMM);
    a.o([Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s, Op.i64_rotr][type]!);
  }
}

/** Push the condition (ARM ARM J1 ConditionHolds) of the i32 pushed by `cond`. */
function condHolds(a: Asm, cond: () => void): void {
  a.get(P_RB);
  cond();
  a.byte(Op.call);
  a.u32(FN_COND);
}

/** cond(rb, c) -> i32: condHolds(r, c) of exec/int-alu.ts. */
function condFunction(): WasmFunction {
  const a = new Asm();
  const RB = 0, C = 1, RES = 2;
  const flag = (f: keyof typeof FLAG): void => {
    a.get(RB);
    a.mem(Op.i32_load, FLAG[f], 2);
  };
  const done = a.block();
  const cases: number[] = [];
  for (let i = 7; i >= 0; i--) cases[i] = a.block();
  a.get(C);
  a.i32(1);
  a.o(Op.i32_shr_u);
  a.brTable(cases, cases[7]!);
  const bodies: (() => void)[] = [
    () => flag('z'),
    () => flag('c'),
    () => flag('n'),
    () => flag('v'),
    () => {
      flag('c');
      flag('z');
      a.o(Op.i32_eqz, Op.i32_and);
    },
    () => {
      flag('n');
      flag('v');
      a.o(Op.i32_eq);
    },
    () => {
      flag('z');
      a.o(Op.i32_eqz);
      flag('n');
      flag('v');
      a.o(Op.i32_eq, Op.i32_and);
    },
    () => a.i32(1),
  ];
  for (let i = 0; i < 8; i++) {
    a.end();
    bodies[i]!();
    a.set(RES);
    a.br(done);
  }
  a.end();
  // Odd conditions invert, except 15 (NV is always, as AL).
  a.get(RES);
  a.get(C);
  a.i32(1);
  a.o(Op.i32_and);
  a.get(C);
  a.i32(15);
  a.o(Op.i32_ne, Op.i32_and, Op.i32_xor);
  return { type: TYPE_COND, locals: [[1, T.i32]], body: a };
}

/**
 * The access address of a load/store into L_VA (base + imm, or the base alone post-indexed);
 * br $slow when the probe misses; L_ADDR = its wasm address.
 */
function access(a: Asm, size: number, write: boolean, slow: number): void {
  const done = a.block(T.i64);
  const reg = a.block();
  const ord = a.block();
  const imm = a.block();
  a.p(1);
  a.brTable([imm, imm, imm, reg, ord], imm);
  a.end();
  // offset, pre-index: base + imm; post-index: base
  a.x(L_RBN);
  a.p(1);
  a.i32(M_POST);
  a.o(Op.i32_ne);
  a.if(T.i64);
  a.get(L_IMM);
  a.else();
  a.i64(0);
  a.end();
  a.o(Op.i64_add);
  a.br(done);
  a.end();
  // ordered: base, aligned to the size
  a.x(L_RBN);
  if (size > 1) {
    a.tee(L_C);
    a.o(Op.i32_wrap_i64);
    a.i32(size - 1);
    a.o(Op.i32_and);
    a.brIf(slow);
    a.get(L_C);
  }
  a.br(done);
  a.end();
  // register offset. An X index beyond +-2^48 takes the handler (whose arithmetic on JS numbers
  // is exact below that, as emit-mem.ts checks).
  a.x(L_RBN);
  a.p(2);
  a.if(T.i64);
  a.w(L_RC);
  a.set(L_T);
  a.p(2);
  a.i32(1);
  a.o(Op.i32_eq);
  a.if(T.i64);
  a.get(L_T);
  a.o(Op.i64_extend_i32_u);
  a.else();
  a.get(L_T);
  a.o(Op.i64_extend_i32_s);
  a.end();
  a.else();
  a.x(L_RC);
  a.tee(L_C);
  a.i64(2 ** 48);
  a.o(Op.i64_add);
  a.i64(49);
  a.o(Op.i64_shr_u, Op.i32_wrap_i64);
  a.brIf(slow);
  a.get(L_C);
  a.end();
  a.p(3);
  a.o(Op.i64_extend_i32_u, Op.i64_shl, Op.i64_add);
  a.end();
  a.tee(L_VA);
  a.get(P_RB);
  a.get(P_CTX);
  a.byte(Op.call);
  a.u32(probeIndex(size, write));
  a.tee(L_ADDR);
  a.i32(-1);
  a.o(Op.i32_eq);
  a.brIf(slow);
}

/** The base register's writeback of pre/post-indexed forms (after the access: Rn wins over Rt). */
function writeback(a: Asm): void {
  a.p(1);
  a.i32(1);
  a.o(Op.i32_sub);
  a.i32(2);
  a.o(Op.i32_lt_u);
  a.if();
  a.setX(L_RBN, () => {
    a.get(L_VA);
    a.p(1);
    a.i32(M_POST);
    a.o(Op.i32_eq);
    a.if(T.i64);
    a.get(L_IMM);
    a.else();
    a.i64(0);
    a.end();
    a.o(Op.i64_add);
  });
  a.end();
}

const LOAD_ZX = [Op.i64_load8_u, Op.i64_load16_u, Op.i64_load32_u, Op.i64_load];
const STORE = [Op.i64_store8, Op.i64_store16, Op.i64_store32, Op.i64_store];

/**
 * CAS and LD<op>/SWP on 2^lg bytes at [Xb] (exec/ls-atomic.ts): aligned, and in both the read and
 * the write TLB (else the handler: it faults, or walks). CAS: Rs (slot in imm) compared at the
 * access size, Rt (c) stored if equal, the old value into Rs (a, the write side). LD<op>: the
 * value op Rs (c) stored, the old value into Rt (a). The old value is zero-extended.
 */
function atomic(a: Asm, lg: number, cas: boolean, slow: number): void {
  const size = 1 << lg;
  a.x(L_RBN);
  a.tee(L_VA);
  if (size > 1) {
    a.o(Op.i32_wrap_i64);
    a.i32(size - 1);
    a.o(Op.i32_and);
    a.brIf(slow);
  } else a.o(Op.drop);
  for (const write of [false, true]) {
    a.get(L_VA);
    a.get(P_RB);
    a.get(P_CTX);
    a.byte(Op.call);
    a.u32(probeIndex(size, write));
    a.tee(L_ADDR);
    a.i32(-1);
    a.o(Op.i32_eq);
    a.brIf(slow);
  }
  a.get(L_ADDR);
  a.mem(LOAD_ZX[lg]!, 0);
  a.set(L_R);
  const mask = size === 8 ? -1n : (1n << BigInt(8 * size)) - 1n;
  if (cas) {
    // Rs (its slot in imm), at the access size
    a.get(L_IMM);
    a.o(Op.i32_wrap_i64);
    a.i32(3);
    a.o(Op.i32_shl);
    a.get(P_RB);
    a.o(Op.i32_add);
    a.mem(Op.i64_load, 0, 3);
    a.i64(mask);
    a.o(Op.i64_and);
    a.get(L_R);
    a.o(Op.i64_eq);
    a.if();
    a.get(L_ADDR);
    a.x(L_RC);
    a.mem(STORE[lg]!, 0);
    a.end();
  } else {
    a.get(L_ADDR);
    const done = a.block(T.i64);
    const cases: number[] = [];
    for (let i = 4; i >= 0; i--) cases[i] = a.block();
    a.p(1);
    a.brTable(cases, cases[4]!);
    const ops: (() => void)[] = [
      () => (a.get(L_R), a.x(L_RC), a.o(Op.i64_add)),
      () => (a.get(L_R), a.x(L_RC), a.i64(-1), a.o(Op.i64_xor, Op.i64_and)),
      () => (a.get(L_R), a.x(L_RC), a.o(Op.i64_xor)),
      () => (a.get(L_R), a.x(L_RC), a.o(Op.i64_or)),
      () => a.x(L_RC),
    ];
    for (let i = 0; i < 5; i++) {
      a.end();
      ops[i]!();
      a.br(done);
    }
    a.end();
    a.mem(STORE[lg]!, 0);
  }
  a.setX(L_RA, () => a.get(L_R));
}

function ldst(a: Asm, k: Kind, slow: number): void {
  access(a, k.size, !k.load, slow);
  if (k.load) {
    a.setX(L_RA, () => {
      a.get(L_ADDR);
      a.mem(k.op, 0);
      if (k.zext32) a.o(Op.i64_extend_i32_u);
    });
  } else {
    a.get(L_ADDR);
    a.x(L_RA);
    a.mem(k.op, 0);
  }
  writeback(a);
}

function ldstPair(a: Asm, k: Kind, slow: number): void {
  access(a, 2 * k.size, !k.load, slow);
  if (k.load) {
    // Both read before either is written; Rt wins when Rt == Rt2.
    a.get(L_ADDR);
    a.mem(k.op, 0);
    a.set(L_R);
    a.get(L_ADDR);
    a.mem(k.op, k.size);
    a.set(L_B);
    a.setX(L_RC, () => a.get(L_B));
    a.setX(L_RA, () => a.get(L_R));
  } else {
    a.get(L_ADDR);
    a.x(L_RA);
    a.mem(k.op, 0);
    a.get(L_ADDR);
    a.x(L_RC);
    a.mem(k.op, k.size);
  }
  writeback(a);
}

/** The operation bodies: each leaves by br next (done, fall through to the next instruction), top (jumped within the page), helper, or a return. */
function body(a: Asm, op: number, L: { next: number; top: number; helper: number }): void {
  const sf = (): void => a.p(0);
  switch (op) {
    case OP_NOP:
      break;
    case OP_ADDI64:
      a.setX(L_RA, () => {
        a.x(L_RBN);
        a.get(L_IMM);
        a.o(Op.i64_add);
      });
      break;
    case OP_ADDI32:
      a.setX(L_RA, () => {
        a.w(L_RBN);
        a.get(L_IMM);
        a.o(Op.i32_wrap_i64, Op.i32_add, Op.i64_extend_i32_u);
      });
      break;
    case OP_ADDSI:
    case OP_ADDSUBR: {
      // A = Rn, B = imm or shifted Rm, inverted for a subtraction (cin 1); 32-bit zero-extended.
      a.x(L_RBN);
      a.set(L_A);
      if (op === OP_ADDSI) a.get(L_IMM);
      else {
        a.x(L_RC);
        a.set(L_B);
        shiftB(a);
      }
      a.set(L_B);
      addSubTail(a, sf, op === OP_ADDSI ? () => a.i32(1) : () => a.p(2));
      break;
    }
    case OP_MOVR64:
      a.setX(L_RA, () => a.x(L_RC));
      break;
    case OP_MOVR32:
      a.setX(L_RA, () => {
        a.w(L_RC);
        a.o(Op.i64_extend_i32_u);
      });
      break;
    case OP_MOVI:
      a.setX(L_RA, () => {
        a.get(L_S);
        a.mem(Op.i64_load, 4, 2);
      });
      break;
    case OP_MOVK:
      // X = X & ~(0xffff << 16hw) | imm16 << 16hw; the 32-bit form clears the top.
      a.get(L_S);
      a.mem(Op.i32_load8_u, 13);
      a.i32(4);
      a.o(Op.i32_shl, Op.i64_extend_i32_u);
      a.set(L_C);
      a.setX(L_RA, () => {
        a.x(L_RA);
        a.i64(0xffff);
        a.get(L_C);
        a.o(Op.i64_shl);
        a.i64(-1);
        a.o(Op.i64_xor, Op.i64_and);
        a.get(L_IMM);
        a.get(L_C);
        a.o(Op.i64_shl, Op.i64_or);
        sf();
        a.if(T.i64);
        a.i64(-1);
        a.else();
        a.i64(0xffffffff);
        a.end();
        a.o(Op.i64_and);
      });
      break;
    case OP_LOGI:
    case OP_LOGR: {
      // B = the mask (imm, imm2), or Rm shifted and maybe inverted.
      if (op === OP_LOGI) {
        a.get(L_S);
        a.mem(Op.i64_load, 4, 2);
      } else {
        a.x(L_RC);
        a.set(L_B);
        shiftB(a);
        a.p(2);
        a.if(T.i64);
        a.i64(-1);
        a.else();
        a.i64(0);
        a.end();
        a.o(Op.i64_xor);
      }
      a.set(L_B);
      a.x(L_RBN);
      a.set(L_A);
      // opc (p1): 0 AND, 1 ORR, 2 EOR, 3 ANDS
      const done = a.block();
      const b2 = a.block();
      const b1 = a.block();
      const b0 = a.block();
      a.p(1);
      a.brTable([b0, b1, b2, b0], b0);
      a.end();
      a.get(L_A);
      a.get(L_B);
      a.o(Op.i64_and);
      a.set(L_R);
      a.br(done);
      a.end();
      a.get(L_A);
      a.get(L_B);
      a.o(Op.i64_or);
      a.set(L_R);
      a.br(done);
      a.end();
      a.get(L_A);
      a.get(L_B);
      a.o(Op.i64_xor);
      a.set(L_R);
      a.end();
      sf();
      a.i32(0);
      a.o(Op.i32_eq);
      a.if();
      a.get(L_R);
      zext(a);
      a.set(L_R);
      a.end();
      a.p(1);
      a.i32(3);
      a.o(Op.i32_eq);
      a.if();
      a.setFlag('n', () => {
        a.get(L_R);
        sf();
        a.if(T.i64);
        a.i64(63);
        a.else();
        a.i64(31);
        a.end();
        a.o(Op.i64_shr_u, Op.i32_wrap_i64);
        a.i32(1);
        a.o(Op.i32_and);
      });
      a.setFlag('z', () => {
        a.get(L_R);
        a.o(Op.i64_eqz);
      });
      a.setFlag('c', () => a.i32(0));
      a.setFlag('v', () => a.i32(0));
      a.end();
      a.setX(L_RA, () => a.get(L_R));
      break;
    }
    case OP_ADRP:
      a.setX(L_RA, () => {
        a.pc();
        a.i64(-4096);
        a.o(Op.i64_and);
        a.get(L_IMM);
        a.i64(12);
        a.o(Op.i64_shl, Op.i64_add);
      });
      break;
    case OP_ADR:
      a.setX(L_RA, () => {
        a.pc();
        a.get(L_IMM);
        a.o(Op.i64_add);
      });
      break;
    case OP_B:
      target(a);
      jump(a, L.top);
      break;
    case OP_BL:
      a.get(P_RB);
      a.pc(4);
      a.mem(Op.i64_store, 30 * 8, 3);
      target(a);
      jump(a, L.top);
      break;
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
      break;
    case OP_BR:
      a.x(L_RBN);
      a.set(L_TGT);
      jump(a, L.top);
      break;
    case OP_BLR:
      // The target is read before X30 is written (BLR X30).
      a.x(L_RBN);
      a.set(L_TGT);
      a.get(P_RB);
      a.pc(4);
      a.mem(Op.i64_store, 30 * 8, 3);
      jump(a, L.top);
      break;
    case OP_CSEL:
      a.setX(L_RA, () => {
        condHolds(a, () => a.p(3));
        a.if(T.i64);
        a.x(L_RBN);
        a.else();
        a.x(L_RC);
        a.p(1);
        a.if(T.i64);
        a.i64(-1);
        a.else();
        a.i64(0);
        a.end();
        a.o(Op.i64_xor);
        a.p(2);
        a.o(Op.i64_extend_i32_u, Op.i64_add);
        a.end();
        sf();
        a.if(T.i64);
        a.i64(-1);
        a.else();
        a.i64(0xffffffff);
        a.end();
        a.o(Op.i64_and);
      });
      break;
    case OP_CCMP:
      condHolds(a, () => a.p(2));
      a.if();
      a.x(L_RBN);
      a.set(L_A);
      a.get(L_S);
      a.mem(Op.i32_load, 8, 2);
      a.if(T.i64);
      a.get(L_IMM);
      a.else();
      a.x(L_RC);
      a.end();
      a.set(L_B);
      a.p(1);
      a.tee(L_T);
      a.if();
      a.get(L_B);
      a.i64(-1);
      a.o(Op.i64_xor);
      a.set(L_B);
      a.end();
      sf();
      a.i32(0);
      a.o(Op.i32_eq);
      a.if();
      a.get(L_A);
      zext(a);
      a.set(L_A);
      a.get(L_B);
      zext(a);
      a.set(L_B);
      a.end();
      addWithCarry(a, sf, () => a.i32(1), L_RA);
      a.else();
      for (const [f, bit] of [['n', 3], ['z', 2], ['c', 1], ['v', 0]] as const) {
        a.setFlag(f, () => {
          a.p(3);
          a.i32(bit);
          a.o(Op.i32_shr_u);
          a.i32(1);
          a.o(Op.i32_and);
        });
      }
      a.end();
      break;
    case OP_SHIFTI: {
      // p0: 0 LSL, 1 LSR, 2 ASR (64-bit); 3, 4, 5 the same, 32-bit.
      const done = a.block();
      const cases: number[] = [];
      for (let i = 5; i >= 0; i--) cases[i] = a.block();
      a.p(0);
      a.brTable(cases, cases[5]!);
      for (let i = 0; i < 6; i++) {
        a.end();
        a.setX(L_RA, () => {
          if (i < 3) {
            a.x(L_RBN);
            a.get(L_IMM);
            a.o([Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s][i]!);
          } else {
            a.w(L_RBN);
            a.get(L_IMM);
            a.o(Op.i32_wrap_i64);
            a.o([Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s][i - 3]!);
            a.o(Op.i64_extend_i32_u);
          }
        });
        a.br(done);
      }
      a.end();
      break;
    }
    case OP_BITFIELD:
      bitfieldBody(a);
      break;
    case OP_EXTR:
      // 64-bit: lsb 0 is Rm, else Rm >> lsb | Rn << (64 - lsb); 32-bit: the low word of Rn:Rm >> lsb.
      a.setX(L_RA, () => {
        a.p(0);
        a.if(T.i64);
        a.p(1);
        a.o(Op.i32_eqz);
        a.if(T.i64);
        a.x(L_RC);
        a.else();
        a.x(L_RC);
        a.p(1);
        a.o(Op.i64_extend_i32_u, Op.i64_shr_u);
        a.x(L_RBN);
        a.i64(64);
        a.p(1);
        a.o(Op.i64_extend_i32_u, Op.i64_sub, Op.i64_shl, Op.i64_or);
        a.end();
        a.else();
        a.x(L_RBN);
        a.i64(32);
        a.o(Op.i64_shl);
        a.w(L_RC);
        a.o(Op.i64_extend_i32_u, Op.i64_or);
        a.p(1);
        a.o(Op.i64_extend_i32_u, Op.i64_shr_u);
        zext(a);
        a.end();
      });
      break;
    case OP_SHIFTV:
      // the amount is Rm modulo the width: wasm's shifts take it so
      a.x(L_RC);
      a.set(L_IMM);
      a.x(L_RBN);
      a.set(L_B);
      a.setX(L_RA, () => shiftB(a));
      break;
    case OP_ADDSUBX:
      // B = Rm extended by option (p3: UXTB UXTH UXTW UXTX SXTB SXTH SXTW SXTX) << imm
      a.x(L_RC);
      a.i64(64);
      a.i64(8);
      a.p(3);
      a.i32(3);
      a.o(Op.i32_and, Op.i64_extend_i32_u, Op.i64_shl, Op.i64_sub);
      a.tee(L_C);
      a.o(Op.i64_shl);
      a.set(L_B);
      a.p(3);
      a.i32(4);
      a.o(Op.i32_and);
      a.if(T.i64);
      a.get(L_B);
      a.get(L_C);
      a.o(Op.i64_shr_s);
      a.else();
      a.get(L_B);
      a.get(L_C);
      a.o(Op.i64_shr_u);
      a.end();
      a.get(L_IMM);
      a.o(Op.i64_shl);
      a.set(L_B);
      a.x(L_RBN);
      a.set(L_A);
      addSubTail(a, sf, () => a.p(2));
      break;
    case OP_MADD:
      // Ra +- Rn * Rm (Ra's slot in imm)
      a.setX(L_RA, () => {
        a.get(L_IMM);
        a.o(Op.i32_wrap_i64);
        a.i32(3);
        a.o(Op.i32_shl);
        a.get(P_RB);
        a.o(Op.i32_add);
        a.mem(Op.i64_load, 0, 3);
        a.x(L_RBN);
        a.x(L_RC);
        a.o(Op.i64_mul);
        a.set(L_C);
        a.p(1);
        a.if(T.i64);
        a.i64(0);
        a.get(L_C);
        a.o(Op.i64_sub);
        a.else();
        a.get(L_C);
        a.end();
        a.o(Op.i64_add);
        sf();
        a.if(T.i64);
        a.i64(-1);
        a.else();
        a.i64(0xffffffff);
        a.end();
        a.o(Op.i64_and);
      });
      break;
    case OP_DP1:
      dp1Body(a);
      break;
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
      break;
    default:
      if (op >= OP_CAS && op < OP_CAS + 4) atomic(a, op - OP_CAS, true, L.helper);
      else if (op >= OP_RMW && op < OP_RMW + 4) atomic(a, op - OP_RMW, false, L.helper);
      else if (op >= OP_LDST && op < OP_LDSTP) ldst(a, LDST_KINDS[op - OP_LDST]!, L.helper);
      else if (op >= OP_LDSTP && op < OP_COUNT) ldstPair(a, PAIR_KINDS[op - OP_LDSTP]!, L.helper);
      else throw new Error(`winterp: no body for operation ${op}`);
  }
  a.br(L.next);
}

/** The interpreter function. */
function interpreterFunction(): WasmFunction {
  const a = new Asm();
  a.get(P_ENTRY);
  a.set(L_IDX);
  a.get(P_PCBF);
  a.o(Op.i64_trunc_f64_s);
  a.set(L_PCB);
  const top = a.loop();
  // The budget, exactly: the run loop's block would stop here too.
  a.get(L_N);
  a.get(P_BUDGET);
  a.o(Op.i32_ge_s);
  a.get(L_IDX);
  a.i32(1024);
  a.o(Op.i32_eq, Op.i32_or);
  a.if();
  exit(a, () => a.pc(), 0);
  a.end();
  // s = slots + idx * 16; op (decoded on first use)
  a.get(P_SLOTS);
  a.get(L_IDX);
  a.i32(4);
  a.o(Op.i32_shl, Op.i32_add);
  a.tee(L_S);
  a.mem(Op.i32_load8_u, 0);
  a.tee(L_OP);
  a.o(Op.i32_eqz);
  a.if();
  a.get(L_IDX);
  a.byte(Op.call);
  a.u32(FN_DECODE);
  a.set(L_OP);
  a.end();
  for (const [l, k] of [[L_RA, 1], [L_RBN, 2], [L_RC, 3]] as const) {
    a.get(L_S);
    a.mem(Op.i32_load8_u, k);
    a.i32(3);
    a.o(Op.i32_shl);
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
  a.brTable(labels, helper);
  for (let op = OP_NOP; op < OP_COUNT; op++) {
    a.end();
    body(a, op, { next, top, helper });
  }
  a.end();
  // $helper: the interpreter's handler; non-zero when the block ends there (the helper stored the PC).
  a.get(L_N);
  a.get(L_IDX);
  a.get(P_PCBF);
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
  // $next: the instruction is done.
  inc(a, L_IDX);
  inc(a, L_N);
  a.br(top);
  a.end();
  a.o(Op.unreachable);
  return { type: TYPE_FN, locals: [[11, T.i32], [8, T.i64]], body: a };
}

let moduleBytes: Uint8Array | null = null;
/** The module's bytes (built once per process). */
export function wasmInterpreterBytes(): Uint8Array {
  if (moduleBytes === null) {
    const probes: WasmFunction[] = [];
    for (const size of PROBE_SIZES) for (const write of [false, true]) probes.push(probeFunction(size * 2 + (write ? 1 : 0)));
    moduleBytes = buildModule(MODULE_TYPES, [
      { name: 'm', kind: 'memory' },
      { name: 'h', kind: 'func', type: TYPES.indexOf(TYPES[1]!) },
      { name: 'd', kind: 'func', type: TYPE_DECODE },
    ], [interpreterFunction(), condFunction(), ...probes]);
  }
  return moduleBytes;
}

export type DecodeImport = (idx: number) => number;
export type HelperImport = (n: number, idx: number, pcBase: number) => number;

/** Instantiate the interpreter over a guest memory with the run loop's helper and decoder. */
export function instantiateWasmInterpreter(module: WebAssembly.Module, memory: WebAssembly.Memory, helper: HelperImport, decode: DecodeImport): WasmInterpreterFn {
  const inst = new WebAssembly.Instance(module, { e: { m: memory, h: helper, d: decode } });
  return inst.exports.f as unknown as WasmInterpreterFn;
}
