// A load/store that faults part-way has no effect: registers (including a writeback base) and
// memory stay as they were, so the instruction can be restarted after the fault is handled
// (ARM ARM D1.x: the preferred return of a data abort is the faulting instruction). The second
// page of each access below is unmapped by a translator that raises a translation fault.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { EC } from '../../emulator/arm64/cpu.ts';
import { Access, type AddressTranslator } from '../../emulator/arm64/memory.ts';
import { TestCpu } from './harness.ts';
import { assemble, BUF, BUFSZ, loadCase, randomState, Rng, SLOT } from './ls-oracle.ts';

const HOLE = BUF + 0x1000; // first byte of the unmapped page

const CASES: [string, number][] = [
  // [instruction, x3 = distance below HOLE]
  ['stp x1, x2, [x3]', 8],
  ['stp x1, x2, [x3, #16]!', 24],
  ['stp w1, w2, [x3], #8', 4],
  ['stp q1, q2, [x3]', 16],
  ['stp d1, d2, [x3], #-16', 8],
  ['str q1, [x3]', 8],
  ['str q1, [x3, #16]!', 16],
  ['st1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x3], #64', 32],
  ['st4 {v4.4s, v5.4s, v6.4s, v7.4s}, [x3], x5', 40],
  ['st3 {v4.b, v5.b, v6.b}[3], [x3], #3', 2],
  ['ldp x1, x2, [x3], #16', 8],
  ['ldp q1, q2, [x3, #-32]!', 16 - 32],
  ['ldr q1, [x3], #16', 8],
  ['ld1 {v0.16b, v1.16b, v2.16b, v3.16b}, [x3], #64', 32],
  ['ld2 {v4.8h, v5.8h}, [x3], #32', 16],
  ['ld4r {v4.2d, v5.2d, v6.2d, v7.2d}, [x3], #32', 16],
  ['ld4 {v4.s, v5.s, v6.s, v7.s}[1], [x3], #16', 8],
];

describeOracle('faults leave no partial effect', ['cross-as'], () => {
  const rng = new Rng(7);
  const pristine = rng.bytes(BUFSZ);
  const words = assemble(CASES.map((c) => c[0]));

  it.each(CASES.map((c, i) => [c[0], c[1], words[i]!] as const))('%s', (_asm, below, word) => {
    const t = new TestCpu();
    const cpu = t.cpu;
    const hole: AddressTranslator = {
      pageCacheable: true,
      translate(va: number, access: Access): number {
        if (va >= HOLE && va < HOLE + 0x1000) cpu.raise(EC.DABT_LOWER, 0x07 | (access === Access.Write ? 0x40 : 0), va, cpu.pc);
        return va;
      },
    };
    cpu.translator = hole;
    const st = randomState(rng);
    st.x[3] = BigInt(HOLE - below);
    st.x[5] = 64n;
    loadCase(t, { ...st, words: [word] }, pristine);
    const regs = cpu.regs.x.slice();
    const v = cpu.regs.vb.slice();
    cpu.run(1);
    expect(t.traps.length).toBe(1);
    const trap = t.traps[0]!;
    expect(trap.ec).toBe(0x24);
    expect(trap.pc).toBe(SLOT);
    expect(trap.far >= HOLE && trap.far < HOLE + 0x1000).toBe(true);
    expect(cpu.regs.x.slice()).toEqual(regs);
    expect(cpu.regs.vb.slice()).toEqual(v);
    expect(t.mem.ramBytes.slice(BUF, BUF + BUFSZ)).toEqual(pristine);
  });
});
