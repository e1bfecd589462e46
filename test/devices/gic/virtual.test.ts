// The GIC virtualization extension driven as a hypervisor (list registers) and a guest (ICV_* /
// GICV_*) use it, with the state transitions of IHI 0069 ch. 6 and IHI 0048B ch. 5.
import { describe, expect, it } from 'vitest';
import { GicV3, ICC } from '../../../emulator/devices/gic/gicv3.ts';
import { GicV2 } from '../../../emulator/devices/gic/gicv2.ts';
import { LR_STATE, MISR, lrState, makeLr } from '../../../emulator/devices/gic/virtual.ts';
import { lrFromV2, lrToV2 } from '../../../emulator/devices/gic/gicv2-virt.ts';
import type { CpuInterruptPins } from '../../../emulator/devices/irq.ts';

function pins() {
  const p = { irq: false, virq: false };
  const cp: CpuInterruptPins = { setIrq: (l) => void (p.irq = l), setFiq: () => {}, setVirq: (l) => void (p.virq = l), setVfiq: () => {} };
  return { p, cp };
}

describe('GICv3 virtual CPU interface (ICH_* / ICV_*)', () => {
  function setup() {
    const gic = new GicV3({ nCpus: 2, spis: 64, mpidrs: [0, 1] });
    const ps = [pins(), pins()];
    ps.forEach((x, i) => gic.core.connectCpu(i, x.cp));
    const routed = { on: true };
    const icv = gic.sysregInterface(0, () => routed.on);
    const v = gic.virt[0]!;
    v.setHcr(1); // ICH_HCR_EL2.En
    icv.writeSysreg(ICC.PMR, 0xf0n);
    icv.writeSysreg(ICC.IGRPEN1, 1n);
    return { gic, ps, icv, v, routed };
  }

  it('a pending LR raises vIRQ; ICV_IAR1 returns its vINTID and makes it active; EOI empties the LR', () => {
    const { ps, icv, v } = setup();
    v.setLr(0, makeLr({ vintid: 27, state: LR_STATE.PENDING, priority: 0xa0 }));
    expect(ps[0]!.p.virq).toBe(true);
    expect(ps[1]!.p.virq).toBe(false);
    expect(icv.readSysreg(ICC.HPPIR1)).toBe(27n);
    expect(icv.readSysreg(ICC.IAR1)).toBe(27n);
    expect(lrState(v.lr[0]!)).toBe(LR_STATE.ACTIVE);
    expect(ps[0]!.p.virq).toBe(false);
    expect(icv.readSysreg(ICC.RPR)).toBe(0xa0n);
    icv.writeSysreg(ICC.EOIR1, 27n);
    expect(lrState(v.lr[0]!)).toBe(LR_STATE.INVALID);
    expect(v.elrsr & 1).toBe(1);
    expect(icv.readSysreg(ICC.IAR1)).toBe(1023n);
  });

  it('the virtual priority mask and ICH_HCR_EL2.En gate the vIRQ', () => {
    const { ps, icv, v } = setup();
    icv.writeSysreg(ICC.PMR, 0x80n);
    v.setLr(1, makeLr({ vintid: 40, state: LR_STATE.PENDING, priority: 0xa0 }));
    expect(ps[0]!.p.virq).toBe(false);
    icv.writeSysreg(ICC.PMR, 0xf0n);
    expect(ps[0]!.p.virq).toBe(true);
    v.setHcr(0);
    expect(ps[0]!.p.virq).toBe(false);
  });

  it('deactivating a HW LR deactivates the physical interrupt it carries', () => {
    const { gic, icv, v } = setup();
    const core = gic.core;
    // Physical SPI 45 taken by the hypervisor: active in the distributor.
    const s = core.slot(0, 45);
    core.active[s] = 1;
    v.setLr(0, makeLr({ vintid: 45, state: LR_STATE.PENDING, priority: 0x80, hw: 45 }));
    expect(icv.readSysreg(ICC.IAR1)).toBe(45n);
    icv.writeSysreg(ICC.EOIR1, 45n);
    expect(core.active[s]).toBe(0);
  });

  it('maintenance interrupt (PPI 25): EOI of an LR with the EOI bit, underflow, no pending', () => {
    const { gic, icv, v } = setup();
    const maint = () => gic.core.isPending(gic.core.slot(0, 25));
    v.setLr(0, makeLr({ vintid: 50, state: LR_STATE.PENDING, priority: 0x80, eoi: true }));
    expect(v.misr).toBe(0);
    icv.readSysreg(ICC.IAR1);
    icv.writeSysreg(ICC.EOIR1, 50n);
    expect(v.eisr).toBe(1);
    expect(v.misr & MISR.EOI).toBe(MISR.EOI);
    expect(maint()).toBe(true);
    v.setLr(0, 0n);
    expect(maint()).toBe(false);
    v.setHcr(1 | (1 << 1)); // UIE: at most one valid LR
    expect(v.misr & MISR.U).toBe(MISR.U);
    v.setHcr(1 | (1 << 3)); // NPIE: no pending LR
    expect(v.misr & MISR.NP).toBe(MISR.NP);
  });

  it('without HCR_EL2.IMO routing, ICC_* reach the physical interface', () => {
    const { icv, routed, v } = setup();
    v.setLr(0, makeLr({ vintid: 27, state: LR_STATE.PENDING, priority: 0xa0 }));
    routed.on = false;
    expect(icv.readSysreg(ICC.IAR1)).toBe(1023n); // nothing pending physically
    routed.on = true;
    expect(icv.readSysreg(ICC.IAR1)).toBe(27n);
  });
});

describe('GICv2 GICH/GICV frames', () => {
  it('GICH_LR format converts both ways (VirtualID, PhysicalID/EOI, priority, state, group, HW)', () => {
    const v2 = (3 << 28) | (1 << 30) | (0x14 << 23) | (33 << 10) | (1 << 31) | 27;
    expect(lrToV2(lrFromV2(v2 >>> 0))).toBe(v2 >>> 0);
    const sw = (1 << 28) | (1 << 19) | (0x10 << 23) | 5;
    expect(lrToV2(lrFromV2(sw))).toBe(sw);
  });

  it('a hypervisor fills GICH_LR0; the guest acknowledges through GICV_IAR and EOIs through GICV_EOIR', () => {
    const gic = new GicV2({ nCpus: 2, spis: 64, mpidrs: [0, 1] });
    const ps = [pins(), pins()];
    ps.forEach((x, i) => gic.core.connectCpu(i, x.cp));
    gic.currentCpu = 1;
    const h = gic.hypControl;
    const gv = gic.virtualCpuInterface;
    expect(h.read(0x04, 4) & 0x3f).toBe(3); // 4 list registers
    h.write(0x00, 4, 1); // GICH_HCR.En
    gv.write(0x04, 4, 0xf0); // GICV_PMR
    gv.write(0x00, 4, 1); // GICV_CTLR enable
    h.write(0x100, 4, ((1 << 28) | (0x10 << 23) | 30) >>> 0); // pending vINTID 30, priority 0x80
    expect(ps[1]!.p.virq).toBe(true);
    expect(h.read(0x30, 4) & 1).toBe(0); // LR0 in use
    expect(gv.read(0x0c, 4)).toBe(30);
    expect((h.read(0x100, 4) >>> 28) & 3).toBe(LR_STATE.ACTIVE);
    gv.write(0x10, 4, 30);
    expect(h.read(0x30, 4) & 1).toBe(1); // LR0 empty again
    expect(ps[1]!.p.virq).toBe(false);
  });
  it('GICH_APR is read-write: a hypervisor restores a vCPU\'s active priorities (IHI 0048B 5.3.9)', () => {
    const gic = new GicV2({ nCpus: 1, spis: 32, mpidrs: [0] });
    const h = gic.hypControl;
    const gv = gic.virtualCpuInterface;
    h.write(0xf0, 4, (1 << (0xa0 >> 3)) | (1 << (0x40 >> 3)));
    expect(h.read(0xf0, 4)).toBe(((1 << 20) | (1 << 8)) >>> 0);
    expect(gv.read(0x14, 4)).toBe(0x40); // GICV_RPR: the highest active priority runs
    h.write(0xf0, 4, 0);
    expect(gv.read(0x14, 4)).toBe(0xff);
  });
});
