// A small machine for vGIC tests: the real emulated GIC (distributor, redistributors, CPU
// interfaces and the virtualization extension) behind a minimal El2Machine / El2Cpu, so that the
// hypervisor's list registers drive the same virtual CPU interface a guest's ICV_* / GICV_*
// accesses use. Guests are played by the test: their GICD/GICR accesses go to the Vgic as the
// trap handler would pass them, their CPU-interface accesses to the emulated hardware.
import { qemuVirt } from '../../../boards/qemu-virt.ts';
import type { BoardDescription } from '../../../boards/types.ts';
import { El2Reg, type El1Context, type El2Cpu, type El2Machine } from '../../../emulator/arm64/el2.ts';
import type { MmioDevice } from '../../../emulator/bus/device.ts';
import { GicV2 } from '../../../emulator/devices/gic/gicv2.ts';
import { GicV3, ICC } from '../../../emulator/devices/gic/gicv3.ts';
import { NUM_LRS, type VirtualCpuInterface } from '../../../emulator/devices/gic/virtual.ts';
import type { CpuInterruptPins } from '../../../emulator/devices/irq.ts';
import { PhysGic } from '../../../hypervisor/vgic/phys-gic.ts';
import { Vgic, type VgicHost } from '../../../hypervisor/vgic/vgic.ts';

export interface Pins {
  irq: boolean;
  virq: boolean;
}

const ICC_OF: Partial<Record<number, number>> = {
  [El2Reg.ICC_IAR1_EL1]: ICC.IAR1,
  [El2Reg.ICC_EOIR1_EL1]: ICC.EOIR1,
  [El2Reg.ICC_DIR_EL1]: ICC.DIR,
  [El2Reg.ICC_SGI1R_EL1]: ICC.SGI1R,
  [El2Reg.ICC_PMR_EL1]: ICC.PMR,
  [El2Reg.ICC_CTLR_EL1]: ICC.CTLR,
  [El2Reg.ICC_IGRPEN1_EL1]: ICC.IGRPEN1,
  [El2Reg.ICC_SRE_EL1]: ICC.SRE,
  [El2Reg.ICC_HPPIR1_EL1]: ICC.HPPIR1,
};

/** ICH_VMCR_EL2 (IHI 0069 12.5.13): VENG0 [0], VENG1 [1], VEOIM [9], VBPR1 [20:18], VPMR [31:24]. */
function vmcrRead(v: VirtualCpuInterface): number {
  return ((v.veng0 ? 1 : 0) | (v.veng1 ? 2 : 0) | (v.veoim ? 1 << 9 : 0) | (v.vbpr1 << 18) | (v.vpmr << 24)) >>> 0;
}
function vmcrWrite(v: VirtualCpuInterface, x: number): void {
  v.veng0 = (x & 1) !== 0;
  v.veng1 = (x & 2) !== 0;
  v.veoim = (x & (1 << 9)) !== 0;
  v.vbpr1 = (x >>> 18) & 7;
  v.vpmr = (x >>> 24) & 0xf8;
  v.update();
}

export function makeMachine(version: 2 | 3, nCpus = 4) {
  const board: BoardDescription = { ...qemuVirt, gic: { ...qemuVirt.gic, version }, cpus: qemuVirt.cpus.slice(0, nCpus) };
  const mpidrs = board.cpus.map((c) => c.mpidr);
  const cfg = { nCpus, spis: board.gic.spis, mpidrs };
  const v3 = version === 3 ? new GicV3(cfg) : null;
  const v2 = version === 2 ? new GicV2(cfg) : null;
  const gic = (v3 ?? v2)!;
  const core = gic.core;
  const pins: Pins[] = [];
  for (let i = 0; i < nCpus; i++) {
    const p: Pins = { irq: false, virq: false };
    const cp: CpuInterruptPins = { setIrq: (l) => void (p.irq = l), setFiq: () => {}, setVirq: (l) => void (p.virq = l), setVfiq: () => {} };
    pins.push(p);
    core.connectCpu(i, cp);
  }
  const g = board.gic;
  const regions: [number, number, MmioDevice][] = v3
    ? [
        [g.distBase, g.distSize, v3.distributor],
        [g.redistBase!, g.redistSize!, v3.redistributors],
      ]
    : [
        [g.distBase, g.distSize, v2!.distributor],
        [g.cpuBase!, 0x2000, v2!.cpuInterface],
        [g.gichBase!, 0x1000, v2!.hypControl],
        [g.gicvBase!, 0x2000, v2!.virtualCpuInterface],
      ];
  /** The physical CPU whose accesses the banked GICv2 registers see. */
  const state = { current: 0 };
  /** Raw GICH_LR<n> values written (GICv2), as the frame would hold them before conversion. */
  const gichLrWrites: { cpu: number; n: number; value: number }[] = [];
  const find = (pa: number): [number, MmioDevice] => {
    for (const [b, sz, d] of regions) if (pa >= b && pa < b + sz) return [pa - b, d];
    throw new Error(`no device at 0x${pa.toString(16)}`);
  };
  const unused = (): never => {
    throw new Error('not used by the vGIC');
  };

  const cpus: El2Cpu[] = board.cpus.map((c, i) => {
    const virt = gic.virt[i]!;
    const icc = v3?.sysregInterface(i, () => false);
    const cpu: El2Cpu = {
      index: i,
      mpidr: c.mpidr,
      esr: 0,
      far: 0,
      hpfar: 0,
      elr: 0,
      spsr: 0,
      advancePc: unused,
      x: unused,
      setX: unused,
      save: unused,
      restore: unused,
      park: unused,
      chargeCycles: () => {},
      mrs(reg) {
        if (!v3) return 0n;
        if (reg >= El2Reg.ICH_LR0_EL2 && reg < El2Reg.ICH_LR0_EL2 + NUM_LRS) return virt.lr[reg - El2Reg.ICH_LR0_EL2]!;
        switch (reg) {
          case El2Reg.ICH_HCR_EL2:
            return BigInt(virt.hcr);
          case El2Reg.ICH_VMCR_EL2:
            return BigInt(vmcrRead(virt));
          case El2Reg.ICH_VTR_EL2:
            return BigInt(((4 << 29) | (4 << 26) | (NUM_LRS - 1)) >>> 0);
          case El2Reg.ICH_MISR_EL2:
            return BigInt(virt.misr);
          case El2Reg.ICH_EISR_EL2:
            return BigInt(virt.eisr);
          case El2Reg.ICH_ELRSR_EL2:
            return BigInt(virt.elrsr);
          case El2Reg.ICH_AP1R0_EL2:
            return BigInt(virt.apr);
        }
        const enc = ICC_OF[reg];
        if (enc !== undefined) return icc!.readSysreg(enc) ?? 0n;
        throw new Error(`mrs ${reg}`);
      },
      msr(reg, v) {
        if (!v3) throw new Error('no ICH_* on GICv2');
        if (reg >= El2Reg.ICH_LR0_EL2 && reg < El2Reg.ICH_LR0_EL2 + NUM_LRS) return virt.setLr(reg - El2Reg.ICH_LR0_EL2, v);
        switch (reg) {
          case El2Reg.ICH_HCR_EL2:
            return virt.setHcr(Number(v & 0xffffffffn));
          case El2Reg.ICH_VMCR_EL2:
            return vmcrWrite(virt, Number(v & 0xffffffffn));
          case El2Reg.ICH_AP1R0_EL2:
            return virt.setApr(Number(v & 0xffffffffn));
        }
        const enc = ICC_OF[reg];
        if (enc !== undefined && icc!.writeSysreg(enc, v)) return;
        throw new Error(`msr ${reg}`);
      },
    };
    return cpu;
  });

  const machine: El2Machine = {
    board,
    cpus,
    gicVersion: version,
    ramBase: board.memory.base,
    ramSize: board.memory.defaultSize,
    newContext: (): El1Context => ({ words: new Uint32Array(0) }),
    startCpu: unused,
    readPhys: unused,
    writePhys: unused,
    zeroPhys: unused,
    read64: unused,
    write64: unused,
    mmioRead(pa, size) {
      if (v2) v2.currentCpu = state.current;
      const [off, d] = find(pa);
      return d.read(off, size);
    },
    mmioWrite(pa, size, v) {
      if (v2) v2.currentCpu = state.current;
      if (v2 && pa >= g.gichBase! + 0x100 && pa < g.gichBase! + 0x100 + 4 * NUM_LRS) gichLrWrites.push({ cpu: state.current, n: (pa - g.gichBase! - 0x100) >> 2, value: v >>> 0 });
      const [off, d] = find(pa);
      d.write(off, size, v);
    },
    isRam: () => false,
    invalidateTlbs: () => {},
    now: () => 0,
  };

  /** Run `fn` as physical CPU i (GICv2 banking follows it). */
  function on<T>(i: number, fn: () => T): T {
    const prev = state.current;
    state.current = i;
    try {
      return fn();
    } finally {
      state.current = prev;
    }
  }

  /** The guest's view of the CPU interface of physical CPU i: ICV_* (v3) or GICV (v2). */
  function guestCpu(i: number) {
    const icv = v3?.sysregInterface(i, () => true);
    const gicv = (off: number, val?: number): number =>
      on(i, () => {
        if (val === undefined) return machine.mmioRead(g.gicvBase! + off, 4);
        machine.mmioWrite(g.gicvBase! + off, 4, val);
        return 0;
      });
    return {
      /** Linux's CPU-interface bring-up: priority mask 0xf0, binary point 0, group enable. */
      init(): void {
        if (icv) {
          icv.writeSysreg(ICC.PMR, 0xf0n);
          icv.writeSysreg(ICC.BPR1, 0n);
          icv.writeSysreg(ICC.CTLR, 0n);
          icv.writeSysreg(ICC.IGRPEN1, 1n);
        } else {
          gicv(0x04, 0xf0);
          gicv(0x00, 1);
        }
      },
      /** ICC_IAR1_EL1 / GICV_IAR (raw). */
      ack: (): number => (icv ? Number(icv.readSysreg(ICC.IAR1)) : gicv(0x0c)),
      eoi: (iar: number): void => void (icv ? icv.writeSysreg(ICC.EOIR1, BigInt(iar)) : gicv(0x10, iar)),
      rpr: (): number => (icv ? Number(icv.readSysreg(ICC.RPR)) : gicv(0x14)),
      setPmr: (p: number): void => void (icv ? icv.writeSysreg(ICC.PMR, BigInt(p)) : gicv(0x04, p)),
    };
  }

  /** The hypervisor's physical GIC driver, initialised as at hypervisor start on every CPU. */
  function bootPhys(): PhysGic {
    const phys = new PhysGic(machine);
    phys.init();
    for (const c of cpus) on(c.index, () => phys.initCpu(c));
    return phys;
  }

  return { board, gic, core, v3, v2, pins, cpus, machine, on, guestCpu, bootPhys, gichLrWrites };
}

export type TestMachine = ReturnType<typeof makeMachine>;

export interface TestHost extends VgicHost {
  kicks: number[];
}

/** A VM with `n` vCPUs; vCPU v runs on physical CPU pcpus[v] with virtual MPIDR vmpidrs[v]. */
export function makeHost(n: number, pcpus: number[] = [...Array(n).keys()], vmpidrs: number[] = [...Array(n).keys()]): TestHost {
  const kicks: number[] = [];
  return { kicks, vcpuCount: n, vmpidr: (v) => vmpidrs[v]!, pcpu: (v) => pcpus[v]!, kick: (v) => void kicks.push(v) };
}

/** A VM on the test machine with helpers to play its vCPUs. */
export function makeVm(t: TestMachine, host: TestHost, spis = 64) {
  const vgic = new Vgic(host, t.machine, t.gic === t.v3 ? 3 : 2, spis);
  const cpuOf = (v: number) => t.cpus[host.pcpu(v)]!;
  const d = (v: number) => ({
    r: (off: number, size: 1 | 4 | 8 = 4) => Number(vgic.gicdAccess(v, off, size, false)),
    w: (off: number, val: number | bigint, size: 1 | 4 | 8 = 4) => void vgic.gicdAccess(v, off, size, true, BigInt(val)),
  });
  const r = (v: number) => ({
    r: (off: number, size: 1 | 4 | 8 = 4) => vgic.gicrAccess(v, off, size, false),
    w: (off: number, val: number | bigint, size: 1 | 4 | 8 = 4) => void vgic.gicrAccess(v, off, size, true, BigInt(val)),
  });
  return {
    vgic,
    host,
    gicd: d,
    gicr: r,
    cpuOf,
    /** Enter vCPU v: flush on its physical CPU. */
    enter: (v: number) => t.on(host.pcpu(v), () => vgic.flush(v, cpuOf(v))),
    /** vCPU v exits to EL2: sync on its physical CPU. */
    exit: (v: number) => t.on(host.pcpu(v), () => vgic.sync(v, cpuOf(v))),
    guest: (v: number) => t.guestCpu(host.pcpu(v)),
  };
}

export type TestVm = ReturnType<typeof makeVm>;

// ---- the register sequences Linux's GIC drivers perform (irq-gic-v3.c, irq-gic.c, irq-gic-common.c) ----

/** irq-gic-v3.c gic_dist_init() on the boot vCPU. */
export function linuxV3DistInit(vm: TestVm, boot = 0): void {
  const d = vm.gicd(boot);
  d.w(0x0000, 0); // GICD_CTLR
  while (d.r(0x0000) & (1 << 31)); // RWP
  const lines = Math.min(((d.r(0x0004) & 0x1f) + 1) * 32, 1020);
  for (let i = 32; i < lines; i += 32) d.w(0x080 + i / 8, 0xffffffff);
  for (let i = 32; i < lines; i += 16) d.w(0xc00 + i / 4, 0); // level
  for (let i = 32; i < lines; i += 4) d.w(0x400 + i, 0xa0a0a0a0);
  for (let i = 32; i < lines; i += 32) {
    d.w(0x380 + i / 8, 0xffffffff);
    d.w(0x180 + i / 8, 0xffffffff);
  }
  d.w(0x0000, (1 << 4) | (1 << 1) | (1 << 0)); // ARE_NS | EnableGrp1A | EnableGrp1
  const aff = vm.host.vmpidr(boot);
  for (let i = 32; i < lines; i++) d.w(0x6000 + 8 * i, BigInt(aff), 8);
}

/** irq-gic-v3.c gic_cpu_init() on vCPU v: find its redistributor, wake it, configure SGIs/PPIs. */
export function linuxV3CpuInit(vm: TestVm, v: number): number {
  const r = vm.gicr(v);
  if ((Number(r.r(0xffe8)) & 0xf0) !== 0x30) throw new Error('no redistributor');
  const aff = vm.host.vmpidr(v);
  const want = BigInt(((Math.floor(aff / 2 ** 32) & 0xff) << 24) | (aff & 0xffffff));
  let rd = 0;
  for (;;) {
    const typer = r.r(rd + 0x8, 8);
    if (typer >> 32n === want) break;
    if (typer & 0x10n) throw new Error(`vCPU ${v}: no redistributor with affinity ${want}`);
    rd += 0x20000;
  }
  r.w(rd + 0x14, Number(r.r(rd + 0x14)) & ~2); // WAKER.ProcessorSleep = 0
  let n = 0;
  while (Number(r.r(rd + 0x14)) & 4) if (++n > 10) throw new Error('ChildrenAsleep stuck');
  const sgi = rd + 0x10000;
  r.w(sgi + 0x080, 0xffffffff); // IGROUPR0
  r.w(sgi + 0x380, 0xffffffff); // ICACTIVER0
  r.w(sgi + 0x180, 0xffffffff); // ICENABLER0
  for (let i = 0; i < 32; i += 4) r.w(sgi + 0x400 + i, 0xa0a0a0a0);
  r.w(sgi + 0x100, 0x0000ffff); // ISENABLER0: SGIs
  vm.guest(v).init();
  return rd;
}

/** irq-gic.c gic_get_cpumask(): the vCPU's own bit, from ITARGETSR0-7. */
export function linuxV2CpuMask(vm: TestVm, v: number): number {
  const d = vm.gicd(v);
  let mask = 0;
  for (let i = 0; i < 32 && !mask; i += 4) {
    mask = d.r(0x800 + i);
    mask |= mask >>> 16;
    mask |= mask >>> 8;
  }
  return mask & 0xff;
}

/** irq-gic.c gic_dist_init() on the boot vCPU. */
export function linuxV2DistInit(vm: TestVm, boot = 0): void {
  const d = vm.gicd(boot);
  d.w(0x000, 0);
  let mask = linuxV2CpuMask(vm, boot);
  mask |= mask << 8;
  mask |= mask << 16;
  const lines = Math.min(((d.r(0x004) & 0x1f) + 1) * 32, 1020);
  for (let i = 32; i < lines; i += 4) d.w(0x800 + i, mask >>> 0);
  for (let i = 32; i < lines; i += 16) d.w(0xc00 + i / 4, 0);
  for (let i = 32; i < lines; i += 4) d.w(0x400 + i, 0xa0a0a0a0);
  for (let i = 32; i < lines; i += 32) {
    d.w(0x380 + i / 8, 0xffffffff);
    d.w(0x180 + i / 8, 0xffffffff);
  }
  d.w(0x000, 1);
}

/** irq-gic.c gic_cpu_init() on vCPU v (after the distributor). */
export function linuxV2CpuInit(vm: TestVm, v: number): number {
  const d = vm.gicd(v);
  const mask = linuxV2CpuMask(vm, v);
  d.w(0x380, 0xffffffff);
  d.w(0x180, 0xffffffff);
  for (let i = 0; i < 32; i += 4) d.w(0x400 + i, 0xa0a0a0a0);
  d.w(0x100, 0x0000ffff);
  vm.guest(v).init();
  return mask;
}

/** Linux brings up the whole vGIC: distributor on vCPU 0, then every vCPU's CPU side. */
export function linuxBoot(vm: TestVm): void {
  if (vm.vgic.version === 3) {
    linuxV3DistInit(vm);
    for (let v = 0; v < vm.host.vcpuCount; v++) linuxV3CpuInit(vm, v);
  } else {
    linuxV2DistInit(vm);
    for (let v = 0; v < vm.host.vcpuCount; v++) linuxV2CpuInit(vm, v);
  }
}

/** Linux's enable_irq() of SPI `id` (ISENABLER) and, for edge, irq_set_type (ICFGR). */
export function linuxEnableSpi(vm: TestVm, id: number, edge = false, v = 0): void {
  const d = vm.gicd(v);
  if (edge) {
    const off = 0xc00 + (id >> 4) * 4;
    d.w(off, d.r(off) | (2 << ((id & 15) * 2)));
  }
  d.w(0x100 + (id >> 5) * 4, 1 << (id & 31));
}

/**
 * The hypervisor takes a physical interrupt at EL2 on physical CPU p: acknowledge, priority drop.
 * Returns the raw IAR value (the caller deactivates its own interrupts).
 */
export function el2Ack(t: TestMachine, phys: PhysGic, p: number): number {
  return t.on(p, () => {
    const iar = phys.ack(t.cpus[p]!);
    if ((iar & 0x3ff) !== 1023) phys.eoi(t.cpus[p]!, iar);
    return iar;
  });
}

/** The maintenance interrupt on physical CPU p for vCPU v of `vm`, handled as the hypervisor does. */
export function el2Maintenance(t: TestMachine, phys: PhysGic, vm: TestVm, v: number): void {
  const p = vm.host.pcpu(v);
  const iar = el2Ack(t, phys, p);
  if ((iar & 0x3ff) !== 25) throw new Error(`expected the maintenance interrupt on CPU ${p}, got ${iar}`);
  t.on(p, () => {
    vm.vgic.maintenance(v, t.cpus[p]!);
    phys.deactivate(t.cpus[p]!, iar);
  });
}

/** Is the maintenance interrupt (PPI 25) pending at physical CPU p? */
export function maintenancePending(t: TestMachine, p: number): boolean {
  return t.core.isPending(t.core.slot(p, 25));
}
