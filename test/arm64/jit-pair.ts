// Two CPUs for the translator's differential tests (jit.test.ts, jit-fp.test.ts): one translating
// every page at its first entry, one interpreting, started from the same state; expectSame
// compares everything the guest can see.
import { expect } from 'vitest';
import { TestCpu } from './harness.ts';

export const DATA = 0x8000;

// Loops with every kind of translated instruction: ALU with and without flags, conditional
// select/compare, multiply/divide, bitfields, byte/bit reversals, loads/stores of each size and
// addressing mode, load-acquire/store-release,
// pairs, chained branches in the page, a call and return, then a faulting load.
export const PROGRAM = [
  'mov x0, #0x8000', 'mov x1, #40', 'mov x2, #0', 'mov x3, #0', 'movk x3, #0x1234, lsl #16',
  '1: ldrb w4, [x0, x1]', 'ldrsb x5, [x0, #5]', 'ldrh w6, [x0, #2]', 'ldrsh w7, [x0, #4]', 'ldrsb w4, [x0, x1]', 'ldrsh x6, [x0, #4]', 'tst x3, #0xff00', 'ands w9, w5, w7', 'cset x10, mi',
  'add x2, x2, x4', 'eor x3, x3, x2, ror #7', 'adds w8, w4, w6', 'csel x9, x8, x3, hi',
  'ccmp x9, #5, #2, ne', 'cinc x10, x2, lt', 'mul x11, x2, x3', 'udiv x12, x11, x1', 'sdiv w13, w7, w5',
  'madd x14, x4, x6, x2', 'smaddl x15, w7, w5, x14', 'ubfx x16, x3, #5, #11', 'sbfiz x17, x5, #3, #9',
  'bfi x3, x2, #40, #8', 'extr x18, x3, x2, #13', 'lsl x19, x2, x1', 'asr w20, w7, #3', 'clz x21, x19',
  'rev x22, x3', 'rbit w23, w2', 'cls x24, x5', 'rev16 w25, w3', 'rev32 x26, x3', 'rbit x27, x2', 'cls w28, w7', 'rev w29, w3', 'rev16 x30, x11',
  'stlr x2, [x0]', 'ldar x17, [x0]', 'stlrh w3, [x0]', 'ldarb w18, [x0]', 'stlrb w2, [x0]', 'ldar w16, [x0]',
  'str x2, [x0, #64]', 'stp x3, x11, [x0, #72]', 'ldp x22, x23, [x0, #64]', 'str w8, [x0, x1, lsl #2]',
  'strb w3, [x0, #200]', 'strh w3, [x0, #202]', 'ldr w24, [x0, w1, uxtw #2]', 'ldrsw x25, [x0, #72]',
  'stp x4, x5, [sp, #-16]!', 'ldp x26, x27, [sp], #16', 'str x2, [x0, #8]!', 'ldr x28, [x0], #-8',
  'bl 2f', 'subs x1, x1, #1', 'b.ne 1b', 'tbz x3, #63, 3f', 'mov x20, #7',
  '3: cbz x1, 4f', 'b 1b',
  '2: sbcs x29, x2, x3', 'adc x30, x30, xzr', 'sub x30, x30, #0', 'ret',
  '4: mov x1, #0x100000', 'ldr x2, [x1]', 'mov x3, #1',
];

/**
 * Two CPUs on their own memories: `jit` translates at the first entry, `interp` never. `slack` is
 * the translator's budget slack (jit/emitter.ts BUDGET_SLACK): 1, the default here, checks the
 * budget before every instruction, so even run(1) runs translated code; the translator's own
 * default leaves the last instructions of a run to the interpreter.
 */
export function pair(words: number[], setup: (t: TestCpu) => void = () => {}, slack = 1, everyEntry = true): { jit: TestCpu; interp: TestCpu } {
  const jit = new TestCpu();
  const interp = new TestCpu();
  expect(jit.cpu.jit).not.toBeNull(); // the translator is on by default
  jit.cpu.jit!.slack = slack;
  jit.cpu.jitThreshold = 0;
  interp.cpu.jit = null;
  for (const t of [jit, interp]) {
    for (let i = 0; i < words.length; i++) t.mem.ram.setUint32(TestCpu.CODE + 4 * i, words[i]! >>> 0, true);
    t.cpu.invalidateCodeRam(TestCpu.CODE, words.length * 4);
    for (let i = 0; i < 256; i++) t.mem.ram.setUint8(DATA + i, (i * 37 + 11) & 0xff);
    t.cpu.pc = TestCpu.CODE;
    setup(t);
  }
  if (everyEntry) {
    // As if the run loop had entered every instruction: each gets a label (jit/translate.ts), so
    // single steps run translated code rather than missing into the interpreter.
    for (let p = 0; p < words.length * 4; p += 4096) jit.mem.codeCache.page(TestCpu.CODE + p, jit.cpu.decoder).entries.fill(1);
  }
  return { jit, interp };
}

/**
 * Step both CPUs one instruction at a time (run(1): each the same count) until either traps or
 * `steps` have run, agreeing after every step (expectSame).
 */
export function stepTogether(jit: TestCpu, interp: TestCpu, steps: number): void {
  for (let n = 1; n <= steps && jit.traps.length === 0 && interp.traps.length === 0; n++) {
    expect(jit.cpu.run(1), `step ${n}`).toBe(interp.cpu.run(1));
    expectSame(jit, interp, `step ${n}`);
  }
}

export function expectSame(a: TestCpu, b: TestCpu, what: string): void {
  expect({ what, pc: a.cpu.pc, instret: a.cpu.instret, nzcv: a.cpu.nzcv }).toEqual({ what, pc: b.cpu.pc, instret: b.cpu.instret, nzcv: b.cpu.nzcv });
  expect(Buffer.from(a.cpu.regs.bytes).equals(Buffer.from(b.cpu.regs.bytes)), `${what}: register files differ`).toBe(true);
  expect(Buffer.from(a.mem.ramBytes).equals(Buffer.from(b.mem.ramBytes)), `${what}: RAM differs`).toBe(true);
  expect(a.traps).toEqual(b.traps);
}
