// Register-level tests in the order Linux's irq-gic-v3.c and irq-gic.c program the GIC.
import { describe, expect, it } from 'vitest';
import { GicV3, ICC, REDIST_STRIDE } from '../../../emulator/devices/gic/gicv3.ts';
import { GicV2 } from '../../../emulator/devices/gic/gicv2.ts';
import type { CpuInterruptPins } from '../../../emulator/devices/irq.ts';

function pins() {
  const p = { irq: false, fiq: false };
  const cp: CpuInterruptPins = {
    setIrq: (l) => void (p.irq = l),
    setFiq: (l) => void (p.fiq = l),
    setVirq: () => {},
    setVfiq: () => {},
  };
  return { p, cp };
}

describe('GICv3 driven like irq-gic-v3.c', () => {
  function boot(n = 4) {
    const mpidrs = [0x000, 0x100, 0x200, 0x300].slice(0, n);
    const gic = new GicV3({ nCpus: n, spis: 64, mpidrs });
    const cpuPins = mpidrs.map(() => pins());
    cpuPins.forEach((x, i) => gic.core.connectCpu(i, x.cp));
    const d = gic.distributor;
    const r = gic.redistributors;
    // gic_dist_init: disable, all SPIs Group 1, level, priority 0xa0, disabled; enable ARE+Grp1
    d.write(0x0, 4, 0);
    for (let i = 32; i < 96; i += 32) d.write(0x80 + i / 8, 4, 0xffffffff);
    for (let i = 32; i < 96; i += 16) d.write(0xc00 + i / 4, 4, 0);
    for (let i = 32; i < 96; i += 4) d.write(0x400 + i, 4, 0xa0a0a0a0);
    for (let i = 32; i < 96; i += 32) d.write(0x180 + i / 8, 4, 0xffffffff);
    d.write(0x0, 4, (1 << 4) | 2);
    // route every SPI to CPU 0 by affinity
    for (let i = 32; i < 96; i++) d.write64!(0x6000 + i * 8, 0n);
    const icc = mpidrs.map((_, i) => gic.sysregInterface(i));
    mpidrs.forEach((_, cpu) => {
      // gic_populate_rdist + gic_enable_redist: wake up
      r.write(cpu * REDIST_STRIDE + 0x14, 4, 0);
      // gic_cpu_config: SGIs/PPIs group 1, priority 0xa0
      r.write(cpu * REDIST_STRIDE + 0x10000 + 0x80, 4, 0xffffffff);
      for (let i = 0; i < 32; i += 4) r.write(cpu * REDIST_STRIDE + 0x10000 + 0x400 + i, 4, 0xa0a0a0a0);
      // gic_cpu_sys_reg_init
      icc[cpu]!.writeSysreg(ICC.SRE, 7n);
      icc[cpu]!.writeSysreg(ICC.PMR, 0xf0n);
      icc[cpu]!.writeSysreg(ICC.BPR1, 0n);
      icc[cpu]!.writeSysreg(ICC.CTLR, 0n);
      icc[cpu]!.writeSysreg(ICC.IGRPEN1, 1n);
    });
    return { gic, d, r, icc, cpuPins };
  }

  it('identifies as GICv3 with ARE, and each redistributor reports its CPU affinity, Last on the final one', () => {
    const { d, r } = boot();
    expect(d.read(0xffe8, 4) >> 4).toBe(3);
    expect(d.read(0x0, 4) & (1 << 4)).not.toBe(0);
    expect(d.read(0x4, 4) & 0x1f).toBe(96 / 32 - 1);
    expect(r.read64!(2 * REDIST_STRIDE + 8)).toBe((0x200n << 32n) | (2n << 8n));
    expect(r.read64!(3 * REDIST_STRIDE + 8) & 0x10n).toBe(0x10n);
    expect(r.read(0 * REDIST_STRIDE + 0x14, 4) & 4).toBe(0); // ChildrenAsleep cleared after wake
  });

  it('a level PPI (timer 27) is signalled, acknowledged, stays pending while high, and EOI returns it', () => {
    const { gic, r, icc, cpuPins } = boot();
    r.write(1 * REDIST_STRIDE + 0x10000 + 0x100, 4, 1 << 27); // enable PPI 27 on CPU1
    const line = gic.core.ppiLine(1, 27);
    line.set(true);
    expect(cpuPins[1]!.p.irq).toBe(true);
    expect(cpuPins[0]!.p.irq).toBe(false);
    expect(icc[1]!.readSysreg(ICC.IAR1)).toBe(27n);
    expect(cpuPins[1]!.p.irq).toBe(false); // active, running priority 0xa0 blocks equal priority
    expect(icc[1]!.readSysreg(ICC.RPR)).toBe(0xa0n);
    line.set(false);
    icc[1]!.writeSysreg(ICC.EOIR1, 27n);
    expect(icc[1]!.readSysreg(ICC.IAR1)).toBe(1023n);
    line.set(true);
    expect(cpuPins[1]!.p.irq).toBe(true);
  });

  it('an SPI routed by IROUTER reaches only that CPU; the priority mask holds it off', () => {
    const { gic, d, icc, cpuPins } = boot();
    d.write64!(0x6000 + 40 * 8, 0x300n); // SPI 40 -> CPU3 (affinity 0.0.3.0)
    d.write(0x100 + 4, 4, 1 << 8); // enable SPI 40
    icc[3]!.writeSysreg(ICC.PMR, 0x80n); // mask priority 0xa0
    gic.core.spiLine(40).set(true);
    expect(cpuPins[3]!.p.irq).toBe(false);
    icc[3]!.writeSysreg(ICC.PMR, 0xf0n);
    expect(cpuPins[3]!.p.irq).toBe(true);
    expect(cpuPins[0]!.p.irq).toBe(false);
    expect(icc[3]!.readSysreg(ICC.HPPIR1)).toBe(40n);
    expect(icc[3]!.readSysreg(ICC.IAR1)).toBe(40n);
  });

  it('an edge SPI is latched; ICC_SGI1R_EL1 sends SGI 1 to CPU2 by affinity/target list', () => {
    const { gic, d, icc, cpuPins } = boot();
    d.write(0xc00 + (33 * 2) / 8, 4, 2 << ((33 % 16) * 2)); // SPI 33 edge
    d.write(0x100 + 4, 4, 1 << 1);
    const l = gic.core.spiLine(33);
    l.set(true);
    l.set(false);
    expect(cpuPins[0]!.p.irq).toBe(true);
    expect(icc[0]!.readSysreg(ICC.IAR1)).toBe(33n);
    icc[0]!.writeSysreg(ICC.EOIR1, 33n);
    expect(cpuPins[0]!.p.irq).toBe(false);
    // SGIs are enabled by Linux in gic_cpu_config via ISENABLER0
    gic.redistributors.write(2 * REDIST_STRIDE + 0x10000 + 0x100, 4, 0xffff);
    icc[0]!.writeSysreg(ICC.SGI1R, (1n << 24n) | (2n << 16n) | 1n); // Aff1=2, target list bit 0 -> MPIDR 0x200
    expect(cpuPins[2]!.p.irq).toBe(true);
    expect(cpuPins[1]!.p.irq).toBe(false);
    expect(icc[2]!.readSysreg(ICC.IAR1)).toBe(1n);
  });
});

describe('GICv2 (GIC-400) driven like irq-gic.c', () => {
  function boot() {
    const gic = new GicV2({ nCpus: 2, spis: 64, mpidrs: [0, 1] });
    const cpuPins = [pins(), pins()];
    cpuPins.forEach((x, i) => gic.core.connectCpu(i, x.cp));
    const d = gic.distributor;
    const c = gic.cpuInterface;
    gic.currentCpu = 0;
    // gic_get_cpumask: ITARGETSR0..7 read the accessing CPU's bit
    let mask = 0;
    for (let i = 0; i < 32; i += 4) mask |= d.read(0x800 + i, 4);
    expect(mask).toBe(0x01010101);
    d.write(0x0, 4, 0);
    for (let i = 32; i < 96; i += 4) d.write(0x800 + i, 4, 0x01010101);
    for (let i = 32; i < 96; i += 4) d.write(0x400 + i, 4, 0xa0a0a0a0);
    d.write(0x0, 4, 1);
    for (const cpu of [0, 1]) {
      gic.currentCpu = cpu;
      d.write(0x180, 4, 0xffff0000);
      d.write(0x100, 4, 0x0000ffff);
      for (let i = 0; i < 32; i += 4) d.write(0x400 + i, 4, 0xa0a0a0a0);
      c.write(0x04, 4, 0xf0);
      c.write(0x00, 4, 1);
    }
    return { gic, d, c, cpuPins };
  }

  it('GICD_SGIR delivers an IPI with the source CPU in GICC_IAR[12:10]', () => {
    const { gic, d, c, cpuPins } = boot();
    gic.currentCpu = 0;
    d.write(0xf00, 4, (1 << 1 << 16) | 3); // SGI 3 to CPU1
    expect(cpuPins[1]!.p.irq).toBe(true);
    gic.currentCpu = 1;
    const iar = c.read(0x0c, 4);
    expect(iar & 0x3ff).toBe(3);
    expect((iar >> 10) & 7).toBe(0);
    c.write(0x10, 4, iar);
    expect(cpuPins[1]!.p.irq).toBe(false);
    expect(c.read(0x0c, 4)).toBe(1023);
  });

  it('an SPI follows ITARGETSR and GICD_ISENABLER', () => {
    const { gic, d, c, cpuPins } = boot();
    gic.currentCpu = 0;
    d.write(0x800 + 50, 1, 0x02); // SPI 50 -> CPU1
    d.write(0x100 + 4, 4, 1 << 18);
    gic.core.spiLine(50).set(true);
    expect(cpuPins[0]!.p.irq).toBe(false);
    expect(cpuPins[1]!.p.irq).toBe(true);
    gic.currentCpu = 1;
    expect(c.read(0x18, 4)).toBe(50);
    expect(c.read(0x0c, 4)).toBe(50);
    expect(d.read(0x300 + 4, 4)).toBe(1 << 18); // active
  });
});
