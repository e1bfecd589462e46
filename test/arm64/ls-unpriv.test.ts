// LDTR/STTR at EL1 access memory with EL0 permissions (ARM ARM C6.2 LDTR: "as if at EL0" when
// executed at EL1); at EL0 they are ordinary loads/stores. The translator here denies EL0 access
// to one page and consults cpu.mmu.unprivileged, as mmu.ts does.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { EC } from '../../emulator/arm64/cpu.ts';
import { Access, type AddressTranslator } from '../../emulator/arm64/memory.ts';
import { TestCpu } from './harness.ts';
import { assemble, BUF, loadCase, randomState, Rng, SLOT } from './ls-oracle.ts';

const KERNEL_ONLY = BUF + 0x1000;

function setup(el: number, asm: string): TestCpu {
  const t = new TestCpu();
  const cpu = t.cpu;
  const tr: AddressTranslator = {
    pageCacheable: false,
    translate(va: number, access: Access): number {
      const asEl0 = cpu.el === 0 || cpu.mmu.unprivileged;
      if (asEl0 && va >= KERNEL_ONLY && va < KERNEL_ONLY + 0x1000) {
        // Permission fault, level 3 (DFSC 0b001111).
        cpu.raise(cpu.el === 0 ? EC.DABT_LOWER : EC.DABT_SAME, 0x0f | (access === Access.Write ? 0x40 : 0), va, cpu.pc);
      }
      return va;
    },
  };
  cpu.translator = tr;
  const rng = new Rng(3);
  const pristine = rng.bytes(4096);
  const st = randomState(rng);
  st.x[2] = BigInt(KERNEL_ONLY + 8);
  loadCase(t, { ...st, words: assemble([asm]) }, pristine);
  t.mem.ram.setBigUint64(KERNEL_ONLY + 8, 0x1122334455667788n, true);
  cpu.el = el;
  return t;
}

describeOracle('unprivileged loads and stores', ['cross-as'], () => {
  it('LDR at EL1 reads a page EL0 cannot', () => {
    const t = setup(1, 'ldr x1, [x2]');
    t.cpu.run(1);
    expect(t.traps).toEqual([]);
    expect(t.x(1)).toBe(0x1122334455667788n);
  });
  it('LDTR at EL1 takes the permission fault EL0 would', () => {
    const t = setup(1, 'ldtr x1, [x2]');
    t.cpu.run(1);
    expect(t.traps).toEqual([{ ec: 0x25, iss: 0x0f, far: KERNEL_ONLY + 8, pc: SLOT }]);
    expect(t.cpu.mmu.unprivileged).toBe(false);
  });
  it('STTRB at EL1 faults as a write; the next ordinary access is privileged again', () => {
    const t = setup(1, 'sttrb w1, [x2, #-8]');
    t.cpu.run(1);
    expect(t.traps).toEqual([{ ec: 0x25, iss: 0x4f, far: KERNEL_ONLY, pc: SLOT }]);
    expect(t.cpu.mmu.unprivileged).toBe(false);
    expect(t.cpu.read8(KERNEL_ONLY)).toBe(t.mem.ram.getUint8(KERNEL_ONLY));
  });
  it('LDTRSW at EL1 from an EL0-accessible page loads normally', () => {
    const t = setup(1, 'ldtrsw x1, [x2, #-0x18]');
    t.mem.ram.setUint32(KERNEL_ONLY - 0x10, 0x80000001, true);
    t.cpu.run(1);
    expect(t.traps).toEqual([]);
    expect(t.x(1)).toBe(0xffffffff80000001n);
  });
});
