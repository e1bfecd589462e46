// GICv2 (ARM IHI 0048B) as GIC-400: distributor and memory-mapped CPU interface. Without
// affinity routing the SGI/PPI registers of GICD and all of GICC are banked by the accessing
// CPU: the machine sets `currentCpu` before it runs each CPU's slice (one host thread).
import type { MmioDevice } from '../../bus/device.ts';
import { GicCore, SPURIOUS, PRIORITY_MASK, type GicConfig } from './core.ts';
import { VirtualCpuInterface } from './virtual.ts';
import { gichDevice, gicvDevice } from './gicv2-virt.ts';

const IIDR_GIC400_DIST = 0x0200143b;
const IIDR_GIC400_CPU = 0x0202143b;

export class GicV2 {
  readonly core: GicCore;
  currentCpu = 0;
  readonly distributor: MmioDevice;
  readonly cpuInterface: MmioDevice;
  /** Virtualization extension: per-CPU virtual interface, GICH and GICV frames. */
  readonly virt: VirtualCpuInterface[];
  readonly hypControl: MmioDevice;
  readonly virtualCpuInterface: MmioDevice;

  constructor(cfg: GicConfig) {
    if (cfg.nCpus > 8) throw new Error('GICv2 supports at most 8 CPUs');
    this.core = new GicCore(cfg);
    const core = this.core;
    this.virt = cfg.mpidrs.map((_, i) => new VirtualCpuInterface(core, i, () => core.pinsOf(i), core.ppiLine(i, 25)));
    this.hypControl = gichDevice(this.virt, () => this.currentCpu);
    this.virtualCpuInterface = gicvDevice(this.virt, () => this.currentCpu);
    // SPIs reset targeting nobody (Linux programs ITARGETSR); SGI/PPI targets read as self.
    this.distributor = {
      name: 'gicd',
      read: (off, size) => this.distRead(off, size),
      write: (off, size, v) => this.distWrite(off, size, v),
    };
    this.cpuInterface = {
      name: 'gicc',
      read: (off) => this.cpuRead(off),
      write: (off, _size, v) => this.cpuWrite(off, v),
    };
  }

  private firstId(off: number): number {
    if (off >= 0x080 && off < 0x400) return ((off & 0x7f) >> 2) * 32;
    if (off >= 0x400 && off < 0xc00) return (off & 0x3ff) + (off >= 0x800 ? 0 : 0);
    if (off >= 0xc00 && off < 0xd00) return ((off - 0xc00) >> 2) * 16;
    return -1;
  }

  private distRead(off: number, size: number): number {
    const c = this.core;
    const cpu = this.currentCpu;
    if (off >= 0x400 && off < 0x800) {
      const first = off - 0x400;
      if (size === 1) return c.readPriority(cpu, first);
      let v = 0;
      for (let k = 0; k < 4; k++) v |= c.readPriority(cpu, first + k) << (8 * k);
      return v >>> 0;
    }
    if (off >= 0x800 && off < 0xc00) {
      const first = off - 0x800;
      let v = 0;
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) v |= this.targetByte(first + k) << (8 * k);
      return v >>> 0;
    }
    switch (off) {
      case 0x000:
        return (c.distEn0 ? 1 : 0) | (c.distEn1 ? 2 : 0);
      case 0x004:
        return (c.nIrqs / 32 - 1) | ((c.nCpus - 1) << 5);
      case 0x008:
        return IIDR_GIC400_DIST;
      case 0xfe8:
        return 0x2b; // ICPIDR2: ArchRev 2
    }
    if (off >= 0xf10 && off < 0xf30) {
      // CPENDSGIR / SPENDSGIR: one byte per SGI, a bit per source CPU.
      const sgi = off & 0xf;
      let v = 0;
      for (let k = 0; k < 4 && sgi + k < 16; k++) v |= c.sgiSources[cpu * 16 + sgi + k]! << (8 * k);
      return v >>> 0;
    }
    const first = this.firstId(off);
    if (first < 0 || first >= c.nIrqs) return 0;
    if (off >= 0xc00) return c.readCfg(cpu, first);
    switch (off & ~0x7f) {
      case 0x080:
        return c.readBits(c.group, cpu, first);
      case 0x100:
      case 0x180:
        return c.readBits(c.enabled, cpu, first) | (first === 0 ? 0xffff : 0); // SGIs always enabled (GIC-400)
      case 0x200:
      case 0x280:
        return c.readPendingBits(cpu, first);
      case 0x300:
      case 0x380:
        return c.readBits(c.active, cpu, first);
    }
    return 0;
  }

  private targetByte(id: number): number {
    const c = this.core;
    if (id >= c.nIrqs) return 0;
    if (id < 32) return 1 << this.currentCpu;
    return c.targets[c.slot(0, id)]!;
  }

  private distWrite(off: number, size: number, v: number): void {
    const c = this.core;
    const cpu = this.currentCpu;
    if (off >= 0x400 && off < 0x800) {
      const first = off - 0x400;
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) c.writePriority(cpu, first + k, (v >>> (8 * k)) & 0xff);
      if (first >= 32) c.updateAll();
      else c.update(cpu);
      return;
    }
    if (off >= 0x800 && off < 0xc00) {
      const first = off - 0x800;
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) {
        const id = first + k;
        if (id >= 32 && id < c.nIrqs) c.targets[c.slot(0, id)] = (v >>> (8 * k)) & ((1 << c.nCpus) - 1);
      }
      c.updateAll();
      return;
    }
    if (off === 0x000) {
      c.distEn0 = (v & 1) !== 0;
      c.distEn1 = (v & 2) !== 0;
      c.updateAll();
      return;
    }
    if (off === 0xf00) return this.sgir(v);
    if (off >= 0xf10 && off < 0xf30) {
      const set = off >= 0xf20;
      const sgi = off & 0xf;
      for (let k = 0; k < 4 && sgi + k < 16; k++) {
        const bits = (v >>> (8 * k)) & 0xff;
        const i = cpu * 16 + sgi + k;
        c.sgiSources[i] = set ? c.sgiSources[i]! | bits : c.sgiSources[i]! & ~bits;
        c.pendLatch[cpu * 32 + sgi + k] = c.sgiSources[i] !== 0 ? 1 : 0;
      }
      c.update(cpu);
      return;
    }
    const first = this.firstId(off);
    if (first < 0 || first >= c.nIrqs) return;
    if (off >= 0xc00) return c.writeCfg(cpu, first, v);
    switch (off & ~0x7f) {
      case 0x080:
        for (let b = 0; b < 32; b++) if (first + b < c.nIrqs) c.group[c.slot(cpu, first + b)] = (v >>> b) & 1;
        if (first >= 32) c.updateAll();
        else c.update(cpu);
        return;
      case 0x100:
        return c.writeBits(c.enabled, cpu, first, v, 1);
      case 0x180:
        return c.writeBits(c.enabled, cpu, first, first === 0 ? v & ~0xffff : v, 0);
      case 0x200:
        return c.writeBits(c.pendLatch, cpu, first, first === 0 ? v & ~0xffff : v, 1);
      case 0x280:
        return c.writeBits(c.pendLatch, cpu, first, first === 0 ? v & ~0xffff : v, 0);
      case 0x300:
        return c.writeBits(c.active, cpu, first, v, 1);
      case 0x380:
        return c.writeBits(c.active, cpu, first, v, 0);
    }
  }

  /** GICD_SGIR: TargetListFilter [25:24], CPUTargetList [23:16], SGIINTID [3:0]. */
  private sgir(v: number): void {
    const c = this.core;
    const id = v & 0xf;
    const filter = (v >>> 24) & 3;
    const self = this.currentCpu;
    let list = (v >>> 16) & 0xff;
    if (filter === 1) list = ((1 << c.nCpus) - 1) & ~(1 << self);
    else if (filter === 2) list = 1 << self;
    else if (filter === 3) return;
    for (let t = 0; t < c.nCpus; t++) if (list & (1 << t)) c.sendSgi(t, id, self);
  }

  // ---- GICC (IHI 0048B 4.4) ----

  private cpuRead(off: number): number {
    const c = this.core;
    const cpu = this.currentCpu;
    const ci = c.cpu[cpu]!;
    switch (off) {
      case 0x00:
        return (ci.grpEn0 ? 1 : 0) | (ci.grpEn1 ? 2 : 0) | (ci.eoiMode ? 1 << 9 : 0);
      case 0x04:
        return ci.pmr;
      case 0x08:
        return ci.bpr0;
      case 0x0c: {
        const id = c.acknowledge(cpu, -1);
        if (id < 16) return id | (c.takeSgiSource(cpu, id) << 10);
        return id;
      }
      case 0x14: {
        const rp = c.runningPriority(ci);
        return rp === 0x100 ? 0xff : rp;
      }
      case 0x18: {
        c.update(cpu);
        return ci.hppi;
      }
      case 0x1c:
        return ci.bpr1;
      case 0xd0: {
        let v = 0;
        for (const p of ci.activePrio) v |= 1 << (p >> 3);
        return v >>> 0;
      }
      case 0xfc:
        return IIDR_GIC400_CPU;
    }
    return 0;
  }

  private cpuWrite(off: number, v: number): void {
    const c = this.core;
    const cpu = this.currentCpu;
    const ci = c.cpu[cpu]!;
    switch (off) {
      case 0x00:
        ci.grpEn0 = (v & 1) !== 0;
        ci.grpEn1 = (v & 2) !== 0;
        ci.eoiMode = (v & (1 << 9)) !== 0;
        c.update(cpu);
        return;
      case 0x04:
        ci.pmr = v & PRIORITY_MASK;
        c.update(cpu);
        return;
      case 0x08:
        ci.bpr0 = v & 7;
        c.update(cpu);
        return;
      case 0x10:
        if ((v & 0x3ff) !== SPURIOUS) c.endOfInterrupt(cpu, v & 0x3ff);
        return;
      case 0x1c:
        ci.bpr1 = Math.max(v & 7, 1);
        return;
      case 0xd0:
        if (v === 0) {
          ci.activePrio.length = 0;
          ci.activeId.length = 0;
          c.update(cpu);
        }
        return;
      case 0x1000:
        c.deactivate(cpu, v & 0x3ff);
        return;
    }
  }
}
