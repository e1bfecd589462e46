// The AArch64 CPU the emulator runs: the processing element (pe.ts: state, exceptions,
// interrupts; memory-accessor.ts: the memory access fast path) and its execution loop over a per-page
// decoded-instruction cache, entering the WebAssembly translator's code (jit/) where a page has
// some.
//
// Conventions for instruction handlers (emulator/arm64/exec/*):
//  - cpu.pc is the address of the executing instruction; cpu.nextPc is preset to pc + 4 and a
//    branch writes the target there.
//  - A handler that must stop half-way (data abort, UNDEFINED) calls a cpu.raise* method, which
//    sets up the exception and throws the EXCEPTION_TAKEN sentinel; nothing is written back.
//  - Memory: read8/16/32 return unsigned numbers; read64 returns the low word (int32) and leaves
//    the high word in cpu.hi; write64(va, lo, hi).

import type { Decoder, Exec } from './decode/pattern.ts';
// Decoders are built per core feature set in decoders.ts; re-exported for the CPU's users.
export { decoderFor, defaultDecoder } from './decoders.ts';
import { Access, type PhysicalMemory } from './memory.ts';
import { EC } from './ec.ts';
import { DecodedPage, INSNS_PER_PAGE, PAGE, TLB_MASK } from './soft-tlb.ts';
import { EXCEPTION_TAKEN, ProcessingElement } from './pe.ts';
import { translatorFor, type JitCpu, type Translator } from './jit/runtime.ts';
import { jitSettings, jitStats } from './jit/settings.ts';
import { SCRATCH_PC } from './jit/emitter.ts';
import { CHAIN_HEAT } from './jit/winterp-ops.ts';
import { CPU_FLAG_IC, CPU_FLAG_ID, CPU_FLAG_IRQ, CPU_FLAG_ZVA, SLOT_CPU_FLAGS, SLOT_WASM_EXIT, SLOT_WASM_RAN } from './jit/guest-memory.ts';
import { HCR } from './sysstate.ts';
import { holdDoubles } from './double-fields.ts';

export { EC } from './ec.ts';
export { EXCEPTION_TAKEN, type ExceptionHook, type SysregProvider } from './pe.ts';

export class Cpu extends ProcessingElement implements JitCpu {
  /**
   * The WebAssembly translator (jit/), or null: the interpreter alone (SHYPER_JIT=0, or this CPU's
   * state is not in the guest's wasm memory).
   */
  jit: Translator | null;
  /** Block entries into a page before it is translated (SHYPER_JIT_THRESHOLD). */
  jitThreshold = jitSettings.threshold;
  /** Instructions a translated page runs before it is optimized (SHYPER_JIT_OPTIMIZE_AFTER). */
  jitOptimizeAfter = jitSettings.optimizeAfter;
  /** Instructions translated code had completed before a helper call that may throw. */
  private jitN = 0;
  /** Where translated code leaves the next PC (lo, hi words). */
  private readonly jitPc: Int32Array;
  /** What the wasm interpreter may do without the handler (guest-memory.ts SLOT_CPU_FLAGS). */
  private readonly cpuFlags: Int32Array;
  /** Set by the wasm interpreter for an instruction that ends the block (guest-memory.ts SLOT_WASM_EXIT). */
  private readonly wasmExit: Int32Array;
  /** Instructions the wasm interpreter ran in the last call (guest-memory.ts SLOT_WASM_RAN). */
  private readonly wasmRan: Int32Array;
  /** Where the last run stopped other than by an exception (-1 after one): see runBlocks. */
  private resumePc = -1;

  constructor(mem: PhysicalMemory, decoder?: Decoder) {
    super(mem, decoder);
    const memory = mem.guest?.memory;
    this.jit = jitSettings.enabled && this.slot.shared && memory ? translatorFor(memory) : null;
    if (this.jit !== null) this.codeCache.translationOwner = this.jit;
    // The next PC (lo, hi), the heat below which the wasm interpreter goes into another page, its memo (winterp-ops.ts).
    this.jitPc = new Int32Array(this.slot.buffer, this.slot.base + SCRATCH_PC, 4);
    if (this.jit !== null && this.jit.hasWasmInterpreter) this.jitPc[3] = this.jit.memoFor(this.decoder);
    this.cpuFlags = new Int32Array(this.slot.buffer, this.slot.base + SLOT_CPU_FLAGS, 1);
    this.wasmExit = new Int32Array(this.slot.buffer, this.slot.base + SLOT_WASM_EXIT, 1);
    this.wasmRan = new Int32Array(this.slot.buffer, this.slot.base + SLOT_WASM_RAN, 1);
    holdDoubles(this, ['resumePc']); // an address (double-fields.ts)
  }

  // ---- the interpreter loop ----

  /**
   * Run up to `budget` instructions' worth of time — executed instructions plus charged stall —
   * (less if an exit is requested). Returns the number of instructions executed.
   */
  run(budget: number): number {
    let done = 0;
    // Stall charged meanwhile (exception costs, EL2 work) is time too: it counts against the budget,
    // so a run ends near where its time does, however much EL2 work its traps cost.
    const stall0 = this.stall;
    // Pages the background compiler has finished go in before this run (jit/background.ts).
    if (this.jit !== null && this.jit.pending !== 0) this.jit.poll();
    while (done + (this.stall - stall0) < budget && !this.halted) {
      this.exitRequest = 0;
      if (this.el === 2 && !this.resumeFromEl2()) break;
      if (this.exceptionHook === null && this.checkInterrupts()) {
        // An IRQ taken to EL2 whose software parked the CPU (nothing to run there: a VM reset or
        // removed from another CPU) leaves it waiting at EL2; running on would execute at the old
        // guest PC with the stale context (a reset 2-vCPU VM's other vCPU ran into its new image).
        if (this.el === 2) continue;
        this.waiting = false;
      }
      if (this.waiting) break;
      done += this.runBlocks(Math.max(1, budget - done - (this.stall - stall0)));
      if (this.exitRequest !== 0 && (this.waiting || this.halted || this.stopRequested)) break;
    }
    this.stopRequested = false;
    return done;
  }

  // instret is brought up to date at every block end (not per instruction), so a counter read
  // inside a block sees time that lags by at most the instructions of that block.
  // A translated page (page.code) runs in wasm from the entry index to where the interpreter's
  // block would have stopped or left the page; it returns the count and leaves the next PC in
  // jitPc, and this loop carries on exactly as after interpreting those instructions.
  private runBlocks(budget: number): number {
    let n = 0;
    let counted = 0;
    let pc = this.pc;
    const jit = this.jit;
    this.jitN = 0;
    // A run that starts where the last one stopped (its budget ran out, an exit was requested: an
    // ERET back to an interrupted instruction, a timer armed) resumes anywhere, often inside a
    // loop. That is not an entry the translator should label (labels inside an inner loop undo
    // it, jit/translate.ts): translated code that does not cover it is left to the interpreter up
    // to the next taken branch, without counting a miss. (Exception vectors are entries.)
    let resumed = pc === this.resumePc;
    let raised = false;
    // What translated code and the wasm interpreter may do without the handler (guest-memory.ts):
    // what changes it (HCR_EL2, an interrupt line) ends the block (el2-cpu.ts msr, wake()).
    const hcr = this.hypervisor === null ? 0 : this.sys.hcr;
    // The wasm interpreter goes on into pages whose heat is below this (winterp-ops.ts SCRATCH_CHAIN_HEAT).
    this.jitPc[2] = Math.max(0, Math.min(this.jitThreshold, CHAIN_HEAT)) | 0;
    this.cpuFlags[0] = ((hcr & HCR.TDZ) === 0 ? CPU_FLAG_ZVA : 0) | ((hcr & HCR.TPU) === 0 ? CPU_FLAG_IC : 0) | ((hcr & HCR.TID2) === 0 ? CPU_FLAG_ID : 0) | (this.mayTakeInterrupt() ? CPU_FLAG_IRQ : 0);
    try {
      while (n < budget) {
        const off = pc & 0xfff;
        const pn = (pc - off) / PAGE;
        const ti = (pn & TLB_MASK) + this.tlbCtx;
        let page = this.xPage[ti]!;
        // A page another CPU, a device or a loader wrote since it was cached here is no longer valid.
        if (this.xTag[ti] !== pn || !page.valid) page = this.fetchPageSlow(pc, ti, pn);
        let fns = page.fns;
        let args = page.args;
        const pageBase = pc - off;
        let idx = off >>> 2;
        let code = page.code;
        if (code === null && jit !== null) {
          if (!resumed) page.entries[idx] = 1;
          // (Not while the worker has it: ~240 K such entries per kit boot.)
          if (++page.heat > this.jitThreshold && !page.pending) code = jit.translateHot(page, this);
        }
        let skip = false;
        for (;;) {
          // Translated code runs while BUDGET_SLACK instructions are left; the last few of a run
          // are interpreted (jit/emitter.ts). An exit already requested when the run loop called
          // (an ERET from EL2 software that just queued a virtual interrupt) ends the block after
          // one instruction, as the interpreter's check below does: translated code would only
          // notice it at its next helper call, running on past where interrupts are looked at.
          if (code !== null && !skip && budget - n >= jit!.slack && this.exitRequest === 0) {
            jit!.current = this;
            // Translated code chains into this page through the TLB's code column (jit/chain.ts).
            this.xCode[ti] = page.slot;
            jitStats.entries++;
            // (Integers only: a double argument would be boxed, the call being polymorphic.)
            const hi = Math.floor(pageBase / 4294967296);
            const k = code(idx, (budget - n) | 0, this.slot.base, this.tlbCtx * 8, (pageBase - hi * 4294967296) | 0, hi | 0, 0);
            if (k === 0) {
              // An entry the translation does not cover (jit/reach.ts): interpret from here to the
              // next taken branch (the instructions after it have no label either: each would miss).
              skip = true;
              if (!resumed) {
                page.entries[idx] = 1;
                jit!.missed(page, this);
              }
              continue;
            }
            resumed = false;
            n += k;
            this.countRan(k);
            // An IC invalidation it ran ended the block (guest-memory.ts SLOT_WASM_EXIT).
            if (this.wasmExit[0] !== 0) {
              this.wasmExit[0] = 0;
              this.exitRequest = 1;
            }
            if ((page.work += k) > this.jitOptimizeAfter && !page.optimized) {
              page.optimized = true;
              code = jit!.translateHot(page, this);
            }
            const jp = this.jitPc;
            pc = jp[1]! * 4294967296 + (jp[0]! >>> 0);
            if (n >= budget || this.exitRequest !== 0) break;
            const d = pc - pageBase;
            if (d >= 0 && d < PAGE) {
              idx = d >>> 2;
              continue;
            }
            break;
          }
          // Pages not translated run on the wasm interpreter (jit/winterp.ts) where it has a slot
          // table for them: to the end of the block, with the translated code's conventions.
          const wi = jit === null ? null : jit.winterp;
          if (code === null && wi !== null && this.exitRequest === 0 && (page.wslots !== 0 || jit!.slotsFor(page) !== 0)) {
            jit!.current = this;
            // Where the wasm interpreter goes into this page from others (winterp-asm.ts leavePage).
            if (this.xPage[ti] === page) {
              this.xWTable[2 * ti] = page.wslots;
              this.xWTable[2 * ti + 1] = jit!.tableGen(page);
            }
            jitStats.wentries++;
            // The budget is a number of instructions to reach, not always whole (stall is charged in
            // fractions): the loop below runs while n < budget, so ceil(budget - n) of them (>= 1).
            const hi = Math.floor(pageBase / 4294967296);
            const k = wi(idx, Math.min(Math.ceil(budget - n), 0x40000000), this.slot.base, this.tlbCtx * 8, (pageBase - hi * 4294967296) | 0, hi | 0, page.wslots, page.ramOffset, 0);
            n += k;
            this.countRan(k);
            // An instruction it ran asked for the block to end (guest-memory.ts SLOT_WASM_EXIT).
            if (this.wasmExit[0] !== 0) {
              this.wasmExit[0] = 0;
              this.exitRequest = 1;
            }
            skip = false;
            resumed = false;
            const jp = this.jitPc;
            pc = jp[1]! * 4294967296 + (jp[0]! >>> 0);
            // Its heat: the branches taken and entries made in it, from here or from other pages.
            if ((page.heat += jit!.takeHeat(page)) > this.jitThreshold && page.valid && !page.pending) code = jit!.translateHot(page, this);
            if (n >= budget || this.exitRequest !== 0) break;
            const d = pc - pageBase;
            // (Back in this page from another, which may have written it.)
            if (d >= 0 && d < PAGE && page.valid) {
              idx = d >>> 2;
              page.entries[idx] = 1;
              continue;
            }
            break;
          }
          let fn = fns[idx];
          if (fn === undefined) {
            fn = this.decodeAt(page, idx);
            // (The page's first decode gives it arrays of its own.)
            fns = page.fns;
            args = page.args;
          }
          const npc = pc + 4;
          this.pc = pc;
          this.nextPc = npc;
          fn(this, args[idx]);
          n++;
          pc = this.nextPc;
          if (n >= budget || this.exitRequest !== 0) break;
          if (pc !== npc) {
            skip = false;
            resumed = false;
            // A branch within this page (loops) stays in the inner loop: no TLB lookup.
            const d = pc - pageBase;
            if (d >= 0 && d < PAGE) {
              idx = d >>> 2;
              if (jit !== null && code === null) {
                page.entries[idx] = 1;
                if (++page.heat > this.jitThreshold && page.valid && !page.pending) code = jit.translateHot(page, this);
              }
              continue;
            }
            break;
          }
          if (++idx === INSNS_PER_PAGE) break;
        }
        this.instret += n - counted;
        counted = n;
        resumed = false;
        if (this.exitRequest !== 0) break;
      }
    } catch (e) {
      if (e !== EXCEPTION_TAKEN) throw e;
      // Instructions translated code completed before the one that raised (0 when interpreting).
      n += this.jitN + 1;
      this.jitN = 0;
      pc = this.nextPc;
      raised = true;
    }
    this.instret += n - counted;
    this.pc = pc;
    // The next run resumes here, unless an exception took the PC to its vector (an entry).
    this.resumePc = raised ? -1 : pc;
    return n;
  }

  /**
   * Statistics of a call into wasm that ran k instructions: those the wasm interpreter counted
   * (SLOT_WASM_RAN) are its, the rest translated code's, whichever the call began in (chain.ts).
   */
  private countRan(k: number): void {
    const w = this.wasmRan[0]!;
    this.wasmRan[0] = 0;
    jitStats.wran += w;
    jitStats.ran += k - w;
  }

  /** What the translator decodes a page's instructions with (jit/runtime.ts translateHot). */
  jitDecode(page: DecodedPage, i: number): void {
    this.decodeAt(page, i);
  }

  /**
   * Translated code's call of an instruction's interpreter handler (the fallback of everything
   * without an emitter, and of slow memory accesses): run it as the interpreter loop would, with
   * `n` instructions of this call completed before it. Returns 1, with the next PC stored, when
   * the block must end there: a branch was taken, or an exit was requested.
   */
  jitHelper(page: DecodedPage, n: number, idx: number, pcBase: number): number {
    const pc = pcBase + idx * 4;
    const npc = pc + 4;
    this.pc = pc;
    this.nextPc = npc;
    this.jitN = n;
    // A page translated in the background was decoded there, and the wasm interpreter's pages
    // from their slots: this thread may not have yet. Its decoder's memo decodes the word without
    // giving the page arrays of its own (2 x 8 KB a page, for what is mostly one instruction).
    let fn = page.fns[idx];
    let f: unknown;
    if (fn === undefined) {
      const d = this.decoder.decode(this.ram.getUint32(page.ramOffset + idx * 4, true));
      fn = d.exec;
      f = d.fields;
    } else f = page.args[idx];
    fn(this, f);
    this.jitN = 0;
    const next = this.nextPc;
    if (next === npc && this.exitRequest === 0) return 0;
    const hi = Math.floor(next / 4294967296);
    this.jitPc[0] = (next - hi * 4294967296) | 0;
    this.jitPc[1] = hi | 0;
    return 1;
  }

  private decodeAt(page: DecodedPage, idx: number): Exec {
    const word = this.ram.getUint32(page.ramOffset + idx * 4, true);
    const d = this.decoder.decode(word);
    page.decoded(idx, d.exec, d.fields);
    return d.exec;
  }

  private fetchPageSlow(pc: number, ti: number, pn: number): DecodedPage {
    // An instruction abort's preferred return is the address fetched (the MMU raises with
    // cpu.pc), not the instruction that branched or fell through to it.
    this.pc = pc;
    if (pc & 3) this.raise(EC.PC_ALIGN, 0, pc, pc);
    const pa = this.translator.translate(pc - (pc & 0xfff), Access.Exec);
    const ro = this.mem.ramOffset(pa);
    if (ro < 0) {
      // Executing from a device or from nothing: a synchronous external abort on fetch.
      this.raise(this.el === 0 ? EC.IABT_LOWER : EC.IABT_SAME, 0x10, pc, pc);
    }
    const page = this.codeCache.page(ro, this.decoder);
    if (this.translator.pageCacheable) {
      this.setXTag(ti, pn);
      this.xPage[ti] = page;
      this.xCode[ti] = page.slot;
      this.xWTable[2 * ti] = 0;
    }
    return page;
  }
}
