// LDTR/STTR at EL1 on the wasm interpreter and in translated code (winterp-mem.ts M_UNPRIV,
// emit-mem.ts 'unpriv'): they probe EL0's soft-TLB context (chain.ts EL0_CTX), where only
// translations checked with EL0's permissions are, and agree with the JavaScript interpreter
// (exec/ls-single.ts ldstUnpriv) in lockstep. A page EL0 may not touch is in EL1's context after
// an ordinary load; an LDTR of it must still fault as EL0's access would, not hit EL1's entry.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { EC, type Cpu } from '../../emulator/arm64/cpu.ts';
import { Access } from '../../emulator/arm64/memory.ts';
import { expectSame, pair } from './jit-pair.ts';
import { assemble } from './ls-oracle.ts';
import type { TestCpu } from './harness.ts';

const KERNEL_ONLY = 0x9000;
const USER = 0xa000;
const LOOPS = 20;

/** VA = PA, every page cacheable in the soft TLB; KERNEL_ONLY denied to EL0 (a level-3 permission fault). */
function kernelOnlyPage(cpu: Cpu): void {
  cpu.translator = {
    pageCacheable: true,
    translate(va: number, access: Access): number {
      const asEl0 = cpu.el === 0 || cpu.mmu.unprivileged;
      if (asEl0 && va >= KERNEL_ONLY && va < KERNEL_ONLY + 0x1000) {
        cpu.raise(cpu.el === 0 ? EC.DABT_LOWER : EC.DABT_SAME, 0x0f | (access === Access.Write ? 0x40 : 0), va, cpu.pc);
      }
      return va;
    },
  };
}

const PROGRAM = [
  `mov x9, #${LOOPS}`,
  '1: ldr x1, [x2]', // EL1's context holds KERNEL_ONLY from here on
  'str x1, [x3]',
  'ldtr x4, [x3]',
  'ldtr x5, [x3, #8]',
  'sttr x4, [x3, #16]',
  'sttrh w5, [x3, #30]',
  'ldtrsb x6, [x3, #31]',
  'ldtrb w7, [x3, #17]',
  'ldtrsw x10, [x3, #12]',
  'sttrb w6, [x3, #255]',
  'subs x9, x9, #1',
  'b.ne 1b',
  'ldtr x8, [x2]', // EL0 may not: a permission fault at EL1
  'brk #0',
];

function setup(t: TestCpu): void {
  kernelOnlyPage(t.cpu);
  t.cpu.el = 1;
  t.cpu.setTlbContext(1);
  t.setX(2, KERNEL_ONLY + 8);
  t.setX(3, USER);
  t.mem.ram.setBigUint64(KERNEL_ONLY + 8, 0x8877665544332211n, true);
}

/** Run both to the fault, in lockstep; the handler calls the wasm side made (cpu.ts jitHelper). */
function runBoth(jit: TestCpu, interp: TestCpu): number {
  let calls = 0;
  const helper = jit.cpu.jitHelper.bind(jit.cpu);
  jit.cpu.jitHelper = (page, n, idx, pcBase) => (calls++, helper(page, n, idx, pcBase));
  for (let runs = 0; interp.traps.length === 0 && runs < 1000; runs++) {
    expect(jit.cpu.run(1000)).toBe(interp.cpu.run(1000));
    expectSame(jit, interp, `run ${runs}`);
  }
  // (The hook returns to the faulting LDTR, which faults again until the run's budget is spent.)
  expect(interp.traps[0]).toEqual({ ec: 0x25, iss: 0x0f, far: KERNEL_ONLY + 8, pc: jit.cpu.pc });
  expect(jit.cpu.mmu.unprivileged).toBe(false);
  expect(jit.x(4)).toBe(0x8877665544332211n);
  return calls;
}

describeOracle('LDTR/STTR at EL1 on the wasm interpreter and translated', ['cross-as'], () => {
  it('wasm interpreter: EL0 context hits without the handler; a kernel-only page faults though EL1 holds it', () => {
    const { jit, interp } = pair(assemble(PROGRAM), setup, 1, false);
    jit.cpu.jitThreshold = 2 ** 30; // never translated: every page on the wasm interpreter
    expect(jit.cpu.jit!.winterp).not.toBeNull();
    const calls = runBoth(jit, interp);
    // The LDTR/STTRs miss EL0's context once per page and direction, the ordinary accesses EL1's,
    // and the last LDTR faults, at each of its runs. (As handler operations: 7 * LOOPS more; run
    // by the JavaScript interpreter: none. The runs end in the fault, so the wasm side's count of
    // instructions is not kept: jitStats.wran does not show them.)
    expect(calls).toBe(4 + jit.traps.length);
  });

  it('translated: the same, in lockstep with the JavaScript interpreter', () => {
    const { jit, interp } = pair(assemble(PROGRAM), setup);
    const calls = runBoth(jit, interp);
    expect(calls).toBe(4 + jit.traps.length);
  });
});
