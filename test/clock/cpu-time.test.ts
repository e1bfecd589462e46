// Each CPU's virtual time (emulator/machine.ts): a timer interrupt is taken at the instruction where
// the counter reaches the compare value (not at the next 20 µs slice boundary), a counter read is
// exact to the instruction, PMCCNTR_EL0 counts the core's modeled cycles, and time charged by EL2
// software (El2Cpu.chargeCycles) shows in the counter the guest reads and never steps back.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine.ts';
import { attachEl2 } from '../../emulator/el2-machine.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { HCR_EL2, El2Reg, type El2Software } from '../../emulator/arm64/el2.ts';
import { boards } from '../../boards/index.ts';
import { assemble } from '../arm64/ls-oracle.ts';

const ENTRY = 0x4020_0000; // qemu-virt RAM base + 2 MiB

function bytes(lines: string[]): Uint8Array {
  const w = assemble(lines);
  const b = new Uint8Array(w.length * 4);
  const dv = new DataView(b.buffer);
  w.forEach((x, i) => dv.setUint32(i * 4, x >>> 0, true));
  return b;
}

/** An arm64 Image header (booting.rst) in front of `code` (at +2 KiB, keeping its alignment). */
function image(code: Uint8Array): Uint8Array {
  const img = new Uint8Array(0x800 + code.length);
  const dv = new DataView(img.buffer);
  dv.setUint32(0, 0x14000200, true); // b +0x800
  dv.setBigUint64(16, BigInt(img.length + 4096), true); // image_size
  dv.setUint32(0x38, 0x644d5241, true); // ARM\x64
  img.set(code, 0x800);
  return img;
}

describe('CPU time', () => {
  it('a timer interrupt is taken in the tick the counter reaches CVAL; PMCCNTR_EL0 counts the core cycles', () => {
    const m = new Machine({ board: boards['qemu-virt']!, smp: 1, console: new HostConsole() });
    const prog = bytes([
      // GICv3 for the virtual timer (PPI 27) on CPU 0: wake the redistributor, group 1, enable.
      'ldr x1, =0x080a0000', 'ldr w2, [x1, #0x14]', 'bic w2, w2, #2', 'str w2, [x1, #0x14]',
      'ldr x1, =0x080b0000', 'mov w2, #0x08000000', 'str w2, [x1, #0x80]', 'str w2, [x1, #0x100]',
      'ldr x1, =0x08000000', 'mov w2, #0x12', 'str w2, [x1]',
      'mov x2, #0xff', 'msr icc_pmr_el1, x2', 'mov x2, #1', 'msr icc_igrpen1_el1, x2',
      'adr x2, vectors', 'msr vbar_el1, x2', 'isb',
      // Cycle counter: reset and enable.
      'mov x2, #5', 'msr pmcr_el0, x2', 'mov x2, #0x80000000', 'msr pmcntenset_el0, x2',
      'mrs x10, cntvct_el0', 'mrs x12, pmccntr_el0',
      'add x11, x10, #1000', 'msr cntv_cval_el0, x11', 'mov x2, #1', 'msr cntv_ctl_el0, x2',
      'msr daifclr, #2',
      '1: add x5, x5, #1', 'b 1b',
      '.balign 2048', 'vectors: .skip 0x280',
      'mrs x6, cntvct_el0', 'mrs x7, pmccntr_el0', 'mov x2, #0', 'msr cntv_ctl_el0, x2', 'b .',
      '.ltorg',
    ]);
    m.loadLinux({ kernel: image(prog), cmdline: '' });
    for (let i = 0; i < 10; i++) m.runSlice(); // 200 µs; the deadline is 16 µs away
    const x = (n: number): bigint => m.cpus[0]!.getX(n);
    expect(x(5)).toBeGreaterThan(0n); // the loop ran until the interrupt
    expect(x(6)).toBe(x(11)); // taken within the tick CVAL names (16 ns at 62.5 MHz)
    // 2.4 GHz / 62.5 MHz = 38.4 cycles per tick; within two ticks of (CVAL - start) of cycles.
    const cycles = Number(x(7) - x(12));
    expect(Math.abs(cycles - Number(x(11) - x(10)) * 38.4)).toBeLessThan(80);
  });

  it('cycles charged at EL2 advance the counter the guest reads, and it never steps back across slices', () => {
    const m = new Machine({ board: boards['qemu-virt']!, smp: 1, console: new HostConsole() });
    const CHARGE = 24_000; // 10 µs of a 2.4 GHz Cortex-A76 per HVC
    const sw: El2Software = {
      start: (c) => {
        c.msr(El2Reg.HCR_EL2, HCR_EL2.RW);
        c.elr = ENTRY;
        c.spsr = 0x3c5;
      },
      sync: (c) => c.chargeCycles(CHARGE),
      irq: () => {},
    };
    const port = attachEl2(m, sw);
    m.writePhys(ENTRY, bytes([
      'mov x3, #0', 'mrs x1, cntvct_el0', 'mov x8, x1', 'mov x4, #200',
      '1: hvc #0', 'mrs x2, cntvct_el0', 'cmp x2, x1', 'b.hs 2f', 'add x3, x3, #1',
      '2: mov x1, x2', 'subs x4, x4, #1', 'b.ne 1b',
      'mrs x9, cntvct_el0', 'mov x10, #1', 'b .',
    ]));
    port.startCpu(0);
    for (let i = 0; i < 200 && m.cpus[0]!.getX(10) !== 1n; i++) m.runSlice();
    const x = (n: number): bigint => m.cpus[0]!.getX(n);
    expect(x(10)).toBe(1n);
    expect(x(3)).toBe(0n); // no counter read went backwards
    // 200 x 10 µs charged = 2 ms = 125 000 ticks at 62.5 MHz, plus the loop's own time.
    const ticks = Number(x(9) - x(8));
    expect(ticks).toBeGreaterThanOrEqual(125_000);
    expect(ticks).toBeLessThan(126_000);
  });
});
