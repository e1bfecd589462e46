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
// out of the page, the end of the page, the budget, an exit request), with the conventions of a
// translated page (chain.ts PageFn; its last arguments are the page's slot table and RAM offset
// instead of a count): it returns the instructions executed and leaves the next PC at SCRATCH_PC. Everything
// it has no operation for -- and every memory access that misses the soft TLB or crosses a page --
// runs the interpreter's handler through the translator's helper (cpu.ts jitHelper), so faults,
// MMIO, system registers and exceptions are the interpreter's own, exactly.
//
// The decode tables stay the one description of the ISA: each instruction is decoded by them (in
// JavaScript, once per distinct word: a memo in wasm memory, fillFunction below) and its handler
// and prepared fields are packed into a 16-byte slot of the page's slot table (winterp-pack.ts),
// which the wasm side reads. Handlers without a packer get the helper operation. A page's slot table lives in an arena at the end of the wasm memory
// (guest-memory.ts); a written page is a new DecodedPage with a fresh table (code-cache.ts).
//
// Slot: op u8 | a u8 | b u8 | c u8 | imm i32 | imm2 i32 | p0 p1 p2 p3 u8 (a, b, c: register slots
// of regs.ts, XZR/SP already mapped by the decode; op 0: not decoded yet, the function asks).
import { buildModule, Op, T, type WasmFunction } from './wasm.ts';
import { aluBody } from './winterp-alu.ts';
import { memBody } from './winterp-mem.ts';
import { Asm, count, countHeat, countRan, FN_DECODE, FN_FILL, FN_HELPER, FN_INTERP, idx, L_IMM, L_LIM, L_N, L_OP, L_PCB, L_RA, L_RBN, L_RC, L_S, L_T, L_TGT, MODULE_TYPES, P_BUDGET, P_CTX, P_ENTRY, P_N0, P_PCHI, P_PCLO, P_RAM, P_RB, P_SLOTS, TYPE_DECODE, TYPE_FILL, TYPE_FN, TYPE_HELPER, condHoldsConst, exit, jump, leavePage, tableToEnter, target } from './winterp-asm.ts';
import { TYPE_CHAIN, tlbEntry } from './chain.ts';
import { SCRATCH_PC } from './emitter.ts';
import { OP_B, OP_BCOND, OP_BL, OP_BLR, OP_BR, OP_CBZ32, OP_CBZ64, OP_COUNT, OP_HELPER, OP_ISB, OP_MRS_ID, OP_DAIFSET, OP_DAIFCLR, OP_MSR_DAIF, OP_IC, OP_MRS, OP_MSR, OP_NONE, OP_NOP, OP_TBZ, SCRATCH_MEMO, TABLE_ENTRIES, TABLE_HEAT, TABLE_RAM } from './winterp-ops.ts';
import { CPU_FLAG_IC, CPU_FLAG_ID, CPU_FLAG_IRQ, MEMO_ENTRY_BYTES, MEMO_SET_BITS, MEMO_WAYS, SLOT_CPU_FLAGS, SLOT_DAIF, SLOT_WASM_EXIT, SLOT_WASM_LIM } from './guest-memory.ts';
export { SLOT_BYTES, SLOTS_BYTES } from './winterp-ops.ts';
export { pack } from './winterp-pack.ts';

// ---------------------------------------------------------------------------------------------
// The module.

/**
 * The function: f(entry, budget, rb, ctx, pcBase low word, pcBase high word, slots, ram, n0) ->
 * instructions executed, n0 (0 from the run loop) included (ram: the page's RAM offset).
 */
export type WasmInterpreterFn = (entry: number, budget: number, rb: number, ctx: number, pcLo: number, pcHi: number, slots: number, ram: number, n0: number) => number;

/** Where an operation's body goes on: see body. */
interface Labels {
  next: number;
  top: number;
  helper: number;
  /** A conditional branch taken (to the PC + the slot's offset). */
  taken: number;
}

/**
 * The operation bodies: each leaves by br next (done, fall through to the next instruction), top
 * (jumped within the page), helper, or a return. Each starts by computing the operands it reads
 * (its registers' addresses, the immediate) from the slot, and only those.
 */
function body(a: Asm, op: number, L: Labels): void {
  const emit = (b: Asm): void => {
    if (!branchOrSysBody(b, op, L) && !aluBody(b, op) && !memBody(b, op, L.helper)) throw new Error(`winterp: no body for operation ${op}`);
  };
  const used = a.used(emit);
  // the registers' addresses: rb + slot * 8 (their slot numbers are the bytes after op)
  for (const [l, k] of [[L_RA, 1], [L_RBN, 2], [L_RC, 3]] as const) {
    if (!used.has(l)) continue;
    a.get(L_OP);
    a.i32(8 * k - 3);
    a.o(Op.i32_shr_u);
    a.i32(0xff << 3);
    a.o(Op.i32_and);
    a.get(P_RB);
    a.o(Op.i32_add);
    a.set(l);
  }
  if (used.has(L_IMM)) {
    a.get(L_S);
    a.mem(Op.i64_load32_s, 4, 2);
    a.set(L_IMM);
  }
  emit(a);
  a.br(L.next);
}

/** Branches, hints and the slot registers' MRS/MSR (true), or false when `op` is not one. */
function branchOrSysBody(a: Asm, op: number, L: Labels): boolean {
  if (op >= OP_BCOND && op < OP_BCOND + 16) {
    // (The condition is the operation's: a constant, so no jump table of conditions.)
    condHoldsConst(a, op - OP_BCOND);
    a.brIf(L.taken);
    return true;
  }
  for (const base of [OP_CBZ64, OP_CBZ32, OP_TBZ]) {
    if (op !== base && op !== base + 1) continue;
    // CBZ/CBNZ, TBZ/TBNZ (NZ the operation's): the register zero, or the bit clear...
    if (base === OP_CBZ64) {
      a.x(L_RA);
      a.o(Op.i64_eqz);
    } else if (base === OP_CBZ32) {
      a.w(L_RA);
      a.o(Op.i32_eqz);
    } else {
      a.x(L_RA);
      a.p(1);
      a.o(Op.i64_extend_i32_u, Op.i64_shr_u, Op.i32_wrap_i64);
      a.i32(1);
      a.o(Op.i32_and, Op.i32_eqz);
    }
    // ...taken unless NZ
    if (op === base + 1) a.o(Op.i32_eqz);
    a.brIf(L.taken);
    return true;
  }
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
        // An unmask ends the block only when an interrupt may be taken (the CPU flags word, as
        // ISB): with none asserted, nothing it unmasks can be taken before something asserts
        // one, which ends the block then (int-sys.ts msrImm).
        a.get(P_RB);
        a.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
        a.i32(CPU_FLAG_IRQ);
        a.o(Op.i32_and);
        a.if();
      }
      // The block ends after it (the handlers' exitRequest), and the run loop is told so.
      a.get(P_RB);
      a.i32(1);
      a.mem(Op.i32_store, SLOT_WASM_EXIT, 2);
      exit(a, () => a.pc(4), 1);
      if (op !== OP_IC) a.end();
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
  a.get(P_N0);
  a.get(P_SLOTS);
  a.get(P_ENTRY);
  a.i32(4);
  a.o(Op.i32_shl, Op.i32_add);
  a.tee(L_S);
  a.i32(4);
  a.o(Op.i32_shr_u, Op.i32_sub);
  a.set(L_N);
  a.i64Halves(P_PCLO, P_PCHI);
  a.set(L_PCB);
  // $check: where execution lands in a page (the entry, a jump, another page). The budget,
  // exactly: the run loop's block would stop here too. Then the slot where the straight line from
  // here must stop (SLOT_WASM_LIM): the end of the page or of the budget, whichever comes first,
  // so that $next makes one comparison for both.
  const check = a.loop();
  count(a);
  a.get(P_BUDGET);
  a.o(Op.i32_ge_s);
  a.if();
  exit(a, () => a.pc(), 0);
  a.end();
  // L_S + 16 * min(budget - count, slots left in the page), in the CPU slot (SLOT_WASM_LIM)
  a.get(P_RB);
  a.get(L_S);
  a.get(P_BUDGET);
  count(a);
  a.o(Op.i32_sub);
  a.tee(L_LIM);
  a.get(P_SLOTS);
  a.i32(1024 * 16);
  a.o(Op.i32_add);
  a.get(L_S);
  a.o(Op.i32_sub);
  a.i32(4);
  a.o(Op.i32_shr_u);
  a.tee(L_T);
  a.get(L_LIM);
  a.get(L_T);
  a.o(Op.i32_lt_s, Op.select);
  a.i32(4);
  a.o(Op.i32_shl, Op.i32_add);
  a.mem(Op.i32_store, SLOT_WASM_LIM, 2);
  const top = a.loop();
  // L_OP = the slot's first word, op | a | b | c (one load for the four)
  a.get(L_S);
  a.mem(Op.i32_load, 0, 2);
  a.set(L_OP);
  const next = a.block();
  const taken = a.block();
  const helper = a.block();
  const fill = a.block();
  const labels: number[] = [];
  for (let op = OP_COUNT - 1; op >= OP_NOP; op--) labels[op] = a.block();
  labels[OP_NONE] = fill;
  labels[OP_HELPER] = helper;
  a.get(L_OP);
  a.i32(0xff);
  a.o(Op.i32_and);
  a.brTable(labels, helper);
  for (let op = OP_NOP; op < OP_COUNT; op++) {
    a.end();
    body(a, op, { next, top: check, helper, taken });
  }
  a.end();
  // $fill: op 0, a slot not decoded yet: decode it (fillFunction), then dispatch it.
  idx(a);
  a.get(L_S);
  a.get(P_RAM);
  a.get(P_RB);
  a.mem(Op.i32_load, SCRATCH_MEMO, 2);
  a.byte(Op.call);
  a.u32(FN_FILL);
  a.o(Op.drop);
  a.br(top);
  a.end();
  // $helper: the interpreter's handler; non-zero when the block ends there (the helper stored the PC).
  count(a);
  idx(a);
  a.get(L_PCB);
  a.o(Op.f64_convert_i64_s);
  a.get(P_SLOTS);
  a.byte(Op.call);
  a.u32(FN_HELPER);
  a.if();
  countHeat(a);
  countRan(a, 1);
  count(a);
  a.i32(1);
  a.o(Op.i32_add, Op.return);
  a.end();
  a.br(next);
  a.end();
  // $taken: a conditional branch taken (one copy of the jump for the B.cond, CBZ and TBZ
  // operations): to the PC + the slot's offset.
  a.pc();
  a.get(L_S);
  a.mem(Op.i64_load32_s, 4, 2);
  a.o(Op.i64_add);
  a.set(L_TGT);
  jump(a, check);
  a.end();
  // $next: the instruction is done; the next one (counted by its slot), unless the straight line
  // stops there.
  a.get(L_S);
  a.i32(16);
  a.o(Op.i32_add);
  a.tee(L_S);
  a.get(P_RB);
  a.mem(Op.i32_load, SLOT_WASM_LIM, 2);
  a.o(Op.i32_ne);
  a.brIf(top);
  // past the page: on into the next one; else the budget is spent
  a.get(L_S);
  a.get(P_SLOTS);
  a.o(Op.i32_sub);
  a.i32(1024 * 16);
  a.o(Op.i32_eq);
  a.if();
  a.pc();
  a.set(L_TGT);
  leavePage(a, check);
  a.end();
  exit(a, () => a.pc(), 0);
  a.end();
  a.end();
  a.o(Op.unreachable);
  return { type: TYPE_FN, locals: [[11, T.i32], [8, T.i64], [3, T.i32]], body: a };
}

/**
 * fill(idx, s, ram, memo) -> op: slot s of instruction idx (its word at ram + idx * 4), from the
 * decoder's memo when it holds that word, else packed by the decode import (JavaScript: the
 * tables, then `pack`), which also enters it in the memo. A slot depends only on the word and the
 * decoder (fields are relative to the PC), and kernels repeat their words across pages: the kit
 * boot fills ~190 K slots from ~56 K distinct words, and a memo hit costs no call out of wasm.
 * Entry (MEMO_ENTRY_BYTES): the slot's 16 bytes, then the word; op 0 (never packed) is empty.
 * MEMO_WAYS entries a set: a word is looked for in each; the decode import moves the set's
 * entries down one way (the last one's dropped) and fills the first. Direct-mapped, a memo kept
 * from an earlier run (winterp-memo.ts) had lost a third of the kit's words to collisions.
 */
function fillFunction(): WasmFunction {
  const a = new Asm();
  const IDX = 0, S = 1, RAM = 2, MEMO = 3, W = 4, E = 5, OPL = 6;
  a.get(MEMO);
  a.o(Op.i32_eqz);
  a.if();
  a.get(IDX);
  a.i32(0);
  a.get(S);
  a.get(RAM);
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
  // The JavaScript decoder's memo hash (decode/pattern.ts), set-sized.
  a.i32(0x9e3779b1 | 0);
  a.o(Op.i32_mul);
  a.i32(32 - MEMO_SET_BITS);
  a.o(Op.i32_shr_u);
  a.i32(Math.log2(MEMO_ENTRY_BYTES * MEMO_WAYS));
  a.o(Op.i32_shl);
  a.get(MEMO);
  a.o(Op.i32_add);
  a.set(E);
  for (let way = 0; way < MEMO_WAYS; way++) {
    const at = way * MEMO_ENTRY_BYTES;
    a.get(E);
    a.mem(Op.i32_load, at + 16, 2);
    a.get(W);
    a.o(Op.i32_eq);
    a.get(E);
    a.mem(Op.i32_load8_u, at);
    a.tee(OPL);
    a.i32(0);
    a.o(Op.i32_ne, Op.i32_and);
    a.if();
    for (const o of [0, 8]) {
      a.get(S);
      a.get(E);
      a.mem(Op.i64_load, at + o, 3);
      a.mem(Op.i64_store, o, 3);
    }
    a.get(OPL);
    a.o(Op.return);
    a.end();
  }
  a.get(IDX);
  a.get(E);
  a.get(S);
  a.get(RAM);
  a.byte(Op.call);
  a.u32(FN_DECODE);
  return { type: TYPE_FILL, locals: [[3, T.i32]], body: a };
}

/**
 * chainIn(target, n, budget, rb, ctx) -> i32 (chain.ts TYPE_CHAIN): translated code going on at
 * `target`, a page with no translation that the execute TLB maps (the hub checked the tag): into
 * the interpreter function with n executed, when the page's table may be entered (tableToEnter);
 * else store the PC and return n (to the run loop), as the hub's miss does.
 */
function chainInFunction(): WasmFunction {
  const a = new Asm();
  const TARGET = 0, N = 1, BUDGET = 2, RB = 3, CTX = 4, TI = 5, U = 6, IDX = 7, PN = 8;
  const miss = a.block();
  a.get(TARGET);
  a.i64(12);
  a.o(Op.i64_shr_s);
  a.set(PN);
  tlbEntry(a, PN, CTX, RB);
  a.set(TI);
  tableToEnter(a, TI, U, RB, miss);
  // the entry (IDX) marked and counted as heat
  a.get(TARGET);
  a.o(Op.i32_wrap_i64);
  a.i32(0xfff);
  a.o(Op.i32_and);
  a.i32(2);
  a.o(Op.i32_shr_u);
  a.tee(IDX);
  a.get(U);
  a.o(Op.i32_add);
  a.i32(1);
  a.mem(Op.i32_store8, TABLE_ENTRIES, 0);
  a.get(U);
  a.get(U);
  a.mem(Op.i32_load, TABLE_HEAT, 2);
  a.i32(1);
  a.o(Op.i32_add);
  a.mem(Op.i32_store, TABLE_HEAT, 2);
  // f(entry, budget, rb, ctx, pcLo, pcHi, slots, ram, n)
  a.get(IDX);
  a.get(BUDGET);
  a.get(RB);
  a.get(CTX);
  a.get(TARGET);
  a.o(Op.i32_wrap_i64);
  a.i32(-4096);
  a.o(Op.i32_and);
  a.get(TARGET);
  a.i64(32);
  a.o(Op.i64_shr_s, Op.i32_wrap_i64);
  a.get(U);
  a.get(U);
  a.mem(Op.i32_load, TABLE_RAM, 2);
  a.get(N);
  a.byte(Op.return_call);
  a.u32(FN_INTERP);
  a.end();
  a.get(RB);
  a.get(TARGET);
  a.mem(Op.i64_store, SCRATCH_PC, 3);
  a.get(N);
  return { type: TYPE_CHAIN, locals: [[3, T.i32], [1, T.i64]], body: a };
}

let moduleBytes: Uint8Array | null = null;
/** The module's bytes (built once per process). */
export function wasmInterpreterBytes(): Uint8Array {
  if (moduleBytes === null) {
    moduleBytes = buildModule(
      MODULE_TYPES,
      [
        { name: 'm', kind: 'memory' },
        { name: 'h', kind: 'func', type: TYPE_HELPER },
        { name: 'd', kind: 'func', type: TYPE_DECODE },
        { name: 'c', kind: 'func', type: TYPE_CHAIN },
      ],
      [interpreterFunction(), chainInFunction(), fillFunction()],
      ['f', 'g'],
    );
  }
  return moduleBytes;
}

/**
 * Pack instruction idx of the page whose RAM offset is `ram` into its slot (wasm address `at`),
 * and into memo entry `entry` unless 0; returns its op.
 */
export type DecodeImport = (idx: number, entry: number, at: number, ram: number) => number;
/** The translator's helper (chain.ts Helper) with the slot table of the page being run. */
export type HelperImport = (n: number, idx: number, pcBase: number, slots: number) => number;

/**
 * Instantiate the interpreter over a guest memory with the run loop's helper and decoder and the
 * hub's chain function (chain.ts): the function, and its entry from translated code (for the
 * hub's table, CodeTable.setWasmInterpreter).
 */
export function instantiateWasmInterpreter(module: WebAssembly.Module, memory: WebAssembly.Memory, helper: HelperImport, decode: DecodeImport, chain: WebAssembly.ExportValue): { run: WasmInterpreterFn; chainIn: WebAssembly.ExportValue } {
  const inst = new WebAssembly.Instance(module, { e: { m: memory, h: helper, d: decode, c: chain } });
  return { run: inst.exports.f as unknown as WasmInterpreterFn, chainIn: inst.exports.g! };
}
