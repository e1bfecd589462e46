// The physical GIC as EL2 software drives it (IHI 0069 for GICv3, IHI 0048B for GICv2): bring-up
// of the distributor and of each CPU's interface, acknowledge / priority drop / deactivate, and
// SGIs between physical CPUs. EOImode = 1 everywhere: an EOI only drops the running priority, so
// an interrupt forwarded to a guest through a hardware list register stays active until the
// guest deactivates it (the LR's pINTID does that), while the hypervisor's own interrupts are
// deactivated here with DIR.
import { El2Reg, type El2Cpu, type El2Machine } from '../emulator/arm64/el2.ts';

export const SPURIOUS = 1023;
/** SGI the hypervisor uses between physical CPUs (Rust-Shyper's IPI). */
export const SGI_IPI = 1;
export const PPI_MAINTENANCE = 25;
export const PPI_HYP_TIMER = 26;
export const PPI_VIRT_TIMER = 27;
export const PPI_PHYS_TIMER = 30;

const GICD_CTLR = 0x0;
const GICD_IGROUPR = 0x080;
const GICD_ICENABLER = 0x180;
const GICD_ISENABLER = 0x100;
const GICD_IPRIORITYR = 0x400;
const GICD_ITARGETSR = 0x800;
const GICD_SGIR = 0xf00;
const GICD_IROUTER = 0x6000;
const GICR_WAKER = 0x14;
const GICR_SGI = 0x10000;
const GICC_CTLR = 0x0;
const GICC_PMR = 0x4;
const GICC_IAR = 0xc;
const GICC_EOIR = 0x10;
const GICC_DIR = 0x1000;
const HYP_PRIORITY = 0xa0;

export class PhysicalGic {
  readonly version: 2 | 3;
  private readonly dist: number;

  constructor(private readonly machine: El2Machine) {
    this.version = machine.gicVersion;
    this.dist = machine.board.gic.distBase;
  }

  /** Distributor bring-up (once): every SPI disabled, group 1, routed to CPU 0 until a VM owns it. */
  initDistributor(): void {
    const m = this.machine;
    const spis = m.board.gic.spis;
    m.mmioWrite(this.dist + GICD_CTLR, 4, 0);
    for (let i = 32; i < 32 + spis; i += 32) {
      m.mmioWrite(this.dist + GICD_ICENABLER + i / 8, 4, 0xffffffff);
      m.mmioWrite(this.dist + GICD_IGROUPR + i / 8, 4, this.version === 3 ? 0xffffffff : 0);
    }
    for (let i = 32; i < 32 + spis; i += 4) m.mmioWrite(this.dist + GICD_IPRIORITYR + i, 4, 0xa0a0a0a0);
    if (this.version === 3) {
      // ARE_NS (bit 4) | EnableGrp1NS (bit 1)
      m.mmioWrite(this.dist + GICD_CTLR, 4, (1 << 4) | (1 << 1));
    } else {
      m.mmioWrite(this.dist + GICD_CTLR, 4, 1);
    }
  }

  /** This CPU's interface and its private interrupts (SGI 1, PPIs 25/26/27) for EL2. */
  initCpu(cpu: El2Cpu): void {
    const m = this.machine;
    const ppis = (1 << SGI_IPI) | (1 << PPI_MAINTENANCE) | (1 << PPI_HYP_TIMER) | (1 << PPI_VIRT_TIMER);
    if (this.version === 3) {
      const rd = this.redistributor(cpu.index);
      m.mmioWrite(rd + GICR_WAKER, 4, 0); // ProcessorSleep = 0: the redistributor forwards to us
      m.mmioWrite(rd + GICR_SGI + GICD_IGROUPR, 4, 0xffffffff);
      for (let i = 0; i < 32; i += 4) m.mmioWrite(rd + GICR_SGI + GICD_IPRIORITYR + i, 4, HYP_PRIORITY * 0x01010101);
      m.mmioWrite(rd + GICR_SGI + GICD_ISENABLER, 4, ppis);
      cpu.msr(El2Reg.ICC_SRE_EL1, 7n);
      cpu.msr(El2Reg.ICC_PMR_EL1, 0xffn);
      cpu.msr(El2Reg.ICC_CTLR_EL1, 2n); // EOImode
      cpu.msr(El2Reg.ICC_IGRPEN1_EL1, 1n);
    } else {
      for (let i = 0; i < 32; i += 4) m.mmioWrite(this.dist + GICD_IPRIORITYR + i, 4, HYP_PRIORITY * 0x01010101);
      m.mmioWrite(this.dist + GICD_ISENABLER, 4, ppis);
      const cc = this.cpuInterface();
      m.mmioWrite(cc + GICC_PMR, 4, 0xff);
      m.mmioWrite(cc + GICC_CTLR, 4, 1 | (1 << 9)); // EnableGrp0 | EOImodeNS
    }
  }

  /** Acknowledge the highest-priority pending interrupt (SPURIOUS when none). */
  acknowledge(cpu: El2Cpu): number {
    if (this.version === 3) return Number(cpu.mrs(El2Reg.ICC_IAR1_EL1) & 0xffffffn);
    return this.machine.mmioRead(this.cpuInterface() + GICC_IAR, 4) & 0x3ff;
  }

  /** Priority drop (EOImode 1). */
  endOfInterrupt(cpu: El2Cpu, intid: number): void {
    if (this.version === 3) cpu.msr(El2Reg.ICC_EOIR1_EL1, BigInt(intid));
    else this.machine.mmioWrite(this.cpuInterface() + GICC_EOIR, 4, intid);
  }

  deactivate(cpu: El2Cpu, intid: number): void {
    if (this.version === 3) cpu.msr(El2Reg.ICC_DIR_EL1, BigInt(intid));
    else this.machine.mmioWrite(this.cpuInterface() + GICC_DIR, 4, intid);
  }

  /** Send SGI `intid` from `from` to physical CPU `target`. */
  sendSgi(from: El2Cpu, target: number, intid: number): void {
    if (this.version === 3) {
      const mpidr = this.machine.cpus[target]!.mpidr;
      const aff0 = mpidr & 0xff;
      const v = (BigInt((mpidr >>> 16) & 0xff) << 32n) | (BigInt(intid) << 24n) | (BigInt((mpidr >>> 8) & 0xff) << 16n) | BigInt(1 << aff0);
      from.msr(El2Reg.ICC_SGI1R_EL1, v);
    } else {
      this.machine.mmioWrite(this.dist + GICD_SGIR, 4, ((1 << target) << 16) | intid);
    }
  }

  /** Enable a physical SPI and route it to a physical CPU (a VM's passthrough interrupt). */
  routeSpi(intid: number, pcpu: number, enable: boolean): void {
    const m = this.machine;
    if (this.version === 3) {
      const mpidr = m.cpus[pcpu]!.mpidr;
      m.mmioWrite(this.dist + GICD_IROUTER + intid * 8, 4, mpidr & 0xffffff);
      m.mmioWrite(this.dist + GICD_IROUTER + intid * 8 + 4, 4, 0);
    } else {
      const off = this.dist + GICD_ITARGETSR + (intid & ~3);
      const shift = (intid & 3) * 8;
      const old = m.mmioRead(off, 4);
      m.mmioWrite(off, 4, ((old & ~(0xff << shift)) | ((1 << pcpu) << shift)) >>> 0);
    }
    m.mmioWrite(this.dist + (enable ? GICD_ISENABLER : GICD_ICENABLER) + Math.floor(intid / 32) * 4, 4, 1 << intid % 32);
  }

  private redistributor(i: number): number {
    return this.machine.board.gic.redistBase! + i * 0x20000;
  }

  private cpuInterface(): number {
    return this.machine.board.gic.cpuBase!;
  }
}
