// The GICv3 distributor and redistributors a VM sees, driven as irq-gic-v3.c drives them.
import { describe, expect, it } from 'vitest';
import { linuxV3CpuInit, linuxV3DistInit, makeHost, makeMachine, makeVm } from './harness.ts';

function setup(vmpidrs?: number[]) {
  const t = makeMachine(3);
  t.bootPhys();
  const vm = makeVm(t, makeHost(2, [0, 1], vmpidrs), 64);
  vm.vgic.own(40);
  vm.vgic.own(41);
  return { t, vm };
}

describe('vGIC v3: emulated GICD', () => {
  it('identifies itself as a GICv3 with the VM\'s lines and vCPUs', () => {
    const { t, vm } = setup();
    const d = vm.gicd(0);
    expect(d.r(0xffe8) & 0xf0).toBe(0x30); // GICD_PIDR2.ArchRev = 3
    const typer = d.r(0x0004);
    expect(typer & 0x1f).toBe(2); // (32 + 64) / 32 - 1
    expect((typer >> 5) & 7).toBe(1); // CPUNumber = 2 vCPUs - 1
    expect((typer >>> 19) & 0x1f).toBe(9); // IDbits: 10-bit INTIDs
    expect(typer & (1 << 17)).toBe(0); // no LPIs
    expect(d.r(0x0008)).toBe(t.machine.mmioRead(t.board.gic.distBase + 8, 4)); // IIDR of the physical GIC
  });

  it('Linux\'s gic_dist_init(): CTLR reads ARE|DS with both groups enabled, RWP clear', () => {
    const { vm } = setup();
    linuxV3DistInit(vm);
    const ctlr = vm.gicd(0).r(0x0000);
    expect(ctlr).toBe((1 << 6) | (1 << 4) | 3);
    expect(vm.vgic.model.distEn1).toBe(true);
  });

  it('owned SPIs: group, priority (byte and word, 5 bits kept), config and enable read back', () => {
    const { vm } = setup();
    linuxV3DistInit(vm);
    const d = vm.gicd(0);
    expect(d.r(0x084)).toBe(0b11 << 8); // IGROUPR1: only 40 and 41 exist for this VM
    expect(d.r(0x400 + 40)).toBe(0xa0a0); // IPRIORITYR10: INTIDs 40..43, two owned
    d.w(0x400 + 41, 0x47, 1); // byte access
    expect(d.r(0x400 + 41, 1)).toBe(0x40);
    d.w(0xc00 + (40 >> 4) * 4, 2 << ((40 & 15) * 2)); // ICFGR2: 40 edge
    expect(d.r(0xc00 + (40 >> 4) * 4)).toBe(2 << ((40 & 15) * 2));
    d.w(0x104, 1 << 8); // ISENABLER1: 40
    expect(d.r(0x104)).toBe(1 << 8);
    expect(d.r(0x184)).toBe(1 << 8);
    d.w(0x184, 1 << 8);
    expect(d.r(0x104)).toBe(0);
  });

  it('IROUTER: 64-bit and 32-bit halves, resolved against the vCPUs\' virtual MPIDRs', () => {
    // rk3588-style: one core per Aff1.
    const { vm } = setup([0x000, 0x100]);
    linuxV3DistInit(vm);
    const d = vm.gicd(0);
    expect(d.r(0x6000 + 8 * 40, 8)).toBe(0);
    d.w(0x6000 + 8 * 40, 0x100n, 8);
    expect(d.r(0x6000 + 8 * 40, 8)).toBe(0x100);
    expect(vm.vgic.model.target[vm.vgic.model.slot(0, 40)]).toBe(1);
    d.w(0x6000 + 8 * 40, 0x000); // low word only
    expect(d.r(0x6000 + 8 * 40)).toBe(0);
    expect(vm.vgic.model.target[vm.vgic.model.slot(0, 40)]).toBe(0);
    d.w(0x6000 + 8 * 40 + 4, 0x5); // Aff3 = 5: no such vCPU
    expect(d.r(0x6000 + 8 * 40 + 4)).toBe(5);
    expect(vm.vgic.model.target[vm.vgic.model.slot(0, 40)]).toBe(-1);
  });

  it('a write to an SPI the VM does not own is ignored, and it reads as zero', () => {
    const { t, vm } = setup();
    linuxV3DistInit(vm);
    const d = vm.gicd(0);
    const phys = (off: number, size: 1 | 4 = 4) => t.machine.mmioRead(t.board.gic.distBase + off, size);
    const before = [phys(0x104), phys(0x400 + 45, 1), phys(0x6000 + 8 * 45)];
    d.w(0x104, 0xffffffff); // ISENABLER1: 32..63, only 40/41 owned
    expect(d.r(0x104)).toBe(0b11 << 8);
    d.w(0x400 + 45, 0x10, 1);
    expect(d.r(0x400 + 45, 1)).toBe(0);
    d.w(0x204, 1 << 13); // ISPENDR1: 45
    expect(d.r(0x204)).toBe(0);
    d.w(0x6000 + 8 * 45, 1n, 8);
    expect(d.r(0x6000 + 8 * 45, 8)).toBe(0);
    d.w(0x108, 0xffffffff); // beyond the VM's lines
    expect(d.r(0x108)).toBe(0);
    // Nothing reached the physical distributor.
    expect([phys(0x104), phys(0x400 + 45, 1), phys(0x6000 + 8 * 45)]).toEqual(before);
    expect(vm.host.kicks).toEqual([]);
  });

  it('SGI/PPI words of the distributor are RAZ/WI with affinity routing', () => {
    const { vm } = setup();
    const d = vm.gicd(0);
    d.w(0x100, 0xffff0000);
    expect(d.r(0x100)).toBe(0);
    expect(d.r(0x400)).toBe(0);
  });
});

describe('vGIC v3: emulated redistributors', () => {
  it('GICR_TYPER: processor number, the vCPU\'s affinity, Last on the last vCPU', () => {
    const { vm } = setup([0x000, 0x100]);
    const r = vm.gicr(0);
    expect(r.r(0x0008, 8)).toBe(0x0000000000000000n);
    expect(r.r(0x20008, 8)).toBe(0x0000010000000110n);
    expect(r.r(0x2000c)).toBe(0x100n); // high word alone
    expect(r.r(0x40008, 8)).toBe(0n); // no third frame
    expect(r.r(0xffe8) & 0xf0n).toBe(0x30n);
  });

  it('Linux\'s gic_cpu_init(): each vCPU finds its frame by affinity and wakes it', () => {
    const { vm } = setup([0x000, 0x100]);
    linuxV3DistInit(vm);
    expect(vm.gicr(0).r(0x14)).toBe(6n); // asleep at reset
    expect(linuxV3CpuInit(vm, 0)).toBe(0);
    expect(linuxV3CpuInit(vm, 1)).toBe(0x20000);
    expect(vm.gicr(0).r(0x14)).toBe(0n);
    expect(vm.gicr(0).r(0x20014)).toBe(0n);
    vm.gicr(1).w(0x20014, 2); // ProcessorSleep: ChildrenAsleep follows
    expect(vm.gicr(1).r(0x20014)).toBe(6n);
  });

  it('SGI frame: enables, priorities, PPI config of each vCPU are its own', () => {
    const { vm } = setup();
    linuxV3DistInit(vm);
    linuxV3CpuInit(vm, 0);
    linuxV3CpuInit(vm, 1);
    const r = vm.gicr(0);
    expect(r.r(0x10100)).toBe(0xffffn); // SGIs enabled
    r.w(0x10100, 1 << 27); // vCPU 0 enables its virtual timer PPI
    expect(r.r(0x10100)).toBe(0x0800ffffn);
    expect(r.r(0x30100)).toBe(0xffffn); // vCPU 1's frame untouched
    r.w(0x10400 + 27, 0x80, 1);
    expect(r.r(0x10418)).toBe(0x80a0a0a0n);
    expect(r.r(0x10c00)).toBe(0xaaaaaaaan); // ICFGR0: SGIs edge, read-only
    r.w(0x10c00, 0);
    expect(r.r(0x10c00)).toBe(0xaaaaaaaan);
    r.w(0x10c04, 2 << 22); // ICFGR1: PPI 27 edge
    expect(r.r(0x10c04)).toBe(BigInt(2 << 22));
    expect(r.r(0x10080)).toBe(0xffffffffn); // IGROUPR0
    expect(r.r(0x10d00)).toBe(0n); // IGRPMODR0
  });
});

describe('vGIC: access sizes', () => {
  it('halfword and misaligned accesses are RAZ/WI', () => {
    const { vm } = setup();
    linuxV3DistInit(vm);
    const d = vm.gicd(0);
    d.w(0x400 + 40, 0x1010, 4);
    vm.vgic.gicdAccess(0, 0x400 + 40, 2, true, 0x3030n);
    vm.vgic.gicdAccess(0, 0x104 + 1, 4, true, 0xffn);
    expect(vm.vgic.gicdAccess(0, 0x400 + 40, 2, false)).toBe(0n);
    expect(d.r(0x400 + 40)).toBe(0x1010);
    expect(d.r(0x104)).toBe(0);
    expect(vm.vgic.gicrAccess(0, 0x0c, 8, false)).toBe(0n);
  });
});
