// Chaining between translated pages: a page function that leaves its page (a branch elsewhere,
// falling off its end, BR/RET out of it) goes straight on into the next page's function when that
// page is translated and its mapping is known, without returning to TypeScript (v86 and QEMU
// chain their blocks the same way). Kernel code calls helpers on other pages all the time, and a
// return to the run loop per page change cost more than the code it ran.
//
// How the target is found: every translated page function has an index in one funcref table per
// guest memory. The CPU's execute TLB (soft-tlb.ts) lives in its slot of the wasm memory, with a
// column of table indices beside the tags; the run loop keeps that column up to date (the index
// of the page it entered, 0 when the page has no translation). Generated code probes it exactly
// as the run loop does (tag = virtual page number in the current TLB context) and tail-calls
// (return_call_indirect, so chains never grow the stack) the page function with the instruction
// count so far. A miss stores the target PC and returns to the run loop, which takes it from there.
//
// The chain function and the table live in one module instance per guest memory, the hub
// (CodeTable); page modules import the hub's chain function, not the table. V8 (Node 20) keeps a
// copy of an imported table's dispatch entries in every instance that imports it: instantiating
// cost O(table size), and every Table.set updated every such instance (36 us a set with ~1000
// translated pages), quadratic in the pages translated. A call into another instance's function is
// as direct as a call within one.
//
// Index 0 is the bounce: a page function that only returns to the run loop with the PC it was
// entered at. A dropped translation (its page was written, or it was retranslated) gets the bounce
// in its table entry, so a stale TLB column can never run old code; indices are never reused.
// Index 1 (WASM_INTERPRETER_INDEX) is the wasm interpreter's entry (winterp.ts chainIn): a mapped
// page with no translation (column 0) goes on there, and the wasm interpreter goes into
// translated pages through this chain function, so code moves between the two without returning
// to the run loop.
import { Bytes, buildModule, Op, T, type Import, type WasmFunction } from './wasm.ts';
import { SLOT_TLB_OFFSET } from './guest-memory.ts';
import { TLB_MASK, TLB_X_CODE_BYTE, TLB_SIZE, TLB_CONTEXTS, TLB_X_TAG } from '../soft-tlb.ts';
import { SCRATCH_PC } from './emitter.ts';

/** A page function: f(entry, budget, rb, ctx, pcLo, pcHi, n) -> instructions executed (emitter.ts). */
export type PageFn = (entry: number, budget: number, rb: number, ctx: number, pcLo: number, pcHi: number, n: number) => number;

/** The helper every page imports: run instruction idx of the page at pcBase by its handler. */
export type Helper = (n: number, idx: number, pcBase: number) => number;

// Function types of every module: the page function, the helper, the chain function.
export const TYPE_PAGE = 0;
export const TYPE_HELPER = 1;
export const TYPE_CHAIN = 2;
/** A page module's soft-TLB probe (emit-mem.ts probeFunction): (va, rb, ctx) -> wasm address or -1. */
export const TYPE_PROBE = 3;
export const TYPES: [T[], T][] = [
  [[T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.i32], T.i32],
  [[T.i32, T.i32, T.f64], T.i32],
  [[T.i64, T.i32, T.i32, T.i32, T.i32], T.i32],
  [[T.i64, T.i32, T.i32], T.i32],
];
/**
 * Function indices in a page module: the imported helper and chain function, the page function,
 * then the probe functions it calls (emitter.ts probeFn).
 */
export const FN_HELPER = 0;
export const FN_CHAIN = 1;
export const FN_PAGE = 2;
/** What a page module imports: the guest memory, the helper, the hub's chain function. */
export const PAGE_IMPORTS: Import[] = [
  { name: 'm', kind: 'memory' },
  { name: 'h', kind: 'func', type: TYPE_HELPER },
  { name: 'c', kind: 'func', type: TYPE_CHAIN },
];

const TLB_ENTRIES = TLB_SIZE * TLB_CONTEXTS;

/**
 * tlbEntry's `ctx` for the EL0 soft-TLB context (soft-tlb.ts setTlbContext: EL0's entries come
 * first) instead of a local: LDTR/STTR at EL1, checked with EL0's permissions (pe.ts
 * beginUnprivileged). Guest code runs at EL0 or EL1 only (EL2 is the TypeScript hypervisor), so
 * an unprivileged access always probes it.
 */
export const EL0_CTX = -1;

/**
 * Push (i32) the address of the soft-TLB entry of the page number in i64 local `pn`: rb + ctx +
 * (pn & TLB_MASK) * 8 (locals rb, ctx: the CPU's slot and TLB context; ctx EL0_CTX: EL0's, which
 * is 0), to which each array's offset in the slot is added (soft-tlb.ts). The probe of every kind
 * of code: the chain function, translated loads and stores (emit-mem.ts), the wasm interpreter's
 * (winterp-asm.ts).
 */
export function tlbEntry(e: Bytes, pn: number, ctx: number, rb: number): void {
  e.get(pn);
  e.op(Op.i32_wrap_i64);
  e.i32(TLB_MASK);
  e.op(Op.i32_and);
  e.i32(3);
  e.op(Op.i32_shl);
  if (ctx !== EL0_CTX) {
    e.get(ctx);
    e.op(Op.i32_add);
  }
  e.get(rb);
  e.op(Op.i32_add);
}

/**
 * chain(target: i64, n: i32, budget: i32, rb: i32, ctx: i32) -> i32: continue at `target` with n
 * instructions executed: tail-call its page's function when the execute TLB has it, else store
 * the PC and return n. The hub's one function.
 */
function chainFunction(): WasmFunction {
  const TARGET = 0, N = 1, BUDGET = 2, RB = 3, CTX = 4, PN = 5, TI = 6, CODE = 7;
  const e = new Bytes();
  const op = (...ops: number[]) => {
    for (const o of ops) e.byte(o);
  };
  const get = (l: number) => (op(Op.local_get), e.u32(l));
  const set = (l: number) => (op(Op.local_set), e.u32(l));
  const mem = (o: Op, offset: number, align: number) => (op(o), e.u32(align), e.u32(offset));
  // pn = target >> 12; ti = rb + ctx + (pn & TLB_MASK) * 8 (byte address of the tag)
  get(TARGET);
  op(Op.i64_const);
  e.s64(12);
  op(Op.i64_shr_s);
  set(PN);
  tlbEntry(e, PN, CTX, RB);
  set(TI);
  // Hit: the tag matches (the integer one, soft-tlb.ts xTagI) and the target is word aligned
  // (else the run loop raises the PC alignment fault).
  get(PN);
  get(TI);
  mem(Op.i64_load, SLOT_TLB_OFFSET + TLB_X_TAG * TLB_ENTRIES * 8, 3);
  op(Op.i64_eq);
  get(TARGET);
  op(Op.i32_wrap_i64, Op.i32_const);
  e.s32(3);
  op(Op.i32_and, Op.i32_eqz, Op.i32_and);
  op(Op.if, T.void);
  // the table index: the Int32 column, entry (ti - rb) / 8
  get(TI);
  get(RB);
  op(Op.i32_sub, Op.i32_const);
  e.s32(1);
  op(Op.i32_shr_u);
  get(RB);
  op(Op.i32_add);
  mem(Op.i32_load, SLOT_TLB_OFFSET + TLB_X_CODE_BYTE, 2);
  set(CODE);
  // None: the page runs on the wasm interpreter, whose entry is at WASM_INTERPRETER_INDEX.
  get(CODE);
  op(Op.i32_eqz, Op.if, T.void);
  get(TARGET);
  get(N);
  get(BUDGET);
  get(RB);
  get(CTX);
  op(Op.i32_const);
  e.s32(WASM_INTERPRETER_INDEX);
  op(Op.return_call_indirect);
  e.u32(TYPE_CHAIN);
  e.u32(0); // table 0
  op(Op.end);
  // f(entry, budget, rb, ctx, pcLo, pcHi, n)
  get(TARGET);
  op(Op.i32_wrap_i64, Op.i32_const);
  e.s32(0xffc);
  op(Op.i32_and, Op.i32_const);
  e.s32(2);
  op(Op.i32_shr_u);
  get(BUDGET);
  get(RB);
  get(CTX);
  get(TARGET);
  op(Op.i32_wrap_i64, Op.i32_const);
  e.s32(-4096);
  op(Op.i32_and);
  get(TARGET);
  op(Op.i64_const);
  e.s64(32);
  op(Op.i64_shr_s, Op.i32_wrap_i64);
  get(N);
  get(CODE);
  op(Op.return_call_indirect);
  e.u32(TYPE_PAGE);
  e.u32(0); // table 0
  op(Op.end);
  get(RB);
  get(TARGET);
  mem(Op.i64_store, SCRATCH_PC, 3);
  get(N);
  return { type: TYPE_CHAIN, locals: [[1, T.i64], [2, T.i32]], body: e };
}

/** Where the chain function goes into the wasm interpreter (winterp.ts chainIn): its table index. */
export const WASM_INTERPRETER_INDEX = 1;

/** Until the wasm interpreter is there (or without one): chain(target, n, ...) stores the PC and returns n. */
function noInterpreterFunction(): WasmFunction {
  const e = new Bytes();
  e.get(3);
  e.get(0);
  e.byte(Op.i64_store);
  e.u32(3);
  e.u32(SCRATCH_PC);
  e.get(1);
  return { type: TYPE_CHAIN, locals: [], body: e };
}

/** The bounce (table index 0): return to the run loop at pcBase + entry * 4 with n executed. */
function bounceFunction(): WasmFunction {
  const e = new Bytes();
  // rb, (pcHi << 32 | pcLo) + entry * 4
  e.get(2);
  e.i64Halves(4, 5);
  e.bytes([Op.local_get, 0, Op.i64_extend_i32_u, Op.i64_const, 2, Op.i64_shl, Op.i64_add]);
  e.byte(Op.i64_store);
  e.u32(3);
  e.u32(SCRATCH_PC);
  e.bytes([Op.local_get, 6]);
  return { type: TYPE_PAGE, locals: [], body: e };
}

/** The funcref table of one guest memory's page functions, and the hub that chains through it. */
export class CodeTable {
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: 1024 });
  /** The hub's chain function: what page modules import as e.c. */
  readonly chain: WebAssembly.ExportValue;
  private next = WASM_INTERPRETER_INDEX + 1;
  private readonly bounce: PageFn;

  constructor(readonly memory: WebAssembly.Memory) {
    const hub = buildModule(TYPES, [{ name: 'm', kind: 'memory' }, { name: 't', kind: 'table' }], [chainFunction()]);
    this.chain = new WebAssembly.Instance(new WebAssembly.Module(hub as Uint8Array<ArrayBuffer>), { e: { m: memory, t: this.table } }).exports.f!;
    const bounce = buildModule(TYPES, [{ name: 'm', kind: 'memory' }], [bounceFunction(), noInterpreterFunction()], ['f', 'g']);
    const stubs = new WebAssembly.Instance(new WebAssembly.Module(bounce as Uint8Array<ArrayBuffer>), { e: { m: memory } }).exports;
    this.bounce = stubs.f as unknown as PageFn;
    this.table.set(0, this.bounce as unknown as WebAssembly.ExportValue);
    this.table.set(WASM_INTERPRETER_INDEX, stubs.g!);
  }

  /** The wasm interpreter's entry from translated code (winterp.ts chainIn). */
  setWasmInterpreter(chainIn: WebAssembly.ExportValue): void {
    this.table.set(WASM_INTERPRETER_INDEX, chainIn);
  }

  /** Enter a page function; its table index. */
  add(fn: PageFn): number {
    if (this.next === this.table.length) this.table.grow(this.table.length);
    const i = this.next++;
    this.table.set(i, fn as unknown as WebAssembly.ExportValue);
    return i;
  }

  /** A translation is gone: its index bounces to the run loop from now on (never reused). */
  release(i: number): void {
    if (i > 0) this.table.set(i, this.bounce as unknown as WebAssembly.ExportValue);
  }

  /** Indices handed out so far (statistics). */
  get size(): number {
    return this.next - 1 - WASM_INTERPRETER_INDEX;
  }
}
