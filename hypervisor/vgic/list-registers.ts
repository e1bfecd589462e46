// The GIC virtual interface control of one physical CPU, version-independent: list registers,
// ICH_HCR/VMCR/AP1R0. GICv3 reaches them as ICH_*_EL2 system registers of the CPU (IHI 0069
// 12.5); GICv2 as the GICH frame (IHI 0048B 5.3), which is banked for the accessing CPU — so a
// backend is only ever used on the physical CPU whose interface it drives.
import { El2Reg, type El2Cpu, type El2Machine } from '../../emulator/arm64/el2.ts';
import { GICH } from './regs.ts';

export interface ListRegisters {
  /** Implemented list registers (ICH_VTR_EL2.ListRegs + 1, GICH_VTR.ListRegs + 1). */
  readonly count: number;
  /**
   * Write LR n. `pintid` >= 0 makes it a hardware LR (HW = 1: deactivation by the guest
   * deactivates that physical INTID); otherwise `eoi` requests a maintenance interrupt when the
   * guest deactivates it, and `source` is a GICv2 SGI's requesting CPU (CPUID field).
   */
  write(n: number, vintid: number, source: number, state: number, priority: number, group1: boolean, pintid: number, eoi: boolean): void;
  clear(n: number): void;
  /** LR n's State field (LR_INVALID / LR_PENDING / LR_ACTIVE, or both bits). */
  state(n: number): number;
  readHcr(): number;
  writeHcr(v: number): void;
  readVmcr(): number;
  writeVmcr(v: number): void;
  /** Active priorities of group 1 (ICH_AP1R0_EL2 / GICH_APR). */
  readApr(): number;
  writeApr(v: number): void;
}

const MAX_LRS = 16;

/** GICv3: ICH_* system registers of the CPU it is bound to. */
export class ListRegistersV3 implements ListRegisters {
  count = 0;
  private cpu!: El2Cpu;

  bind(cpu: El2Cpu): this {
    this.cpu = cpu;
    if (this.count === 0) this.count = Math.min((Number(cpu.mrs(El2Reg.ICH_VTR_EL2)) & 0x1f) + 1, MAX_LRS);
    return this;
  }

  write(n: number, vintid: number, _source: number, state: number, priority: number, group1: boolean, pintid: number, eoi: boolean): void {
    // ICH_LR<n>_EL2 (IHI 0069 12.5.10): State [63:62], HW [61], Group [60], Priority [55:48],
    // pINTID [44:32] when HW, else EOI [41]; vINTID [31:0].
    let v = BigInt(vintid) | (BigInt(priority & 0xff) << 48n) | (BigInt(state & 3) << 62n);
    if (group1) v |= 1n << 60n;
    if (pintid >= 0) v |= (1n << 61n) | (BigInt(pintid & 0x1fff) << 32n);
    else if (eoi) v |= 1n << 41n;
    this.cpu.msr(El2Reg.ICH_LR0_EL2 + n, v);
  }

  clear(n: number): void {
    this.cpu.msr(El2Reg.ICH_LR0_EL2 + n, 0n);
  }

  state(n: number): number {
    return Number(this.cpu.mrs(El2Reg.ICH_LR0_EL2 + n) >> 62n) & 3;
  }

  readHcr(): number {
    return Number(this.cpu.mrs(El2Reg.ICH_HCR_EL2) & 0xffffffffn) >>> 0;
  }
  writeHcr(v: number): void {
    this.cpu.msr(El2Reg.ICH_HCR_EL2, BigInt(v >>> 0));
  }
  readVmcr(): number {
    return Number(this.cpu.mrs(El2Reg.ICH_VMCR_EL2) & 0xffffffffn) >>> 0;
  }
  writeVmcr(v: number): void {
    this.cpu.msr(El2Reg.ICH_VMCR_EL2, BigInt(v >>> 0));
  }
  readApr(): number {
    return Number(this.cpu.mrs(El2Reg.ICH_AP1R0_EL2) & 0xffffffffn) >>> 0;
  }
  writeApr(v: number): void {
    this.cpu.msr(El2Reg.ICH_AP1R0_EL2, BigInt(v >>> 0));
  }
}

/** GICv2: the GICH frame at board.gic.gichBase, as the current physical CPU sees it. */
export class ListRegistersV2 implements ListRegisters {
  readonly count: number;

  constructor(
    private readonly machine: El2Machine,
    private readonly base: number,
  ) {
    this.count = Math.min((machine.mmioRead(base + GICH.VTR, 4) & 0x3f) + 1, MAX_LRS);
  }

  write(n: number, vintid: number, source: number, state: number, priority: number, group1: boolean, pintid: number, eoi: boolean): void {
    // GICH_LR<n> (IHI 0048B 5.3.11): HW [31], Grp1 [30], State [29:28], Priority [27:23] (the top
    // five bits), PhysicalID [19:10] when HW, else EOI [19] and CPUID [12:10]; VirtualID [9:0].
    let v = (vintid & 0x3ff) | (((priority >> 3) & 0x1f) << 23) | ((state & 3) << 28);
    if (group1) v |= 1 << 30;
    if (pintid >= 0) v |= (1 << 31) | ((pintid & 0x3ff) << 10);
    else {
      v |= (source & 7) << 10;
      if (eoi) v |= 1 << 19;
    }
    this.machine.mmioWrite(this.base + GICH.LR0 + 4 * n, 4, v >>> 0);
  }

  clear(n: number): void {
    this.machine.mmioWrite(this.base + GICH.LR0 + 4 * n, 4, 0);
  }

  state(n: number): number {
    return (this.machine.mmioRead(this.base + GICH.LR0 + 4 * n, 4) >>> 28) & 3;
  }

  readHcr(): number {
    return this.machine.mmioRead(this.base + GICH.HCR, 4) >>> 0;
  }
  writeHcr(v: number): void {
    this.machine.mmioWrite(this.base + GICH.HCR, 4, v >>> 0);
  }
  readVmcr(): number {
    return this.machine.mmioRead(this.base + GICH.VMCR, 4) >>> 0;
  }
  writeVmcr(v: number): void {
    this.machine.mmioWrite(this.base + GICH.VMCR, 4, v >>> 0);
  }
  readApr(): number {
    return this.machine.mmioRead(this.base + GICH.APR, 4) >>> 0;
  }
  writeApr(v: number): void {
    this.machine.mmioWrite(this.base + GICH.APR, 4, v >>> 0);
  }
}
