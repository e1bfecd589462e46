// Translation of one decoded code page into one wasm function (v86 compiles per physical page the
// same way). Every translated instruction of the page gets a label in a dispatch `loop { br_table }`,
// so the function can be entered at any instruction; instructions are laid out in order and fall
// through to the next. A direct branch forward in the page goes straight to its target's label (a
// `br` out of the enclosing blocks); a backward or indirect one goes through the dispatch. Leaving
// the page chains into the next page's function (chain.ts).
//
// Budget and count: the instruction count is not kept per instruction. At each dispatch the
// function notes L_NB = count - index; along straight-line code the count before instruction i is
// then L_NB + i, a constant add where it is needed (exits, helper calls). The budget is checked at
// each dispatch and again after at most BUDGET_SLACK - 1 instructions on any path without one: the
// function returns while fewer than BUDGET_SLACK instructions are left, and the run loop
// interprets the last ones, so a run ends exactly where the interpreter's would, and time
// (instret), interrupts and output stay identical with the translator on or off.
//
// What an instruction compiles to is chosen by the handler the decoder picked for its word (the
// decode tables stay the one ISA description): an emitter registered for that handler
// (emit-alu.ts, emit-branch.ts, emit-mem.ts, emit-simd.ts), or a call of the handler itself through
// the one imported helper, which returns non-zero when the block must end (exception, branch taken
// by the handler, exit requested). Exceptions thrown by a handler unwind through the wasm frames to
// the run loop, which counts the instructions the helper was told had completed.
import { setFlagsFromString } from 'node:v8';
import type { DecodedPage } from '../code-cache.ts';
import type { Exec } from '../decode/pattern.ts';
import { buildModule, Op, T } from './wasm.ts';
import { type Helper, PAGE_IMPORTS, type PageFn, TYPE_PAGE, TYPES } from './chain.ts';
import { BUDGET_SLACK, Emit, L_CACHE, L_ENT, L_ENTRY, L_IDX, L_N, L_NB, L_BUDGET, L_PCB, L_PCHI, L_PCLO, L_RB, LOCALS, type RegCache, SCRATCH_PC } from './emitter.ts';
import { aluEmitters, type Emitter } from './emit-alu.ts';
import { branchEmitters } from './emit-branch.ts';
import { memEmitters, probeFunction } from './emit-mem.ts';
import { atomicEmitters } from './emit-atomic.ts';
import { directTarget, reachable } from './reach.ts';
import * as sys from '../exec/int-sys.ts';
import { simdEmitters } from './emit-simd.ts';
import { sysEmitters } from './emit-sys.ts';

const INSNS = 1024;

/** Emitters by interpreter handler: the translator's extension of the decode tables. */
export const emitters = new Map<unknown, Emitter>([
  ...(debugGroup('alu') ? aluEmitters : []),
  ...(debugGroup('branch') ? branchEmitters : []),
  ...(debugGroup('mem') ? memEmitters : []),
  ...(debugGroup('mem') ? atomicEmitters : []),
  ...(debugGroup('simd') ? simdEmitters : []),
  ...(debugGroup('sys') ? sysEmitters : []),
]);

/** SHYPER_JIT_EMITTERS=alu,branch,mem,simd,sys (debugging): only these groups emit; the rest call helpers. */
function debugGroup(name: string): boolean {
  const only = process.env.SHYPER_JIT_EMITTERS;
  return only === undefined || only.split(',').includes(name);
}

export type { Helper, PageFn };

/** Calls: the instruction after one is where the callee returns to (a dispatch target). */
const RETURNS = new Set<unknown>([sys.bl, sys.blr]);

export interface TranslateStats {
  translated: number;
  calls: number;
  /** Inner loops (wasm `loop`s), and those of them with a second entry. */
  loops?: number;
  entryLoops?: number;
}

/**
 * The function body for a page whose instructions are fully decoded in `fns`/`args`: code for the
 * `live` instructions (all when absent). Labels (blocks, and entries of the dispatch table) only
 * where code can start other than by falling through: the `entries` the run loop has seen, direct
 * branch targets and return addresses (after BL/BLR), or every live instruction when `entries` is
 * absent. Dispatching anywhere else goes to one "miss" exit (the run loop interprets from there,
 * notes the entry and translates the page again once such misses add up).
 *
 *   loop $L { block $miss { block $bK ... block $b0 { br_table } code0 ... codeK } miss-exit }
 */
export function emitPage(fns: readonly (Exec | undefined)[], args: readonly unknown[], stats?: TranslateStats, live?: Uint8Array, entries?: Uint8Array, slack = BUDGET_SLACK, outlineProbes = false): Emit {
  const isLive = (i: number): boolean => live === undefined || live[i] === 1;
  const head = new Uint8Array(INSNS);
  for (let i = 0; i < INSNS; i++) {
    if (!isLive(i)) continue;
    if (entries === undefined || entries[i]) head[i] = 1;
    const t = directTarget(fns[i], args[i] as { off?: number }, i);
    if (t >= 0 && t < INSNS) head[t] = 1;
    if (RETURNS.has(fns[i]) && i + 1 < INSNS) head[i + 1] = 1;
  }
  // Inner loops: a direct backward branch at i to a label t with no other label in (t, i] and
  // every instruction between translated becomes a wasm `loop` around t..i, so taking it costs a
  // budget check and a `br` instead of a dispatch (br_table). Such ranges hold no label, so they
  // nest inside the label blocks and never overlap; each label starts at most one (the longest).
  // A loop may also have one second entry m inside (a `while` loop entered at its test, a return
  // address): its block comes just before t's, where L_ENT = 1 is set and falls into the loop,
  // whose top skips t..m-1 once when L_ENT is set. Then no direct branch inside may target the
  // loop other than its back edge to t (the skipped part has no label of its own).
  const loopEnd = new Int32Array(INSNS).fill(-1);
  const midEntry = new Int32Array(INSNS).fill(-1);
  const isMid = new Uint8Array(INSNS);
  const isHead = (i: number): boolean => head[i] === 1 && isLive(i);
  for (let i = 0; i < INSNS; i++) {
    if (!isLive(i)) continue;
    const t = directTarget(fns[i], args[i] as { off?: number }, i);
    if (t < 0 || t > i || !isHead(t)) continue;
    let ok = true;
    for (let j = t + 1; j <= i && ok; j++) ok = !isHead(j) && isLive(j);
    if (ok) loopEnd[t] = Math.max(loopEnd[t]!, i);
  }
  for (let i = 0; i < INSNS; i++) {
    if (!isLive(i)) continue;
    const t = directTarget(fns[i], args[i] as { off?: number }, i);
    if (t < 0 || t >= i || !isHead(t) || loopEnd[t]! >= 0 || midEntry[t]! >= 0 || isMid[t]) continue;
    // Exactly one label m inside, none heading a loop of its own; no branch into t..i but the back edge.
    let m = -1;
    let ok = true;
    for (let j = t; j <= i && ok; j++) {
      if (j > t) {
        if (!isLive(j) || loopEnd[j]! >= 0 || isMid[j] || (isHead(j) && m >= 0)) ok = false;
        else if (isHead(j)) m = j;
      }
      const u = directTarget(fns[j], args[j] as { off?: number }, j);
      if (j < i && u >= t && u <= i) ok = false;
    }
    if (!ok || m < 0) continue;
    loopEnd[t] = i;
    midEntry[t] = m;
    isMid[m] = 1;
  }
  // Labels in instruction order, except that a loop's second entry comes just before its head.
  const labels: number[] = [];
  const labelOf = new Int32Array(INSNS).fill(-1);
  for (let i = 0; i < INSNS; i++) {
    if (!isHead(i) || isMid[i]) continue;
    const m = midEntry[i]!;
    if (m >= 0) {
      labelOf[m] = labels.length;
      labels.push(m);
    }
    labelOf[i] = labels.length;
    labels.push(i);
  }
  const count = labels.length;
  if (stats) {
    for (let t = 0; t < INSNS; t++) {
      if (loopEnd[t]! < 0) continue;
      stats.loops = (stats.loops ?? 0) + 1;
      if (midEntry[t]! >= 0) stats.entryLoops = (stats.entryLoops ?? 0) + 1;
    }
  }
  const e = new Emit();
  e.labelOf = labelOf;
  e.slack = slack;
  e.outlineProbes = outlineProbes;
  const caches = loopCaches(fns, args, loopEnd, labelOf, slack, e);
  // Instructions that may have run since the last budget check, on any path to each instruction.
  const since = new Int32Array(INSNS + 1);
  e.i64Halves(L_PCLO, L_PCHI);
  e.set(L_PCB);
  e.get(L_ENTRY);
  e.set(L_IDX);
  e.op(Op.loop);
  e.byte(T.void);
  // The dispatch (entry, taken backward branches): leave BUDGET_SLACK instructions in the budget.
  e.get(L_BUDGET);
  e.get(L_N);
  e.op(Op.i32_sub);
  e.i32(slack);
  e.op(Op.i32_lt_s);
  e.if();
  returnAtIdx(e);
  e.end();
  e.get(L_N);
  e.get(L_IDX);
  e.op(Op.i32_sub);
  e.set(L_NB);
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
  for (let i = 0; i < INSNS; i++) {
    if (!isLive(i)) continue;
    const k = isMid[i] ? -1 : labelOf[i]!; // (a second entry's block is before its loop's head)
    const m = midEntry[i]!;
    if (m >= 0) {
      // The loop's second entry: past the code before it (which falls through to the head, not
      // here), then L_ENT = 1 and on into the head's label.
      e.op(Op.br);
      e.u32(1);
      e.op(Op.end);
      e.i32(1);
      e.set(L_ENT);
    }
    if (k >= 0) {
      e.op(Op.end); // label k: instruction i starts here
      e.label = k;
      // From here: blocks k+1..count-1, then $miss, then the loop.
      e.loopDepth = count - k;
    } else if (i === 0 || !isLive(i - 1)) {
      continue; // live but reached only by dispatch, which has no label here: never runs
    }
    e.idx = i;
    e.depth = 0;
    if (k >= 0 && loopEnd[i]! >= 0) {
      // Entered only through here (its second entry, if any, comes in above): load the registers
      // it keeps in locals, then loop.
      e.cache = caches[i] ?? null;
      e.loadCache();
      e.op(Op.loop);
      e.byte(T.void);
      e.loopStart = i;
      if (m >= 0) {
        // Entered at m: skip i..m-1 this once.
        e.get(L_ENT);
        e.op(Op.if);
        e.byte(T.void);
        e.i32(0);
        e.set(L_ENT);
        e.op(Op.else);
        e.skip = 1;
      }
    }
    if (e.skip === 1 && isMid[i]) {
      e.op(Op.end);
      e.skip = 0;
    }
    if (since[i]! >= slack - 1) {
      // A long run without a dispatch (straight line, forward branches): check again.
      e.checkBudget(i);
      since[i] = 0;
    }
    const fn = fns[i];
    const em = fn === undefined ? undefined : emitters.get(fn);
    if (em !== undefined && em(e, args[i])) {
      if (stats) stats.translated++;
    } else {
      e.interp();
      if (stats) stats.calls++;
    }
    if (e.depth !== 0) throw new Error(`jit: unbalanced emitter at ${i}`);
    if (e.loopStart >= 0 && loopEnd[e.loopStart] === i) {
      e.op(Op.end); // the inner loop: falling out of its last instruction goes on below
      e.storeCache();
      e.cache = null;
      e.loopStart = -1;
    }
    // Paths on from here: falling through, and a direct branch forward in the page.
    since[i + 1] = Math.max(since[i + 1]!, since[i]! + 1);
    const t = directTarget(fn, args[i] as { off?: number }, i);
    if (t > i && t < INSNS) since[t] = Math.max(since[t]!, since[i]! + 1);
    if (i === INSNS - 1) {
      // Falling off the page: on into the next one (chained).
      e.pcPlus(4096);
      e.count(1);
      e.chain();
    } else if (!isLive(i + 1)) {
      // The next instruction is not translated: return with its PC.
      e.returnAt(i * 4 + 4, 1);
    }
  }
  e.op(Op.end); // $miss: entered (or dispatched) at an instruction not translated (reach.ts)
  returnAtIdx(e);
  e.op(Op.end); // loop
  e.op(Op.unreachable);
  return e;
}

/**
 * The registers each inner loop (by its first instruction) keeps in locals: those its body reads
 * or writes, found by emitting the body once into a scratch Emit that records them. Assigns the
 * page's register locals in `e` (one per register over all its loops, from L_CACHE) and sets
 * e.extraLocals to match.
 */
function loopCaches(fns: readonly (Exec | undefined)[], args: readonly unknown[], loopEnd: Int32Array, labelOf: Emit['labelOf'], slack: number, e: Emit): (RegCache | undefined)[] {
  const caches: (RegCache | undefined)[] = [];
  let xs = 0;
  let flags = 0;
  for (let t = 0; t < INSNS; t++) {
    if (loopEnd[t]! < 0) continue;
    const dry = new Emit();
    dry.labelOf = labelOf;
    dry.slack = slack;
    dry.loopStart = t;
    dry.record = { x: 0, xDirty: 0, flags: 0, flagsDirty: 0 };
    for (let i = t; i <= loopEnd[t]!; i++) {
      dry.idx = i;
      dry.depth = 0;
      const fn = fns[i];
      const em = fn === undefined ? undefined : emitters.get(fn);
      if (em === undefined || !em(dry, args[i])) dry.interp();
    }
    caches[t] = dry.record;
    xs |= dry.record.x;
    flags |= dry.record.flags;
  }
  let next = L_CACHE;
  for (let s = 0; s < 32; s++) if ((xs >>> s) & 1) e.xLocal[s] = next++;
  const nx = next - L_CACHE;
  for (let k = 0; k < 4; k++) if ((flags >>> k) & 1) e.flagLocal[k] = next++;
  const nf = next - L_CACHE - nx;
  e.extraLocals = [...(nx ? ([[nx, T.i64]] as [number, T][]) : []), ...(nf ? ([[nf, T.i32]] as [number, T][]) : [])];
  return caches;
}

/** Return to the run loop at instruction L_IDX, with L_N executed (dispatch-time exits). */
function returnAtIdx(e: Emit): void {
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
}

/** Compile a page's function against the guest's memory, with `helper` as the handler caller. */
export function compilePage(page: DecodedPage, memory: WebAssembly.Memory, chain: WebAssembly.ExportValue, helper: Helper, decode: (i: number) => void, stats?: TranslateStats, full = false, optimize = false, slack = BUDGET_SLACK): PageFn {
  page.ownArrays(); // decode(i) fills these arrays
  const bytes = pageModuleBytes(page.fns, page.args, page.entries, decode, page.translations === 0 || optimize, full, slack, stats, !optimize);
  return instantiatePage(compileModule(bytes, optimize), memory, chain, helper);
}

/**
 * The module of a page (decoded, or decoded on demand by `decode(i)`, which fills fns[i]/args[i]):
 * what the entries seen reach, or the whole page when `full`. The first translation labels only
 * the entries seen and the branch targets (cheaper to compile); a page entered elsewhere often
 * enough to be translated again (returns from exceptions land anywhere) labels every instruction
 * it translates. The optimizing translation of a page counts as a first one (its entries are all
 * those seen so far): labels everywhere would leave it no inner loops (translate.ts emitPage).
 * `outlineProbes`: memory accesses outside inner loops call the module's probe functions (the
 * baseline translation: code less than half the size, emit-mem.ts probe).
 */
export function pageModuleBytes(fns: (Exec | undefined)[], args: unknown[], entries: Uint8Array, decode: (i: number) => void, first: boolean, full: boolean, slack: number, stats?: TranslateStats, outlineProbes = false): Uint8Array {
  if (full) for (let i = 0; i < INSNS; i++) if (fns[i] === undefined) decode(i);
  const live = full ? undefined : reachable(fns, args as { off?: number }[], entries, decode);
  const body = emitPage(fns, args, stats, live, full || !first ? undefined : entries, slack, outlineProbes);
  return buildModule(TYPES, PAGE_IMPORTS, [{ type: TYPE_PAGE, locals: [...LOCALS, ...body.extraLocals], body }, ...body.probes.map(probeFunction)]);
}

/** Compile a page's module: the baseline compiler, or the optimizing one when `optimize`. */
export function compileModule(bytes: Uint8Array, optimize: boolean): WebAssembly.Module {
  if (optimize) return new WebAssembly.Module(optimizedBytes(bytes));
  return withBaselineCompiler(() => new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
}

/**
 * The module's bytes with a custom section (id 0) named "optimized" after them. V8 keeps one
 * compiled module per process for the same bytes (its native module cache, whichever compiler
 * made it): without the mark, optimizing bytes compiled before by the baseline compiler (the wasm
 * interpreter, started on it by the CLI) returned that baseline code in under a millisecond.
 */
export function optimizedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const name = [...'optimized'].map((c) => c.charCodeAt(0));
  const out = new Uint8Array(bytes.length + 3 + name.length);
  out.set(bytes);
  out.set([0, 1 + name.length, name.length, ...name], bytes.length);
  return out;
}

/** A compiled page module's function, bound to the guest's memory, the hub's chain function (chain.ts) and the helper. */
export function instantiatePage(module: WebAssembly.Module, memory: WebAssembly.Memory, chain: WebAssembly.ExportValue, helper: Helper): PageFn {
  const inst = new WebAssembly.Instance(module, { e: { m: memory, h: helper, c: chain } });
  return inst.exports.f as unknown as PageFn;
}

/**
 * Compile with V8's baseline wasm compiler (Liftoff) instead of its optimizing one (TurboFan,
 * which settings.ts makes the default): the flags are read when a module is compiled (eagerly, as
 * settings.ts turns lazy compilation off), so they are switched around this one compile. (The
 * other way round until session 16: the launcher had to switch them for the wasm interpreter's
 * compile, which could then start only after V8 had checked the bundle's code cache against the
 * flags, and the baseline flags were back only once that compile was done.)
 */
function withBaselineCompiler<R>(compile: () => R): R {
  setFlagsFromString('--liftoff');
  setFlagsFromString('--liftoff-only');
  try {
    return compile();
  } finally {
    setFlagsFromString('--no-liftoff-only');
    setFlagsFromString('--no-liftoff');
  }
}
