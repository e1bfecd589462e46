// The virtual GIC of one VM (GICv3 on rk3588 and qemu-virt, GICv2 on qemu-virt --gic 2, pi4,
// tx2): what the rest of the hypervisor calls. Trap handlers hand it the guest's GICD/GICR
// accesses and ICC_SGI1R_EL1 writes; devices and the physical-IRQ path raise interrupts; the
// vCPU run loop calls flush() before entering the guest and sync() after every exit, and
// save()/restore() around a world switch.
//
// Isolation: the VM sees and controls only the SPIs it owns (own()), its own vCPUs' SGIs/PPIs,
// and SGIs reach only its own vCPUs. For hardware-linked (passthrough) SPIs the guest's enable,
// priority, trigger and routing are mirrored to the physical distributor, routed to the physical
// CPU of the target vCPU; the guest's deactivation deactivates the physical interrupt through the
// LR's HW bit.
import type { El2Cpu, El2Machine } from '../../emulator/arm64/el2.ts';
import { LrManager } from './lr-manager.ts';
import { PhysGic } from './phys-gic.ts';
import { VDistributor } from './gicd.ts';
import { VRedistributors } from './gicr.ts';
import { sgi1rTargets } from './sgi.ts';
import { VirqModel, type VgicHost } from './state.ts';

export type { VgicHost } from './state.ts';
export type AccessSize = 1 | 2 | 4 | 8;

export class Vgic {
  readonly version: 2 | 3;
  readonly model: VirqModel;
  private readonly phys: PhysGic;
  private readonly lrs: LrManager;
  private readonly dist: VDistributor;
  private readonly redist: VRedistributors | null;

  /** `spiCount` SPIs (INTIDs 32..32+spiCount-1) exist in the VM's distributor; rounded up to 32. */
  constructor(
    private readonly host: VgicHost,
    machine: El2Machine,
    version: 2 | 3,
    spiCount: number,
  ) {
    if (version === 2 && host.vcpuCount > 8) throw new Error(`vGIC: GICv2 has at most 8 CPU interfaces, not ${host.vcpuCount}`);
    this.version = version;
    const spis = Math.min(Math.ceil(spiCount / 32) * 32, 988);
    this.phys = new PhysGic(machine);
    this.model = new VirqModel(host, version, spis, this.phys);
    this.lrs = new LrManager(this.model, machine, this.phys);
    this.dist = new VDistributor(this.model, this.phys.iidr);
    this.redist = version === 3 ? new VRedistributors(this.model, this.phys.iidr) : null;
    // The virtual timer's PPI is forwarded from the physical one on every vCPU, so restore() owns
    // that physical PPI's active state from the start (as KVM maps the vtimer at vCPU creation).
    const vtimer = machine.board.timer.ppis[2] + 16;
    for (let v = 0; v < host.vcpuCount; v++) this.linkPpi(v, vtimer);
  }

  private linkPpi(v: number, id: number): number {
    const m = this.model;
    const s = m.slot(v, id);
    m.hw[s] = 1;
    m.pintid[s] = id;
    return s;
  }

  /**
   * Give the VM SPI `intid` (an emulated device's, or a passthrough device's when `hwPintid` is
   * given: then the physical INTID `hwPintid` is linked to it and set up to follow the guest).
   */
  own(intid: number, hwPintid?: number): void {
    const m = this.model;
    if (intid < 32 || intid >= m.nIrqs) throw new Error(`vGIC: SPI ${intid} is outside the VM's distributor (32..${m.nIrqs - 1})`);
    const s = m.slot(0, intid);
    m.owned[s] = 1;
    if (hwPintid === undefined) return;
    m.hw[s] = 1;
    m.pintid[s] = hwPintid;
    m.hwSpis.set(hwPintid, intid);
    this.phys.setPriority(hwPintid, m.priority[s]!);
    this.phys.setEdge(hwPintid, m.edge[s] !== 0);
    const t = m.target[s]!;
    if (t >= 0) this.phys.route(hwPintid, this.host.pcpu(t));
    this.phys.enable(hwPintid, m.enabled[s] !== 0);
  }

  /** Does the VM own SPI `intid`? */
  owns(intid: number): boolean {
    const m = this.model;
    return intid >= 32 && intid < m.nIrqs && m.owned[m.slot(0, intid)] !== 0;
  }

  /** Is physical INTID `pintid` (an SPI) linked to one of the VM's interrupts? */
  ownsHw(pintid: number): boolean {
    return this.model.hwSpis.has(pintid);
  }

  /**
   * An edge on interrupt `intid` from an emulated device or a hypervisor event: SPIs go to their
   * routed vCPU, SGIs/PPIs to `vcpuId` (a GICv2 SGI counts as sent by that vCPU itself).
   */
  inject(intid: number, vcpuId?: number): void {
    const m = this.model;
    if (intid >= 32) {
      if (this.owns(intid)) m.assert(m.slot(0, intid));
      return;
    }
    const v = this.privateVcpu(intid, vcpuId);
    if (this.version === 2 && intid < 16) m.sgiRequest(v, intid, v);
    else m.assert(m.slot(v, intid));
  }

  /** Drive a level-sensitive line (virtio's interrupt status). */
  setLevel(intid: number, level: boolean, vcpuId?: number): void {
    const m = this.model;
    if (intid >= 32) {
      if (this.owns(intid)) m.setLine(m.slot(0, intid), level);
      return;
    }
    if (intid < 16) return;
    m.setLine(m.slot(this.privateVcpu(intid, vcpuId), intid), level);
  }

  /**
   * A physical interrupt for this VM arrived and the hypervisor acknowledged it at EL2 with a
   * priority drop only (EOImode 1): it stays active until the guest deactivates it. A PPI (the
   * virtual timer's 27, linked from the start) goes to `vcpuId`, hardware-linked to the same
   * physical PPI; an
   * SPI goes to the vCPU it is routed to. Returns false when the VM does not own it (the caller
   * then deactivates it itself).
   */
  injectHw(vcpuId: number, pintid: number): boolean {
    const m = this.model;
    let s: number;
    if (pintid < 32) {
      if (pintid < 16 || vcpuId < 0 || vcpuId >= m.nvcpu) return false;
      s = this.linkPpi(vcpuId, pintid);
    } else {
      const id = m.hwSpis.get(pintid);
      if (id === undefined) return false;
      s = m.slot(0, id);
    }
    m.assert(s);
    return true;
  }

  /** A guest access to the distributor at `offset` (the value of a write; the result of a read). */
  gicdAccess(vcpuId: number, offset: number, size: AccessSize, isWrite: boolean, value = 0n): bigint {
    if (!supported(offset, size)) return 0n;
    if (!isWrite) return this.dist.read(vcpuId, offset, size);
    this.dist.write(vcpuId, offset, size, value);
    return 0n;
  }

  /** A guest access to the redistributor region (GICv3; frame of vCPU n at n * 0x20000). */
  gicrAccess(vcpuId: number, offset: number, size: AccessSize, isWrite: boolean, value = 0n): bigint {
    if (!this.redist || !supported(offset, size)) return 0n;
    if (!isWrite) return this.redist.read(vcpuId, offset, size);
    this.redist.write(vcpuId, offset, size, value);
    return 0n;
  }

  /** The guest wrote ICC_SGI1R_EL1 (trapped): SGIs to its own vCPUs only. */
  sgi1r(vcpuId: number, value: bigint): void {
    const m = this.model;
    const targets = sgi1rTargets(value, vcpuId, (v) => this.host.vmpidr(v), m.nvcpu);
    const sgi = Number((value >> 24n) & 0xfn);
    for (let t = 0; t < m.nvcpu; t++) if (targets & (1 << t)) m.assert(m.slot(t, sgi));
  }

  /** Before entering vCPU `vcpuId` on `cpu`: fill its list registers. */
  flush(vcpuId: number, cpu: El2Cpu): void {
    this.lrs.flush(vcpuId, cpu);
  }

  /** After vCPU `vcpuId` exited to EL2 on `cpu`: fold its list registers back. */
  sync(vcpuId: number, cpu: El2Cpu): void {
    this.lrs.sync(vcpuId, cpu);
  }

  /** World switch away from `vcpuId` (after sync): save its virtual interface, free the LRs. */
  save(vcpuId: number, cpu: El2Cpu): void {
    this.lrs.save(vcpuId, cpu);
  }

  /** World switch to `vcpuId` (before flush). */
  restore(vcpuId: number, cpu: El2Cpu): void {
    this.lrs.restore(vcpuId, cpu);
  }

  /** The maintenance interrupt (PPI 25) for the vCPU loaded on `cpu`: LRs are folded and refilled. */
  maintenance(vcpuId: number, cpu: El2Cpu): void {
    this.lrs.sync(vcpuId, cpu);
    this.lrs.flush(vcpuId, cpu);
  }

  /** Does the vCPU have an interrupt it could take now (to end a WFI)? */
  pending(vcpuId: number): boolean {
    return this.model.pending(vcpuId);
  }

  private privateVcpu(intid: number, vcpuId: number | undefined): number {
    if (vcpuId === undefined || vcpuId < 0 || vcpuId >= this.model.nvcpu) throw new Error(`vGIC: INTID ${intid} is private: a vCPU is needed`);
    return vcpuId;
  }
}

/** GIC registers take naturally aligned byte, word and (some) doubleword accesses; others are RAZ/WI. */
function supported(offset: number, size: AccessSize): boolean {
  return size !== 2 && (offset & (size - 1)) === 0;
}
