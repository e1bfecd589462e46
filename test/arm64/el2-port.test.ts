// The EL2 port: a small test hypervisor attached to a CPU running EL1 code. What it receives
// (ESR_EL2/FAR_EL2/HPFAR_EL2, ELR_EL2/SPSR_EL2) and how control returns follow ARM ARM D1.10
// and the syndrome encodings of D17.2.40.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { El2Reg, ESR_EC, HCR_EL2, type El2Cpu, type El2Software } from '../../emulator/arm64/el2.ts';
import { El2CpuPort, el2Adapter } from '../../emulator/arm64/el2-cpu.ts';
import { assemble } from './ls-oracle.ts';

const CODE = 0x10000;
const VBAR = 0x20000;

function setup(lines: string[]) {
  const mem = new FlatMemory(1 << 20);
  const cpu = new Cpu(mem);
  cpu.enableSystemMode();
  const words = assemble(lines);
  words.forEach((w, i) => mem.ram.setUint32(CODE + 4 * i, w >>> 0, true));
  // EL1 vector table: every entry is "mov x20, #offset; b ." so tests can see which one was taken.
  for (let v = 0; v < 16; v++) {
    const [mov, b] = assemble([`movz x20, #${v * 0x80}`, 'b .']);
    mem.ram.setUint32(VBAR + v * 0x80, mov!, true);
    mem.ram.setUint32(VBAR + v * 0x80 + 4, b!, true);
  }
  cpu.sys.vbar1 = VBAR;
  cpu.pc = CODE;
  const log: { esr: number; elr: number; far: number; hpfar: number; kind: string }[] = [];
  // The test hypervisor sees only the El2Cpu port.
  const hv: El2Software = {
    start: () => {},
    sync: (c: El2Cpu) => {
      log.push({ kind: 'sync', esr: c.esr, elr: c.elr, far: c.far, hpfar: c.hpfar });
      const ec = c.esr >>> 26;
      if (ec === ESR_EC.HVC64) c.setX(0, 0x1234n); // a hypercall result; ELR already points past HVC
      else c.advancePc(); // trapped instruction: emulate by skipping
    },
    irq: (c: El2Cpu) => void log.push({ kind: 'irq', esr: 0, elr: c.elr, far: 0, hpfar: 0 }),
  };
  const port = new El2CpuPort(cpu, 0, 0);
  cpu.hypervisor = el2Adapter(hv, port);
  return { cpu, mem, log, port };
}

describeOracle('EL2 port', ['cross-as'], () => {
  it('HVC from EL1 enters the hypervisor with EC 0x16 and the immediate, returns after the HVC', () => {
    const { cpu, log } = setup(['mov x0, #7', 'hvc #0x55', 'mov x1, x0', 'b .']);
    cpu.run(4);
    expect(log[0]).toMatchObject({ kind: 'sync', elr: CODE + 8 });
    expect(log[0]!.esr >>> 26).toBe(ESR_EC.HVC64);
    expect(log[0]!.esr & 0xffff).toBe(0x55);
    expect((log[0]!.esr >>> 25) & 1).toBe(1); // IL
    expect(cpu.getX(1)).toBe(0x1234n);
    expect(cpu.el).toBe(1);
  });

  it('HCR_EL2.TWI traps WFI (EC 0x01); HCR_EL2.TVM traps an MSR to SCTLR_EL1 (EC 0x18 with Rt, direction)', () => {
    const { cpu, log, port } = setup(['wfi', 'mov x3, #1', 'msr sctlr_el1, x3', 'mrs x4, sctlr_el1', 'b .']);
    port.msr(El2Reg.HCR_EL2, HCR_EL2.TWI | HCR_EL2.TVM | HCR_EL2.RW);
    const before = cpu.sys.sctlr;
    cpu.run(5);
    expect(log.map((l) => l.esr >>> 26)).toEqual([ESR_EC.WFX, ESR_EC.SYSREG]);
    const iss = log[1]!.esr & 0x1ffffff;
    // Op0=3 Op2=0 Op1=0 CRn=1 Rt=3 CRm=0 Direction=0 (write)
    expect(iss).toBe((3 << 20) | (0 << 17) | (0 << 14) | (1 << 10) | (3 << 5) | (0 << 1) | 0);
    expect(cpu.sys.sctlr).toBe(before); // the hypervisor skipped it: no write happened
    expect(cpu.getX(4)).toBe(BigInt(before)); // reads are not trapped by TVM
  });

  it('a virtual IRQ (HCR_EL2.VI with IMO) is taken at EL1 when PSTATE.I is clear; a physical IRQ goes to EL2', () => {
    const { cpu, log, port } = setup(['msr daifclr, #2', 'nop', 'nop', 'b .']);
    port.msr(El2Reg.HCR_EL2, HCR_EL2.IMO | HCR_EL2.VI | HCR_EL2.RW);
    cpu.run(3);
    expect(cpu.getX(20)).toBe(0x280n); // current EL with SP_ELx, IRQ vector
    expect(cpu.el).toBe(1);
    expect(log).toEqual([]);
    // Physical IRQ while routed by IMO: to EL2, whatever PSTATE.I says.
    port.msr(El2Reg.HCR_EL2, HCR_EL2.IMO | HCR_EL2.RW);
    cpu.pc = CODE + 8;
    cpu.daif = 0x3c0;
    cpu.pins.setIrq(true);
    cpu.run(1);
    expect(log[0]!.kind).toBe('irq');
    cpu.pins.setIrq(false);
  });

  it('a physical IRQ whose EL2 software parks the CPU leaves it waiting at EL2: no guest instruction runs after it', () => {
    // Regression: Cpu.run took the IRQ at its top, the hypervisor parked (nothing to run here, the
    // VM was reset from another CPU), and run() went on executing at the old guest PC.
    const { cpu, port } = setup(['add x5, x5, #1', 'b .-4']);
    let parks = 0;
    cpu.hypervisor = el2Adapter({ start: () => {}, sync: () => {}, irq: (c: El2Cpu) => void (parks++, c.park()) }, port);
    port.msr(El2Reg.HCR_EL2, HCR_EL2.IMO | HCR_EL2.RW);
    cpu.run(10);
    const before = cpu.getX(5);
    expect(before).toBeGreaterThan(0n);
    cpu.pins.setIrq(true);
    cpu.run(10);
    cpu.pins.setIrq(false);
    cpu.run(10);
    expect(parks).toBeGreaterThan(0); // (again while the line stays asserted: a level interrupt)
    expect(cpu.el).toBe(2);
    expect(cpu.waiting).toBe(true);
    expect(cpu.getX(5)).toBe(before);
    expect(cpu.getX(20)).toBe(0n); // no EL1 vector taken either
  });

  it('a virtual IRQ that EL2 software queues is taken at the same instruction whether the guest runs translated or interpreted', () => {
    // Regression: the ERET from EL2 leaves an exit requested (interrupts to look at again). The
    // interpreter ran one instruction and stopped; translated code ran on to the end of its
    // budget, so the guest took the virtual IRQ later (rk3588 boots retired different counts).
    const lines = ['msr daifclr, #2', 'add x5, x5, #1', 'add x6, x6, #2', 'b .-8'];
    const runs = [true, false].map((translate) => {
      const { cpu, port, log } = setup(lines);
      if (translate) cpu.jitThreshold = 0;
      else cpu.jit = null;
      const irq = (c: El2Cpu) => {
        log.push({ kind: 'irq', esr: 0, elr: c.elr, far: 0, hpfar: 0 });
        cpu.pins.setIrq(false);
        c.msr(El2Reg.HCR_EL2, HCR_EL2.IMO | HCR_EL2.VI | HCR_EL2.RW); // queue a virtual IRQ
      };
      cpu.hypervisor = el2Adapter({ start: () => {}, sync: () => {}, irq }, port);
      port.msr(El2Reg.HCR_EL2, HCR_EL2.IMO | HCR_EL2.RW);
      cpu.run(301);
      cpu.pins.setIrq(true);
      cpu.run(300);
      return { cpu, log };
    });
    const [jit, interp] = runs.map(({ cpu, log }) => ({ x5: cpu.getX(5), x6: cpu.getX(6), x20: cpu.getX(20), pc: cpu.pc, instret: cpu.instret, irqs: log.length }));
    expect(runs[0]!.cpu.jit).not.toBeNull();
    expect(interp).toMatchObject({ x5: 101n, x6: 200n, x20: 0x280n, irqs: 1 }); // one loop instruction after the ERET, then the vector
    expect(jit).toEqual(interp);
  });

  it('a stage-2 data abort on an MMIO-like access carries the instruction syndrome (ISV, SAS, SRT)', () => {
    const { cpu, mem, log, port } = setup(['movz x1, #0x4000, lsl #16', 'ldr w5, [x1, #8]', 'b .']);
    // Stage 2 maps only the first 2 MiB of IPA space (code, vectors) 1:1.
    const l1 = 0x80000, l2 = 0x81000;
    mem.ram.setBigUint64(l1, BigInt(l2) | 3n, true);
    mem.ram.setBigUint64(l2, 0n | (1n << 10n) | (3n << 6n) | 1n, true); // 2 MiB block at 0, RW
    port.msr(El2Reg.VTTBR_EL2, BigInt(l1));
    port.msr(El2Reg.VTCR_EL2, BigInt(24 | (1 << 6)));
    port.msr(El2Reg.HCR_EL2, HCR_EL2.VM | HCR_EL2.RW);
    cpu.run(3);
    const l = log[0]!;
    expect(l.esr >>> 26).toBe(ESR_EC.DABT_LOWER);
    const iss = l.esr & 0x1ffffff;
    expect(iss >>> 24).toBe(1); // ISV
    expect((iss >>> 22) & 3).toBe(2); // SAS: word
    expect((iss >>> 16) & 31).toBe(5); // SRT: w5
    expect((iss >>> 6) & 1).toBe(0); // read
    expect(l.far).toBe(0x40000008);
    expect(l.hpfar).toBe((0x40000008 >>> 12) << 4);
  });
});
