// The real-time VM's interrupt controller in passthrough mode (VM config "gic_passthrough": true,
// RTVMs only; Rust-Shyper's IntCtrlType::Passthrough with its EMU_DEVICE_T_GPPT distributor).
//
// The seed talk's "中断控制器直通": the hypervisor leaves the interrupt path. On the RTVM's cores
// HCR_EL2 has IMO and FMO clear, so a physical interrupt — its virtual timer's PPI 27, its
// passthrough SPIs — is taken by the guest at EL1 straight from the physical GIC CPU interface
// (the ICC_* system registers, not the ICV_* ones); no exit, no list register. WFI is not trapped
// either (the core is the RTVM's alone). What stays with the hypervisor:
//
// - Redistributors: the physical GICR frame (RD_base + SGI_base) of each of the VM's cores is
//   mapped at the VM's GICR window, vCPU order, so the guest configures its own SGIs/PPIs
//   directly. It cannot reach another core's frame: stage 2 does not map it. The vCPUs carry their
//   physical MPIDRs (VMPIDR_EL2), which is what those frames' GICR_TYPER and physical SGI targets
//   speak.
// - The distributor is shared by every VM, so it stays trapped (GPPT, gpptAccess below): a guest
//   access reaches the physical GICD only for the SPIs the VM owns (its passthrough devices'
//   irq_list); for any other SPI it reads as zero and writes are ignored, and IROUTER may name
//   only the VM's own cores. Rust-Shyper's GPPT forwards every valid access unchecked; here the
//   RTVM cannot enable, pend, route or reprioritise another VM's interrupt. GICD_CTLR is the
//   hypervisor's (the distributor stays enabled for everyone): reads see it, writes are ignored.
//   These traps happen while the guest configures its interrupts, never on the interrupt path.
// - On the first entry to a vCPU (restore) the physical CPU interface of its core is handed over
//   in the state firmware leaves it natively (EOImode 0, PMR 0, group 1 off, every SGI/PPI off):
//   from then on the hypervisor has no interrupt of its own on that core (no slice timer is needed:
//   an RTVM's core is never shared). Consequence, as in Rust-Shyper: another CPU cannot interrupt
//   an RTVM's core, so it stops only by itself (PSCI SYSTEM_OFF/RESET, which trap as HVC/SMC).
// - SGIs: ICC_SGI1R_EL1 does not trap with IMO/FMO clear, so the RTVM can send physical SGIs to
//   any core. Every other core runs with IMO set: the hypervisor there acknowledges them and,
//   owning no SGI on behalf of a VM, drops them (SGI 1 just re-runs its scheduler). No VM receives
//   an SGI the RTVM sends; the cost is an EL2 entry on the target core.
//
// GICv3 only (rk3588, qemu-virt): on GICv2 the guest would need the physical GICC in place of the
// GICV frame; the loader refuses gic_passthrough there.
import { El2Reg, HCR_EL2, type El2Cpu, type El2Machine } from '../emulator/arm64/el2.ts';
import type { VirtualGic } from './vm.ts';
import { PhysGic } from './vgic/phys-gic.ts';
import { GICD, GICR } from './vgic/regs.ts';

/** HCR_EL2 of a passthrough RTVM's vCPUs: stage 2, SMC trapped (PSCI), no IMO/FMO, no TWI. */
export const HCR_PASSTHROUGH = HCR_EL2.VM | HCR_EL2.SWIO | HCR_EL2.AMO | HCR_EL2.TSC | HCR_EL2.RW;

/** What the passthrough controller needs to know about its VM. */
export interface PassthroughHost {
  readonly id: number;
  /** Physical CPU of each vCPU. */
  readonly pcpus: readonly number[];
}

const IROUTER_END = GICD.IROUTER + 8 * 1020;
const ICC_CTLR_EOIMODE0 = 0n;

export class PassthroughGic implements VirtualGic {
  /** Physical SPIs (INTIDs) the VM owns. */
  private readonly spis = new Set<number>();
  private readonly phys: PhysGic;
  private readonly dist: number;
  /** Physical CPUs whose CPU interface has been handed to the guest. */
  private readonly handedOver = new Set<number>();

  constructor(
    private readonly host: PassthroughHost,
    private readonly machine: El2Machine,
  ) {
    if (machine.gicVersion !== 3) throw new Error(`vm ${host.id}: gic_passthrough needs a GICv3 (this machine has a GICv${machine.gicVersion})`);
    this.phys = new PhysGic(machine);
    this.dist = machine.board.gic.distBase;
  }

  /** The VM owns physical SPI `intid` (a passthrough device's): route it to the VM's first core, disabled until the guest enables it. */
  own(intid: number, hwPintid?: number): void {
    if (hwPintid === undefined || intid < 32) return; // an emulated device's line: it cannot interrupt this VM
    this.spis.add(hwPintid);
    this.phys.enable(hwPintid, false);
    this.phys.route(hwPintid, this.host.pcpus[0]!);
  }

  owns(intid: number): boolean {
    return this.spis.has(intid);
  }

  // ---- no virtual interrupts: there is no list-register path into this VM ----
  inject(): void {}
  setLevel(): void {}
  injectHw(): boolean {
    return false;
  }
  sgi1r(): void {}
  flush(): void {}
  sync(): void {}
  maintenance(): void {}
  pending(): boolean {
    return false;
  }
  gicrAccess(): bigint {
    return 0n; // the frames are mapped, never trapped
  }

  /** Leaving the vCPU (its core goes to another vCPU): the hypervisor takes the CPU interface back. */
  save(_vcpuId: number, cpu: El2Cpu): void {
    this.phys.initCpu(cpu);
    this.handedOver.delete(cpu.index);
  }

  /** Entering the vCPU: its core's CPU interface and private interrupts, as firmware leaves them natively. */
  restore(_vcpuId: number, cpu: El2Cpu): void {
    if (this.handedOver.has(cpu.index)) return;
    this.handedOver.add(cpu.index);
    cpu.msr(El2Reg.ICC_IGRPEN1_EL1, 0n);
    cpu.msr(El2Reg.ICC_PMR_EL1, 0n);
    cpu.msr(El2Reg.ICC_CTLR_EL1, ICC_CTLR_EOIMODE0);
    const sgi = this.phys.redistributor(cpu.index) + GICR.SGI_BASE;
    const m = this.machine;
    m.mmioWrite(sgi + GICD.ICENABLER, 4, 0xffffffff);
    m.mmioWrite(sgi + GICD.ICPENDR, 4, 0xffffffff);
    m.mmioWrite(sgi + GICD.ICACTIVER, 4, 0xffffffff);
  }

  /** The VM's GICR window: the physical frames of its cores, vCPU order (mapped by the caller). */
  redistributorFrames(): { ipaOffset: number; pa: number }[] {
    return this.host.pcpus.map((p, i) => ({ ipaOffset: i * GICR.STRIDE, pa: this.phys.redistributor(p) }));
  }

  // ---- the distributor (GPPT) ----

  gicdAccess(_vcpuId: number, off: number, size: 1 | 2 | 4 | 8, isWrite: boolean, value = 0n): bigint {
    if (off >= GICD.IROUTER && off < IROUTER_END) return this.irouter(off, size, isWrite, value);
    if (size === 8 || size === 2 || off & (size - 1)) return 0n;
    const v = Number(value & 0xffffffffn) >>> 0;
    if (off === GICD.CTLR || off === GICD.TYPER || off === GICD.IIDR || off === GICD.TYPER2 || off >= 0xffd0) {
      // Identification and the distributor's enables: the physical values, read-only for the VM.
      return isWrite || size !== 4 ? 0n : BigInt(this.rd(off) >>> 0);
    }
    if (off >= GICD.IPRIORITYR && off < GICD.IPRIORITYR + 1020) return this.bytes(off, GICD.IPRIORITYR, size, isWrite, v);
    if (size !== 4) return 0n;
    if (off >= GICD.IGROUPR && off < GICD.IPRIORITYR) {
      // One bit per INTID: IGROUPR (read-write), IS/IC ENABLER, PENDR, ACTIVER (write 1 to act).
      const first = ((off & 0x7f) >> 2) * 32;
      const mask = this.ownedBits(first, 32, 1);
      const rw = off < GICD.ISENABLER;
      return this.field(off, mask, isWrite, v, rw);
    }
    if (off >= GICD.ICFGR && off < GICD.ICFGR + 0x100) return this.field(off, this.ownedBits(((off - GICD.ICFGR) >> 2) * 16, 16, 2), isWrite, v, true);
    if (off >= GICD.IGRPMODR && off < GICD.IGRPMODR + 0x80) return this.field(off, this.ownedBits(((off - GICD.IGRPMODR) >> 2) * 32, 32, 1), isWrite, v, true);
    return 0n; // anything else (SGIR, ITARGETSR with ARE, implementation defined): RAZ/WI
  }

  /** Bits of a register covering INTIDs first.. (`width` bits each) that belong to the VM's SPIs. */
  private ownedBits(first: number, count: number, width: number): number {
    let mask = 0;
    for (let k = 0; k < count; k++) if (this.spis.has(first + k)) mask |= ((1 << width) - 1) << (k * width);
    return mask >>> 0;
  }

  /** A 32-bit register restricted to `mask`: read-modify-write (rw) or write-1-to-act. */
  private field(off: number, mask: number, isWrite: boolean, v: number, rw: boolean): bigint {
    if (!isWrite) return BigInt((this.rd(off) & mask) >>> 0);
    if (mask === 0) return 0n;
    if (rw) this.wd(off, ((this.rd(off) & ~mask) | (v & mask)) >>> 0);
    else if (v & mask) this.wd(off, (v & mask) >>> 0);
    return 0n;
  }

  /** Byte-per-INTID registers (IPRIORITYR): each byte only for an owned SPI. */
  private bytes(off: number, base: number, size: 1 | 4, isWrite: boolean, v: number): bigint {
    let r = 0;
    for (let k = 0; k < size; k++) {
      const id = off - base + k;
      if (!this.spis.has(id)) continue;
      if (isWrite) this.machine.mmioWrite(this.dist + off + k, 1, (v >>> (8 * k)) & 0xff);
      else r |= this.machine.mmioRead(this.dist + off + k, 1) << (8 * k);
    }
    return BigInt(r >>> 0);
  }

  /** GICD_IROUTER<n>: an owned SPI may be routed to one of the VM's cores only (IRM=1 is refused). */
  private irouter(off: number, size: 1 | 2 | 4 | 8, isWrite: boolean, value: bigint): bigint {
    const id = (off - GICD.IROUTER) >> 3;
    if (!this.spis.has(id) || (size !== 4 && size !== 8)) return 0n;
    const reg = GICD.IROUTER + id * 8;
    if (!isWrite) {
      const v = (BigInt(this.rd(reg + 4) >>> 0) << 32n) | BigInt(this.rd(reg) >>> 0);
      return size === 8 ? v : off & 4 ? v >> 32n : v & 0xffffffffn;
    }
    let v = (BigInt(this.rd(reg + 4) >>> 0) << 32n) | BigInt(this.rd(reg) >>> 0);
    if (size === 8) v = value;
    else if (off & 4) v = (v & 0xffffffffn) | ((value & 0xffffffffn) << 32n);
    else v = (v & ~0xffffffffn) | (value & 0xffffffffn);
    const aff = Number((v & 0xffffffn) | ((v >> 8n) & 0xff000000n));
    const cpus = this.machine.board.cpus;
    const target = this.host.pcpus.find((p) => cpus[p]!.mpidr === aff) ?? this.host.pcpus[0]!;
    this.phys.route(id, target);
    return 0n;
  }

  private rd(off: number): number {
    return this.machine.mmioRead(this.dist + off, 4);
  }
  private wd(off: number, v: number): void {
    this.machine.mmioWrite(this.dist + off, 4, v);
  }
}

/** HCR_EL2 for a vCPU of `vm`: passthrough RTVMs leave IMO/FMO (and TWI) clear. */
export function guestHcr(gicPassthrough: boolean, emulated: bigint): bigint {
  return gicPassthrough ? HCR_PASSTHROUGH : emulated;
}

/** MPIDR_EL1 of physical CPU `p` as the CPU itself reads it (RES1 bit 31, MT). */
export function physicalMpidr(machine: El2Machine, p: number): number {
  const c = machine.board.cpus[p]!;
  return 0x8000_0000 + (c.mt ? 0x0100_0000 : 0) + c.mpidr;
}

