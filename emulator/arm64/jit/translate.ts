// Translation of one decoded code page into one wasm function (v86 compiles per physical page the
// same way). Every instruction of the page gets a label in a dispatch `loop { br_table }`, so the
// function can be entered at any instruction and direct branches inside the page chain to their
// target without leaving wasm. Instructions are laid out in order and fall through to the next.
//
// Before each instruction the budget is checked (the interpreter's `n >= budget` after each
// instruction), so a call ends exactly where the interpreter's block would, and time (instret) is
// charged the same: runs stay deterministic and identical with the translator on or off.
//
// What an instruction compiles to is chosen by the handler the decoder picked for its word (the
// decode tables stay the one ISA description): an emitter registered for that handler
// (emit-alu.ts, emit-branch.ts, emit-mem.ts), or a call of the handler itself through the one
// imported helper, which returns non-zero when the block must end (exception, branch taken by the
// handler, exit requested). Exceptions thrown by a handler unwind through the wasm frames to the
// run loop, which counts the instructions the helper was told had completed.
import type { DecodedPage } from '../code-cache.ts';
import type { Exec } from '../decode/pattern.ts';
import { buildModule, Op, T } from './wasm.ts';
import { chainFunction, type Helper, type PageFn, TYPE_HELPER, TYPE_PAGE, TYPES } from './chain.ts';
import { Emit, L_ENTRY, L_IDX, L_N, L_BUDGET, L_PCB, L_PCBF, L_RB, LOCALS, SCRATCH_PC } from './emitter.ts';
import { aluEmitters, type Emitter } from './emit-alu.ts';
import { branchEmitters } from './emit-branch.ts';
import { memEmitters } from './emit-mem.ts';
import { reachable } from './reach.ts';
import { simdEmitters } from './emit-simd.ts';

const INSNS = 1024;

/** Emitters by interpreter handler: the translator's extension of the decode tables. */
export const emitters = new Map<unknown, Emitter>([
  ...(debugGroup('alu') ? aluEmitters : []),
  ...(debugGroup('branch') ? branchEmitters : []),
  ...(debugGroup('mem') ? memEmitters : []),
  ...(debugGroup('simd') ? simdEmitters : []),
]);

/** SHYPER_JIT_EMITTERS=alu,branch,mem,simd (debugging): only these groups emit; the rest call helpers. */
function debugGroup(name: string): boolean {
  const only = process.env.SHYPER_JIT_EMITTERS;
  return only === undefined || only.split(',').includes(name);
}

export type { Helper, PageFn };

export interface TranslateStats {
  translated: number;
  calls: number;
}

/**
 * The function body for a page whose instructions are fully decoded in `fns`/`args`: labels only
 * for the `live` instructions (all when absent), the others dispatch to one "miss" exit.
 *
 *   loop $L { block $miss { block $bK ... block $b0 { br_table } code0 ... codeK } miss-exit }
 */
export function emitPage(fns: readonly (Exec | undefined)[], args: readonly unknown[], stats?: TranslateStats, live?: Uint8Array): Emit {
  const labels: number[] = [];
  const labelOf = new Int32Array(INSNS).fill(-1);
  for (let i = 0; i < INSNS; i++) {
    if (live === undefined || live[i]) {
      labelOf[i] = labels.length;
      labels.push(i);
    }
  }
  const count = labels.length;
  const e = new Emit();
  e.get(L_PCBF);
  e.op(Op.i64_trunc_f64_s);
  e.set(L_PCB);
  e.get(L_ENTRY);
  e.set(L_IDX);
  e.op(Op.loop);
  e.byte(T.void);
  e.op(Op.block); // $miss
  e.byte(T.void);
  for (let k = 0; k < count; k++) {
    e.op(Op.block);
    e.byte(T.void);
  }
  e.get(L_IDX);
  e.op(Op.br_table);
  e.u32(INSNS);
  for (let i = 0; i < INSNS; i++) e.u32(labelOf[i]! >= 0 ? labelOf[i]! : count);
  e.u32(count); // default: $miss
  for (let k = 0; k < count; k++) {
    const i = labels[k]!;
    e.op(Op.end); // label k: instruction i starts here
    e.idx = i;
    e.depth = 0;
    // From here: blocks k+1..count-1, then $miss, then the loop.
    e.loopDepth = count - k;
    // Budget: stop before this instruction once `budget` have run in this call.
    e.get(L_N);
    e.get(L_BUDGET);
    e.op(Op.i32_eq);
    e.if();
    e.get(L_RB);
    e.pcPlus(i * 4);
    e.mem(Op.i64_store, SCRATCH_PC);
    e.get(L_N);
    e.op(Op.return);
    e.end();
    const fn = fns[i];
    const em = fn === undefined ? undefined : emitters.get(fn);
    if (em !== undefined && em(e, args[i])) {
      if (stats) stats.translated++;
    } else {
      e.interp();
      if (stats) stats.calls++;
    }
    if (e.depth !== 0) throw new Error(`jit: unbalanced emitter at ${i}`);
    e.get(L_N);
    e.i32(1);
    e.op(Op.i32_add);
    e.set(L_N);
    if (i === INSNS - 1) {
      // Falling off the page: on into the next one (chained).
      e.pcPlus(4096);
      e.chainCounted(0);
    } else if (labelOf[i + 1]! < 0) {
      // The next instruction is not translated: return with its PC.
      e.get(L_RB);
      e.pcPlus(i * 4 + 4);
      e.mem(Op.i64_store, SCRATCH_PC);
      e.get(L_N);
      e.op(Op.return);
    }
  }
  e.op(Op.end); // $miss: entered (or dispatched) at an instruction not translated (reach.ts)
  e.get(L_RB);
  e.get(L_PCB);
  e.get(L_IDX);
  e.op(Op.i64_extend_i32_u);
  e.i64(2);
  e.op(Op.i64_shl);
  e.op(Op.i64_add);
  e.mem(Op.i64_store, SCRATCH_PC);
  e.get(L_N);
  e.op(Op.return);
  e.op(Op.end); // loop
  e.op(Op.unreachable);
  return e;
}

/** Compile a page's function against the guest's memory, with `helper` as the handler caller. */
export function compilePage(page: DecodedPage, memory: WebAssembly.Memory, table: WebAssembly.Table, helper: Helper, decode: (i: number) => void, stats?: TranslateStats, full = false): PageFn {
  if (full) for (let i = 0; i < INSNS; i++) if (page.fns[i] === undefined) decode(i);
  const body = emitPage(page.fns, page.args, stats, full ? undefined : reachable(page.fns, page.args, page.entries, decode));
  const bytes = buildModule(TYPES, TYPE_HELPER, [{ type: TYPE_PAGE, locals: LOCALS, body }, chainFunction()]);
  const module = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  const inst = new WebAssembly.Instance(module, { e: { m: memory, h: helper, t: table } });
  return inst.exports.f as unknown as PageFn;
}
