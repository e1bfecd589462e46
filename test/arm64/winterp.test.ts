// The wasm interpreter (emulator/arm64/jit/winterp.ts) against the JavaScript interpreter, its
// reference: the same program from the same state, one CPU running every page on the wasm
// interpreter (the translator's threshold out of reach), one interpreting in JavaScript, must agree
// on every register byte, flag, PC, instruction count and RAM byte after every run(), whatever the
// budget -- whole or not: the machine's runs end at fractions of an instruction when EL2 work was
// charged (cpu.ts run).
import { expect, it } from 'vitest';
import { pair, expectSame, PROGRAM, stepTogether } from './jit-pair.ts';
import { describeOracle } from '../oracles.ts';
import { assemble } from './ls-oracle.ts';
import { jitStats } from '../../emulator/arm64/jit/settings.ts';
import { ARENA_TABLE_BYTES } from '../../emulator/arm64/jit/guest-memory.ts';
import { TABLE_HEAT } from '../../emulator/arm64/jit/winterp-ops.ts';
import { TestCpu } from './harness.ts';
import { Decoder, type Decoded } from '../../emulator/arm64/decode/pattern.ts';
import { allTables } from '../../emulator/arm64/decode/index.ts';
import { EC, defaultDecoder } from '../../emulator/arm64/cpu.ts';
import { El2Reg, ESR_EC, HCR_EL2, type El2Cpu } from '../../emulator/arm64/el2.ts';
import { El2CpuPort, el2Adapter } from '../../emulator/arm64/el2-cpu.ts';

function wasmInterpreted(words: number[]) {
  const p = pair(words, (t) => t.cpu.setX(31, 0xf000n), 1, false);
  p.jit.cpu.jitThreshold = 2 ** 30;
  expect(p.jit.cpu.jit!.winterp).not.toBeNull();
  return p;
}

describeOracle('wasm interpreter vs the JavaScript interpreter', ['cross-as'], () => {
  it('runs the translator test program in lockstep, every budget', () => {
    const words = assemble(PROGRAM);
    for (const budget of [1, 2, 3, 7, 31, 100000, 2.5, 0.4]) {
      const { jit, interp } = wasmInterpreted(words);
      const before = jitStats.wran;
      let runs = 0;
      while (interp.traps.length === 0 && runs < 200000) {
        const a = jit.cpu.run(budget);
        const b = interp.cpu.run(budget);
        expect(a, `budget ${budget} run ${runs}`).toBe(b);
        expectSame(jit, interp, `budget ${budget} run ${++runs}`);
      }
      expect(interp.traps.length, `budget ${budget}`).toBeGreaterThan(0);
      // It did run on the wasm interpreter: most of the program's instructions (a call of it that
      // ends in a guest exception is not counted: with the largest budget, that is all of them).
      if (budget < 100000) expect(jitStats.wran - before, `budget ${budget}`).toBeGreaterThan(jit.cpu.instret / 2);
    }
  });

  it('a run of 2.5 instructions runs 3 of them, all on the wasm interpreter', () => {
    const { jit, interp } = wasmInterpreted(assemble(['mov x0, #1', 'add x0, x0, #2', 'add x0, x0, #3', 'add x0, x0, #4', 'brk #0']));
    const before = jitStats.wran;
    jit.cpu.run(2.5);
    interp.cpu.run(2.5);
    expectSame(jit, interp, 'run(2.5)');
    expect(jit.cpu.instret).toBe(3);
    expect(jitStats.wran - before).toBe(3);
    expect(jit.x(0)).toBe(6n);
  });

  it('runs EL1 cache maintenance, DCZID_EL0 and the long multiplies without a handler call', () => {
    const words = assemble([
      'mov x0, #0x8033', 'mov x1, #-7', 'mov x2, #0x80000000', 'add x2, x2, #5', 'mov x3, #-1000',
      'smaddl x4, w1, w2, x3', 'umaddl x5, w1, w2, x3', 'smsubl x6, w2, w2, x3', 'umsubl x7, w1, w1, x4', 'smull x8, w1, w2',
      'str x1, [x0, #-0x30]', 'dc zva, x0', 'dc cvau, x0', 'dc civac, x0', 'dc cvac, x0', 'dc ivac, x0', 'mrs x9, dczid_el0', 'ldur x10, [x0, #-16]', 'mrs x11, ctr_el0',
    ]);
    for (const budget of [1, 3, 100]) {
      const { jit, interp } = wasmInterpreted(words);
      for (const t of [jit, interp]) {
        // EL1 (the soft TLB's EL1 context), no hypervisor: DC ZVA is not trapped.
        t.cpu.el = 1;
        t.cpu.setTlbContext(1);
      }
      const before = jitStats.whelper;
      let runs = 0;
      // (No BRK to end it: the test harness catches exceptions at EL0 only.)
      while (interp.cpu.instret < words.length) {
        const n = Math.min(budget, words.length - interp.cpu.instret);
        expect(jit.cpu.run(n)).toBe(interp.cpu.run(n));
        expectSame(jit, interp, `budget ${budget} run ${++runs}`);
      }
      expect(jit.x(9)).toBe(4n);
      expect(jit.x(11)).toBe(0x8444c004n);
      expect(jit.x(10)).toBe(0n); // in the zeroed block 0x8000..0x803f
      expect([...new Uint8Array(jit.mem.ram.buffer, 0x8000 + jit.mem.ram.byteOffset, 64)]).toEqual(new Array(64).fill(0));
      expect(jit.mem.ram.getUint8(0x8040)).not.toBe(0);
      // The soft-TLB misses of the STR (write) and DC CVAU (read) of the data page (the
      // handler fills the TLB); nothing else left the wasm interpreter.
      expect(jitStats.whelper - before, `budget ${budget}`).toBe(2);
    }
  });

  it('DC ZVA that HCR_EL2.TDZ traps and MRS CTR_EL0 that TID2 traps go to EL2, on the wasm interpreter and translated alike', () => {
    // Each way: 0 the wasm interpreter, 1 translated at the first entry; the STR puts the page in
    // the write TLB first, so only the CPU flags word keeps DC ZVA from the fast path.
    const words = assemble(['mov x0, #0x8040', 'str x0, [x0, #8]', 'dc zva, x0', 'ldr x1, [x0, #16]', 'mrs x2, ctr_el0', 'b .']);
    for (const translated of [false, true]) {
      const { jit, interp } = translated ? pair(words) : wasmInterpreted(words);
      const logs: number[][] = [];
      for (const t of [jit, interp]) {
        t.cpu.el = 1;
        t.cpu.setTlbContext(1);
        const log: number[] = [];
        logs.push(log);
        const port = new El2CpuPort(t.cpu, 0, 0);
        t.cpu.hypervisor = el2Adapter({ start: () => {}, sync: (c: El2Cpu) => void (log.push(c.esr >>> 26), c.advancePc()), irq: () => {} }, port);
        port.msr(El2Reg.HCR_EL2, HCR_EL2.TDZ | HCR_EL2.TID2 | HCR_EL2.RW);
      }
      for (let runs = 1; runs <= 6; runs++) {
        expect(jit.cpu.run(1)).toBe(interp.cpu.run(1));
        expectSame(jit, interp, `translated ${translated} run ${runs}`);
      }
      // DC ZVA and MRS CTR_EL0, both trapped
      expect(logs[0]).toEqual([ESR_EC.SYSREG, ESR_EC.SYSREG]);
      expect(logs[1]).toEqual([ESR_EC.SYSREG, ESR_EC.SYSREG]);
      expect(jit.x(2)).toBe(0n);
      expect(jit.x(1)).not.toBe(0n); // not zeroed
    }
  });

  it('ISB runs in wasm unless an interrupt may be taken, when the handler ends the block', () => {
    const words = assemble(['mov x0, #1', 'isb', 'add x0, x0, #1', 'isb', 'add x0, x0, #1', 'isb', 'brk #0']);
    for (const irq of [false, true]) {
      const { jit, interp } = wasmInterpreted(words);
      // (A line asserted before the run: with the test's exception hook it is never taken.)
      for (const t of [jit, interp]) t.cpu.pins.setIrq(irq);
      const before = jitStats.whelper;
      // Seven instructions, the BRK last: one call of its handler.
      expect(jit.cpu.run(7)).toBe(interp.cpu.run(7));
      expectSame(jit, interp, `irq ${irq}`);
      expect(jit.traps.length).toBe(1);
      expect(jit.x(0)).toBe(3n);
      // The BRK, and each ISB when an interrupt may be taken.
      expect(jitStats.whelper - before, `irq ${irq}`).toBe(irq ? 4 : 1);
    }
  });

  it('DAIF and IC at EL1, wasm interpreter and translated: an unmask takes the pending IRQ right after it, as on the JavaScript interpreter', () => {
    // EL1 code with an IRQ asserted and masked: MRS/MSR DAIF, DAIFSet, IC; DAIFClr #2 unmasks it,
    // and the IRQ is taken at the next instruction (the vector sets x20), not some later one.
    const words = assemble(['msr daifset, #2', 'mrs x1, daif', 'mov x3, #0x3c0', 'msr daif, x3', 'mrs x4, daif', 'ic ivau, x0', 'ic iallu',
      'add x5, x5, #1', 'msr daifclr, #2', 'add x6, x6, #1', 'add x6, x6, #1', 'add x6, x6, #1', 'b .']);
    const vector = assemble(['mov x20, #0x280', 'b .']);
    for (const [budget, translated] of [[1, false], [3, false], [1000, false], [1, true], [1000, true]] as const) {
      const { jit, interp } = translated ? pair(words) : wasmInterpreted(words);
      for (const t of [jit, interp]) {
        t.cpu.enableSystemMode();
        t.cpu.sys.vbar1 = 0x20000;
        for (let i = 0; i < vector.length; i++) t.mem.ram.setUint32(0x20280 + 4 * i, vector[i]! >>> 0, true);
        t.cpu.invalidateCodeRam(0x20280, 8);
        t.cpu.pc = TestCpu.CODE;
        t.cpu.pins.setIrq(true);
      }
      const before = jitStats.whelper;
      for (let runs = 1; runs <= 30; runs++) {
        expect(jit.cpu.run(budget), `budget ${budget} run ${runs}`).toBe(interp.cpu.run(budget));
        expectSame(jit, interp, `budget ${budget} run ${runs}`);
        expect(jit.cpu.daif, `budget ${budget} run ${runs}`).toBe(interp.cpu.daif);
      }
      expect([jit.x(1), jit.x(4), jit.x(5), jit.x(6), jit.x(20)]).toEqual([0x3c0n, 0x3c0n, 1n, 0n, 0x280n]);
      if (budget === 1000 && !translated) expect(jitStats.whelper - before, 'no handler for DAIF and IC').toBe(0);
    }
  });

  it('DAIF writes with no interrupt asserted: the block goes on past them, on every tier, as on the JavaScript interpreter', () => {
    // (The kernel's irqrestore/irqenable, ~37 K a kit boot, each had ended the block and gone back to
    // the run loop.) With an IRQ asserted the same writes end it (the test above).
    const words = assemble(['msr daifset, #2', 'mov x3, #0x3c0', 'msr daif, x3', 'msr daifclr, #2', 'add x5, x5, #1', 'msr daif, xzr', 'add x6, x6, #1', 'b .']);
    for (const translated of [false, true]) {
      const entries = (): number => (translated ? jitStats.entries : jitStats.wentries);
      const { jit, interp } = translated ? pair(words) : wasmInterpreted(words);
      for (const t of [jit, interp]) t.cpu.enableSystemMode();
      jit.cpu.run(1); // (translated: the page is translated at its first entry)
      interp.cpu.run(1);
      const before = entries();
      expect(jit.cpu.run(1000)).toBe(interp.cpu.run(1000));
      expectSame(jit, interp, translated ? 'translated' : 'wasm interpreter');
      expect([jit.x(5), jit.x(6), jit.cpu.daif]).toEqual([1n, 1n, 0]);
      expect(entries() - before, translated ? 'translated' : 'wasm interpreter').toBe(1);
      // The interpreter's handlers leave the block going on too.
      for (const w of [words[3]!, words[5]!]) {
        const d = defaultDecoder().decode(w);
        interp.cpu.exitRequest = 0;
        d.exec(interp.cpu, d.fields);
        expect(interp.cpu.exitRequest).toBe(0);
        interp.cpu.pins.setIrq(true);
        d.exec(interp.cpu, d.fields);
        expect(interp.cpu.exitRequest).toBe(1);
        interp.cpu.pins.setIrq(false);
      }
    }
  });

  it('CASP of words and of X registers, equal and not, an XZR half and a misaligned pair', () => {
    const words = assemble([
      'mov x9, #0x8000', 'ldp x0, x1, [x9]', 'str x0, [x9, #64]', // the page in both TLBs
      'mov x2, x0', 'mov x3, x1', 'mov x4, #0x1234', 'mov x5, #0x5678',
      'casp x2, x3, x4, x5, [x9]', 'ldp x10, x11, [x9]', // equal: stored
      'mov x2, #1', 'mov x3, #2', 'caspal x2, x3, x0, x1, [x9]', 'ldp x12, x13, [x9]', // not equal
      'add x8, x9, #16', 'ldr w6, [x8]', 'ldr w7, [x8, #4]', 'mov w14, w6', 'mov w15, w7',
      'casp w14, w15, w4, w5, [x8]', 'ldp w16, w17, [x8]',
      'mov x30, #0x8030', 'ldr x18, [x30]', 'mov x24, x18', 'casp x24, x25, x30, xzr, [x30]', 'ldp x19, x20, [x30]',
      'add x9, x9, #8', 'casp x2, x3, x4, x5, [x9]', 'brk #0',
    ]);
    const { jit, interp } = wasmInterpreted(words);
    const before = jitStats.whelper;
    stepTogether(jit, interp, 100);
    expect([jit.x(10), jit.x(11), jit.x(12), jit.x(13)]).toEqual([0x1234n, 0x5678n, 0x1234n, 0x5678n]);
    expect([jit.x(16), jit.x(17)]).toEqual([0x1234n, 0x5678n]);
    expect(jit.traps[0]).toMatchObject({ ec: EC.DABT_LOWER, far: 0x8008 }); // the misaligned pair
    // The soft-TLB misses of the first LDP, STR and the x30 page's LDR... and the fault: the CASPs ran in wasm.
    expect(jitStats.whelper - before).toBeLessThanOrEqual(5);
  });

  it('LDXR/STXR of every size: stored, failed on another address, on a changed value, after CLREX; XZR status; a misaligned one faults', () => {
    const words = assemble([
      'mov x9, #0x8000', 'ldr x0, [x9]', 'str x0, [x9, #64]', // the page in both TLBs
      'mov x4, #0x1234',
      'ldxrb w1, [x9]', 'stxrb w2, w4, [x9]', 'ldxrh w3, [x9]', 'stlxrh w5, w4, [x9]',
      'ldaxr w6, [x9]', 'stxr w7, w4, [x9]', 'ldxr x8, [x9]', 'stlxr w10, x4, [x9]',
      'ldxr x11, [x9]', 'stxr w12, x0, [x9, #0]', 'add x13, x9, #8', 'ldxr x14, [x9]', 'stxr w15, x4, [x13]', // another address: 1
      'ldxr x16, [x9]', 'add x17, x16, #1', 'str x17, [x9]', 'stxr w18, x4, [x9]', // changed: 1
      'ldxr w19, [x9]', 'str w19, [x9]', 'stxr w20, w4, [x9]', // rewritten with the same value: 0
      'ldxr x21, [x9]', 'clrex', 'stxr w22, x4, [x9]', // cleared: 1
      'ldxr x23, [x9]', 'stxr wzr, x0, [x9]', 'ldr x24, [x9]',
      'add x25, x9, #2', 'ldxr w26, [x25]', 'brk #0',
    ]);
    const { jit, interp } = wasmInterpreted(words);
    const before = jitStats.whelper;
    stepTogether(jit, interp, 100);
    expect([jit.x(2), jit.x(5), jit.x(7), jit.x(10), jit.x(12), jit.x(15), jit.x(18), jit.x(20), jit.x(22)]).toEqual([0n, 0n, 0n, 0n, 0n, 1n, 1n, 0n, 1n]);
    expect(jit.x(24)).toBe(jit.x(0)); // stored, the status discarded
    expect(jit.traps[0]).toMatchObject({ ec: EC.DABT_LOWER, far: 0x8002 }); // the misaligned LDXR
    // The soft-TLB misses of the first LDR and STR, the CLREX and the fault: the exclusives ran in wasm.
    expect(jitStats.whelper - before).toBeLessThanOrEqual(5);
  });

  it('ADC/SBC(S) and UDIV/SDIV, edge cases: carry in and out, division by zero, the minimum by -1', () => {
    const words = assemble([
      'mov x0, #-1', 'mov x1, #1', 'adds x2, x0, x1', 'adc x3, x0, x1', 'adcs w4, w0, w1', 'sbcs x5, x1, x0', 'sbc w6, w1, w0', 'sbcs x7, xzr, x1', 'adc x8, xzr, xzr',
      'mov x9, #0x8000000000000000', 'mov w10, #0x80000000', 'sdiv x11, x9, x0', 'sdiv w12, w10, w0', 'udiv x13, x9, xzr', 'sdiv w14, w1, wzr',
      'mov x15, #-7', 'mov x16, #2', 'sdiv x17, x15, x16', 'udiv x18, x15, x16', 'sdiv w19, w15, w16', 'udiv w20, w15, w16', 'brk #0',
    ]);
    const { jit, interp } = wasmInterpreted(words);
    const before = jitStats.whelper;
    stepTogether(jit, interp, 40);
    expect([jit.x(11), jit.x(12), jit.x(13), jit.x(14), jit.x(17), jit.x(19)]).toEqual([0x8000000000000000n, 0x80000000n, 0n, 0n, 2n ** 64n - 3n, 0xfffffffdn]);
    expect(jitStats.whelper - before, 'only the BRK').toBe(1);
  });

  it('DC ZVA at EL0 is the handler\'s (SCTLR_EL1.DZE), with the same result', () => {
    const words = assemble(['mov x0, #0x8020', 'dc zva, x0', 'mrs x9, dczid_el0', 'ldr x1, [x0]', 'dc cvau, x0', 'brk #0']);
    const { jit, interp } = wasmInterpreted(words);
    for (const t of [jit, interp]) while (t.traps.length === 0) t.cpu.run(1000);
    expectSame(jit, interp, 'EL0');
    expect(jit.mem.ram.getUint8(0x8020)).toBe(0);
    expect(jit.traps[0]!.pc).toBe(TestCpu.CODE + 5 * 4);
  });

  it('packs each distinct word once: the same words on another page come from the memo', () => {
    // (CINC: a slot with all 16 bytes in use.)
    const body = new Array(5).fill(['add x0, x0, #1', 'cinc x1, x1, ne']).flat();
    const words = assemble(['mov x0, #0', 'mov x1, #0', ...body, 'b 1f', '.balign 4096', '1:', ...body, 'brk #0']);
    const { jit, interp } = wasmInterpreted(words);
    const before = jitStats.wpacked;
    for (const t of [jit, interp]) while (t.traps.length === 0) t.cpu.run(1000);
    expectSame(jit, interp, 'memo');
    expect([jit.x(0), jit.x(1)]).toEqual([10n, 10n]);
    // mov, mov, add, cinc, b, brk: 6 words packed in JavaScript for the 24 instructions on the two pages.
    expect(jitStats.wpacked - before).toBe(6);
  });

  it('keeps in the decoder\'s memo only the words JavaScript runs (helper operations), not those wasm packs', () => {
    // A decoder of its own: the shared one holds every test's words.
    const decoder = new Decoder(allTables(), (cpu) => cpu.raiseUndefined());
    const memo = decoder as unknown as { memo: (Decoded | undefined)[]; memoWord: Int32Array };
    const inMemo = (w: number) => memo.memo.some((d, h) => d !== undefined && memo.memoWord[h] === (w | 0));
    const lines = ['mov x1, #7', 'add x2, x1, #3', 'umulh x3, x1, x2', 'eor x4, x1, x2', 'crc32x w5, w5, x1', 'mov x6, #1'];
    const words = assemble(lines);
    const jit = new TestCpu(decoder);
    const interp = new TestCpu(decoder);
    interp.cpu.jit = null;
    jit.cpu.jitThreshold = 2 ** 30;
    for (const t of [jit, interp]) {
      for (let i = 0; i < words.length; i++) t.mem.ram.setUint32(TestCpu.CODE + 4 * i, words[i]!, true);
      t.cpu.invalidateCodeRam(TestCpu.CODE, words.length * 4);
      t.cpu.pc = TestCpu.CODE;
    }
    const [helpers, ran] = [jitStats.whelper, jitStats.wran];
    expect(jit.cpu.run(words.length)).toBe(words.length);
    expect(jitStats.wran - ran).toBe(words.length); // all on the wasm interpreter
    // UMULH and CRC32X have no wasm operation: their handlers ran, decoded from the memo.
    expect(jitStats.whelper - helpers).toBe(2);
    expect(lines.map((l, i) => `${l}: ${inMemo(words[i]!)}`)).toEqual(lines.map((l) => `${l}: ${/^(umulh|crc32x)/.test(l)}`));
    expect(interp.cpu.run(words.length)).toBe(words.length);
    expectSame(jit, interp, 'helper words');
    expect(jit.x(6)).toBe(1n);
  });

  it('a page written by a store is decoded again: the new instruction runs', () => {
    // str w2, [x1] rewrites the instruction after the branch target with `mov x0, #2`.
    const words = assemble(['adr x1, 1f', 'ldr w2, 2f', 'str w2, [x1]', 'dc cvau, x1', 'dsb ish', 'ic ivau, x1', 'dsb ish', 'isb', '1: mov x0, #1', 'brk #0', '2: mov x0, #2']);
    const { jit, interp } = wasmInterpreted(words);
    // RAM where a table's header would be if a dropped page's (wslots 0) were taken for one: untouched.
    for (const t of [jit, interp]) for (let o = TABLE_HEAT; o < ARENA_TABLE_BYTES; o += 4) t.mem.ram.setUint32(o, 0x5a5a5a5a);
    for (const t of [jit, interp]) while (t.traps.length === 0) t.cpu.run(1000);
    expectSame(jit, interp, 'self-modified');
    expect(jit.x(0)).toBe(2n);
  });
});

it('the arena gives each page a zeroed slot table and takes dropped pages back', () => {
  const t = new TestCpu();
  const jit = t.cpu.jit!;
  const page = t.mem.codeCache.page(0, t.cpu.decoder);
  const slots = jit.slotsFor(page);
  expect(slots).toBeGreaterThan(0);
  expect(page.wslots).toBe(slots);
  t.mem.codeCache.invalidate(0, 4);
  expect(page.wslots).toBe(0);
  // Reused only at the next allocation, zeroed: every slot, the entries and the heat (the
  // generation goes on counting).
  const table = new Uint8Array(jit.memory.buffer, slots, TABLE_HEAT + 4);
  table.fill(7);
  const again = t.mem.codeCache.page(0, t.cpu.decoder);
  expect(jit.slotsFor(again)).toBe(slots);
  expect(table.findIndex((b) => b !== 0)).toBe(-1);
});

// Calls from one page into another, a loop across a page boundary, and a store that rewrites the
// called page: each page on its own slot table, and never a table its page no longer owns.
const PAGES = [
  'mov x0, #0', 'mov x1, #300', 'adr x5, far', 'ldr w6, new',
  '1: bl far', 'bl edge', 'cmp x1, #150', 'b.ne 2f',
  // half way: rewrite far's first instruction (add #3 -> add #5), as self-modifying code must
  'str w6, [x5]', 'dc cvau, x5', 'dsb ish', 'ic ivau, x5', 'dsb ish', 'isb',
  '2: subs x1, x1, #1', 'b.ne 1b', 'brk #0',
  'new: add x0, x0, #5',
  '.balign 4096', 'far: add x0, x0, #3', 'ret',
  '.balign 4096', '.skip 4080', 'edge: add x2, x2, #1', 'add x3, x3, x2', 'add x4, x4, #2', 'add x2, x2, x4', 'add x3, x3, #1', 'ret',
];

describeOracle('wasm interpreter across pages', ['cross-as'], () => {
  it('runs calls between pages and a loop across a page boundary in lockstep, rewritten code included', () => {
    const words = assemble(PAGES);
    for (const budget of [1, 7, 64, 1000, 100000]) {
      const { jit, interp } = wasmInterpreted(words);
      let runs = 0;
      while (interp.traps.length === 0 && runs < 200000) {
        expect(jit.cpu.run(budget)).toBe(interp.cpu.run(budget));
        expectSame(jit, interp, `budget ${budget} run ${++runs}`);
      }
      expect(interp.traps.length).toBeGreaterThan(0);
      // 151 calls before the rewrite (the one at x1 = 150 included), 149 after it.
      expect(jit.x(0)).toBe(151n * 3n + 149n * 5n);
    }
  });

  it('counts the calls into a page as its heat (what makes it translated), and its entries', () => {
    const { jit, interp } = wasmInterpreted(assemble(PAGES));
    // Up to the BRK (the harness's trap returns to it: each run would end in a loop of them).
    while (interp.traps.length === 0) interp.cpu.run(1);
    const before = jitStats.wentries;
    jit.cpu.run(interp.cpu.instret - 1);
    expect(jit.traps.length).toBe(0);
    // far's page as rewritten: called 149 times since, each call an entry.
    const page = jit.mem.codeCache.page(TestCpu.CODE + 4096, jit.cpu.decoder);
    expect(jit.cpu.jit!.heatOf(page)).toBeGreaterThanOrEqual(149);
    // The calls went from page to page inside the wasm interpreter: the run loop made a few
    // entries (the first of each page, the rewrite's), not one per call and return (~1200).
    expect(jitStats.wentries - before).toBeLessThan(20);
    // ... and marked where they went in: edge, entered by the run loop only at its first call.
    const edge = jit.mem.codeCache.page(TestCpu.CODE + 2 * 4096, jit.cpu.decoder);
    edge.entries.fill(0);
    jit.cpu.jit!.takeEntries(edge);
    expect([...edge.entries.keys()].filter((i) => edge.entries[i] !== 0)).toEqual([4080 / 4]);
  });

  it('a page entered only from other pages still gets hot and translated', () => {
    const { jit, interp } = wasmInterpreted(assemble(PAGES));
    jit.cpu.jitThreshold = 100;
    while (interp.traps.length === 0) interp.cpu.run(1);
    jit.cpu.run(interp.cpu.instret - 1);
    expect(jit.traps.length).toBe(0);
    expect(jit.cpu.instret).toBe(interp.cpu.instret - 1);
    // edge's page (the third): entered by BL from the first page 300 times, all but the first
    // from the wasm interpreter; translated (or on its way: the background compiler's) once the
    // heat it counted passed the threshold.
    const edge = jit.mem.codeCache.page(TestCpu.CODE + 2 * 4096, jit.cpu.decoder);
    expect(edge.code !== null || edge.pending).toBe(true);
  });

  it('goes between translated pages and the wasm interpreter without the run loop, in lockstep, rewritten code included', () => {
    for (const budget of [1, 7, 64, 1000, 100000]) {
      const { jit, interp } = wasmInterpreted(assemble(PAGES));
      // far's page and edge's first page translated (whole), the rest on the wasm interpreter.
      for (const p of [1, 2]) {
        const page = jit.mem.codeCache.page(TestCpu.CODE + p * 4096, jit.cpu.decoder);
        expect(jit.cpu.jit!.translate(page, (i) => jit.cpu.jitDecode(page, i), true)).not.toBeNull();
      }
      const entries = jitStats.entries + jitStats.wentries;
      let runs = 0;
      while (interp.traps.length === 0 && runs < 200000) {
        expect(jit.cpu.run(budget)).toBe(interp.cpu.run(budget));
        expectSame(jit, interp, `budget ${budget} run ${++runs}`);
      }
      expect(jit.x(0)).toBe(151n * 3n + 149n * 5n);
      // ~1200 page changes between the two kinds of code; with the largest budget the run loop
      // made a few entries, not one per change (the BRK's trap loop aside, one entry each).
      if (budget === 100000) expect(jitStats.entries + jitStats.wentries - entries - jit.traps.length).toBeLessThan(40);
    }
  });
});
