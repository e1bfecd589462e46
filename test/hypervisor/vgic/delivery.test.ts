// Virtual interrupts into list registers and back, on the emulated GIC's virtual CPU interface:
// the guest acknowledges and EOIs through ICV_* (GICv3) or GICV (GICv2) as Linux does.
import { describe, expect, it } from 'vitest';
import { El2Reg } from '../../../emulator/arm64/el2.ts';
import { LR, LR_STATE, lrState } from '../../../emulator/devices/gic/virtual.ts';
import { el2Maintenance, linuxBoot, linuxEnableSpi, maintenancePending, makeHost, makeMachine, makeVm } from './harness.ts';

function boot(version: 2 | 3, pcpus = [0, 1]) {
  const t = makeMachine(version);
  const phys = t.bootPhys();
  const vm = makeVm(t, makeHost(pcpus.length, pcpus), 64);
  for (let id = 40; id < 48; id++) vm.vgic.own(id);
  linuxBoot(vm);
  vm.host.kicks.length = 0;
  return { t, phys, vm };
}

describe.each([3, 2] as const)('vGIC v%i: delivery through list registers', (version) => {
  it('an emulated device\'s edge SPI: LR pending → guest acknowledges (active) → EOI (gone)', () => {
    const { t, vm } = boot(version);
    linuxEnableSpi(vm, 40, true);
    vm.vgic.inject(40);
    expect(vm.host.kicks).toEqual([0]);
    expect(vm.vgic.pending(0)).toBe(true);
    vm.enter(0);
    const lr0 = t.gic.virt[0]!.lr[0]!;
    expect(lrState(lr0)).toBe(LR_STATE.PENDING);
    expect(Number(lr0 & 0x3ffn)).toBe(40);
    expect(Number((lr0 >> LR.PRIORITY_SHIFT) & 0xffn)).toBe(0xa0);
    expect(lr0 & LR.HW).toBe(0n);
    expect(t.pins[0]!.virq).toBe(true);
    const g = vm.guest(0);
    expect(g.ack()).toBe(40);
    expect(t.pins[0]!.virq).toBe(false);
    vm.exit(0); // e.g. a trap in the handler: the model learns the interrupt is active
    const m = vm.vgic.model;
    const s = m.slot(0, 40);
    expect([m.active[s], m.pendLatch[s]]).toEqual([1, 0]);
    expect(vm.gicd(1).r(0x304)).toBe(1 << 8); // ISACTIVER1 seen from the other vCPU
    vm.enter(0);
    g.eoi(40);
    vm.exit(0);
    expect([m.active[s], m.queued[s]]).toEqual([0, -1]);
    vm.enter(0);
    expect(t.gic.virt[0]!.lr[0]).toBe(0n);
    expect(vm.vgic.pending(0)).toBe(false);
  });

  it('an edge while the first is being handled is delivered again after its EOI (pending+active)', () => {
    const { t, vm } = boot(version);
    linuxEnableSpi(vm, 41, true);
    vm.vgic.inject(41);
    vm.enter(0);
    const g = vm.guest(0);
    expect(g.ack()).toBe(41);
    vm.exit(0);
    vm.vgic.inject(41);
    vm.enter(0);
    expect(lrState(t.gic.virt[0]!.lr[0]!)).toBe(LR_STATE.PENDING_ACTIVE);
    g.eoi(41);
    expect(g.ack()).toBe(41);
    g.eoi(41);
    expect(g.ack()).toBe(1023);
  });

  it('more pending than list registers: the four highest first, NPIE, refilled by the maintenance interrupt', () => {
    const { t, phys, vm } = boot(version);
    const d = vm.gicd(0);
    for (let id = 40; id < 46; id++) {
      linuxEnableSpi(vm, id, true);
      d.w(0x400 + id, 0x60 - (id - 40) * 8, 1); // 45 highest (0x38) ... 40 lowest (0x60)
      vm.vgic.inject(id);
    }
    vm.enter(0);
    const v = t.gic.virt[0]!;
    expect(v.lr.map((l) => Number(l & 0x3ffn)).sort()).toEqual([42, 43, 44, 45]);
    expect(v.hcr & 0b1001).toBe(0b1001); // En | NPIE
    expect(maintenancePending(t, 0)).toBe(false);
    const g = vm.guest(0);
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      const id = g.ack();
      seen.push(id);
      g.eoi(id);
    }
    expect(g.ack()).toBe(1023);
    expect(maintenancePending(t, 0)).toBe(true); // no LR pending any more
    expect(t.pins[0]!.irq).toBe(true);
    el2Maintenance(t, phys, vm, 0);
    expect(maintenancePending(t, 0)).toBe(false);
    for (let k = 0; k < 2; k++) {
      const id = g.ack();
      seen.push(id);
      g.eoi(id);
    }
    expect(seen).toEqual([45, 44, 43, 42, 41, 40]);
    expect(g.ack()).toBe(1023);
    vm.exit(0);
    expect(vm.vgic.model.ap[0]).toEqual([]);
  });

  it('more nested actives than list registers: the spilled one is deactivated through EOIcount (LRENPIE)', () => {
    const { t, phys, vm } = boot(version);
    const d = vm.gicd(0);
    const g = vm.guest(0);
    // Five interrupts, each of higher priority than the one being handled: five nested actives.
    for (let k = 0; k < 5; k++) {
      const id = 40 + k;
      linuxEnableSpi(vm, id, true);
      d.w(0x400 + id, 0x60 - k * 8, 1);
      vm.vgic.inject(id);
      vm.enter(0);
      expect(g.ack()).toBe(id);
      vm.exit(0);
    }
    vm.enter(0);
    const v = t.gic.virt[0]!;
    expect(v.lr.map((l) => Number(l & 0x3ffn)).sort()).toEqual([41, 42, 43, 44]); // 40, the lowest, spilled
    expect(v.hcr & 0b0111).toBe(0b0111); // En | UIE | LRENPIE
    for (let id = 44; id >= 40; id--) g.eoi(id);
    expect(v.hcr >>> 27).toBe(1); // EOIcount: 40 had no LR
    el2Maintenance(t, phys, vm, 0);
    const m = vm.vgic.model;
    expect(m.active[m.slot(0, 40)]).toBe(0);
    expect(m.ap[0]).toEqual([]);
    expect(maintenancePending(t, 0)).toBe(false);
    expect(v.hcr).toBe(1);
  });

  it('a level line (virtio): EOI maintenance requested; re-delivered only while the line stays high', () => {
    const { t, phys, vm } = boot(version);
    linuxEnableSpi(vm, 42); // Linux's default: level
    vm.vgic.setLevel(42, true);
    vm.enter(0);
    const lr0 = t.gic.virt[0]!.lr[0]!;
    expect(lr0 & LR.EOI).toBe(LR.EOI);
    const g = vm.guest(0);
    expect(g.ack()).toBe(42);
    // The handler reads the device's interrupt status: a trap; the device keeps the line high.
    vm.exit(0);
    vm.enter(0);
    g.eoi(42);
    expect(maintenancePending(t, 0)).toBe(true); // EISR
    el2Maintenance(t, phys, vm, 0);
    expect(g.ack()).toBe(42); // still asserted: delivered again
    vm.exit(0);
    vm.vgic.setLevel(42, false); // this time the handler acknowledged the device
    vm.enter(0);
    g.eoi(42);
    el2Maintenance(t, phys, vm, 0);
    expect(g.ack()).toBe(1023);
    expect(maintenancePending(t, 0)).toBe(false);
    expect(vm.vgic.model.ap[0]).toEqual([]);
  });

  it('a sleeping vCPU: pending() and a kick once something deliverable arrives; not while disabled', () => {
    const { vm } = boot(version);
    const d = vm.gicd(0);
    if (version === 3) d.w(0x6000 + 8 * 43, 1n, 8);
    else d.w(0x800 + 43, 2, 1);
    vm.vgic.inject(43); // still disabled
    expect(vm.vgic.pending(1)).toBe(false);
    expect(vm.host.kicks).toEqual([]);
    linuxEnableSpi(vm, 43, true);
    expect(vm.vgic.pending(1)).toBe(true);
    expect(vm.vgic.pending(0)).toBe(false);
    expect(vm.host.kicks).toEqual([1]);
  });

  it('the distributor disabled holds interrupts back; enabling it delivers them', () => {
    const { vm } = boot(version);
    linuxEnableSpi(vm, 44, true);
    const d = vm.gicd(0);
    const ctlr = d.r(0);
    d.w(0, 0);
    vm.vgic.inject(44);
    expect(vm.vgic.pending(0)).toBe(false);
    expect(vm.host.kicks).toEqual([]);
    d.w(0, ctlr);
    expect(vm.vgic.pending(0)).toBe(true);
    expect(vm.host.kicks).toEqual([0]);
  });

  it('retargeting an SPI that sits in a running vCPU\'s LR: the holder is kicked and hands it over at its exit', () => {
    const { t, vm } = boot(version);
    linuxEnableSpi(vm, 45, true);
    vm.vgic.inject(45);
    vm.enter(0); // in vCPU 0's LR, not yet taken
    vm.host.kicks.length = 0;
    const d = vm.gicd(1); // vCPU 1 traps on its write
    if (version === 3) d.w(0x6000 + 8 * 45, 1n, 8);
    else d.w(0x800 + 45, 2, 1);
    expect(vm.host.kicks).toEqual([0]);
    vm.exit(0);
    expect(vm.host.kicks).toEqual([0, 1]);
    vm.enter(0);
    expect(t.pins[0]!.virq).toBe(false);
    vm.enter(1);
    expect(vm.guest(1).ack()).toBe(45);
  });

  it('ICPENDR from another vCPU wins over the pending state in a running vCPU\'s LR', () => {
    const { t, vm } = boot(version);
    linuxEnableSpi(vm, 46, true);
    vm.vgic.inject(46);
    vm.enter(0);
    vm.gicd(1).w(0x284, 1 << 14); // ICPENDR1: 46
    vm.exit(0);
    vm.enter(0);
    expect(t.pins[0]!.virq).toBe(false);
    expect(vm.vgic.model.ap[0]).toEqual([]);
  });

  it('world switch: two VMs share a physical CPU; VMCR and active priorities follow each vCPU', () => {
    const t = makeMachine(version);
    t.bootPhys();
    const a = makeVm(t, makeHost(1, [0]), 32);
    const b = makeVm(t, makeHost(1, [0]), 32);
    a.vgic.own(40);
    b.vgic.own(40);
    linuxBoot(a);
    linuxEnableSpi(a, 40, true);
    const cpu = t.cpus[0]!;
    a.vgic.inject(40);
    a.enter(0);
    expect(a.guest(0).ack()).toBe(40); // A is in its handler: running priority 0xa0
    expect(a.guest(0).rpr()).toBe(0xa0);
    a.exit(0);
    t.on(0, () => a.vgic.save(0, cpu));
    expect(t.pins[0]!.virq).toBe(false);
    t.on(0, () => b.vgic.restore(0, cpu));
    linuxBoot(b);
    b.guest(0).setPmr(0xe0);
    linuxEnableSpi(b, 40, true);
    b.vgic.inject(40);
    b.enter(0);
    expect(b.guest(0).rpr()).toBe(0xff); // nothing of A's is active here
    expect(b.guest(0).ack()).toBe(40);
    b.guest(0).eoi(40);
    b.exit(0);
    t.on(0, () => b.vgic.save(0, cpu));
    t.on(0, () => a.vgic.restore(0, cpu));
    a.enter(0);
    expect(a.guest(0).rpr()).toBe(0xa0);
    const pmr = version === 3 ? Number((cpu.mrs(El2Reg.ICH_VMCR_EL2) >> 24n) & 0xffn) : (t.machine.mmioRead(t.board.gic.gichBase! + 8, 4) >>> 27) << 3;
    expect(pmr).toBe(0xf0); // A's own priority mask, not B's 0xe0
    a.guest(0).eoi(40);
    expect(a.guest(0).rpr()).toBe(0xff);
    a.exit(0);
    expect(a.vgic.model.ap[0]).toEqual([]);
  });
});
