// Two CPUs for the translator's differential tests (jit.test.ts, jit-fp.test.ts): one translating
// every page at its first entry, one interpreting, started from the same state; expectSame
// compares everything the guest can see.
import { expect } from 'vitest';
import { TestCpu } from './harness.ts';

export const DATA = 0x8000;

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

export function expectSame(a: TestCpu, b: TestCpu, what: string): void {
  expect({ what, pc: a.cpu.pc, instret: a.cpu.instret, nzcv: a.cpu.nzcv }).toEqual({ what, pc: b.cpu.pc, instret: b.cpu.instret, nzcv: b.cpu.nzcv });
  expect(Buffer.from(a.cpu.regs.bytes).equals(Buffer.from(b.cpu.regs.bytes)), `${what}: register files differ`).toBe(true);
  expect(Buffer.from(a.mem.ramBytes).equals(Buffer.from(b.mem.ramBytes)), `${what}: RAM differs`).toBe(true);
  expect(a.traps).toEqual(b.traps);
}
