// Hardware-linked interrupts: a passthrough device's SPI and the virtual timer's PPI. The
// physical interrupt is taken at EL2 with a priority drop only (EOImode 1); the guest's EOI
// through the HW list register deactivates it in the physical GIC.
import { describe, expect, it } from 'vitest';
import { LR } from '../../../emulator/devices/gic/virtual.ts';
import { el2Ack, linuxBoot, linuxEnableSpi, makeHost, makeMachine, makeVm } from './harness.ts';

describe.each([3, 2] as const)('vGIC v%i: passthrough SPI', (version) => {
  function boot() {
    const t = makeMachine(version);
    const phys = t.bootPhys();
    // vCPU 1 runs on physical CPU 2.
    const vm = makeVm(t, makeHost(2, [0, 2]), 64);
    vm.vgic.own(50, 50);
    linuxBoot(vm);
    vm.host.kicks.length = 0;
    const dist = t.board.gic.distBase;
    const physReg = (off: number, size: 1 | 4 = 4) => t.machine.mmioRead(dist + off, size);
    return { t, phys, vm, physReg };
  }
  const route = (vm: ReturnType<typeof boot>['vm'], v: number) => {
    if (version === 3) vm.gicd(0).w(0x6000 + 8 * 50, BigInt(vm.host.vmpidr(v)), 8);
    else vm.gicd(0).w(0x800 + 50, 1 << v, 1);
  };

  it('the guest\'s enable, priority, trigger and routing reach the physical distributor', () => {
    const { t, vm, physReg } = boot();
    const bit = 1 << (50 - 32);
    expect(physReg(0x104) & bit).toBe(0); // Linux's init disabled it
    linuxEnableSpi(vm, 50, true);
    expect(physReg(0x104) & bit).toBe(bit);
    expect((physReg(0xc00 + (50 >> 4) * 4) >>> ((50 & 15) * 2 + 1)) & 1).toBe(1);
    vm.gicd(0).w(0x400 + 50, 0x80, 1);
    expect(physReg(0x400 + 50, 1)).toBe(0x80);
    route(vm, 1);
    if (version === 3) expect(physReg(0x6000 + 8 * 50)).toBe(t.board.cpus[2]!.mpidr);
    else expect(physReg(0x800 + 50, 1)).toBe(1 << 2);
    vm.gicd(1).w(0x184, bit); // ICENABLER from the other vCPU
    expect(physReg(0x104) & bit).toBe(0);
  });

  it('physical IRQ → EL2 on the target vCPU\'s CPU → HW LR → the guest\'s EOI deactivates it physically', () => {
    const { t, phys, vm } = boot();
    linuxEnableSpi(vm, 50); // level, as the device's line is
    route(vm, 1);
    const line = t.core.spiLine(50);
    const ps = t.core.slot(0, 50);
    line.set(true);
    expect([t.pins[0]!.irq, t.pins[2]!.irq]).toEqual([false, true]);
    const iar = el2Ack(t, phys, 2);
    expect(iar).toBe(50);
    expect(t.core.active[ps]).toBe(1); // priority dropped, still active
    expect(t.pins[2]!.irq).toBe(false);
    expect(vm.vgic.injectHw(1, 50)).toBe(true);
    expect(vm.host.kicks).toEqual([1]);
    vm.enter(1);
    const lr = t.gic.virt[2]!.lr[0]!;
    expect(lr & LR.HW).toBe(LR.HW);
    expect(Number((lr >> LR.PINTID_SHIFT) & 0x3ffn)).toBe(50);
    const g = vm.guest(1);
    expect(g.ack()).toBe(50);
    expect(t.core.active[ps]).toBe(1);
    line.set(false); // the guest's driver quietens the device
    g.eoi(50);
    expect(t.core.active[ps]).toBe(0);
    expect(t.pins[2]!.irq).toBe(false);
    vm.exit(1);
    expect(vm.vgic.model.ap[1]).toEqual([]);
  });

  it('a level line still high after the guest\'s EOI fires again physically', () => {
    const { t, phys, vm } = boot();
    linuxEnableSpi(vm, 50);
    t.core.spiLine(50).set(true);
    el2Ack(t, phys, 0);
    vm.vgic.injectHw(0, 50);
    vm.enter(0);
    vm.guest(0).eoi(vm.guest(0).ack());
    expect(t.pins[0]!.irq).toBe(true);
    expect(el2Ack(t, phys, 0)).toBe(50);
  });

  it('nobody else can reach it: another VM\'s writes are ignored; a physical INTID the VM does not own is refused', () => {
    const { t, vm, physReg } = boot();
    const other = makeVm(t, makeHost(1, [3]), 64);
    linuxBoot(other);
    const before = [physReg(0x104), physReg(0x400 + 50, 1)];
    other.gicd(0).w(0x104, 0xffffffff);
    other.gicd(0).w(0x400 + 50, 0x00, 1);
    other.gicd(0).w(0x304, 1 << 18); // ISACTIVER
    expect([physReg(0x104), physReg(0x400 + 50, 1)]).toEqual(before);
    expect(other.vgic.injectHw(0, 50)).toBe(false);
    expect(vm.vgic.injectHw(0, 51)).toBe(false);
    expect(vm.vgic.ownsHw(50)).toBe(true);
    expect(other.vgic.ownsHw(50)).toBe(false);
  });
});

describe.each([3, 2] as const)('vGIC v%i: the virtual timer PPI 27, hardware-linked', (version) => {
  /** The arch timer driver's enable_percpu_irq() of PPI 27 on vCPU 0. */
  const enableTimer = (vm: ReturnType<typeof makeVm>) => {
    if (version === 3) vm.gicr(0).w(0x10100, 1 << 27);
    else vm.gicd(0).w(0x100, 1 << 27);
  };
  it('EL2 takes PPI 27, injects it; the guest\'s EOI deactivates the physical PPI on that CPU', () => {
    const t = makeMachine(version);
    const phys = t.bootPhys();
    const vm = makeVm(t, makeHost(1, [1]), 32);
    linuxBoot(vm);
    enableTimer(vm);
    const timer = t.core.ppiLine(1, 27);
    const ps = t.core.slot(1, 27);
    timer.set(true);
    expect(el2Ack(t, phys, 1)).toBe(27);
    expect(vm.vgic.injectHw(0, 27)).toBe(true);
    vm.enter(0);
    const lr = t.gic.virt[1]!.lr[0]!;
    expect(lr & LR.HW).toBe(LR.HW);
    const g = vm.guest(0);
    expect(g.ack()).toBe(27);
    timer.set(false); // the guest's timer handler reprograms CNTV_CVAL
    g.eoi(27);
    expect(t.core.active[ps]).toBe(0);
    expect(t.core.active[t.core.slot(0, 27)]).toBe(0);
  });

  it('world switch: the physical PPI\'s active state follows each vCPU\'s copy', () => {
    const t = makeMachine(version);
    const phys = t.bootPhys();
    const a = makeVm(t, makeHost(1, [0]), 32);
    const b = makeVm(t, makeHost(1, [0]), 32);
    const cpu = t.cpus[0]!;
    const ps = t.core.slot(0, 27);
    linuxBoot(a);
    enableTimer(a);
    t.core.ppiLine(0, 27).set(true);
    el2Ack(t, phys, 0);
    a.vgic.injectHw(0, 27);
    a.enter(0);
    expect(a.guest(0).ack()).toBe(27); // A's timer handler runs... and A is descheduled
    t.core.ppiLine(0, 27).set(false); // (its timer context saved with it)
    a.exit(0);
    t.on(0, () => {
      a.vgic.save(0, cpu);
      b.vgic.restore(0, cpu);
    });
    expect(t.core.active[ps]).toBe(0); // B's timer may fire
    linuxBoot(b);
    t.on(0, () => {
      b.vgic.save(0, cpu);
      a.vgic.restore(0, cpu);
    });
    expect(t.core.active[ps]).toBe(1); // A's interrupt is still being handled
    a.enter(0);
    a.guest(0).eoi(27);
    expect(t.core.active[ps]).toBe(0);
  });
});

describe('vGIC v3: banked physical state stays with the loaded vCPU', () => {
  it('ICACTIVER0 in another vCPU\'s frame does not touch the PPI of the VM running on that CPU', () => {
    const t = makeMachine(3);
    const phys = t.bootPhys();
    const a = makeVm(t, makeHost(2, [0, 1]), 32); // A's vCPU 1 is descheduled on CPU 1...
    const b = makeVm(t, makeHost(1, [1]), 32); // ...where B runs, in its timer handler
    linuxBoot(b);
    b.gicr(0).w(0x10100, 1 << 27);
    t.core.ppiLine(1, 27).set(true);
    el2Ack(t, phys, 1);
    b.vgic.injectHw(0, 27);
    b.enter(0);
    expect(b.guest(0).ack()).toBe(27);
    const ps = t.core.slot(1, 27);
    expect(t.core.active[ps]).toBe(1);
    a.gicr(0).w(0x20000 + 0x10380, 0xffffffff); // A's vCPU 0 clears vCPU 1's active bits
    expect(t.core.active[ps]).toBe(1);
    b.guest(0).eoi(27);
    expect(t.core.active[ps]).toBe(0);
  });
});
