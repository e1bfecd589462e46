// Branches and system instructions, worked against the ARM ARM pseudocode.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { TestCpu } from './harness.ts';
import { assemble } from './ls-oracle.ts';
import { EC } from '../../emulator/arm64/cpu.ts';

describeOracle('branches', ['cross-as'], () => {
  it('a counted loop with CBNZ, B.cond, TBZ and BL/RET computes what the code says', () => {
    const t = new TestCpu();
    const code = assemble([
      'mov x0, #0', 'mov x1, #10',
      '1: add x0, x0, x1', 'sub x1, x1, #1', 'cbnz x1, 1b', // x0 = 55
      'mov x2, #5', '2: subs x2, x2, #1', 'b.ne 2b', // x2 = 0
      'mov x3, #0x100000000', 'tbz x3, #32, 3f', 'mov x4, #1', '3: tbnz x3, #31, 4f', 'mov x5, #7',
      '4: bl 5f', 'b 6f', '5: mov x6, x30', 'ret', '6: mov x7, #9', 'brk #0',
    ]);
    t.exec(code, 200);
    expect(t.x(0)).toBe(55n);
    expect(t.x(2)).toBe(0n);
    expect(t.x(4)).toBe(1n); // bit 32 set: TBZ not taken
    expect(t.x(5)).toBe(7n); // bit 31 clear: TBNZ not taken
    expect(t.x(6)).toBe(BigInt(TestCpu.CODE + 4 * (code.length - 5))); // LR = the instruction after BL
    expect(t.x(7)).toBe(9n);
    expect(t.traps.at(-1)!.ec).toBe(EC.BRK64);
  });

  it('BR/BLR go to a register address; SVC traps with its immediate', () => {
    const t = new TestCpu();
    const code = assemble(['adr x1, 1f', 'blr x1', 'mov x2, #3', '1: mov x3, x30', 'svc #0x42']);
    t.exec(code, 10);
    expect(t.x(2)).toBe(0n);
    expect(t.x(3)).toBe(BigInt(TestCpu.CODE + 8));
    expect(t.traps[0]).toMatchObject({ ec: EC.SVC64, iss: 0x42 });
  });

  it('MRS/MSR of EL0 registers: NZCV, TPIDR_EL0, DCZID_EL0; EL1 registers are UNDEFINED at EL0', () => {
    const t = new TestCpu();
    t.exec(assemble(['mov x0, #0x60000000', 'msr nzcv, x0', 'mrs x1, nzcv', 'mov x2, #0x1234', 'msr tpidr_el0, x2', 'mrs x3, tpidr_el0', 'mrs x4, dczid_el0']), 7);
    expect(t.x(1)).toBe(0x60000000n);
    expect(t.x(3)).toBe(0x1234n);
    expect(t.x(4)).toBe(4n);
    t.exec(assemble(['mrs x0, sctlr_el1']), 1);
    expect(t.traps.at(-1)!.ec).toBe(EC.UNKNOWN);
  });

  it('DC ZVA zeroes the 64-byte block holding the address', () => {
    const t = new TestCpu();
    for (let i = 0; i < 128; i++) t.mem.ram.setUint8(0x8000 + i, 0xaa);
    t.setX(0, 0x8050);
    t.exec(assemble(['dc zva, x0']), 1);
    expect(t.mem.ram.getUint8(0x803f)).toBe(0xaa);
    expect(t.mem.ram.getUint8(0x8040)).toBe(0);
    expect(t.mem.ram.getUint8(0x807f)).toBe(0);
  });
});
