// The per-VM interrupt model: the state of every virtual interrupt as the guest's distributor
// and redistributors define it (IHI 0048B ch. 3, IHI 0069 ch. 4), which vCPU each belongs to,
// and per vCPU the list of interrupts waiting for or sitting in its list registers (KVM's
// "ap_list"). Every change goes through a method here so that the lists, the wake-ups (kick) and
// the physical GIC (for hardware-linked interrupts) stay consistent.
//
// Slots: INTIDs 0-31 are banked per vCPU, SPIs are per VM;
// slot(vcpu, id) = id < 32 ? vcpu * 32 + id : nvcpu * 32 + id - 32.
//
// Ownership of an interrupt between vCPUs follows KVM: an interrupt sits on at most one vCPU's
// list (`queued`); while it is in a list register of a vCPU that is loaded on some physical CPU
// (`inLr`), only that vCPU moves it, when it folds its LRs back at its next exit (sync). A
// register write from another vCPU meanwhile is recorded in `touched` so that what it set wins
// over what the LR says, and the holder is kicked so that this happens soon.
import type { PhysGic } from './phys-gic.ts';
import { DEFAULT_PRIORITY, PRIORITY_MASK } from './regs.ts';

/** What the vGIC needs from the VM that owns it. */
export interface VgicHost {
  readonly vcpuCount: number;
  /** The vCPU's virtual MPIDR affinity (Aff2.Aff1.Aff0 in bits 23:0, Aff3 in bits 39:32). */
  vmpidr(vcpuId: number): number;
  /** The physical CPU the vCPU is pinned to. */
  pcpu(vcpuId: number): number;
  /**
   * Something became deliverable to this vCPU, or changed under its list registers: wake it from
   * WFI, or make its physical CPU exit the guest (an SGI to that CPU) so that it syncs and flushes.
   * It may be the vCPU whose trap is being handled right now: it flushes before returning anyway.
   */
  kick(vcpuId: number): void;
}

/** Parts of an interrupt's state a register write set (they win over a live list register). */
export const TOUCH_PENDING = 1;
export const TOUCH_ACTIVE = 2;

export class VirqModel {
  readonly nvcpu: number;
  /** 32 + the VM's SPI count. */
  readonly nIrqs: number;
  readonly slots: number;
  readonly spiBase: number;
  readonly enabled: Uint8Array;
  /** Edge / software / hardware-forwarded pending latch. */
  readonly pendLatch: Uint8Array;
  /** Input line of a level-sensitive interrupt (setLevel). */
  readonly level: Uint8Array;
  readonly active: Uint8Array;
  readonly priority: Uint8Array;
  readonly group: Uint8Array;
  /** 1 = edge-triggered (ICFGR Int_config[1]). */
  readonly edge: Uint8Array;
  /** Hardware-linked: `pintid` is the physical INTID the guest's deactivation deactivates. */
  readonly hw: Uint8Array;
  readonly pintid: Uint16Array;
  /** The VM owns the interrupt (private ones always; SPIs through own()). */
  readonly owned: Uint8Array;
  /** The vCPU the interrupt is delivered to, -1 for none (an SPI routed to no vCPU). */
  readonly target: Int8Array;
  /** GICv2 GICD_ITARGETSR byte of each SPI. */
  readonly targetMask: Uint8Array;
  /** GICv3 GICD_IROUTER of each SPI: bits 31:0 (IRM, Aff2..Aff0) and Aff3. */
  readonly irouterLo: Uint32Array;
  readonly irouterHi: Uint8Array;
  /** GICv2 SGIs: per (vcpu, sgi), the source vCPUs with a pending request, and the active one's. */
  readonly sgiSources: Uint8Array;
  readonly activeSource: Uint8Array;
  /** The vCPU whose list holds the interrupt, -1 for none. */
  readonly queued: Int8Array;
  readonly inLr: Uint8Array;
  readonly touched: Uint8Array;
  /** Per vCPU: slots waiting for or sitting in its list registers (unordered). */
  readonly ap: number[][] = [];
  /** Distributor group enables (GICv2 has one enable for both). */
  distEn0 = false;
  distEn1 = false;
  /** Physical INTID → virtual INTID of the hardware-linked SPIs. */
  readonly hwSpis = new Map<number, number>();

  constructor(
    readonly host: VgicHost,
    readonly version: 2 | 3,
    spis: number,
    private readonly phys: PhysGic,
  ) {
    const n = host.vcpuCount;
    this.nvcpu = n;
    this.nIrqs = 32 + spis;
    this.spiBase = n * 32;
    const slots = (this.slots = n * 32 + spis);
    this.enabled = new Uint8Array(slots);
    this.pendLatch = new Uint8Array(slots);
    this.level = new Uint8Array(slots);
    this.active = new Uint8Array(slots);
    this.priority = new Uint8Array(slots);
    this.group = new Uint8Array(slots);
    this.edge = new Uint8Array(slots);
    this.hw = new Uint8Array(slots);
    this.pintid = new Uint16Array(slots);
    this.owned = new Uint8Array(slots);
    this.target = new Int8Array(slots);
    this.targetMask = new Uint8Array(spis);
    this.irouterLo = new Uint32Array(spis);
    this.irouterHi = new Uint8Array(spis);
    this.sgiSources = new Uint8Array(n * 16);
    this.activeSource = new Uint8Array(n * 16);
    this.queued = new Int8Array(slots).fill(-1);
    this.inLr = new Uint8Array(slots);
    this.touched = new Uint8Array(slots);
    // Reset (as KVM's vGIC): SGIs enabled and edge, PPIs level; GICv3 interrupts in Group 1 (the
    // only group a Linux guest uses there), GICv2 in Group 0; SPIs to vCPU 0.
    const grp = version === 3 ? 1 : 0;
    this.group.fill(grp);
    for (let v = 0; v < n; v++) {
      this.ap.push([]);
      for (let id = 0; id < 32; id++) {
        const s = v * 32 + id;
        this.owned[s] = 1;
        this.target[s] = v;
        if (id < 16) {
          this.enabled[s] = 1;
          this.edge[s] = 1;
        }
      }
    }
    this.targetMask.fill(1);
    const aff0 = host.vmpidr(0);
    this.irouterLo.fill((aff0 & 0xffffff) >>> 0);
    this.irouterHi.fill(Math.floor(aff0 / 2 ** 32) & 0xff);
    this.target.fill(0, this.spiBase);
  }

  slot(vcpu: number, id: number): number {
    return id < 32 ? vcpu * 32 + id : this.spiBase + id - 32;
  }

  intidOf(s: number): number {
    return s < this.spiBase ? s & 31 : s - this.spiBase + 32;
  }

  isPending(s: number): boolean {
    return this.pendLatch[s] !== 0 || (this.edge[s] === 0 && this.level[s] !== 0);
  }

  groupEnabled(g: number): boolean {
    return g === 0 ? this.distEn0 : this.distEn1;
  }

  /** Pending, enabled, and its group enabled in the distributor: it may be signalled. */
  deliverable(s: number): boolean {
    return this.enabled[s] !== 0 && this.isPending(s) && this.groupEnabled(this.group[s]!);
  }

  /** The vCPU whose list should hold the interrupt: an active one stays where it is. */
  private oracle(s: number): number {
    if (this.active[s] !== 0) return this.queued[s]! >= 0 ? this.queued[s]! : this.target[s]!;
    return this.deliverable(s) ? this.target[s]! : -1;
  }

  /**
   * Re-evaluate where slot s belongs after its state changed; `touched` as for a register write.
   * The vCPU that ends up holding a deliverable interrupt is kicked, unless it is `quiet` (the
   * one being synced, which flushes next anyway).
   */
  update(s: number, touched = 0, quiet = -1): void {
    const q = this.queued[s]!;
    if (q >= 0 && this.inLr[s] !== 0) {
      this.touched[s] |= touched;
      this.host.kick(q);
      return;
    }
    const v = this.oracle(s);
    if (v !== q) {
      if (q >= 0) removeFrom(this.ap[q]!, s);
      this.queued[s] = v;
      if (v >= 0) this.ap[v]!.push(s);
    }
    if (v >= 0 && v !== quiet && this.deliverable(s)) this.host.kick(v);
  }

  updateAll(): void {
    for (let s = 0; s < this.slots; s++) this.update(s);
  }

  /** Anything the vCPU could take now (to end its WFI). */
  pending(vcpu: number): boolean {
    for (const s of this.ap[vcpu]!) if (this.queued[s] === vcpu && this.active[s] === 0 && this.deliverable(s)) return true;
    return false;
  }

  // ---- changes, as register writes and device lines make them ----

  setEnabled(s: number, on: boolean): void {
    if (this.id0to15v2(s) || this.enabled[s] === (on ? 1 : 0)) return;
    this.enabled[s] = on ? 1 : 0;
    if (this.hw[s] && s >= this.spiBase) this.phys.enable(this.pintid[s]!, on);
    this.update(s);
  }

  /** ISPENDR / ICPENDR. */
  setPending(s: number, on: boolean, accessor: number): void {
    if (this.id0to15v2(s)) return;
    if (!on && this.hw[s] && this.active[s] === 0 && this.pendLatch[s]) {
      // The hypervisor acknowledged the physical interrupt when it forwarded it; nobody else will
      // deactivate it now.
      this.physDeactivate(s, accessor);
    }
    this.pendLatch[s] = on ? 1 : 0;
    this.update(s, TOUCH_PENDING);
  }

  /** ISACTIVER / ICACTIVER. For a hardware-linked interrupt the physical one follows. */
  setActive(s: number, on: boolean, accessor: number): void {
    this.active[s] = on ? 1 : 0;
    if (on && this.version === 2 && s < this.spiBase && (s & 31) < 16) this.activeSource[this.sgiIndex(s)] = accessor;
    if (this.hw[s]) {
      if (on) this.physSetActive(s, true, accessor);
      else this.physDeactivate(s, accessor);
    }
    this.update(s, TOUCH_ACTIVE);
  }

  setPriority(s: number, p: number): void {
    const v = p & PRIORITY_MASK;
    if (this.priority[s] === v) return;
    this.priority[s] = v;
    if (this.hw[s] && s >= this.spiBase) this.phys.setPriority(this.pintid[s]!, v);
    this.update(s);
  }

  setGroup(s: number, g: number): void {
    if (this.group[s] === g) return;
    this.group[s] = g;
    this.update(s);
  }

  /** ICFGR: SGIs are always edge-triggered. */
  setEdge(s: number, edge: boolean): void {
    if (s < this.spiBase && (s & 31) < 16) return;
    if (this.edge[s] === (edge ? 1 : 0)) return;
    this.edge[s] = edge ? 1 : 0;
    if (this.hw[s] && s >= this.spiBase) this.phys.setEdge(this.pintid[s]!, edge);
    this.update(s);
  }

  /** GICv2 GICD_ITARGETSR byte of SPI `id`: the lowest listed vCPU receives it. */
  setTargetMask(id: number, mask: number): void {
    const m = mask & ((1 << this.nvcpu) - 1) & 0xff;
    this.targetMask[id - 32] = m;
    this.retarget(id, m === 0 ? -1 : 31 - Math.clz32(m & -m));
  }

  /** GICv3 GICD_IROUTER of SPI `id`: the vCPU with that affinity, vCPU 0 for IRM (1 of N). */
  setIrouter(id: number, lo: number, hi: number): void {
    lo = (lo & 0x80ffffff) >>> 0;
    hi &= 0xff;
    this.irouterLo[id - 32] = lo;
    this.irouterHi[id - 32] = hi;
    let t = -1;
    if (lo & 0x80000000) t = 0;
    else for (let v = 0; v < this.nvcpu && t < 0; v++) {
      const m = this.host.vmpidr(v);
      if ((m & 0xffffff) === (lo & 0xffffff) && (Math.floor(m / 2 ** 32) & 0xff) === hi) t = v;
    }
    this.retarget(id, t);
  }

  private retarget(id: number, t: number): void {
    const s = this.slot(0, id);
    if (this.target[s] === t) return;
    this.target[s] = t;
    if (this.hw[s] && t >= 0) this.phys.route(this.pintid[s]!, this.host.pcpu(t));
    this.update(s);
  }

  /** Distributor group enables (GICD_CTLR). */
  setDistEnable(en0: boolean, en1: boolean): void {
    if (en0 === this.distEn0 && en1 === this.distEn1) return;
    this.distEn0 = en0;
    this.distEn1 = en1;
    this.updateAll();
  }

  /** GICv2 SGI request from `source` (GICD_SGIR, SPENDSGIR). */
  sgiRequest(target: number, sgi: number, source: number): void {
    const s = target * 32 + sgi;
    this.sgiSources[target * 16 + sgi] |= 1 << source;
    this.pendLatch[s] = 1;
    this.update(s, TOUCH_PENDING);
  }

  /** GICv2 CPENDSGIR: withdraw requests of the sources in `mask`. */
  sgiClear(target: number, sgi: number, mask: number): void {
    const k = target * 16 + sgi;
    this.sgiSources[k] &= ~mask;
    this.pendLatch[target * 32 + sgi] = this.sgiSources[k] !== 0 ? 1 : 0;
    this.update(target * 32 + sgi, TOUCH_PENDING);
  }

  // ---- lines ----

  /** An edge (or a software / hypervisor event) on the interrupt. */
  assert(s: number): void {
    this.pendLatch[s] = 1;
    this.update(s);
  }

  setLine(s: number, high: boolean): void {
    const v = high ? 1 : 0;
    if (this.level[s] === v) return;
    this.level[s] = v;
    if (high && this.edge[s]) this.pendLatch[s] = 1;
    this.update(s);
  }

  // ---- helpers ----

  sgiIndex(s: number): number {
    return (s >> 5) * 16 + (s & 15);
  }

  /** GICv2 SGIs: always enabled, pending only through SGIR/SPENDSGIR (GIC-400). */
  private id0to15v2(s: number): boolean {
    return this.version === 2 && s < this.spiBase && (s & 31) < 16;
  }

  private physSetActive(s: number, on: boolean, accessor: number): void {
    const id = this.pintid[s]!;
    if (id >= 32) this.phys.setActive(id, on, 0);
    // A banked PPI belongs to whichever vCPU is loaded on that physical CPU: only the accessor's
    // own is known to be loaded (on this CPU). Another vCPU's follows at its next restore().
    else if (s >> 5 === accessor) this.phys.setActive(id, on, this.host.pcpu(accessor));
  }

  private physDeactivate(s: number, accessor: number): void {
    this.physSetActive(s, false, accessor);
  }
}

function removeFrom(a: number[], x: number): void {
  const i = a.indexOf(x);
  if (i < 0) return;
  a[i] = a[a.length - 1]!;
  a.pop();
}
