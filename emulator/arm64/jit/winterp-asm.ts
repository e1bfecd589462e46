// The wasm interpreter's function frame and assembler (winterp.ts): module types and function
// indices, the parameters and locals every operation body uses, a structured-control assembler
// whose labels resolve to br depths, and the shared shapes (exits, in-page jumps, conditions).
import { CF, NF, VF, ZF } from '../regs.ts';
import { Bytes, Op, T } from './wasm.ts';
import { TYPES, tlbEntry } from './chain.ts';
import { SCRATCH_PC } from './emitter.ts';
import { SCRATCH_CHAIN_HEAT, TABLE_ENTRIES, TABLE_GEN, TABLE_HEAT, TABLE_RAM } from './winterp-ops.ts';
import { SLOT_TLB_OFFSET, SLOT_WASM_RAN } from './guest-memory.ts';
import { TLB_CONTEXTS, TLB_SIZE, TLB_X_CODE_BYTE, TLB_X_TAG, TLB_X_WTABLE_BYTE } from '../soft-tlb.ts';

export const TYPE_FN = TYPES.length;
export const TYPE_DECODE = TYPE_FN + 1;
export const TYPE_FILL = TYPE_FN + 2;
/** The helper import: the translator's (chain.ts TYPE_HELPER) and the page's slot table. */
export const TYPE_HELPER = TYPE_FN + 3;
export const MODULE_TYPES: [T[], T][] = [
  ...TYPES,
  [[T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], T.i32],
  [[T.i32, T.i32, T.i32, T.i32], T.i32],
  [[T.i32, T.i32, T.i32, T.i32], T.i32],
  [[T.i32, T.i32, T.f64, T.i32], T.i32],
];
export const FN_HELPER = 0;
export const FN_DECODE = 1;
/** The hub's chain function (chain.ts), into translated pages. */
export const FN_CHAIN = 2;
/** The interpreter function itself, and the entry from translated code (winterp.ts chainInFunction). */
export const FN_INTERP = 3;
export const FN_CHAIN_IN = 4;
/** The slot filler (winterp.ts fillFunction). */
export const FN_FILL = 5;

// Parameters and locals of the function.
// (The page's address comes in 32-bit halves: a double argument would be boxed on the JS heap at
// every call, the run loop's call not being inlined: ~15 MB of garbage a kit boot.)
// (P_N0: the instructions executed before, by translated code that went on into this page.)
export const P_ENTRY = 0, P_BUDGET = 1, P_RB = 2, P_CTX = 3, P_PCLO = 4, P_PCHI = 5, P_SLOTS = 6, P_RAM = 7, P_N0 = 8;
/**
 * (i32) L_S: the current instruction's slot, the one variable of the dispatch: the next is 16
 * bytes on (its index, (L_S - P_SLOTS) / 16, is worked out only where wanted: idx(a)). Until
 * session 16 the loop stepped the index and computed the slot from it: TurboFan kept the index in
 * a stack slot, stored, reloaded and shifted at every instruction.
 * (i32) L_N: the instructions executed before the current one, less L_S / 16: nothing is counted
 * per instruction, the count is L_N + L_S / 16 (count(a)); a jump in the page adjusts it.
 * (i32) L_IDX: a scratch index (leavePage).
 */
export const L_IDX = 9, L_N = 10, L_S = 11, L_OP = 12, L_RA = 13, L_RBN = 14, L_RC = 15, L_T = 16, L_U = 17, L_ADDR = 18, L_BR = 19;
export const L_PCB = 20, L_IMM = 21, L_A = 22, L_B = 23, L_R = 24, L_VA = 25, L_TGT = 26, L_C = 27;
/** (i32) Scratch of the dispatch's landing ($check): the instructions the budget has left. */
export const L_LIM = 28;
/** (i32) condHolds's condition and result. */
export const L_CC = 29, L_CCR = 30;

export const FLAG = { n: NF * 4, z: ZF * 4, c: CF * 4, v: VF * 4 };

/** A structured-control assembler over Bytes: labels are resolved to br depths. */
export class Asm extends Bytes {
  private ctl: number[] = [];
  private nextLabel = 1;
  /** The locals read so far, when recording (used). */
  private reads: Set<number> | null = null;
  override get(l: number): void {
    this.reads?.add(l);
    super.get(l);
  }
  /**
   * The locals that `emit` reads, found by running it on a scratch copy of this assembler (same
   * open labels), whose bytes are then dropped: what an operation's body needs computed first.
   */
  used(emit: (a: Asm) => void): Set<number> {
    const scratch = new Asm();
    scratch.ctl = [...this.ctl];
    scratch.nextLabel = this.nextLabel;
    scratch.reads = new Set();
    emit(scratch);
    return scratch.reads;
  }
  o(...ops: Op[]): void {
    for (const x of ops) this.byte(x);
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
  /**
   * A switch: the i32 `select` pushes picks bodies[map[i]] (map: the identity by default; a
   * selector past it takes the last entry's body), each leaving a value of `type` or none.
   */
  cases(type: T, select: () => void, bodies: (() => void)[], map: number[] = bodies.map((_, i) => i)): void {
    const done = this.block(type);
    const labels: number[] = [];
    for (let i = bodies.length - 1; i >= 0; i--) labels[i] = this.block();
    select();
    const targets = map.map((b) => labels[b]!);
    this.brTable(targets, targets[targets.length - 1]!);
    for (let i = 0; i < bodies.length; i++) {
      this.end();
      bodies[i]!();
      if (i < bodies.length - 1) this.br(done);
    }
    this.end();
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
  /** Push the register whose slot number the instruction's imm holds (MADD's Ra, CAS's Rs). */
  xImm(): void {
    this.get(L_IMM);
    this.o(Op.i32_wrap_i64);
    this.i32(3);
    this.o(Op.i32_shl);
    this.get(P_RB);
    this.o(Op.i32_add);
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
    // (the index * 4: its offset in the page)
    this.get(L_S);
    this.get(P_SLOTS);
    this.o(Op.i32_sub);
    this.i32(2);
    this.o(Op.i32_shr_u, Op.i64_extend_i32_u, Op.i64_add);
    if (delta !== 0) {
      this.i64(delta);
      this.o(Op.i64_add);
    }
  }
}

/** Push (i32) the instructions executed before the current one: L_N + L_S / 16. */
export function count(a: Asm): void {
  a.get(L_N);
  a.get(L_S);
  a.i32(4);
  a.o(Op.i32_shr_u, Op.i32_add);
}

/** Push (i32) the current instruction's index in its page. */
export function idx(a: Asm): void {
  a.get(L_S);
  a.get(P_SLOTS);
  a.o(Op.i32_sub);
  a.i32(4);
  a.o(Op.i32_shr_u);
}

/** Return n + `after` with the next PC stored from `pushPc` (i64), the page's heat counted. */
export function exit(a: Asm, pushPc: () => void, after: number): void {
  a.get(P_RB);
  pushPc();
  a.mem(Op.i64_store, SCRATCH_PC, 3);
  countHeat(a);
  countRan(a, after);
  count(a);
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
export function jump(a: Asm, top: number): void {
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
  // L_N + L_S / 16 = the count with this instruction, at the target's slot (offset * 4 on)
  count(a);
  a.i32(1);
  a.o(Op.i32_add);
  a.get(P_SLOTS);
  a.get(L_C);
  a.o(Op.i32_wrap_i64);
  a.i32(2);
  a.o(Op.i32_shl, Op.i32_add);
  a.tee(L_S);
  a.i32(4);
  a.o(Op.i32_shr_u, Op.i32_sub);
  a.set(L_N);
  inc(a, L_BR);
  a.br(top);
  a.end();
  inc(a, L_N);
  leavePage(a, top);
}

/** SLOT_WASM_RAN += the instructions this call ran here: the count + `after`, less those before it (P_N0). */
export function countRan(a: Asm, after: number): void {
  a.get(P_RB);
  a.get(P_RB);
  a.mem(Op.i32_load, SLOT_WASM_RAN, 2);
  count(a);
  a.o(Op.i32_add);
  a.get(P_N0);
  a.o(Op.i32_sub);
  if (after !== 0) {
    a.i32(after);
    a.o(Op.i32_add);
  }
  a.mem(Op.i32_store, SLOT_WASM_RAN, 2);
}

/** The current page's table's heat += the branches taken in it since the last count (L_BR). */
export function countHeat(a: Asm): void {
  a.get(P_SLOTS);
  a.get(P_SLOTS);
  a.mem(Op.i32_load, TABLE_HEAT, 2);
  a.get(L_BR);
  a.o(Op.i32_add);
  a.mem(Op.i32_store, TABLE_HEAT, 2);
  a.i32(0);
  a.set(L_BR);
}

const TLB_ENTRIES = TLB_SIZE * TLB_CONTEXTS;

/**
 * Go on at L_TGT, outside this page (or not word aligned), with this instruction counted:
 * where the execute TLB maps the address (the tag, as the run loop and chain.ts probe it), into
 * that page's slot table when its column names one that may be entered (tableToEnter), else into
 * its translated code through the hub (chain.ts) when it has some; otherwise return with it.
 * (Every return to the run loop cost it ~60 ns of TLB lookup, page checks and the JS-to-wasm call:
 * a kit boot left its pages ~1.3 M times, a Debian boot went between translated code and the
 * wasm interpreter ~3.8 M times.)
 */
export function leavePage(a: Asm, top: number): void {
  countHeat(a);
  const miss = a.block();
  // pn = target >> 12 (L_C); L_T = its entry (chain.ts tlbEntry)
  a.get(L_TGT);
  a.i64(12);
  a.o(Op.i64_shr_s);
  a.set(L_C);
  tlbEntry(a, L_C, P_CTX, P_RB);
  a.set(L_T);
  // the tag (the integer one: soft-tlb.ts xTagI) and the alignment
  a.get(L_C);
  a.get(L_T);
  a.mem(Op.i64_load, SLOT_TLB_OFFSET + TLB_X_TAG * TLB_ENTRIES * 8, 3);
  a.o(Op.i64_ne);
  a.get(L_TGT);
  a.o(Op.i32_wrap_i64);
  a.i32(3);
  a.o(Op.i32_and, Op.i32_or);
  a.brIf(miss);
  const translated = a.block();
  tableToEnter(a, L_T, L_U, P_RB, translated);
  // In: the page's table, RAM, address and index; the entry counted as heat (L_BR) and marked.
  a.get(L_U);
  a.set(P_SLOTS);
  a.get(L_U);
  a.mem(Op.i32_load, TABLE_RAM, 2);
  a.set(P_RAM);
  a.get(L_TGT);
  a.i64(-4096);
  a.o(Op.i64_and);
  a.set(L_PCB);
  // (L_N follows the slot: the count stays.)
  count(a);
  a.get(L_TGT);
  a.o(Op.i32_wrap_i64);
  a.i32(0xfff);
  a.o(Op.i32_and);
  a.i32(2);
  a.o(Op.i32_shr_u);
  a.tee(L_IDX);
  a.i32(4);
  a.o(Op.i32_shl);
  a.get(P_SLOTS);
  a.o(Op.i32_add);
  a.tee(L_S);
  a.i32(4);
  a.o(Op.i32_shr_u, Op.i32_sub);
  a.set(L_N);
  a.get(L_IDX);
  a.get(L_U);
  a.o(Op.i32_add);
  a.i32(1);
  a.mem(Op.i32_store8, TABLE_ENTRIES, 0);
  a.i32(1);
  a.set(L_BR);
  a.br(top);
  a.end();
  // Translated (a table index in the code column, chain.ts): on through the hub.
  a.get(L_T);
  a.get(P_RB);
  a.o(Op.i32_sub);
  a.i32(1);
  a.o(Op.i32_shr_u);
  a.get(P_RB);
  a.o(Op.i32_add);
  a.mem(Op.i32_load, SLOT_TLB_OFFSET + TLB_X_CODE_BYTE, 2);
  a.o(Op.i32_eqz);
  a.brIf(miss);
  countRan(a, 0);
  a.get(L_TGT);
  count(a);
  a.get(P_BUDGET);
  a.get(P_RB);
  a.get(P_CTX);
  a.byte(Op.return_call);
  a.u32(FN_CHAIN);
  a.end();
  exit(a, () => a.get(L_TGT), 0);
}

/**
 * Push nothing; leave in local `u` the slot table that execute-TLB entry `t` (its byte offset
 * from rb, locals) names, or branch to `miss` when there is none to enter: the column names none
 * (the run loop's last entry to the page was not on this wasm interpreter), the table's
 * generation moved on (the page was dropped or translated since), or the page is hot enough for
 * the run loop to want it (its table's heat at SCRATCH_CHAIN_HEAT: it may have it translated).
 */
export function tableToEnter(a: Asm, t: number, u: number, rb: number, miss: number): void {
  a.get(t);
  a.mem(Op.i32_load, SLOT_TLB_OFFSET + TLB_X_WTABLE_BYTE, 2);
  a.tee(u);
  a.o(Op.i32_eqz);
  a.brIf(miss);
  a.get(u);
  a.mem(Op.i32_load, TABLE_GEN, 2);
  a.get(t);
  a.mem(Op.i32_load, SLOT_TLB_OFFSET + TLB_X_WTABLE_BYTE + 4, 2);
  a.o(Op.i32_ne);
  a.get(u);
  a.mem(Op.i32_load, TABLE_HEAT, 2);
  a.get(rb);
  a.mem(Op.i32_load, SCRATCH_CHAIN_HEAT, 2);
  a.o(Op.i32_ge_s, Op.i32_or);
  a.brIf(miss);
}

export function inc(a: Asm, l: number): void {
  a.get(l);
  a.i32(1);
  a.o(Op.i32_add);
  a.set(l);
}

/** L_TGT = this instruction's address + imm. */
export function target(a: Asm): void {
  a.pc();
  a.get(L_IMM);
  a.o(Op.i64_add);
  a.set(L_TGT);
}

/** Push the i64 in local l zero-extended from 32 bits. */
export function zext(a: Asm): void {
  a.i64(0xffffffff);
  a.o(Op.i64_and);
}

/**
 * Push the condition (ARM ARM J1 ConditionHolds, condHolds of exec/int-alu.ts) of the i32 pushed
 * by `cond`, inline (as a call of a function of its own it was ~7 ms of a kit boot).
 */
export function condHolds(a: Asm, cond: () => void): void {
  cond();
  a.set(L_CC);
  a.cases(
    T.void,
    () => {
      a.get(L_CC);
      a.i32(1);
      a.o(Op.i32_shr_u);
    },
    [0, 1, 2, 3, 4, 5, 6, 7].map((pair) => () => {
      condTest(a, pair, (f) => a.flag(f));
      a.set(L_CCR);
    }),
  );
  // Odd conditions invert, except 15 (NV is always, as AL).
  a.get(L_CCR);
  a.get(L_CC);
  a.i32(1);
  a.o(Op.i32_and);
  a.get(L_CC);
  a.i32(15);
  a.o(Op.i32_ne, Op.i32_and, Op.i32_xor);
}

/** Push (i32) whether condition `c`, a constant, holds: its one test, none of the others. */
export function condHoldsConst(a: Asm, c: number): void {
  condTest(a, c >> 1, (f) => a.flag(f));
  // Odd conditions invert, except 15 (NV is always, as AL).
  if ((c & 1) !== 0 && c !== 15) a.o(Op.i32_eqz);
}

/**
 * Push (i32) the test of condition pair c >> 1 (EQ, CS, MI, VS, HI, GE, GT, AL) on the flags, read
 * with `flag`; the odd conditions invert it (condHolds).
 */
function condTest(a: Asm, pair: number, flag: (f: keyof typeof FLAG) => void): void {
  switch (pair) {
    case 0:
      return flag('z');
    case 1:
      return flag('c');
    case 2:
      return flag('n');
    case 3:
      return flag('v');
    case 4:
      flag('c');
      flag('z');
      return a.o(Op.i32_eqz, Op.i32_and);
    case 5:
      flag('n');
      flag('v');
      return a.o(Op.i32_eq);
    case 6:
      flag('z');
      a.o(Op.i32_eqz);
      flag('n');
      flag('v');
      return a.o(Op.i32_eq, Op.i32_and);
    default:
      return a.i32(1);
  }
}


/** Push (i64) the mask of the operation's width: all ones when `sf` pushes 1, else the low word. */
export function widthMask(a: Asm, sf: () => void): void {
  sf();
  a.if(T.i64);
  a.i64(-1);
  a.else();
  a.i64(0xffffffff);
  a.end();
}

/** Push (i64) the index of the width's top bit: 63 when `sf` pushes 1, else 31. */
export function topBit(a: Asm, sf: () => void): void {
  sf();
  a.if(T.i64);
  a.i64(63);
  a.else();
  a.i64(31);
  a.end();
}
