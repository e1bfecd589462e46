// What an instruction emitter writes into: the function being built for one code page, its
// locals, and the few shapes every emitter needs (read/write a register slot, the flags, leave
// the function, chain to an instruction of the same page or to another page, run the
// interpreter's handler).
//
// The generated function (translate.ts) is
//   f(entry: i32, budget: i32, rb: i32, ctx: i32, pcLo: i32, pcHi: i32, n: i32) -> i32 executed
// rb is the wasm address of the CPU's slot (register file; regs.ts layout, X<n> at rb + 8n),
// ctx the byte offset of its current soft-TLB context, pcHi:pcLo the virtual address of the page
// (the same physical page may be mapped at several; in halves, as a double argument would be
// boxed on the JS heap at each of the run loop's calls), n the instructions already executed in this
// run of translated code (chained calls carry it on, chain.ts). On return, the next PC is the i64
// at rb + SCRATCH_PC, and the result is the number of instructions executed in all.
import { Bytes, Op, T } from './wasm.ts';
import { FN_CHAIN, FN_HELPER, FN_PAGE } from './chain.ts';
import { NF, ZF, CF, VF, REGFILE_BYTES, ZR } from '../regs.ts';

/** Where the function leaves the next PC (just past the register file, inside the CPU's slot). */
export const SCRATCH_PC = REGFILE_BYTES;

// Locals: the parameters, then the function's own.
export const L_ENTRY = 0;
export const L_BUDGET = 1;
export const L_RB = 2;
export const L_CTX = 3;
export const L_PCLO = 4;
export const L_PCHI = 5;
export const L_N = 6; // i32 (the last parameter): instructions executed so far in this run
export const L_IDX = 7; // i32: dispatch index
export const L_PCB = 8; // i64: page virtual address
export const L_A = 9; // i64 temporaries
export const L_B = 10;
export const L_C = 11;
export const L_R = 12;
export const L_VA = 13;
export const L_V2 = 14;
export const L_T = 15; // i32 temporaries
export const L_ADDR = 16;
/**
 * i32: instructions executed minus the index of the current instruction, set at each dispatch.
 * Along straight-line code it stays the same, so the count before instruction i is L_NB + i
 * (a constant add) and nothing is counted per instruction; a forward branch adjusts it.
 */
export const L_NB = 17;
/**
 * i32: 1 while entering an inner loop at its second entry (translate.ts: a loop entered in the
 * middle, as compilers lay out `while` loops), which skips the instructions before it once.
 */
export const L_ENT = 18;
export const LOCALS: [number, T][] = [[1, T.i32], [7, T.i64], [4, T.i32]];
/** The first local after LOCALS: inner loops' register locals (RegCache) are numbered from here. */
export const L_CACHE = 19;

/**
 * Which guest registers an inner loop keeps in wasm locals (translate.ts): X0..X30/SP as bit masks
 * over slots 0..31, NZCV as a 4-bit mask (n, z, c, v). `cached` are loaded into their locals when
 * the loop is entered; `dirty` (written somewhere in the loop) are stored back on every way out
 * of it: the run loop, a chained page, a dispatch, a branch out of the loop, and before a helper
 * call (the handler reads the register file; the cached ones are loaded again after it, as it may
 * have written any of them).
 */
export interface RegCache {
  x: number;
  xDirty: number;
  flags: number;
  flagsDirty: number;
}

const FLAGS = ['n', 'z', 'c', 'v'] as const;

/**
 * The budget is checked at each dispatch and after at most this many instructions without one:
 * translated code returns while fewer than BUDGET_SLACK instructions are left in the budget, and
 * the run loop interprets the rest one by one, so a run ends exactly where the interpreter's would.
 */
export const BUDGET_SLACK = 32;

export const FLAG_OFF = { n: NF * 4, z: ZF * 4, c: CF * 4, v: VF * 4 };

export class Emit extends Bytes {
  /** Index (0..1023) of the instruction being emitted, and its label (translate.ts). */
  idx = 0;
  label = 0;
  /** The label of each instruction of the page, -1 for those not translated. */
  labelOf = new Int32Array(0);
  /** Blocks/ifs opened by the current instruction's emitter (for branch depths to the loop). */
  depth = 0;
  /** Labels between the current instruction's code and the dispatch loop (translate.ts). */
  loopDepth = 0;
  /** The first instruction of the inner loop the current one is in, -1 outside one (translate.ts). */
  loopStart = -1;
  /**
   * 1 while emitting the part of an inner loop before its second entry: it sits in the `else` of
   * the `if` that skips it when the loop is entered there (translate.ts), one more construct
   * between the code and the loop.
   */
  skip = 0;
  /** The budget slack the dispatch checks (translate.ts): an inner loop's back edge checks it too. */
  slack = BUDGET_SLACK;
  /** The registers the inner loop being emitted keeps in locals (RegCache), or null. */
  cache: RegCache | null = null;
  /** The local of X<slot> (0..31) and of each flag while cached; page-wide (translate.ts assigns them). */
  readonly xLocal = new Int32Array(32).fill(-1);
  readonly flagLocal = new Int32Array(4).fill(-1);
  /** Locals beyond LOCALS this function declares (the register locals of its loops). */
  extraLocals: [number, T][] = [];
  /** Set for a dry run of a loop's body (translate.ts): the registers it reads and writes. */
  record: RegCache | null = null;
  /**
   * Outside inner loops, call a soft-TLB probe function of the module instead of inlining the
   * probe (emit-mem.ts): the baseline translation of code that runs a few times, where code size
   * (compile time, the host's instruction cache) matters more than a call per access.
   */
  outlineProbes = false;
  /** The probe functions this page calls (emit-mem.ts probeKey), in function-index order. */
  readonly probes: number[] = [];

  /** The function index of the probe function `key` (emit-mem.ts), added to the module at first use. */
  probeFn(key: number): number {
    let i = this.probes.indexOf(key);
    if (i < 0) {
      i = this.probes.length;
      this.probes.push(key);
    }
    return FN_PAGE + 1 + i;
  }

  /** Constructs between the code and the labels: the inner loop, and the `else` of its entry skip. */
  private get inLoop(): number {
    return (this.loopStart >= 0 ? 1 : 0) + this.skip;
  }


  /** The local caching X<slot> in the loop being emitted, or -1 (in the register file). */
  private cachedX(slot: number, write: boolean): number {
    if (slot >= 32) return -1;
    if (this.record !== null) {
      this.record.x |= 1 << slot;
      if (write) this.record.xDirty |= 1 << slot;
    }
    return this.cache !== null && (this.cache.x >>> slot) & 1 ? this.xLocal[slot]! : -1;
  }
  private cachedFlag(k: number, write: boolean): number {
    if (this.record !== null) {
      this.record.flags |= 1 << k;
      if (write) this.record.flagsDirty |= 1 << k;
    }
    return this.cache !== null && (this.cache.flags >>> k) & 1 ? this.flagLocal[k]! : -1;
  }

  /** Push X<slot> (a 64-bit slot of regs.ts, already XZR/SP-mapped by the decode prep). */
  x(slot: number): void {
    if (slot === ZR) {
      this.i64(0);
      return;
    }
    const l = this.cachedX(slot, false);
    if (l >= 0) {
      this.get(l);
      return;
    }
    this.get(L_RB);
    this.mem(Op.i64_load, slot * 8);
  }
  /** Push the low word of X<slot> as i32. */
  w(slot: number): void {
    if (slot === ZR) {
      this.i32(0);
      return;
    }
    const l = this.cachedX(slot, false);
    if (l >= 0) {
      this.get(l);
      this.op(Op.i32_wrap_i64);
      return;
    }
    this.get(L_RB);
    this.mem(Op.i32_load, slot * 8);
  }
  /** X<slot> = the i64 computed by `value`. */
  setX(slot: number, value: () => void): void {
    const l = this.cachedX(slot, true);
    if (l >= 0) {
      value();
      this.set(l);
      return;
    }
    this.get(L_RB);
    value();
    this.mem(Op.i64_store, slot * 8);
  }
  /** X<slot> = zero-extended i32 computed by `value` (32-bit forms clear the upper half). */
  setW(slot: number, value: () => void): void {
    this.setX(slot, () => {
      value();
      this.op(Op.i64_extend_i32_u);
    });
  }
  flag(f: keyof typeof FLAG_OFF): void {
    const l = this.cachedFlag(FLAGS.indexOf(f), false);
    if (l >= 0) {
      this.get(l);
      return;
    }
    this.get(L_RB);
    this.mem(Op.i32_load, FLAG_OFF[f]);
  }
  setFlag(f: keyof typeof FLAG_OFF, value: () => void): void {
    const l = this.cachedFlag(FLAGS.indexOf(f), true);
    if (l >= 0) {
      value();
      this.set(l);
      return;
    }
    this.get(L_RB);
    value();
    this.mem(Op.i32_store, FLAG_OFF[f]);
  }

  /** Load the cached registers of the loop being emitted into their locals (stack-neutral). */
  loadCache(): void {
    const c = this.cache;
    if (c === null) return;
    for (let s = 0; s < 32; s++) {
      if (((c.x >>> s) & 1) === 0) continue;
      this.get(L_RB);
      this.mem(Op.i64_load, s * 8);
      this.set(this.xLocal[s]!);
    }
    for (let k = 0; k < 4; k++) {
      if (((c.flags >>> k) & 1) === 0) continue;
      this.get(L_RB);
      this.mem(Op.i32_load, FLAG_OFF[FLAGS[k]!]);
      this.set(this.flagLocal[k]!);
    }
  }
  /** Store the loop's written registers back into the register file (stack-neutral). */
  storeCache(): void {
    const c = this.cache;
    if (c === null) return;
    for (let s = 0; s < 32; s++) {
      if (((c.xDirty >>> s) & 1) === 0) continue;
      this.get(L_RB);
      this.get(this.xLocal[s]!);
      this.mem(Op.i64_store, s * 8);
    }
    for (let k = 0; k < 4; k++) {
      if (((c.flagsDirty >>> k) & 1) === 0) continue;
      this.get(L_RB);
      this.get(this.flagLocal[k]!);
      this.mem(Op.i32_store, FLAG_OFF[FLAGS[k]!]);
    }
  }

  /** Open an `if` (void), tracking depth. */
  if(): void {
    this.op(Op.if);
    this.byte(T.void);
    this.depth++;
  }
  else(): void {
    this.op(Op.else);
  }
  block(): void {
    this.op(Op.block);
    this.byte(T.void);
    this.depth++;
  }
  end(): void {
    this.op(Op.end);
    this.depth--;
  }

  /** Push the virtual address of instruction `idx` + delta (an i64). */
  pcPlus(delta: number): void {
    this.get(L_PCB);
    if (delta !== 0) {
      this.i64(delta);
      this.op(Op.i64_add);
    }
  }

  /** Push (i32) the instructions executed before this one, plus `after`. */
  count(after: number): void {
    this.get(L_NB);
    const k = this.idx + after;
    if (k !== 0) {
      this.i32(k);
      this.op(Op.i32_add);
    }
  }

  /** Return to the run loop at the page offset `offset`, this instruction's count + `after` executed. */
  returnAt(offset: number, after: number): void {
    this.storeCache();
    this.get(L_RB);
    this.pcPlus(offset);
    this.mem(Op.i64_store, SCRATCH_PC);
    this.count(after);
    this.op(Op.return);
  }

  /**
   * Return to the run loop at instruction `at` of the page, counting the instructions before it,
   * when fewer than `slack` are left in the budget (straight lines, inner loops' back edges).
   */
  checkBudget(at: number): void {
    const after = at - this.idx;
    this.get(L_BUDGET);
    this.count(after);
    this.op(Op.i32_sub);
    this.i32(this.slack);
    this.op(Op.i32_lt_s);
    this.if();
    this.returnAt(at * 4, after);
    this.end();
  }

  /** Leave the page after this instruction for this instruction's address + delta (chained). */
  exitTo(delta: number): void {
    this.pcPlus(this.idx * 4 + delta);
    this.count(1);
    this.chain();
  }
  /** Leave the page after this instruction for the address in i64 local l (chained). */
  exitToLocal(l: number): void {
    this.get(l);
    this.count(1);
    this.chain();
  }
  /** With the target PC (i64) and the count (i32) pushed: go on there (chain.ts). */
  chain(): void {
    this.storeCache();
    this.get(L_BUDGET);
    this.get(L_RB);
    this.get(L_CTX);
    this.op(Op.return_call);
    this.u32(FN_CHAIN);
  }
  /** Return the count with this instruction executed; the next PC has been stored. */
  returnCounted(): void {
    this.storeCache();
    this.count(1);
    this.op(Op.return);
  }

  /** Set the count for a dispatch after this instruction (L_N), and dispatch to L_IDX. */
  private dispatch(): void {
    this.storeCache();
    this.count(1);
    this.set(L_N);
    this.op(Op.br);
    this.u32(this.depth + this.inLoop + this.loopDepth);
  }

  /**
   * A taken direct branch by `delta` bytes: to an instruction of this page, count this one and
   * dispatch there (chained, no return to TypeScript); elsewhere, return with that PC.
   */
  branch(delta: number): void {
    const target = this.idx * 4 + delta;
    if (target < 0 || target >= 4096) {
      this.exitTo(delta);
      return;
    }
    const t = target >>> 2;
    if (t === this.loopStart && t <= this.idx) {
      // The back edge of the inner loop: count this instruction (L_NB + t is the count at t),
      // check the budget as the dispatch would, and go round.
      this.get(L_NB);
      this.i32(this.idx + 1 - t);
      this.op(Op.i32_add);
      this.set(L_NB);
      this.checkBudget(t);
      this.op(Op.br);
      this.u32(this.depth + this.skip);
      return;
    }
    const lt = this.labelOf[t]!;
    if (t > this.idx && lt >= 0) {
      // Forward, to a translated instruction: straight to its label, which encloses this code
      // (the budget of this path is accounted for by translate.ts). Count: L_NB + t must be
      // this instruction's count + 1.
      const adjust = this.idx + 1 - t;
      this.storeCache(); // a label after the loop
      this.get(L_NB);
      this.i32(adjust);
      this.op(Op.i32_add);
      this.set(L_NB);
      this.op(Op.br);
      // Enclosing: this emitter's own blocks, the inner loop if in one, then the labels of the
      // instructions after this one.
      this.u32(this.depth + this.inLoop + lt - this.label - 1);
      return;
    }
    this.i32(t);
    this.set(L_IDX);
    // Enclosing: this emitter's own blocks, then the later instruction labels and $miss, then the loop.
    this.dispatch();
  }

  /**
   * A taken indirect branch to the i64 in local l (BR/BLR/RET): into this page, dispatch there in
   * wasm (switch tables, returns to a caller in the same page); elsewhere, return with that PC.
   * An in-page target is indexed as the interpreter does (offset >> 2).
   */
  branchToLocal(l: number): void {
    this.get(l);
    this.get(L_PCB);
    this.op(Op.i64_sub);
    this.set(L_C);
    this.get(L_C);
    this.i64(4096);
    this.op(Op.i64_lt_u);
    this.if();
    this.get(L_C);
    this.op(Op.i32_wrap_i64);
    this.i32(2);
    this.op(Op.i32_shr_u);
    this.set(L_IDX);
    this.dispatch();
    this.end();
    this.exitToLocal(l);
  }

  /**
   * Run the interpreter's handler of this instruction (TypeScript, translate.ts's helper): the
   * fallback of anything without an emitter and of every slow memory access. The helper returns
   * non-zero when the block must end (a branch was taken, or an exit requested), having stored
   * the next PC.
   */
  interp(): void {
    this.storeCache();
    this.count(0);
    this.i32(this.idx);
    this.get(L_PCB);
    this.op(Op.f64_convert_i64_s);
    this.op(Op.call);
    this.u32(FN_HELPER);
    // The handler may have written any register: the loop's locals are loaded again (and so hold
    // what the register file holds, which the return below need not store back).
    this.loadCache();
    const cache = this.cache;
    this.cache = null;
    this.if();
    this.returnCounted();
    this.end();
    this.cache = cache;
  }

  /** Push ConditionHolds(cond) as i32 0/1 (ARM ARM J1 shared/functions/system/ConditionHolds). */
  cond(cond: number): void {
    const base = cond >> 1;
    switch (base) {
      case 0:
        this.flag('z');
        break;
      case 1:
        this.flag('c');
        break;
      case 2:
        this.flag('n');
        break;
      case 3:
        this.flag('v');
        break;
      case 4: // HI: C && !Z
        this.flag('z');
        this.i32(1);
        this.op(Op.i32_xor);
        this.flag('c');
        this.op(Op.i32_and);
        break;
      case 5: // GE: N == V
        this.flag('n');
        this.flag('v');
        this.op(Op.i32_eq);
        break;
      case 6: // GT: N == V && !Z
        this.flag('n');
        this.flag('v');
        this.op(Op.i32_eq);
        this.flag('z');
        this.op(Op.i32_eqz);
        this.op(Op.i32_and);
        break;
      default:
        this.i32(1); // AL and NV
        return;
    }
    if (cond & 1) {
      this.i32(1);
      this.op(Op.i32_xor);
    }
  }
}
