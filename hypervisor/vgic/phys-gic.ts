// The hypervisor's driver of the physical GIC: distributor set-up at hypervisor start, per-CPU
// set-up of the redistributor and CPU interface, acknowledge / priority drop / deactivate of
// physical interrupts taken at EL2, physical SGIs, and the per-interrupt controls the vGIC
// mirrors for hardware-linked (passthrough) interrupts.
//
// EOImode = 1 on every CPU: the hypervisor's EOI only drops the running priority; an interrupt
// forwarded to a guest through a hardware list register stays active until the guest deactivates
// it (the LR's HW bit deactivates the physical INTID), so it cannot fire again meanwhile. The
// hypervisor's own interrupts (SGI 1 IPI, PPI 25 maintenance, PPI 26 EL2 timer) get eoi() and
// deactivate() from the hypervisor.
import { El2Reg, type El2Cpu, type El2Machine } from '../../emulator/arm64/el2.ts';
import { DEFAULT_PRIORITY, GICC, GICC_CTLR_ENABLE_EOIMODE, GICD, GICD_CTLR, GICR, GICR_WAKER, affinityBytes, affinityWord } from './regs.ts';

/** SGIs and PPIs the hypervisor enables on every CPU: all SGIs, maintenance, EL2 timer, virtual timer. */
const PRIVATE_ENABLED = 0x0000ffff | (1 << 25) | (1 << 26) | (1 << 27);
const ICC_CTLR_EOIMODE = 1n << 1n;

export class PhysGic {
  readonly version: 2 | 3;
  private readonly dist: number;
  /** INTIDs the distributor implements (32 + SPIs), from GICD_TYPER.ITLinesNumber. */
  readonly nIrqs: number;
  /** GICD_IIDR (the VMs' distributors report it too). */
  readonly iidr: number;
  /** RD_base of each physical CPU's redistributor (GICv3), found by GICR_TYPER affinity. */
  private readonly rdBase: number[] = [];

  constructor(private readonly machine: El2Machine) {
    this.version = machine.gicVersion;
    this.dist = machine.board.gic.distBase;
    this.nIrqs = Math.min(((machine.mmioRead(this.dist + GICD.TYPER, 4) & 0x1f) + 1) * 32, 1020);
    this.iidr = machine.mmioRead(this.dist + GICD.IIDR, 4) >>> 0;
  }

  private rd(off: number, size: 1 | 4 = 4): number {
    return this.machine.mmioRead(this.dist + off, size);
  }
  private wd(off: number, v: number, size: 1 | 4 = 4): void {
    this.machine.mmioWrite(this.dist + off, size, v >>> 0);
  }

  /** Distributor, once at hypervisor start: every SPI disabled, inactive, priority 0xa0, level, to CPU 0. */
  init(): void {
    this.wd(GICD.CTLR, 0);
    this.waitRwp();
    const cpu0 = this.machine.board.cpus[0]!.mpidr;
    for (let i = 32; i < this.nIrqs; i += 32) {
      const w = i / 8;
      if (this.version === 3) this.wd(GICD.IGROUPR + w, 0xffffffff);
      this.wd(GICD.ICENABLER + w, 0xffffffff);
      this.wd(GICD.ICACTIVER + w, 0xffffffff);
      this.wd(GICD.ICPENDR + w, 0xffffffff);
    }
    for (let i = 32; i < this.nIrqs; i += 16) this.wd(GICD.ICFGR + i / 4, 0);
    for (let i = 32; i < this.nIrqs; i += 4) this.wd(GICD.IPRIORITYR + i, DEFAULT_PRIORITY * 0x01010101);
    if (this.version === 3) {
      this.wd(GICD.CTLR, GICD_CTLR.ARE | GICD_CTLR.ENABLE_GRP1 | GICD_CTLR.ENABLE_GRP0);
      this.waitRwp();
      for (let i = 32; i < this.nIrqs; i++) this.route(i, 0, cpu0);
    } else {
      for (let i = 32; i < this.nIrqs; i += 4) this.wd(GICD.ITARGETSR + i, 0x01010101);
      this.wd(GICD.CTLR, GICD_CTLR.ENABLE_GRP0 | GICD_CTLR.ENABLE_GRP1);
    }
  }

  private waitRwp(): void {
    for (let n = 0; n < 1000 && this.rd(GICD.CTLR) & GICD_CTLR.RWP; n++);
  }

  /** On physical CPU `cpu` itself: wake its redistributor, set up SGIs/PPIs and the CPU interface. */
  initCpu(cpu: El2Cpu): void {
    if (this.version === 3) {
      const rd = this.redistributor(cpu.index);
      const m = this.machine;
      m.mmioWrite(rd + GICR.WAKER, 4, m.mmioRead(rd + GICR.WAKER, 4) & ~GICR_WAKER.PROCESSOR_SLEEP);
      for (let n = 0; n < 1000 && m.mmioRead(rd + GICR.WAKER, 4) & GICR_WAKER.CHILDREN_ASLEEP; n++);
      const sgi = rd + GICR.SGI_BASE;
      m.mmioWrite(sgi + GICD.IGROUPR, 4, 0xffffffff);
      m.mmioWrite(sgi + GICD.ICACTIVER, 4, 0xffffffff);
      m.mmioWrite(sgi + GICD.ICENABLER, 4, 0xffffffff);
      for (let i = 0; i < 32; i += 4) m.mmioWrite(sgi + GICD.IPRIORITYR + i, 4, DEFAULT_PRIORITY * 0x01010101);
      m.mmioWrite(sgi + GICD.ICFGR + 4, 4, 0); // PPIs level-sensitive
      m.mmioWrite(sgi + GICD.ISENABLER, 4, PRIVATE_ENABLED >>> 0);
      cpu.msr(El2Reg.ICC_PMR_EL1, 0xffn);
      cpu.msr(El2Reg.ICC_CTLR_EL1, ICC_CTLR_EOIMODE);
      cpu.msr(El2Reg.ICC_IGRPEN1_EL1, 1n);
    } else {
      // GICD's SGI/PPI registers and GICC are banked for the accessing CPU.
      this.wd(GICD.ICACTIVER, 0xffffffff);
      this.wd(GICD.ICENABLER, 0xffff0000);
      for (let i = 0; i < 32; i += 4) this.wd(GICD.IPRIORITYR + i, DEFAULT_PRIORITY * 0x01010101);
      this.wd(GICD.ISENABLER, PRIVATE_ENABLED);
      const cc = this.machine.board.gic.cpuBase!;
      this.machine.mmioWrite(cc + GICC.PMR, 4, 0xff);
      this.machine.mmioWrite(cc + GICC.CTLR, 4, GICC_CTLR_ENABLE_EOIMODE);
    }
  }

  /** RD_base of physical CPU i: the frame whose GICR_TYPER affinity is that CPU's MPIDR. */
  redistributor(i: number): number {
    const cached = this.rdBase[i];
    if (cached !== undefined) return cached;
    const g = this.machine.board.gic;
    const want = affinityWord(this.machine.board.cpus[i]!.mpidr);
    let base = g.redistBase! + i * GICR.STRIDE;
    for (let f = g.redistBase!; f < g.redistBase! + (g.redistSize ?? 0); f += GICR.STRIDE) {
      if (this.machine.mmioRead(f + GICR.TYPER + 4, 4) >>> 0 === want) {
        base = f;
        break;
      }
      if (this.machine.mmioRead(f + GICR.TYPER, 4) & 0x10) break; // Last
    }
    this.rdBase[i] = base;
    return base;
  }

  // ---- interrupts taken at EL2 ----

  /**
   * Acknowledge the highest-priority pending interrupt (ICC_IAR1_EL1 / GICC_IAR). Returns the raw
   * value: the INTID in bits 9:0 (1023: none); on GICv2 an SGI's source CPU in bits 12:10, which
   * eoi() and deactivate() must get back unchanged.
   */
  ack(cpu: El2Cpu): number {
    if (this.version === 3) return Number(cpu.mrs(El2Reg.ICC_IAR1_EL1) & 0xffffffn);
    return this.machine.mmioRead(this.machine.board.gic.cpuBase! + GICC.IAR, 4);
  }

  /** Priority drop (EOImode 1): the interrupt stays active. */
  eoi(cpu: El2Cpu, iar: number): void {
    if (this.version === 3) cpu.msr(El2Reg.ICC_EOIR1_EL1, BigInt(iar));
    else this.machine.mmioWrite(this.machine.board.gic.cpuBase! + GICC.EOIR, 4, iar);
  }

  /** Deactivate (ICC_DIR_EL1 / GICC_DIR). */
  deactivate(cpu: El2Cpu, iar: number): void {
    if (this.version === 3) cpu.msr(El2Reg.ICC_DIR_EL1, BigInt(iar));
    else this.machine.mmioWrite(this.machine.board.gic.cpuBase! + GICC.DIR, 4, iar);
  }

  /** Send SGI `sgi` to physical CPU `target` from `cpu` (ICC_SGI1R_EL1 / GICD_SGIR). */
  sendSgi(cpu: El2Cpu, target: number, sgi: number): void {
    if (this.version === 3) {
      const [a3, a2, a1, a0] = affinityBytes(this.machine.board.cpus[target]!.mpidr);
      // TargetList [15:0] (Aff0 within RS [47:44] * 16), Aff1 [23:16], INTID [27:24], Aff2 [39:32], Aff3 [55:48].
      const v = (BigInt(a3) << 48n) | (BigInt(a0 >> 4) << 44n) | (BigInt(a2) << 32n) | (BigInt(sgi & 0xf) << 24n) | (BigInt(a1) << 16n) | BigInt(1 << (a0 & 0xf));
      cpu.msr(El2Reg.ICC_SGI1R_EL1, v);
    } else this.wd(GICD.SGIR, ((1 << target) << 16) | (sgi & 0xf));
  }

  // ---- per-interrupt controls (mirrored for hardware-linked interrupts) ----

  /** Enable or disable SPI `intid`. */
  enable(intid: number, on: boolean): void {
    this.wd((on ? GICD.ISENABLER : GICD.ICENABLER) + (intid >> 5) * 4, 1 << (intid & 31));
  }

  setPriority(intid: number, prio: number): void {
    this.wd(GICD.IPRIORITYR + intid, prio & 0xff, 1);
  }

  /** ICFGR Int_config[1]: edge-triggered (true) or level-sensitive. */
  setEdge(intid: number, edge: boolean): void {
    const off = GICD.ICFGR + (intid >> 4) * 4;
    const bit = 2 << ((intid & 15) * 2);
    const v = this.rd(off);
    this.wd(off, edge ? v | bit : v & ~bit);
  }

  /** Route SPI `intid` to physical CPU `pcpu` (GICD_IROUTER affinity / GICD_ITARGETSR byte). */
  route(intid: number, pcpu: number, mpidr = this.machine.board.cpus[pcpu]!.mpidr): void {
    if (this.version === 3) {
      const [a3, a2, a1, a0] = affinityBytes(mpidr);
      this.wd(GICD.IROUTER + intid * 8, (a2 << 16) | (a1 << 8) | a0);
      this.wd(GICD.IROUTER + intid * 8 + 4, a3);
    } else this.wd(GICD.ITARGETSR + intid, 1 << pcpu, 1);
  }

  /**
   * Set or clear the active state of `intid`; an SGI/PPI is banked for physical CPU `pcpu` (on
   * GICv2 the banked registers are the accessing CPU's, so `pcpu` must be the current CPU).
   */
  setActive(intid: number, on: boolean, pcpu: number): void {
    const reg = on ? GICD.ISACTIVER : GICD.ICACTIVER;
    const bit = 1 << (intid & 31);
    if (intid < 32 && this.version === 3) this.machine.mmioWrite(this.redistributor(pcpu) + GICR.SGI_BASE + reg, 4, bit >>> 0);
    else this.wd(reg + (intid >> 5) * 4, bit);
  }
}
