// GICv3 (ARM IHI 0069): distributor with affinity routing, one redistributor per CPU (RD_base
// + SGI_base frames, no LPIs), and the ICC_* system-register CPU interface, shaped like Arm's
// GIC-600 as found in the RK3588. Linux's irq-gic-v3.c drives it.
import type { MmioDevice } from '../../bus/device.ts';
import { GicCore, SPURIOUS, PRIORITY_MASK, type GicConfig } from './core.ts';
import { VirtualCpuInterface } from './virtual.ts';

const GICD_CTLR = 0x0000;
const GICD_TYPER = 0x0004;
const GICD_IIDR = 0x0008;
const GICD_IROUTER = 0x6000;
const PIDR2 = 0xffe8;
/** GIC-600 r1p6 product identification (GICD_IIDR / GICR_IIDR). */
const IIDR_GIC600 = 0x0201743b;
const CTLR_ARE = 1 << 4;
const CTLR_DS = 1 << 6;

export const REDIST_STRIDE = 0x20000;

/** The MPIDR affinity fields (Aff3..Aff0) of a 64-bit value, packed as IROUTER/TYPER carry them. */
function affinity(v: bigint): number {
  return Number(((v >> 8n) & 0xff000000n) | (v & 0xffffffn));
}

export class GicV3 {
  readonly core: GicCore;
  /** IROUTER<n> values (affinity + Interrupt_Routing_Mode bit 31), indexed by SPI - 32. */
  private readonly irouter: bigint[];
  private ctlr = CTLR_ARE | CTLR_DS;
  private readonly waker: number[];
  readonly distributor: MmioDevice;
  readonly redistributors: MmioDevice;
  /** Per-CPU virtual interface (ICH_* for the hypervisor, ICV_* for the guest). */
  readonly virt: VirtualCpuInterface[];

  constructor(cfg: GicConfig) {
    this.core = new GicCore(cfg);
    const core = this.core;
    this.virt = cfg.mpidrs.map((_, i) => new VirtualCpuInterface(core, i, () => core.pinsOf(i), core.ppiLine(i, 25)));
    this.core.group0IsFiq = true;
    this.irouter = new Array<bigint>(cfg.spis).fill(0n);
    this.waker = new Array<number>(cfg.nCpus).fill(0x6); // ProcessorSleep | ChildrenAsleep
    for (let i = 0; i < cfg.spis; i++) this.route(i);
    this.distributor = {
      name: 'gicd',
      read: (off, size) => this.distRead(off, size),
      write: (off, size, v) => this.distWrite(off, size, v),
      read64: (off) => (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024 ? this.irouterRead(off) : BigInt(this.distRead(off, 4)) | (BigInt(this.distRead(off + 4, 4)) << 32n)),
      write64: (off, v) => {
        if (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024) this.irouterWrite(off, v);
        else {
          this.distWrite(off, 4, Number(v & 0xffffffffn));
          this.distWrite(off + 4, 4, Number(v >> 32n));
        }
      },
    };
    this.redistributors = {
      name: 'gicr',
      read: (off, size) => this.redistRead(off, size),
      write: (off, size, v) => this.redistWrite(off, size, v),
      read64: (off) => this.redistRead64(off),
      write64: (off, v) => {
        this.redistWrite(off, 4, Number(v & 0xffffffffn));
        this.redistWrite(off + 4, 4, Number(v >> 32n));
      },
    };
  }

  // ---- distributor ----

  private distRead(off: number, size: number): number {
    const c = this.core;
    if (size === 1 && off >= 0x400 && off < 0x800) return off - 0x400 < 32 ? 0 : c.readPriority(0, off - 0x400);
    if (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024) {
      const v = this.irouterRead(off & ~7);
      return Number((off & 4 ? v >> 32n : v) & 0xffffffffn);
    }
    switch (off) {
      case GICD_CTLR:
        return (this.ctlr | (c.distEn0 ? 1 : 0) | (c.distEn1 ? 2 : 0)) >>> 0;
      case GICD_TYPER:
        // ITLinesNumber, CPUNumber (ignored with ARE), IDbits = 9 (10-bit INTIDs), no LPIs/MBIS.
        return ((c.nIrqs / 32 - 1) | ((Math.min(c.nCpus, 8) - 1) << 5) | (9 << 19)) >>> 0;
      case GICD_IIDR:
        return IIDR_GIC600;
      case PIDR2:
        return 0x3b; // ArchRev 3
    }
    const first = this.firstId(off);
    // With affinity routing, the SGI/PPI words of the distributor are RAZ/WI (they live in GICR).
    if (first < 0 || first < 32 || first >= c.nIrqs) return 0;
    return this.bankRead(0, off, first, size);
  }

  private distWrite(off: number, size: number, v: number): void {
    const c = this.core;
    if (size === 1 && off >= 0x400 && off < 0x800) {
      if (off - 0x400 >= 32) {
        c.writePriority(0, off - 0x400, v);
        c.updateAll();
      }
      return;
    }
    if (off >= GICD_IROUTER && off < GICD_IROUTER + 8 * 1024) {
      const cur = this.irouterRead(off & ~7);
      const nv = off & 4 ? (cur & 0xffffffffn) | (BigInt(v >>> 0) << 32n) : (cur & ~0xffffffffn) | BigInt(v >>> 0);
      this.irouterWrite(off & ~7, nv);
      return;
    }
    if (off === GICD_CTLR) {
      c.distEn0 = (v & 1) !== 0;
      c.distEn1 = (v & 2) !== 0;
      c.updateAll();
      return;
    }
    const first = this.firstId(off);
    if (first < 32 || first >= c.nIrqs) return;
    this.bankWrite(0, off, first, v);
  }

  /** INTID of bit 0 of the register at `off` (bitmap, priority, config banks), or -1. */
  private firstId(off: number): number {
    if (off >= 0x080 && off < 0x400) return ((off & 0x7f) >> 2) * 32; // IGROUPR..ICACTIVER
    if (off >= 0x400 && off < 0x800) return off - 0x400; // IPRIORITYR (4 per word)
    if (off >= 0xc00 && off < 0xd00) return ((off - 0xc00) >> 2) * 16; // ICFGR
    if (off >= 0xd00 && off < 0xd80) return ((off - 0xd00) >> 2) * 32; // IGRPMODR
    return -1;
  }

  /** The register banks common to GICD (SPIs) and GICR SGI_base (SGIs/PPIs of one CPU). */
  private bankRead(cpu: number, off: number, first: number, size: number): number {
    const c = this.core;
    if (off >= 0x400 && off < 0x800) {
      if (size === 1) return c.readPriority(cpu, first);
      let v = 0;
      for (let k = 0; k < 4; k++) v |= c.readPriority(cpu, first + k) << (8 * k);
      return v >>> 0;
    }
    if (off >= 0xc00 && off < 0xd00) return c.readCfg(cpu, first);
    if (off >= 0xd00) return 0; // IGRPMODR: all Group 1 Non-secure
    switch (off & ~0x7f) {
      case 0x080:
        return c.readBits(c.group, cpu, first);
      case 0x100:
      case 0x180:
        return c.readBits(c.enabled, cpu, first);
      case 0x200:
      case 0x280:
        return c.readPendingBits(cpu, first);
      case 0x300:
      case 0x380:
        return c.readBits(c.active, cpu, first);
    }
    return 0;
  }

  private bankWrite(cpu: number, off: number, first: number, v: number): void {
    const c = this.core;
    if (off >= 0x400 && off < 0x800) {
      for (let k = 0; k < 4; k++) c.writePriority(cpu, first + k, (v >>> (8 * k)) & 0xff);
      if (first >= 32) c.updateAll();
      else c.update(cpu);
      return;
    }
    if (off >= 0xc00 && off < 0xd00) return c.writeCfg(cpu, first, v);
    if (off >= 0xd00) return;
    switch (off & ~0x7f) {
      case 0x080:
        for (let b = 0; b < 32; b++) if (first + b < c.nIrqs) c.group[c.slot(cpu, first + b)] = (v >>> b) & 1;
        if (first >= 32) c.updateAll();
        else c.update(cpu);
        return;
      case 0x100:
        return c.writeBits(c.enabled, cpu, first, v, 1);
      case 0x180:
        return c.writeBits(c.enabled, cpu, first, v, 0);
      case 0x200:
        return c.writeBits(c.pendLatch, cpu, first, v, 1);
      case 0x280:
        return c.writeBits(c.pendLatch, cpu, first, v, 0);
      case 0x300:
        return c.writeBits(c.active, cpu, first, v, 1);
      case 0x380:
        return c.writeBits(c.active, cpu, first, v, 0);
    }
  }

  private irouterRead(off: number): bigint {
    const n = (off - GICD_IROUTER) >> 3;
    return n >= 32 && n - 32 < this.irouter.length ? this.irouter[n - 32]! : 0n;
  }

  private irouterWrite(off: number, v: bigint): void {
    const n = (off - GICD_IROUTER) >> 3;
    if (n < 32 || n - 32 >= this.irouter.length) return;
    this.irouter[n - 32] = v & 0xff80ffffffn;
    this.route(n - 32);
    this.core.updateAll();
  }

  /** Resolve IROUTER to a target CPU mask: the matching affinity, or (IRM=1) CPU 0 as "any". */
  private route(spi: number): void {
    const v = this.irouter[spi]!;
    const s = this.core.slot(0, spi + 32);
    if ((v >> 31n) & 1n) {
      this.core.targets[s] = 1;
      return;
    }
    const idx = this.core.cfg.mpidrs.indexOf(affinity(v));
    this.core.targets[s] = idx >= 0 ? 1 << idx : 0;
  }

  // ---- redistributors ----

  private redistRead(off: number, size: number): number {
    const cpu = Math.floor(off / REDIST_STRIDE);
    if (cpu >= this.core.nCpus) return 0;
    const o = off % REDIST_STRIDE;
    if (o >= 0x10000) {
      const so = o - 0x10000;
      const first = so >= 0x400 && so < 0x420 ? so - 0x400 : so >= 0xc00 && so < 0xc08 ? ((so - 0xc00) >> 2) * 16 : so >= 0x080 && so < 0x400 && (so & 0x7f) === 0 ? 0 : so === 0xd00 ? 0 : -1;
      return first < 0 ? 0 : this.bankRead(cpu, so, first, size);
    }
    switch (o) {
      case 0x0000: // GICR_CTLR
        return 0;
      case 0x0004:
        return IIDR_GIC600;
      case 0x0008:
        return Number(this.typer(cpu) & 0xffffffffn);
      case 0x000c:
        return Number(this.typer(cpu) >> 32n);
      case 0x0014: // GICR_WAKER
        return this.waker[cpu]!;
      case PIDR2:
        return 0x3b;
    }
    return 0;
  }

  private redistRead64(off: number): bigint {
    const o = off % REDIST_STRIDE;
    const cpu = Math.floor(off / REDIST_STRIDE);
    if (o === 0x0008 && cpu < this.core.nCpus) return this.typer(cpu);
    return BigInt(this.redistRead(off, 4)) | (BigInt(this.redistRead(off + 4, 4)) << 32n);
  }

  /** GICR_TYPER: Affinity_Value, Processor_Number, Last. */
  private typer(cpu: number): bigint {
    const aff = this.core.cfg.mpidrs[cpu]!;
    const affVal = BigInt(aff & 0xffffff) | (BigInt(Math.floor(aff / 2 ** 32) & 0xff) << 24n);
    const last = cpu === this.core.nCpus - 1 ? 1n << 4n : 0n;
    return (affVal << 32n) | (BigInt(cpu) << 8n) | last;
  }

  private redistWrite(off: number, _size: number, v: number): void {
    const cpu = Math.floor(off / REDIST_STRIDE);
    if (cpu >= this.core.nCpus) return;
    const o = off % REDIST_STRIDE;
    if (o >= 0x10000) {
      const so = o - 0x10000;
      if (so >= 0x400 && so < 0x420) {
        if (_size === 1) {
          this.core.writePriority(cpu, so - 0x400, v);
          this.core.update(cpu);
        } else this.bankWrite(cpu, so, so - 0x400, v);
      } else if (so >= 0xc00 && so < 0xc08) this.bankWrite(cpu, so, ((so - 0xc00) >> 2) * 16, v);
      else if (so >= 0x080 && so < 0x400 && (so & 0x7f) === 0) this.bankWrite(cpu, so, 0, v);
      return;
    }
    if (o === 0x0014) {
      // ProcessorSleep (bit 1); ChildrenAsleep (bit 2) follows it at once.
      const sleep = v & 2;
      this.waker[cpu] = sleep ? 6 : 0;
    }
  }

  // ---- ICC_* system registers (IHI 0069 ch. 12) ----

  /**
   * The ICC_* registers of one CPU. While `virtualRouted()` says the guest runs with
   * HCR_EL2.IMO set, the group-1 registers are the virtual interface's ICV_* (IHI 0069 6.2).
   */
  sysregInterface(cpu: number, virtualRouted: () => boolean = () => false): { readSysreg(enc: number): bigint | undefined; writeSysreg(enc: number, v: bigint): boolean } {
    return {
      readSysreg: (enc) => (virtualRouted() ? this.icvRead(cpu, enc) : undefined) ?? this.iccRead(cpu, enc),
      writeSysreg: (enc, v) => (virtualRouted() && this.icvWrite(cpu, enc, v)) || this.iccWrite(cpu, enc, v),
    };
  }

  private icvRead(cpu: number, enc: number): bigint | undefined {
    const v = this.virt[cpu]!;
    switch (enc) {
      case ICC.IAR1:
        return BigInt(v.acknowledge());
      case ICC.HPPIR1:
        return BigInt(v.hppir());
      case ICC.PMR:
        return BigInt(v.vpmr);
      case ICC.BPR1:
        return BigInt(v.vbpr1);
      case ICC.RPR:
        return BigInt(v.rpr());
      case ICC.IGRPEN1:
        return v.veng1 ? 1n : 0n;
      case ICC.CTLR:
        return BigInt((4 << 8) | (1 << 15) | (v.veoim ? 2 : 0));
    }
    return undefined;
  }

  private icvWrite(cpu: number, enc: number, val: bigint): boolean {
    const v = this.virt[cpu]!;
    const lo = Number(val & 0xffffffffn);
    switch (enc) {
      case ICC.EOIR1:
        v.endOfInterrupt(lo & 0xffffff);
        return true;
      case ICC.DIR:
        v.deactivate(lo & 0xffffff);
        return true;
      case ICC.PMR:
        v.vpmr = lo & PRIORITY_MASK;
        v.update();
        return true;
      case ICC.BPR1:
        v.vbpr1 = Math.max(lo & 7, 1);
        v.update();
        return true;
      case ICC.IGRPEN1:
        v.veng1 = (lo & 1) !== 0;
        v.update();
        return true;
      case ICC.CTLR:
        v.veoim = (lo & 2) !== 0;
        return true;
    }
    return false;
  }

  private iccRead(cpu: number, enc: number): bigint | undefined {
    const c = this.core;
    const ci = c.cpu[cpu]!;
    switch (enc) {
      case ICC.PMR:
        return BigInt(ci.pmr);
      case ICC.IAR1:
        return BigInt(c.acknowledge(cpu, 1));
      case ICC.IAR0:
        return BigInt(c.acknowledge(cpu, 0));
      case ICC.HPPIR1:
      case ICC.HPPIR0: {
        c.update(cpu);
        const id = ci.hppi;
        const grp = id === SPURIOUS ? -1 : c.group[c.slot(cpu, id)]!;
        return BigInt(grp === (enc === ICC.HPPIR1 ? 1 : 0) ? id : SPURIOUS);
      }
      case ICC.RPR: {
        const rp = c.runningPriority(ci);
        return BigInt(rp === 0x100 ? 0xff : rp);
      }
      case ICC.BPR0:
        return BigInt(ci.bpr0);
      case ICC.BPR1:
        return BigInt(ci.bpr1);
      case ICC.CTLR:
        // PRIbits = 4 (5 bits), IDbits 0 (16-bit), SEIS 0, A3V 1, EOImode.
        return BigInt((4 << 8) | (1 << 15) | (ci.eoiMode ? 2 : 0));
      case ICC.SRE:
        return 7n; // SRE, DFB, DIB
      case ICC.IGRPEN0:
        return ci.grpEn0 ? 1n : 0n;
      case ICC.IGRPEN1:
        return ci.grpEn1 ? 1n : 0n;
      case ICC.AP0R0:
      case ICC.AP1R0: {
        let v = 0;
        for (const p of ci.activePrio) v |= 1 << (p >> 3);
        return BigInt(v >>> 0);
      }
    }
    if ((enc & ~7) === (ICC.AP0R0 & ~7) || (enc & ~7) === (ICC.AP1R0 & ~7)) return 0n;
    return undefined;
  }

  private iccWrite(cpu: number, enc: number, v: bigint): boolean {
    const c = this.core;
    const ci = c.cpu[cpu]!;
    const lo = Number(v & 0xffffffffn);
    switch (enc) {
      case ICC.PMR:
        ci.pmr = lo & PRIORITY_MASK;
        c.update(cpu);
        return true;
      case ICC.EOIR1:
      case ICC.EOIR0:
        c.endOfInterrupt(cpu, lo & 0xffffff);
        return true;
      case ICC.DIR:
        c.deactivate(cpu, lo & 0xffffff);
        return true;
      case ICC.BPR0:
        ci.bpr0 = lo & 7;
        c.update(cpu);
        return true;
      case ICC.BPR1:
        ci.bpr1 = Math.max(lo & 7, 1);
        c.update(cpu);
        return true;
      case ICC.CTLR:
        ci.eoiMode = (lo & 2) !== 0;
        return true;
      case ICC.SRE:
        return true; // SRE is RAO/WI: only the system-register interface exists
      case ICC.IGRPEN0:
        ci.grpEn0 = (lo & 1) !== 0;
        c.update(cpu);
        return true;
      case ICC.IGRPEN1:
        ci.grpEn1 = (lo & 1) !== 0;
        c.update(cpu);
        return true;
      case ICC.SGI1R:
      case ICC.SGI0R:
      case ICC.ASGI1R:
        this.sendSgi(cpu, v);
        return true;
    }
    if ((enc & ~7) === (ICC.AP0R0 & ~7) || (enc & ~7) === (ICC.AP1R0 & ~7)) {
      // Writing 0 (what Linux does at CPU init) clears the active priorities.
      if (lo === 0) {
        ci.activePrio.length = 0;
        ci.activeId.length = 0;
        c.update(cpu);
      }
      return true;
    }
    return false;
  }

  /** ICC_SGI1R_EL1: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32], IRM [40], Aff3 [55:48]. */
  private sendSgi(self: number, v: bigint): void {
    const id = Number((v >> 24n) & 0xfn);
    const irm = ((v >> 40n) & 1n) !== 0n;
    const list = Number(v & 0xffffn);
    const aff1 = Number((v >> 16n) & 0xffn);
    const aff2 = Number((v >> 32n) & 0xffn);
    const aff3 = Number((v >> 48n) & 0xffn);
    const mpidrs = this.core.cfg.mpidrs;
    for (let t = 0; t < this.core.nCpus; t++) {
      if (irm) {
        if (t !== self) this.core.sendSgi(t, id, -1);
        continue;
      }
      const m = mpidrs[t]!;
      const a0 = m & 0xff;
      if (((m >> 8) & 0xff) !== aff1 || ((m >> 16) & 0xff) !== aff2 || (Math.floor(m / 2 ** 32) & 0xff) !== aff3) continue;
      if (a0 < 16 && (list & (1 << a0)) !== 0) this.core.sendSgi(t, id, -1);
    }
  }
}

const e = (op0: number, op1: number, crn: number, crm: number, op2: number): number => (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;

/** ICC_* encodings (IHI 0069 12.1). */
export const ICC = {
  PMR: e(3, 0, 4, 6, 0),
  IAR0: e(3, 0, 12, 8, 0),
  EOIR0: e(3, 0, 12, 8, 1),
  HPPIR0: e(3, 0, 12, 8, 2),
  BPR0: e(3, 0, 12, 8, 3),
  AP0R0: e(3, 0, 12, 8, 4),
  AP1R0: e(3, 0, 12, 9, 0),
  DIR: e(3, 0, 12, 11, 1),
  RPR: e(3, 0, 12, 11, 3),
  SGI1R: e(3, 0, 12, 11, 5),
  ASGI1R: e(3, 0, 12, 11, 6),
  SGI0R: e(3, 0, 12, 11, 7),
  IAR1: e(3, 0, 12, 12, 0),
  EOIR1: e(3, 0, 12, 12, 1),
  HPPIR1: e(3, 0, 12, 12, 2),
  BPR1: e(3, 0, 12, 12, 3),
  CTLR: e(3, 0, 12, 12, 4),
  SRE: e(3, 0, 12, 12, 5),
  IGRPEN0: e(3, 0, 12, 12, 6),
  IGRPEN1: e(3, 0, 12, 12, 7),
} as const;
