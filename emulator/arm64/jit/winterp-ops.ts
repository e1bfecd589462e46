// The wasm interpreter's operations and slot layout (winterp.ts): what a packer writes and the
// module's dispatch reads. Slot (16 bytes): op u8 | a u8 | b u8 | c u8 | imm i32 | imm2 i32 |
// p0 p1 p2 p3 u8 (a, b, c: register slots of regs.ts, XZR/SP already mapped by the decode).
import { SCRATCH_PC } from './emitter.ts';
import { PAIR, SINGLE, type Kind } from './emit-mem.ts';

export const SLOT_BYTES = 16;
export const SLOTS_BYTES = 1024 * SLOT_BYTES;
/** Where the function leaves the count of taken branches within the page (the run loop's heat). */
export const SCRATCH_BRANCHES = SCRATCH_PC + 8;
/** Wasm address of the memo of packed words for the CPU's decoder, or 0 (set once: runtime.ts memoFor). */
export const SCRATCH_MEMO = SCRATCH_PC + 12;

/** Memory-access modes of single loads/stores (M_* below), and of pairs (offset, pre, post). */
export const MODES = 5;
export const PAIR_MODES = 3;

// Operations. OP_NONE: not decoded yet; OP_HELPER: the interpreter's handler.
export const OP_NONE = 0;
export const OP_HELPER = 1;
export const OP_NOP = 2;
export const OP_ADDI64 = 3;
export const OP_ADDI32 = 4;
export const OP_ADDSI = 5;
export const OP_ADDSUBR = 6;
export const OP_MOVR64 = 7;
export const OP_MOVR32 = 8;
export const OP_MOVI = 9;
export const OP_MOVK = 10;
export const OP_LOGI = 11;
export const OP_LOGR = 12;
export const OP_ADRP = 13;
export const OP_ADR = 14;
export const OP_B = 15;
export const OP_BL = 16;
export const OP_BCOND = 17;
export const OP_CBZ64 = 18;
export const OP_CBZ32 = 19;
export const OP_TBZ = 20;
export const OP_BR = 21;
export const OP_BLR = 22;
export const OP_CSEL = 23;
export const OP_CCMP = 24;
export const OP_SHIFTI = 25;
export const OP_BITFIELD = 26;
export const OP_EXTR = 27;
export const OP_SHIFTV = 28;
export const OP_ADDSUBX = 29;
export const OP_MADD = 30;
export const OP_MRS = 31;
export const OP_MSR = 32;
export const OP_DP1 = 33;
/** CAS of 1, 2, 4, 8 bytes: OP_CAS + log2(size). */
export const OP_CAS = 34;
/** LDADD, LDCLR, LDEOR, LDSET, SWP (p1: 0..4) of 1, 2, 4, 8 bytes: OP_RMW + log2(size). */
export const OP_RMW = 38;
/** SMADDL/UMADDL/SMSUBL/UMSUBL (p0: signed, p1: sub). */
export const OP_MADDL = 42;
/** DC ZVA (EL1, no HCR_EL2.TDZ: SLOT_CPU_FLAGS), and the DC operations by VA (checked as a read). */
export const OP_DCZVA = 43;
export const OP_DCVA = 44;
/**
 * Single loads/stores: OP_LDST + (the index of their Kind in LDST_KINDS) * MODES + their mode, so
 * that each operation's address arithmetic is fixed when the module is built.
 */
export const OP_LDST = 45;
export const LDST_KINDS: Kind[] = [...SINGLE.values()].filter((k) => !k.vec);
/** Pairs: OP_LDSTP + (the index of their Kind in PAIR_KINDS) * PAIR_MODES + their mode. */
export const OP_LDSTP = OP_LDST + LDST_KINDS.length * MODES;
export const PAIR_KINDS: Kind[] = [...PAIR.values()].filter((k) => !k.vec);
export const OP_COUNT = OP_LDSTP + PAIR_KINDS.length * PAIR_MODES;

/** Memory-access modes (p1): offset, pre-index (writeback of the address), post-index (address + imm). */
export const M_OFF = 0;
export const M_PRE = 1;
export const M_POST = 2;
/** Register offset: base + (index register, extended by p2: 0 X, 1 UXTW, 2 SXTW) << p3. */
export const M_REG = 3;
/** LDAR/STLR: [base], which must be aligned to the access size (else the handler faults). */
export const M_ORDERED = 4;

