// The WebAssembly translator (emulator/arm64/jit/) against the interpreter, its reference: the
// same program from the same state, one CPU translating every page at its first entry and one
// interpreting, must agree on every register byte, flag, PC, instruction count and RAM byte after
// every run() -- whatever the budget, so blocks end where the interpreter's do.
import { expect, it } from 'vitest';
import { pair, expectSame, PROGRAM, stepTogether } from './jit-pair.ts';
import { describeOracle } from '../oracles.ts';
import { TestCpu } from './harness.ts';
import { assemble } from './ls-oracle.ts';
import { EC } from '../../emulator/arm64/cpu.ts';
import { jitStats } from '../../emulator/arm64/jit/settings.ts';
import { BUDGET_SLACK } from '../../emulator/arm64/jit/emitter.ts';
import { Access } from '../../emulator/arm64/memory.ts';
import { emitPage, type TranslateStats } from '../../emulator/arm64/jit/translate.ts';
import { reachable } from '../../emulator/arm64/jit/reach.ts';
import type { Exec } from '../../emulator/arm64/decode/pattern.ts';


/**
 * Run `words` (SP at 0xf000) translated and interpreted, in runs of each budget, with each budget
 * slack (1: a check before every instruction; the default), comparing after every run until the
 * program's closing BRK.
 */
function lockstepToBrk(words: number[], budgets: number[]): void {
  for (const slack of [1, BUDGET_SLACK]) {
    for (const budget of budgets) {
      const { jit, interp } = pair(words, (t) => t.cpu.setX(31, 0xf000n), slack, false);
      let runs = 0;
      while (jit.traps.length === 0 && runs < 20000) {
        const a = jit.cpu.run(budget);
        const b = interp.cpu.run(budget);
        expect(a).toBe(b);
        expectSame(jit, interp, `slack ${slack} budget ${budget} run ${++runs}`);
      }
      expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
    }
  }
}

/** The first page of `words`, decoded on demand as the translator does, entered at its start. */
function decodedPage(words: number[]): { fns: (Exec | undefined)[]; args: unknown[]; decode: (i: number) => void; entries: Uint8Array } {
  const decoder = new TestCpu().cpu.decoder;
  const fns: (Exec | undefined)[] = new Array(1024).fill(undefined);
  const args: unknown[] = new Array(1024).fill(undefined);
  const decode = (i: number): void => {
    const d = decoder.decode(i < words.length ? words[i]! : 0);
    fns[i] = d.exec;
    args[i] = d.fields;
  };
  const entries = new Uint8Array(1024);
  entries[0] = 1;
  return { fns, args, decode, entries };
}

/** A pair (jit-pair.ts) at `el`, stepped one instruction at a time, in lockstep, to its first exception. */
function stepAtEl(words: number[], el: number) {
  const p = pair(words, (t) => {
    t.cpu.el = el;
    t.cpu.setTlbContext(el);
  });
  for (let runs = 1; p.jit.traps.length === 0 && runs <= 40; runs++) {
    p.jit.cpu.run(1);
    p.interp.cpu.run(1);
    expectSame(p.jit, p.interp, `EL${el} step ${runs}`);
  }
  return p;
}

describeOracle('WebAssembly translator vs the interpreter', ['cross-as'], () => {
  it('agrees after every single instruction (run(1) steps)', () => {
    const before = jitStats.pages;
    const { jit, interp } = pair(assemble(PROGRAM), (t) => t.cpu.setX(31, 0xf000n));
    let steps = 0;
    while (jit.traps.length < 2 && steps < 5000) {
      jit.cpu.run(1);
      interp.cpu.run(1);
      expectSame(jit, interp, `step ${++steps}`);
    }
    expect(jitStats.pages).toBeGreaterThan(before);
    // The program ran to its end: the load beyond RAM aborts (and again when the hook resumes it).
    expect(jit.traps.map((t) => [t.ec, t.far])).toEqual([[EC.DABT_LOWER, 0x100000], [EC.DABT_LOWER, 0x100000]]);
    expect(steps).toBeGreaterThan(1000);
  });

  // Slack 1 checks the budget before every instruction; the default leaves the tail of a run to the
  // interpreter; the optimizing tier (compiled again at once here) must run the same code.
  it.each([
    [1, false],
    [BUDGET_SLACK, false],
    [BUDGET_SLACK, true],
  ])('agrees at every block end with budgets of every size, and runs the loops in wasm (slack %i, optimized %s)', (slack, optimized) => {
    const optimized0 = jitStats.optimized;
    for (const budget of [2, 3, 7, 16, 33, 50, 97, 333, 100000]) {
      const { jit, interp } = pair(assemble(PROGRAM), (t) => t.cpu.setX(31, 0xf000n), slack);
      if (optimized) jit.cpu.jitOptimizeAfter = 0;
      let runs = 0;
      while (jit.traps.length < 2 && runs < 5000) {
        const a = jit.cpu.run(budget);
        const b = interp.cpu.run(budget);
        expect(a).toBe(b);
        expectSame(jit, interp, `budget ${budget} run ${++runs}`);
      }
      expect(jit.traps.length).toBeGreaterThanOrEqual(2);
      expect(jit.traps[0]).toMatchObject({ ec: EC.DABT_LOWER, far: 0x100000 });
      expect(jit.mem.codeCache.page(TestCpu.CODE, jit.cpu.decoder).code).not.toBeNull();
      expect(interp.mem.codeCache.page(TestCpu.CODE, interp.cpu.decoder).code).toBeNull();
    }
    if (optimized) expect(jitStats.optimized).toBeGreaterThan(optimized0);
  });

  // Three pages: a loop on the first calls (BL) a function on the second, which calls (BLR) one on
  // the third and ends by falling off its page into the third, whose first instructions return.
  // Half-way, the loop rewrites the third page's callee (a translated page is dropped while other
  // pages' translations may still chain to it).
  const CHAINED = [
    'mov x0, #300', 'mov x9, #0', 'adr x7, 3f', 'ldr w8, 4f',
    '1: bl 2f', 'cmp x0, #150', 'b.ne 5f', 'str w8, [x7]', 'isb', '5: subs x0, x0, #1', 'b.ne 1b', 'brk #0',
    '4: .word 0x91001529', // add x9, x9, #5
    '.balign 4096',
    '2: add x9, x9, #1', 'adr x10, 3f', 'mov x11, x30', 'blr x10', 'mov x30, x11', 'b 6f',
    '.skip 4096 - 32',
    '6: add x9, x9, #2', 'add x9, x9, x0', // the last two words of the second page
    'eor x12, x12, x9', 'ret', // the third page: reached by falling through
    '3: add x9, x9, #3', 'ret',
  ];

  it.each([1, BUDGET_SLACK])('chains between pages in wasm (calls, returns, falling off a page) and agrees at every budget (slack %i)', (slack) => {
    const words = assemble(CHAINED);
    expect(words.length).toBeGreaterThan(2048);
    for (const budget of [1, 7, 33, 50, 77, 100000]) {
      const { jit, interp } = pair(words, undefined, slack, false);
      const entries0 = jitStats.entries;
      let runs = 0;
      while (jit.traps.length < 1 && runs < 20000) {
        const a = jit.cpu.run(budget);
        const b = interp.cpu.run(budget);
        expect(a).toBe(b);
        expectSame(jit, interp, `budget ${budget} run ${++runs}`);
      }
      expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
      // 151 calls of +1+3+2+x0 (x0 = 300..150), then 149 of +1+5+2+x0.
      expect(jit.x(9)).toBe(151n * 6n + 149n * 8n + 45150n);
    }
    // 5000 instructions, about 250 round trips across three pages, in one run: entries from the run
    // loop are first entries, entries a partial translation did not cover (jit/reach.ts) and the
    // rewrite; without chaining there would be one per page change, over 1000.
    const { jit } = pair(words, undefined, slack, false);
    const entries0 = jitStats.entries;
    expect(jit.cpu.run(5000)).toBe(5000);
    expect(jitStats.entries - entries0).toBeLessThan(100);
  });

  it('load-acquire and store-release fault on an unaligned address, as the interpreter does', () => {
    // The translated fast path checks the alignment the handler checks (exec/ls-excl.ts); an
    // aligned load and store first put the page in the TLBs, so the fast path is the one taken.
    for (const insn of ['ldar x1, [x0]', 'stlr w2, [x0]', 'ldar w1, [x0]', 'stlrh w2, [x0]']) {
      const { jit, interp } = pair(assemble(['mov x0, #0x8000', 'ldr x3, [x0]', 'str x3, [x0]', 'add x0, x0, #1', 'mov x2, #7', insn, 'brk #0']));
      jit.cpu.run(10);
      interp.cpu.run(10);
      expectSame(jit, interp, insn);
      expect(jit.traps[0], insn).toMatchObject({ ec: EC.DABT_LOWER, far: 0x8001 });
    }
  });

  it('MRS/MSR of the registers in the CPU slot: loads and stores at EL1, UNDEFINED at EL0 as on the interpreter', () => {
    const words = assemble(['mov x2, #0x1234', 'movk x2, #0xabcd, lsl #48', 'msr tpidr_el0, x2', 'mrs x3, tpidr_el0', 'add x2, x2, #1', 'msr tpidrro_el0, x2', 'mrs x4, tpidrro_el0',
      'add x2, x2, #1', 'msr tpidr_el1, x2', 'mrs x5, tpidr_el1', 'add x2, x2, #1', 'msr sp_el0, x2', 'mrs x6, sp_el0', 'mrs x7, tpidr_el1', 'brk #0']);
    for (const el of [1, 0]) {
      const { jit } = stepAtEl(words, el);
      if (el === 1) {
        expect(jit.x(5)).toBe(0xabcd000000001236n);
        expect(jit.x(6)).toBe(0xabcd000000001237n);
        expect(jit.cpu.sys.spEl0Lo).toBe(0x1237);
        expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
      } else {
        // TPIDR_EL0 is an EL0 register; TPIDRRO_EL0 is read-only there: its MSR is UNDEFINED.
        expect(jit.x(3)).toBe(0xabcd000000001234n);
        expect(jit.traps[0]).toMatchObject({ ec: EC.UNKNOWN });
      }
    }
  });

  it('DC ZVA, DC by VA, IC and MRS DCZID_EL0: translated at EL1, the handler\'s at EL0, the same results', () => {
    // The STR and the LDR put the data page in the TLBs, so the fast paths are the ones taken.
    const words = assemble(['mov x0, #0x8033', 'str x0, [x0, #-0x30]', 'ldr x1, [x0, #-0x33]', 'dc zva, x0', 'dc cvau, x0', 'dc civac, x0', 'mrs x9, dczid_el0',
      'ic ivau, x0', 'ldur x10, [x0, #-16]', 'ic ivau, x1', 'ldr x11, [x0, #13]', 'mrs x12, ctr_el0', 'brk #0']);
    for (const el of [1, 0]) {
      const { jit } = stepAtEl(words, el);
      expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
      expect([jit.x(9), jit.x(10), jit.x(12)]).toEqual([4n, 0n, 0x8444c004n]);
      // 0x8040 is past the zeroed block
      expect(jit.x(11)).not.toBe(0n);
    }
  });

  it('LSE atomics translated (CAS, CASP, LD<op>, SWP, every size): the TLB-hit fast path agrees with the interpreter', () => {
    // A loop, so that after the first pass the data page is in both TLBs and the fast path runs.
    const words = assemble([
      'mov x9, #0x8000', 'mov x1, #0x1234', 'movk x1, #0x8765, lsl #48', 'mov x8, #4',
      '1: ldadd x1, x2, [x9]', 'ldclr w1, w3, [x9]', 'ldeorh w1, w4, [x9]', 'ldsetb w1, w5, [x9]', 'swp x1, x6, [x9]',
      'ldaddal w2, w7, [x9, #0]', 'mov x10, x6', 'cas x10, x3, [x9]', 'mov x11, #5', 'casal w11, w4, [x9]', 'casb w5, w1, [x9]', 'cash w6, w2, [x9]',
      'ldp x12, x13, [x9]', 'mov x14, x12', 'mov x15, x13', 'casp x14, x15, x2, x3, [x9]', 'casp x14, x15, x4, x5, [x9]',
      'ldp w16, w17, [x9]', 'caspl w16, w17, w2, w3, [x9]', 'add x1, x1, x7', 'subs x8, x8, #1', 'b.ne 1b', 'brk #0',
    ]);
    const { jit, interp } = pair(words);
    stepTogether(jit, interp, 400);
    expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
  });

  it('LDXR/STXR translated, every size: stored, failed on another address, on a changed value, after CLREX, as the interpreter', () => {
    const words = assemble([
      'mov x9, #0x8000', 'mov x4, #0x1234', 'mov x8, #4', 'add x13, x9, #8',
      '1: ldxrb w1, [x9]', 'stxrb w2, w4, [x9]', 'ldxrh w3, [x9]', 'stlxrh w5, w4, [x9]',
      'ldaxr w6, [x9]', 'stxr w7, w4, [x9]', 'ldxr x10, [x9]', 'stlxr w11, x8, [x9]',
      'ldxr x14, [x9]', 'stxr w15, x4, [x13]', // another address: 1
      'ldxr x16, [x9]', 'add x17, x16, #1', 'str x17, [x9]', 'stxr w18, x4, [x9]', // changed: 1
      'ldxr w19, [x9]', 'str w19, [x9]', 'stxr w20, w4, [x9]', // rewritten with the same value: 0
      'ldxr x21, [x9]', 'clrex', 'stxr w22, x4, [x9]', // cleared: 1
      'add x4, x4, x2', 'add x4, x4, x18', 'subs x8, x8, #1', 'b.ne 1b', 'brk #0',
    ]);
    const { jit, interp } = pair(words);
    stepTogether(jit, interp, 400);
    expect(jit.traps[0]).toMatchObject({ ec: EC.BRK64 });
    expect([jit.x(2), jit.x(15), jit.x(18), jit.x(20), jit.x(22)]).toEqual([0n, 1n, 1n, 0n, 1n]);
  });

  it('inner loops (a backward branch to a label with none in between) agree at every budget', () => {
    // Tight loops as compilers emit them: a counted loop, a nested pair, a loop left by a forward
    // branch, a loop with a second back edge (continue), TBZ/CBZ back edges, and a loop whose head
    // is entered from outside by a later backward branch (through the dispatch).
    const words = assemble([
      'mov x0, #40', 'mov x1, #0', 'mov x2, #0x8000',
      '1: ldr w3, [x2, x0, lsl #2]', 'add x1, x1, x3', 'subs x0, x0, #1', 'b.ne 1b',
      'mov x4, #6', '2: mov x5, #5', '3: add x1, x1, x5', 'subs x5, x5, #1', 'b.ne 3b', 'subs x4, x4, #1', 'b.ne 2b',
      'mov x6, #100', '4: sub x6, x6, #3', 'cmp x6, #10', 'b.lt 5f', 'tst x6, #1', 'b.eq 4b', 'add x1, x1, #1', 'b 4b',
      '5: mov x7, #0x55', '6: lsr x7, x7, #1', 'add x1, x1, x7', 'tbnz x7, #0, 6b', 'cbnz x7, 6b',
      'mov x8, #3', '8: eor x1, x1, x8', 'subs x8, x8, #1', 'b.ne 8b', 'add x9, x9, #1', 'mov x8, #2', 'cmp x9, #4', 'b.ne 8b',
      // Registers and flags the loop keeps in locals around instructions run by their handlers
      // (MRS/MSR NZCV have no emitter): the handler must see them, and what it writes must be
      // seen after it; SP and pairs in the loop too.
      'mov x10, #6', '9: subs x11, x10, #3', 'mrs x12, nzcv', 'add x1, x1, x12, lsr #28', 'lsl x13, x10, #29', 'msr nzcv, x13',
      'cinc x1, x1, cs', 'csel x16, x1, x11, mi', 'stp x1, x16, [sp, #-16]!', 'ldp x14, x15, [sp], #16', 'add x1, x1, x15', 'subs x10, x10, #1', 'b.ne 9b',
      'brk #0',
    ]);
    lockstepToBrk(words, [1, 2, 5, 13, 31, 32, 33, 64, 100000]);
  });

  it('bitfield moves (SBFM/UBFM aliases, 32 and 64 bits) agree with the interpreter on edge values', () => {
    const ops = [
      'ubfiz x3, x1, #5, #20', 'ubfiz w4, w1, #7, #9', 'ubfiz x5, x2, #60, #4', 'sbfiz x6, x2, #3, #9', 'sbfiz w7, w1, #28, #4',
      'ubfx x8, x1, #13, #40', 'ubfx w9, w2, #3, #29', 'sbfx x10, x2, #1, #63', 'sbfx w11, w1, #31, #1', 'sbfx x12, x1, #50, #14',
      'sxtb x13, w1', 'sxth w14, w2', 'sxtw x15, w2', 'uxtb w16, w1', 'uxth w17, w2', 'lsl w18, w1, #31', 'lsr x19, x2, #63',
      'asr w20, w2, #7', 'bfi x21, x2, #17, #30', 'bfxil w22, w1, #4, #12',
    ];
    const values: [bigint, bigint][] = [[0x8000_0000_8000_0001n, 0xffff_ffff_ffff_ffffn], [0x1234_5678_9abc_def0n, 0x7fff_ffff_8000_0000n], [0n, 0x8000_0000_0000_0000n]];
    for (const [a, b] of values) {
      const words = assemble([...ops, 'brk #0']);
      const { jit, interp } = pair(words, (t) => {
        t.cpu.setX(1, a);
        t.cpu.setX(2, b);
        for (let r = 21; r <= 22; r++) t.cpu.setX(r, 0x5555_aaaa_5555_aaaan);
      });
      for (let i = 0; i < ops.length; i++) {
        expect(jit.cpu.run(1)).toBe(interp.cpu.run(1));
        expectSame(jit, interp, `${ops[i]} with x1=${a.toString(16)} x2=${b.toString(16)}`);
      }
    }
  });

  it('loads and stores through the probe functions (straight-line code) and inline probes (inner loops, optimized pages) agree, TLB misses and page crossings included', () => {
    // x0 = 0x9000: [x0, #-3], [x0, #-5] and [x17] cross from the page at 0x8000 into the next (RAM
    // too: a probe that let them through would read the same); [x5, #-3] from the last page of RAM
    // to beyond its end (the closing abort, which a probe letting it through would not raise: the
    // page is in the TLBs by then).
    const words = assemble([
      'mov x0, #0x9000', 'mov x17, #0x8ff4', 'mov x1, #0x1234', 'movk x1, #0xabcd, lsl #48', 'mov x5, #0x100000',
      'str x1, [x5, #-16]', 'ldr x20, [x5, #-16]', 'str x1, [x0, #-16]', 'stur x1, [x0, #-5]', 'ldur x2, [x0, #-3]', 'ldur w3, [x0, #-2]', 'ldrh w4, [x0, #-1]', 'ldrb w6, [x0, #-1]',
      'stp x1, x2, [x0, #-8]', 'ldp x7, x8, [x17]', 'ldr x9, [x0, #-16]', 'sturh w1, [x0, #-1]', 'ldr x10, [x0, #-8]',
      'mov x11, #20', '1: ldur x12, [x0, #-3]', 'add x13, x13, x12', 'stur x13, [x0, #-7]', 'ldp x14, x15, [x17]', 'eor x13, x13, x15', 'subs x11, x11, #1', 'b.ne 1b',
      'ldur x16, [x5, #-3]', 'brk #0',
    ]);
    const { fns, args, decode, entries } = decodedPage(words);
    const live = reachable(fns, args as { off?: number }[], entries, decode);
    const outlined = emitPage(fns, args, undefined, live, entries, BUDGET_SLACK, true);
    const inline = emitPage(fns, args, undefined, live, entries, BUDGET_SLACK, false);
    // Loads and stores, 8 and 16 bytes, outside the loop: four probe functions; none when inlined.
    expect(outlined.probes.length).toBeGreaterThanOrEqual(4);
    expect(inline.probes).toEqual([]);
    expect(outlined.len).toBeLessThan(inline.len - 40 * 10);
    // And a load in an inner loop (an inline probe) that walks off the end of RAM across the page
    // boundary, its page in the TLB.
    const loop = assemble(['mov x21, #0xffff0', 'ldr x20, [x21]', 'mov x11, #40', '1: ldur x22, [x21]', 'add x23, x23, x22', 'add x21, x21, #3', 'subs x11, x11, #1', 'b.ne 1b', 'brk #0']);
    for (const program of [words, loop]) {
      for (const optimized of [false, true]) {
        for (const budget of [1, 7, 33, 100000]) {
          const { jit, interp } = pair(program, undefined, BUDGET_SLACK, false);
          if (optimized) jit.cpu.jitOptimizeAfter = 0;
          let runs = 0;
          while (jit.traps.length === 0 && runs < 5000) {
            expect(jit.cpu.run(budget)).toBe(interp.cpu.run(budget));
            expectSame(jit, interp, `optimized ${optimized} budget ${budget} run ${++runs}`);
          }
          expect(jit.traps[0]).toMatchObject({ ec: EC.DABT_LOWER, far: 0x100000 });
          expect(interp.traps[0]).toMatchObject({ ec: EC.DABT_LOWER, far: 0x100000 });
        }
      }
    }
  });

  it('loops entered in the middle (a while loop entered at its test, a return address inside) are inner loops and agree at every budget', () => {
    // Compilers lay out `while (n--) body` as `b test; body: ...; test: subs; b.ne body`: the loop
    // has a second label, its test, where it is first entered (jit/translate.ts midEntry).
    const words = assemble([
      'mov x0, #0', 'mov x1, #50', 'mov x2, #0x8000', 'b 2f',
      '1: add x0, x0, #3', 'ldr x3, [x2, x1, lsl #3]', 'eor x0, x0, x3', 'str x0, [x2, x1, lsl #3]',
      '2: subs x1, x1, #1', 'b.ne 1b',
      // Entered in the middle, left from the skipped part by a forward branch past the loop, and
      // with a handler-run instruction (MRS NZCV) and flags in the skipped part.
      'mov x4, #40', 'b 4f',
      '3: adds x5, x4, #-20', 'b.eq 5f', 'mrs x6, nzcv', 'add x0, x0, x6, lsr #28', 'cinc x0, x0, mi',
      '4: sub x4, x4, #1', 'cbnz x4, 3b',
      // A call in the loop: its return address is the second entry.
      '5: mov x7, #30',
      '6: bl 9f', 'add x0, x0, x7', 'subs x7, x7, #1', 'b.pl 6b',
      // The head entered too, by a backward branch from after the loop (through the dispatch).
      'mov x8, #3', 'mov x9, #4', 'b 11f',
      '10: add x0, x0, x9', '11: subs x9, x9, #1', 'b.ne 10b', 'mov x9, #2', 'subs x8, x8, #1', 'b.ne 10b',
      'brk #0',
      '9: eor x0, x0, x7, lsl #5', 'ret',
    ]);
    // The page's first translation, entered at its start only: every loop above is an inner loop.
    const { fns, args, decode, entries } = decodedPage(words);
    const stats: TranslateStats = { translated: 0, calls: 0 };
    emitPage(fns, args, stats, reachable(fns, args as { off?: number }[], entries, decode), entries);
    expect(stats).toMatchObject({ loops: 4, entryLoops: 4 });
    const [pages, failures] = [jitStats.pages, jitStats.failures];
    lockstepToBrk(words, [1, 3, 7, 31, 32, 33, 100000]);
    expect(jitStats.pages).toBeGreaterThan(pages);
    expect(jitStats.failures).toBe(failures); // (a module that fails to compile leaves the page interpreted)
  });

  it('runs that stop inside a loop do not make its instructions entries: the page is translated once and keeps its loop', () => {
    // Every run here ends at a different instruction of the loop and the next one resumes there;
    // counting those as entries (misses) would retranslate the page with labels inside the loop.
    const words = assemble(['mov x1, #0', '1: add x1, x1, #1', 'eor x2, x2, x1', 'b 1b']);
    const { jit, interp } = pair(words, undefined, BUDGET_SLACK, false);
    const [pages, ran] = [jitStats.pages, jitStats.ran];
    for (let i = 0; i < 200; i++) {
      expect(jit.cpu.run(1000)).toBe(interp.cpu.run(1000));
      expectSame(jit, interp, `run ${i}`);
    }
    expect(jitStats.pages - pages).toBe(1);
    expect(jitStats.ran - ran).toBeGreaterThan(150_000);
  });

  it('a data abort inside an inner loop leaves the registers the loop changed in the register file', () => {
    // The loop keeps x0, x1 and the flags in locals; the 33rd load runs off the end of RAM.
    const words = assemble(['mov x0, #0xf0000', 'mov x1, #0', '1: add x1, x1, #3', 'adds x3, x1, x0', 'ldr x2, [x0]', 'add x0, x0, #0x800', 'b 1b']);
    for (const optimized of [false, true]) {
      const { jit, interp } = pair(words, undefined, BUDGET_SLACK, false);
      if (optimized) jit.cpu.jitOptimizeAfter = 0;
      // Runs of 50 (translated code runs while BUDGET_SLACK are left): the first compiles the
      // page, optimized after it when asked.
      for (let i = 0; i < 20 && jit.traps.length === 0; i++) {
        expect(jit.cpu.run(50)).toBe(interp.cpu.run(50));
        expectSame(jit, interp, `optimized ${optimized} run ${i}`);
      }
      expectSame(jit, interp, `optimized ${optimized}`);
      expect(jit.traps[0]).toMatchObject({ ec: EC.DABT_LOWER, far: 0x100000 });
      expect(jit.x(1)).toBe(99n);
    }
  });

  it('a store into a translated page drops its code: the new instruction runs', () => {
    // The loop rewrites its own `mov x5, #1` into `mov x5, #2` (0xd2800045) the second time round.
    const words = assemble(['mov x6, #2', 'adr x7, 1f', 'ldr w8, 2f', '0: ', '1: mov x5, #1', 'add x9, x9, x5', 'str w8, [x7]', 'isb', 'subs x6, x6, #1', 'b.ne 1b', 'brk #0', '2: .word 0xd2800045']);
    const { jit, interp } = pair(words);
    jit.cpu.run(1000);
    interp.cpu.run(1000);
    expectSame(jit, interp, 'self-modifying loop');
    expect(jit.x(9)).toBe(3n); // 1 + 2
  });

  it('an instruction abort on entering a page returns to the fetched address, translated or not', () => {
    // Found by running the kit boot in lockstep: the MMU raises with cpu.pc, which must be the
    // address fetched (ARM ARM: the preferred return of an instruction abort), not the branch
    // before it, whose PC translated code does not keep in cpu.pc.
    for (const jit of [true, false]) {
      const t = new TestCpu();
      t.cpu.jitThreshold = 0;
      if (!jit) t.cpu.jit = null;
      t.cpu.translator = {
        pageCacheable: true,
        translate: (va: number, access: Access) => (access === Access.Exec && va >= 0x3000 ? t.cpu.raise(EC.IABT_LOWER, 0x07, va, t.cpu.pc) : va),
      };
      // At 0x1000: a loop, then a branch to 0x2000, whose page falls through into 0x3000.
      const words = assemble(['mov x0, #3', '1: subs x0, x0, #1', 'b.ne 1b', 'b .+0x1000 - 12']);
      const tail = assemble(['add x1, x1, #1']);
      for (let i = 0; i < words.length; i++) t.mem.ram.setUint32(0x1000 + 4 * i, words[i]!, true);
      for (let i = 0; i < 1024; i++) t.mem.ram.setUint32(0x2000 + 4 * i, tail[0]!, true);
      t.cpu.invalidateCodeRam(0x1000, 0x2000);
      t.cpu.pc = 0x1000;
      t.cpu.run(2000);
      expect(t.x(1)).toBe(1024n); // every add of page 0x2000 ran once
      expect(t.traps[0]).toMatchObject({ ec: EC.IABT_LOWER, far: 0x3000, pc: 0x3000 });
    }
  });
});
