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

// Operations. OP_NONE: not decoded yet; OP_HELPER: the interpreter's handler. Numbered in order
// by `ops`; a family (`family`) is one operation specialised on some of its slot bytes: one
// operation number per combination of their values (`variant`), whose body is built with those
// bytes as constants (winterp-asm.ts Asm.fixed), so TurboFan folds the tests on them away -- the
// commonest instructions (ADD/SUB/CMP of registers, B.cond, logical operations) then run without
// reading and branching on their fields.
let nextOp = 0;
function ops(n = 1): number {
  const o = nextOp;
  nextOp += n;
  return o;
}
/** The families: their first operation and the slot bytes they fix, each [p index, values], the first most significant. */
export const FAMILIES = new Map<number, [number, number][]>();
function family(fixed: [number, number][]): number {
  const o = ops(fixed.reduce((n, [, k]) => n * k, 1));
  FAMILIES.set(o, fixed);
  return o;
}

export const OP_NONE = ops();
export const OP_HELPER = ops();
export const OP_NOP = ops();
export const OP_ADDI64 = ops();
export const OP_ADDI32 = ops();
/** ADDS/SUBS (immediate), by sf (p0) and sub (p1). */
export const OP_ADDSI = family([[0, 2], [1, 2]]);
/** ADD/SUB (shifted register), by sf (p0), sub (p1) and S (p2); the shift (p3, imm) read. */
export const OP_ADDSUBR = family([[0, 2], [1, 2], [2, 2]]);
export const OP_MOVR64 = ops();
export const OP_MOVR32 = ops();
export const OP_MOVI = ops();
export const OP_MOVK = ops();
/** Logical (immediate), by sf (p0) and opc (p1). */
export const OP_LOGI = family([[0, 2], [1, 4]]);
/** Logical (shifted register), by sf (p0), opc (p1) and N (p2). */
export const OP_LOGR = family([[0, 2], [1, 4], [2, 2]]);
export const OP_ADRP = ops();
export const OP_ADR = ops();
export const OP_B = ops();
export const OP_BL = ops();
/** B.cond, by the condition (p0). */
export const OP_BCOND = family([[0, 16]]);
/** CBZ/CBNZ and TBZ/TBNZ, by NZ (p0). */
export const OP_CBZ64 = family([[0, 2]]);
export const OP_CBZ32 = family([[0, 2]]);
export const OP_TBZ = family([[0, 2]]);
export const OP_BR = ops();
export const OP_BLR = ops();
/** CSEL/CSINC/CSINV/CSNEG, by sf (p0), inv (p1), inc (p2); the condition (p3) read. */
export const OP_CSEL = family([[0, 2], [1, 2], [2, 2]]);
/** CCMP/CCMN, by sf (p0) and sub (p1). */
export const OP_CCMP = family([[0, 2], [1, 2]]);
/** LSL/LSR/ASR (immediate), by the shift and width (p0: 0..5). */
export const OP_SHIFTI = family([[0, 6]]);
export const OP_BITFIELD = ops();
export const OP_EXTR = ops();
/** Shifts by register, by sf (p0) and the shift (p3). */
export const OP_SHIFTV = family([[0, 2], [3, 4]]);
/** ADD/SUB (extended register), by sf (p0), sub (p1) and S (p2). */
export const OP_ADDSUBX = family([[0, 2], [1, 2], [2, 2]]);
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
 * DAIFClr and MSR DAIF, which end the block after them (SLOT_WASM_EXIT), as their handlers do.
 * (MRS DAIF is an OP_MRS of the slot word.)
 */
export const OP_DAIFSET = ops();
export const OP_DAIFCLR = ops();
export const OP_MSR_DAIF = ops();
/** IC IVAU/IALLU/IALLUIS at EL1, not trapped (SLOT_CPU_FLAGS): nothing but the end of the block. */
export const OP_IC = ops();
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

/** The operation of family `base` for slot bytes p0..p3 (OP_HELPER for a value outside the family's). */
export function variant(base: number, p: { p0: number; p1: number; p2: number; p3: number }): number {
  const fixed = FAMILIES.get(base);
  if (fixed === undefined) return base;
  let v = 0;
  for (const [k, n] of fixed) {
    const x = k === 0 ? p.p0 : k === 1 ? p.p1 : k === 2 ? p.p2 : p.p3;
    if (!(x >= 0 && x < n)) return OP_HELPER;
    v = v * n + x;
  }
  return base + v;
}

/** Each operation's family (its first operation) and the slot bytes it fixes (undefined: read). */
export const FAMILY_OF: number[] = [];
export const FIXED_OF: (number | undefined)[][] = [];
for (let op = 0; op < OP_COUNT; op++) {
  FAMILY_OF[op] = op;
  FIXED_OF[op] = [];
}
for (const [base, fixed] of FAMILIES) {
  const count = fixed.reduce((n, [, k]) => n * k, 1);
  for (let v = 0; v < count; v++) {
    const f: (number | undefined)[] = [];
    let rest = v;
    for (let i = fixed.length - 1; i >= 0; i--) {
      const [k, n] = fixed[i]!;
      f[k] = rest % n;
      rest = Math.floor(rest / n);
    }
    FAMILY_OF[base + v] = base;
    FIXED_OF[base + v] = f;
  }
}

/** Memory-access modes (p1): offset, pre-index (writeback of the address), post-index (address + imm). */
export const M_OFF = 0;
export const M_PRE = 1;
export const M_POST = 2;
/** Register offset: base + (index register, extended by p2: 0 X, 1 UXTW, 2 SXTW) << p3. */
export const M_REG = 3;
/** LDAR/STLR: [base], which must be aligned to the access size (else the handler faults). */
export const M_ORDERED = 4;

