// The wasm interpreter's operations and slot layout (winterp.ts): what a packer writes and the
// module's dispatch reads. Slot (16 bytes): op u8 | a u8 | b u8 | c u8 | imm i32 | imm2 i32 |
// p0 p1 p2 p3 u8 (a, b, c: register slots of regs.ts, XZR/SP already mapped by the decode).
import { SCRATCH_PC } from './emitter.ts';
import { PAIR, SINGLE, type Kind } from './emit-mem.ts';
import { ARENA_TABLE_BYTES } from './guest-memory.ts';

export const SLOT_BYTES = 16;
export const SLOTS_BYTES = 1024 * SLOT_BYTES;
/**
 * A page's table in the arena (guest-memory.ts ARENA_TABLE_BYTES): its slots, then at
 * TABLE_ENTRIES a byte per instruction set where the function went into the page from another
 * (the translator's entries, runtime.ts entriesOf), then the header: TABLE_HEAT, the page's
 * heat counted in wasm (taken branches and entries) that the run loop has not taken yet;
 * TABLE_GEN, the table's generation, bumped whenever execute-TLB entries naming it must stop
 * being followed (its page dropped or translated); TABLE_RAM, its page's RAM offset.
 */
export const TABLE_ENTRIES = SLOTS_BYTES;
export const TABLE_HEAT = TABLE_ENTRIES + 1024;
export const TABLE_GEN = TABLE_HEAT + 4;
export const TABLE_RAM = TABLE_GEN + 4;
/**
 * The heat below which the function goes on into another page (the run loop writes it at each
 * run of blocks: the translator's threshold, at most CHAIN_HEAT). A page past it is left to the
 * run loop, which takes its heat and may have it translated.
 */
export const SCRATCH_CHAIN_HEAT = SCRATCH_PC + 8;
export const CHAIN_HEAT = 4096;
if (TABLE_RAM + 4 > ARENA_TABLE_BYTES) throw new Error('winterp: a table is larger than ARENA_TABLE_BYTES');
/** Wasm address of the memo of packed words for the CPU's decoder, or 0 (set once: runtime.ts memoFor). */
export const SCRATCH_MEMO = SCRATCH_PC + 12;

/** Memory-access modes of single loads/stores (M_* below), and of pairs (offset, pre, post). */
export const MODES = 6;
export const PAIR_MODES = 3;

// Operations. OP_NONE: not decoded yet; OP_HELPER: the interpreter's handler. Numbered in order
// by `ops`. (Tried in session 11 and dropped: "families", operations specialised on their slot
// bytes -- ADD/SUB by width and flags, B.cond by condition, ... one operation per combination,
// built with those bytes as constants. No faster on the kit boot or bench-int, within noise, and
// the module twice the size: ~5 ms more to compile at every start. Session 16, with the dispatch
// lighter and the module compiled off the guest's thread, specialised the kit's commonest
// instructions whose generic bodies went through a jump table of their own (the condition, the
// shift type, the logical operation) or tested their width: OP_BCOND, OP_CBZ64/32, OP_TBZ,
// OP_ADDSUBR_LSL, OP_ADDSI, OP_LOGI, OP_LOGR_LSL, OP_SHIFTI are families, the constant added to
// their first number.)
let nextOp = 0;
function ops(n = 1): number {
  const o = nextOp;
  nextOp += n;
  return o;
}

export const OP_NONE = ops();
export const OP_HELPER = ops();
export const OP_NOP = ops();
export const OP_ADDI64 = ops();
export const OP_ADDI32 = ops();
/** ADDS/SUBS (immediate), CMP and CMN: OP_ADDSI + (sf | sub << 1), p0 sf, p1 sub (4 % of the kit's). */
export const OP_ADDSI = ops(4);
/** ADD/SUB (shifted register): p0 sf, p1 sub, p2 S, p3 the shift (by imm). */
export const OP_ADDSUBR = ops();
/**
 * The same with LSL (p3 0), one operation per sf | sub << 1 | S << 2 (the slot as OP_ADDSUBR's):
 * 11 % of the instructions the kit boot runs on the wasm interpreter, mostly ADD, SUBS (CMP) and SUB.
 */
export const OP_ADDSUBR_LSL = ops(8);
/** ADC/SBC(S): p0 sf, p1 sub, p2 S. */
export const OP_ADCSBC = ops();
/** UDIV/SDIV: p0 sf, p1 signed. */
export const OP_DIV = ops();
export const OP_MOVR64 = ops();
export const OP_MOVR32 = ops();
export const OP_MOVI = ops();
/** MRS of a constant register that HCR_EL2.TID2 traps (CTR_EL0): OP_MOVI unless the CPU flags say it traps. */
export const OP_MRS_ID = ops();
export const OP_MOVK = ops();
/** Logical (immediate): OP_LOGI + opc, p0 sf, p1 opc (4 % of the kit's). */
export const OP_LOGI = ops(4);
/** Logical (shifted register): p0 sf, p1 opc, p2 N, p3 the shift. */
export const OP_LOGR = ops();
/** The same with LSL (p3 0), by opc: OP_LOGR_LSL + opc (3 % of the kit's). */
export const OP_LOGR_LSL = ops(4);
export const OP_ADRP = ops();
export const OP_ADR = ops();
export const OP_B = ops();
export const OP_BL = ops();
/** B.cond, one operation per condition (OP_BCOND + cond, p0 the condition too): 8 % of the kit's. */
export const OP_BCOND = ops(16);
/** CBZ/CBNZ and TBZ/TBNZ: + NZ (also in p0) (5 % of the kit's). */
export const OP_CBZ64 = ops(2);
export const OP_CBZ32 = ops(2);
export const OP_TBZ = ops(2);
export const OP_BR = ops();
export const OP_BLR = ops();
/** CSEL/CSINC/CSINV/CSNEG: p0 sf, p1 inv, p2 inc, p3 the condition. */
export const OP_CSEL = ops();
/** CCMP/CCMN: p0 sf, p1 sub, p2 the condition, p3 nzcv. */
export const OP_CCMP = ops();
/** LSL/LSR/ASR (immediate): OP_SHIFTI + the shift and width (0..5), also in p0. */
export const OP_SHIFTI = ops(6);
export const OP_BITFIELD = ops();
export const OP_EXTR = ops();
/** Shifts by register: p0 sf, p3 the shift. */
export const OP_SHIFTV = ops();
/** ADD/SUB (extended register): p0 sf, p1 sub, p2 S, p3 the extension. */
export const OP_ADDSUBX = ops();
export const OP_MADD = ops();
export const OP_MRS = ops();
export const OP_MSR = ops();
export const OP_DP1 = ops();
/** CAS of 1, 2, 4, 8 bytes: OP_CAS + log2(size). */
export const OP_CAS = ops(4);
/** LDADD, LDCLR, LDEOR, LDSET, SWP (p1: 0..4) of 1, 2, 4, 8 bytes: OP_RMW + log2(size). */
export const OP_RMW = ops(4);
/**
 * CASP of a pair of words (+0) or of X registers (+1): a write side (sw), b base, c Rt, p0 Rt+1,
 * p1 Rs, p2 Rs+1, p3 the write side of Rs+1 (register slots, XZR mapped by the decode).
 */
export const OP_CASP = ops(2);
/** SMADDL/UMADDL/SMSUBL/UMSUBL (p0: signed, p1: sub). */
export const OP_MADDL = ops();
/** DC ZVA (EL1, no HCR_EL2.TDZ: SLOT_CPU_FLAGS), and the DC operations by VA (checked as a read). */
export const OP_DCZVA = ops();
export const OP_DCVA = ops();
/** ISB: nothing unless an interrupt may be taken (SLOT_CPU_FLAGS), when the handler ends the block. */
export const OP_ISB = ops();
/**
 * PSTATE.DAIF at EL1 (pe.ts keeps it in the CPU slot): MSR DAIFSet (imm: the bits), and MSR
 * DAIFClr and MSR DAIF, which end the block after them (SLOT_WASM_EXIT) when an interrupt may be
 * taken (CPU_FLAG_IRQ), as their handlers do.
 * (MRS DAIF is an OP_MRS of the slot word.)
 */
export const OP_DAIFSET = ops();
export const OP_DAIFCLR = ops();
export const OP_MSR_DAIF = ops();
/** IC IVAU/IALLU/IALLUIS at EL1, not trapped (SLOT_CPU_FLAGS): nothing but the end of the block. */
export const OP_IC = ops();
/**
 * LDXR/LDAXR of 1, 2, 4, 8 bytes (OP_LDXR + log2(size)): a Rt (write side), b the base. The
 * exclusive monitor is in the register file (regs.ts EXCL_BYTE), as the handlers keep it.
 */
export const OP_LDXR = ops(4);
/** STXR/STLXR of 1, 2, 4, 8 bytes (OP_STXR + log2(size)): a Rs, the status (write side), b the base, c Rt. */
export const OP_STXR = ops(4);
export const LDST_KINDS: Kind[] = [...SINGLE.values()].filter((k) => !k.vec);
/**
 * Single loads/stores: OP_LDST + (the index of their Kind in LDST_KINDS) * MODES + their mode, so
 * that each operation's address arithmetic is fixed when the module is built.
 */
export const OP_LDST = ops(LDST_KINDS.length * MODES);
export const PAIR_KINDS: Kind[] = [...PAIR.values()].filter((k) => !k.vec);
/** Pairs: OP_LDSTP + (the index of their Kind in PAIR_KINDS) * PAIR_MODES + their mode. */
export const OP_LDSTP = ops(PAIR_KINDS.length * PAIR_MODES);
export const OP_COUNT = ops(0);
if (OP_COUNT > 256) throw new Error('winterp: more operations than a slot\'s op byte holds');

/** Memory-access modes (p1): offset, pre-index (writeback of the address), post-index (address + imm). */
export const M_OFF = 0;
export const M_PRE = 1;
export const M_POST = 2;
/** Register offset: base + (index register, extended by p2: 0 X, 1 UXTW, 2 SXTW) << p3. */
export const M_REG = 3;
/** LDAR/STLR: [base], which must be aligned to the access size (else the handler faults). */
export const M_ORDERED = 4;
/**
 * LDTR/STTR: base + imm, probed in the EL0 soft-TLB context (chain.ts EL0_CTX). The copies to and
 * from user space are made of them: ~3.8 M in the rk3588 run, where the MVM hands the VMs' images
 * to the hypervisor.
 */
export const M_UNPRIV = 5;

