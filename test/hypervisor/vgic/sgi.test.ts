// SGIs between the vCPUs of one VM: GICv3 ICC_SGI1R_EL1 (trapped) and GICv2 GICD_SGIR.
import { describe, expect, it } from 'vitest';
import { el2Maintenance, linuxBoot, makeHost, makeMachine, makeVm } from './harness.ts';

/** ICC_SGI1R_EL1 as Linux's gic_send_sgi() builds it. */
function sgi1r(o: { sgi: number; list?: number; aff1?: number; irm?: boolean }): bigint {
  let v = (BigInt(o.sgi) << 24n) | (BigInt(o.aff1 ?? 0) << 16n) | BigInt(o.list ?? 0);
  if (o.irm) v |= 1n << 40n;
  return v;
}

describe('vGIC v3: ICC_SGI1R_EL1', () => {
  function boot(vmpidrs = [0, 1, 2]) {
    const t = makeMachine(3);
    const phys = t.bootPhys();
    const vm = makeVm(t, makeHost(3, [0, 1, 2], vmpidrs), 32);
    linuxBoot(vm);
    vm.host.kicks.length = 0;
    return { t, phys, vm };
  }

  it('a target list reaches exactly the named vCPUs', () => {
    const { t, vm } = boot();
    vm.vgic.sgi1r(0, sgi1r({ sgi: 5, list: 0b110 }));
    expect(vm.host.kicks).toEqual([1, 2]);
    vm.enter(1);
    vm.enter(2);
    expect(vm.guest(1).ack()).toBe(5);
    expect(vm.guest(2).ack()).toBe(5);
    vm.enter(0);
    expect(t.pins[0]!.virq).toBe(false);
  });

  it('IRM: every vCPU of the VM but the sender', () => {
    const { vm } = boot();
    vm.vgic.sgi1r(1, sgi1r({ sgi: 0, irm: true }));
    expect(vm.host.kicks).toEqual([0, 2]);
    expect([vm.vgic.pending(0), vm.vgic.pending(1), vm.vgic.pending(2)]).toEqual([true, false, true]);
  });

  it('rk3588 affinities (one core per Aff1): the cluster comes from Aff1, the list from Aff0', () => {
    const { vm } = boot([0x000, 0x100, 0x200]);
    vm.vgic.sgi1r(0, sgi1r({ sgi: 3, aff1: 2, list: 1 }));
    expect(vm.host.kicks).toEqual([2]);
    vm.vgic.sgi1r(0, sgi1r({ sgi: 3, aff1: 0, list: 0b10 })); // Aff0 = 1 exists nowhere
    expect(vm.host.kicks).toEqual([2]);
  });

  it('SGIs never leave the VM: another VM on the same cores with the same virtual MPIDRs sees nothing', () => {
    const t = makeMachine(3);
    t.bootPhys();
    const a = makeVm(t, makeHost(2, [0, 1]), 32);
    const b = makeVm(t, makeHost(2, [2, 3]), 32);
    linuxBoot(a);
    linuxBoot(b);
    b.host.kicks.length = 0;
    a.vgic.sgi1r(0, sgi1r({ sgi: 1, list: 0xffff }));
    a.vgic.sgi1r(0, sgi1r({ sgi: 2, irm: true }));
    expect(b.host.kicks).toEqual([]);
    expect([b.vgic.pending(0), b.vgic.pending(1)]).toEqual([false, false]);
    b.enter(0);
    b.enter(1);
    expect([t.pins[2]!.virq, t.pins[3]!.virq]).toEqual([false, false]);
  });

  it('an SGI the guest disabled in its redistributor stays pending, visible in ISPENDR0', () => {
    const { vm } = boot();
    vm.gicr(1).w(0x20000 + 0x10180, 1 << 7); // vCPU 1: ICENABLER0 SGI 7
    vm.vgic.sgi1r(0, sgi1r({ sgi: 7, list: 0b10 }));
    expect(vm.vgic.pending(1)).toBe(false);
    expect(vm.gicr(0).r(0x20000 + 0x10200)).toBe(1n << 7n);
    vm.gicr(1).w(0x20000 + 0x10100, 1 << 7);
    expect(vm.vgic.pending(1)).toBe(true);
  });
});

describe('vGIC v2: GICD_SGIR', () => {
  function boot(n = 3) {
    const t = makeMachine(2);
    const phys = t.bootPhys();
    const vm = makeVm(t, makeHost(n, [...Array(n).keys()]), 32);
    linuxBoot(vm);
    vm.host.kicks.length = 0;
    return { t, phys, vm };
  }
  /** GICD_SPENDSGIR byte of `sgi` as vCPU v reads it: the sources pending for it. */
  const sources = (vm: ReturnType<typeof boot>['vm'], v: number, sgi: number) => (vm.gicd(v).r(0xf20 + (sgi & ~3)) >>> (8 * (sgi & 3))) & 0xff;

  it('ITARGETSR0-7 read the vCPU\'s own CPU-interface bit (Linux\'s gic_get_cpumask)', () => {
    const { vm } = boot();
    expect(vm.gicd(0).r(0x800)).toBe(0x01010101);
    expect(vm.gicd(2).r(0x81c)).toBe(0x04040404);
    expect(vm.gicd(1).r(0x004) >> 5 & 7).toBe(2); // GICD_TYPER.CPUNumber
  });

  it('TargetListFilter 0: the listed vCPUs, with the sender as source; bits beyond the VM ignored', () => {
    const { vm } = boot();
    vm.gicd(0).w(0xf00, (0 << 24) | (0b11110110 << 16) | 4);
    expect(vm.host.kicks).toEqual([1, 2]);
    expect([sources(vm, 0, 4), sources(vm, 1, 4), sources(vm, 2, 4)]).toEqual([0, 1, 1]);
  });

  it('TargetListFilter 1: all other vCPUs; 2: the sender itself; 3: nobody', () => {
    const { vm } = boot();
    vm.gicd(1).w(0xf00, (1 << 24) | 9);
    expect(vm.host.kicks).toEqual([0, 2]);
    expect([sources(vm, 0, 9), sources(vm, 1, 9), sources(vm, 2, 9)]).toEqual([2, 0, 2]);
    vm.host.kicks.length = 0;
    vm.gicd(2).w(0xf00, (2 << 24) | (0xff << 16) | 10);
    expect(vm.host.kicks).toEqual([2]);
    expect(sources(vm, 2, 10)).toBe(4);
    vm.host.kicks.length = 0;
    vm.gicd(0).w(0xf00, (3 << 24) | (0xff << 16) | 11);
    expect(vm.host.kicks).toEqual([]);
  });

  it('the same SGI from two sources: one LR per source (CPUID field), the next after an EOI maintenance', () => {
    const { t, phys, vm } = boot();
    vm.gicd(1).w(0xf00, (1 << 16) | 2);
    vm.gicd(2).w(0xf00, (1 << 16) | 2);
    t.gichLrWrites.length = 0;
    vm.enter(0);
    const first = t.gichLrWrites.find((w) => w.value !== 0)!;
    expect(first.value & 0x3ff).toBe(2);
    expect((first.value >>> 10) & 7).toBe(1); // CPUID: vCPU 1
    expect(first.value & (1 << 19)).not.toBe(0); // EOI: another source waits
    expect(sources(vm, 0, 2)).toBe(0b100);
    const g = vm.guest(0);
    expect(g.ack() & 0x3ff).toBe(2);
    g.eoi(2 | (1 << 10));
    t.gichLrWrites.length = 0;
    el2Maintenance(t, phys, vm, 0);
    const second = t.gichLrWrites.find((w) => w.value !== 0)!;
    expect((second.value >>> 10) & 7).toBe(2);
    expect(second.value & (1 << 19)).toBe(0);
    expect(g.ack() & 0x3ff).toBe(2);
    g.eoi(2 | (2 << 10));
    expect(g.ack()).toBe(1023);
  });

  it('CPENDSGIR withdraws a source; SGIs stay enabled whatever ICENABLER0 says (GIC-400)', () => {
    const { vm } = boot();
    vm.gicd(0).w(0x180, 0xffffffff);
    expect(vm.gicd(0).r(0x100) & 0xffff).toBe(0xffff);
    vm.gicd(1).w(0xf00, (1 << 16) | 6);
    vm.gicd(2).w(0xf00, (1 << 16) | 6);
    expect(sources(vm, 0, 6)).toBe(0b110);
    vm.gicd(0).w(0xf14, 0b010 << 16, 4); // CPENDSGIR1 byte 2 = SGI 6
    expect(sources(vm, 0, 6)).toBe(0b100);
    vm.gicd(0).w(0xf16, 0b100, 1);
    expect(sources(vm, 0, 6)).toBe(0);
    expect(vm.vgic.pending(0)).toBe(false);
    vm.gicd(0).w(0xf26, 0b001, 1); // SPENDSGIR: as if vCPU 0 had sent it
    expect(sources(vm, 0, 6)).toBe(1);
    expect(vm.vgic.pending(0)).toBe(true);
  });
});
