// The interrupt state machine shared by GICv2 and GICv3 (ARM IHI 0048B ch. 3, IHI 0069 ch. 4):
// per-interrupt enable, pending, active, priority, group and trigger configuration, with SGIs
// and PPIs banked per CPU; per-CPU interface state (priority mask, binary point, active
// priorities); selection of the highest-priority pending interrupt and the IRQ output.
//
// Interrupt numbering: INTIDs 0-15 SGIs, 16-31 PPIs (banked), 32.. SPIs. Internally each
// (cpu, INTID<32) and each SPI has a slot: slot(cpu, id) = id < 32 ? cpu*32 + id : nCpus*32 + id-32.
//
// This model presents a GIC with a single Security state (GICD_CTLR.DS = 1 for v3, no Security
// Extensions for v2), as a hypervisor or OS running in Non-secure state on these boards sees it.
// Group 1 interrupts signal IRQ; Group 0 also signals IRQ for v2 (GICC_CTLR.FIQEn = 0) and FIQ
// for v3 system-register interfaces.
import type { CpuInterruptPins, IrqLine } from '../irq.ts';

export const SPURIOUS = 1023;
/** Implemented priority bits (GIC-400 and GIC-600 implement 5: values step by 8). */
export const PRIORITY_MASK = 0xf8;

export interface GicConfig {
  nCpus: number;
  /** Number of SPIs (a multiple of 32). */
  spis: number;
  /** MPIDR affinity of each CPU (Aff3.Aff2.Aff1.Aff0 packed as in MPIDR bits [39:32,23:0]). */
  mpidrs: number[];
}

export class CpuInterfaceState {
  /** Priority mask (GICC_PMR / ICC_PMR_EL1). */
  pmr = 0;
  bpr0 = 2;
  bpr1 = 3;
  /** Group enables at the CPU interface (GICC_CTLR bits 0/1, ICC_IGRPEN0/1_EL1). */
  grpEn0 = false;
  grpEn1 = false;
  /** EOImode: EOI only drops priority; deactivation by DIR. */
  eoiMode = false;
  /** Stack of active priorities (top = running priority) with the INTID that set each. */
  readonly activePrio: number[] = [];
  readonly activeId: number[] = [];
  /** Highest-priority pending interrupt for this CPU (cache), SPURIOUS if none. */
  hppi = SPURIOUS;
  irqOut = false;
  fiqOut = false;
}

export class GicCore {
  readonly nCpus: number;
  readonly nIrqs: number;
  readonly slots: number;
  readonly enabled: Uint8Array;
  /** Software/edge pending latch. */
  readonly pendLatch: Uint8Array;
  /** Input line level (level-sensitive sources). */
  readonly level: Uint8Array;
  readonly active: Uint8Array;
  readonly priority: Uint8Array;
  readonly group: Uint8Array;
  /** 1 = edge-triggered (GICD_ICFGR Int_config[1]). */
  readonly edge: Uint8Array;
  /** SPI routing: target CPU bitmask (v2 ITARGETSR) — v3 IROUTER is resolved into this too. */
  readonly targets: Uint8Array;
  /** v2 SGIs: pending source-CPU bitmask per (cpu, sgi). */
  readonly sgiSources: Uint8Array;
  readonly cpu: CpuInterfaceState[] = [];
  private readonly pins: (CpuInterruptPins | null)[] = [];
  /** Distributor group enables (GICD_CTLR EnableGrp0 / EnableGrp1). */
  distEn0 = false;
  distEn1 = false;
  /** Group 0 signals FIQ (v3 system registers); false for v2. */
  group0IsFiq = false;

  constructor(readonly cfg: GicConfig) {
    if (cfg.spis % 32 !== 0 || cfg.spis < 0 || cfg.spis > 988) throw new Error(`GIC: bad SPI count ${cfg.spis}`);
    this.nCpus = cfg.nCpus;
    this.nIrqs = 32 + cfg.spis;
    this.slots = cfg.nCpus * 32 + cfg.spis;
    const n = this.slots;
    this.enabled = new Uint8Array(n);
    this.enabledSpis = new Int32Array(n);
    this.pendLatch = new Uint8Array(n);
    this.level = new Uint8Array(n);
    this.active = new Uint8Array(n);
    this.priority = new Uint8Array(n);
    this.group = new Uint8Array(n);
    this.edge = new Uint8Array(n);
    this.targets = new Uint8Array(n);
    this.sgiSources = new Uint8Array(cfg.nCpus * 16);
    // SGIs are always edge-triggered; PPIs reset to level (timers are level-sensitive).
    for (let c = 0; c < cfg.nCpus; c++) {
      for (let i = 0; i < 16; i++) this.edge[c * 32 + i] = 1;
      this.cpu.push(new CpuInterfaceState());
      this.pins.push(null);
    }
  }

  pinsOf(i: number): CpuInterruptPins | null {
    return this.pins[i] ?? null;
  }

  connectCpu(i: number, pins: CpuInterruptPins): void {
    this.pins[i] = pins;
    this.update(i);
  }

  slot(cpu: number, id: number): number {
    return id < 32 ? cpu * 32 + id : this.nCpus * 32 + id - 32;
  }

  isPending(s: number): boolean {
    return this.pendLatch[s] !== 0 || (this.edge[s] === 0 && this.level[s] !== 0);
  }

  /** The wire a device drives for SPI `id` (INTID, 32..). */
  spiLine(id: number): IrqLine {
    if (id < 32 || id >= this.nIrqs) throw new Error(`GIC: no SPI ${id}`);
    const s = this.slot(0, id);
    return { set: (high) => this.setLine(s, high, -1) };
  }

  /** The wire for PPI `id` (16..31) of `cpu`. */
  ppiLine(cpu: number, id: number): IrqLine {
    if (id < 16 || id > 31) throw new Error(`GIC: no PPI ${id}`);
    const s = this.slot(cpu, id);
    return { set: (high) => this.setLine(s, high, cpu) };
  }

  private setLine(s: number, high: boolean, cpu: number): void {
    const v = high ? 1 : 0;
    if (this.level[s] === v) return;
    this.level[s] = v;
    // Edge-triggered: a rising edge latches pending (IHI 0069 4.1.1).
    if (high && this.edge[s] !== 0) this.pendLatch[s] = 1;
    if (cpu >= 0) this.update(cpu);
    else this.updateAll();
  }

  /** Which CPUs may take SPI slot s. */
  targetsOf(s: number, id: number, cpu: number): boolean {
    if (id < 32) return true;
    return (this.targets[s]! & (1 << cpu)) !== 0;
  }

  /** Group priority of `prio` under binary point `bpr` (IHI 0048B 3.3.3). */
  groupPriority(prio: number, grp: number, c: CpuInterfaceState): number {
    const bpr = grp === 0 ? c.bpr0 : Math.max(c.bpr1 - 1, 0);
    return prio & (0xff << (bpr + 1)) & 0xff;
  }

  runningPriority(c: CpuInterfaceState): number {
    const n = c.activePrio.length;
    return n === 0 ? 0x100 : c.activePrio[n - 1]!;
  }

  /** Recompute the highest-priority pending interrupt of `cpu` and drive its outputs. */
  update(cpu: number): void {
    const c = this.cpu[cpu]!;
    let best = SPURIOUS;
    let bestPrio = 0x100;
    const base = cpu * 32;
    for (let id = 0; id < 32; id++) {
      const s = base + id;
      if (this.enabled[s] === 0 || this.active[s] !== 0 || !this.isPending(s)) continue;
      if (!this.groupEnabled(this.group[s]!)) continue;
      const p = this.priority[s]!;
      if (p < bestPrio) {
        bestPrio = p;
        best = id;
      }
    }
    const spiBase = this.nCpus * 32;
    if (this.enabledSpisStale) this.listEnabledSpis();
    const spis = this.enabledSpis;
    for (let k = 0; k < this.enabledSpiCount; k++) {
      const s = spis[k]!;
      if (this.active[s] !== 0 || !this.isPending(s)) continue;
      if ((this.targets[s]! & (1 << cpu)) === 0 || !this.groupEnabled(this.group[s]!)) continue;
      const p = this.priority[s]!;
      if (p < bestPrio) {
        bestPrio = p;
        best = s - spiBase + 32;
      }
    }
    c.hppi = best;
    let irq = false;
    let fiq = false;
    if (best !== SPURIOUS) {
      const grp = this.group[this.slot(cpu, best)]!;
      const cpuEn = grp === 0 ? c.grpEn0 : c.grpEn1;
      const rp = this.runningPriority(c);
      if (cpuEn && bestPrio < c.pmr && this.groupPriority(bestPrio, grp, c) < rp) {
        if (grp === 0 && this.group0IsFiq) fiq = true;
        else irq = true;
      }
    }
    const pins = this.pins[cpu];
    if (irq !== c.irqOut) {
      c.irqOut = irq;
      pins?.setIrq(irq);
    }
    if (fiq !== c.fiqOut) {
      c.fiqOut = fiq;
      pins?.setFiq(fiq);
    }
  }

  // The enabled SPIs' slots, ascending: update() looks at those only (a board has hundreds of
  // SPIs and uses a few; the rk3588 run spent ~130 ms scanning them at every acknowledge, EOI and
  // deactivation). Rebuilt after an enable bit is written (writeBits).
  private readonly enabledSpis: Int32Array;
  private enabledSpiCount = 0;
  private enabledSpisStale = true;

  private listEnabledSpis(): void {
    let n = 0;
    for (let s = this.nCpus * 32; s < this.slots; s++) if (this.enabled[s] !== 0) this.enabledSpis[n++] = s;
    this.enabledSpiCount = n;
    this.enabledSpisStale = false;
  }

  updateAll(): void {
    for (let i = 0; i < this.nCpus; i++) this.update(i);
  }

  private groupEnabled(grp: number): boolean {
    return grp === 0 ? this.distEn0 : this.distEn1;
  }

  /**
   * Acknowledge (GICC_IAR / ICC_IAR<n>_EL1): the highest pending interrupt of the group becomes
   * active, its priority becomes the running priority. Returns the INTID or SPURIOUS.
   */
  acknowledge(cpu: number, group: number | -1): number {
    const c = this.cpu[cpu]!;
    this.update(cpu);
    const id = c.hppi;
    if (id === SPURIOUS) return SPURIOUS;
    const s = this.slot(cpu, id);
    const grp = this.group[s]!;
    if (group >= 0 && grp !== group) return SPURIOUS;
    const prio = this.priority[s]!;
    if (prio >= c.pmr || this.groupPriority(prio, grp, c) >= this.runningPriority(c)) return SPURIOUS;
    if (!(grp === 0 ? c.grpEn0 : c.grpEn1)) return SPURIOUS;
    this.active[s] = 1;
    if (this.edge[s] !== 0 || this.level[s] === 0) this.pendLatch[s] = 0;
    else this.pendLatch[s] = 0; // level: pending follows the line
    c.activePrio.push(this.groupPriority(prio, grp, c));
    c.activeId.push(id);
    this.update(cpu);
    return id;
  }

  /** v2 SGI acknowledge bookkeeping: take the lowest pending source; the rest stay pending. */
  takeSgiSource(cpu: number, id: number): number {
    const k = cpu * 16 + id;
    const src = this.sgiSources[k]!;
    if (src === 0) return 0;
    const lowest = 31 - Math.clz32(src & -src);
    this.sgiSources[k] = src & ~(1 << lowest);
    if (this.sgiSources[k] !== 0) this.pendLatch[cpu * 32 + id] = 1;
    return lowest;
  }

  /** Priority drop (EOI): remove the running priority set by `id` (the most recent one). */
  priorityDrop(cpu: number, id: number): boolean {
    const c = this.cpu[cpu]!;
    const n = c.activeId.length;
    if (n === 0) return false;
    // EOIs are expected in order; an out-of-order EOI drops the matching entry (UNPREDICTABLE).
    let i = n - 1;
    while (i >= 0 && c.activeId[i] !== id) i--;
    if (i < 0) return false;
    c.activeId.splice(i, 1);
    c.activePrio.splice(i, 1);
    return true;
  }

  deactivate(cpu: number, id: number): void {
    if (id >= this.nIrqs) return;
    this.active[this.slot(cpu, id)] = 0;
    if (id >= 32) this.updateAll();
    else this.update(cpu);
  }

  /** EOI in EOImode 0 (drop and deactivate) or 1 (drop only). */
  endOfInterrupt(cpu: number, id: number): void {
    const c = this.cpu[cpu]!;
    if (id >= this.nIrqs) return;
    this.priorityDrop(cpu, id);
    if (!c.eoiMode) this.deactivate(cpu, id);
    else this.update(cpu);
  }

  /** Raise SGI `id` on `target` from `source` (v2 keeps the source; v3 passes source = -1). */
  sendSgi(target: number, id: number, source: number): void {
    const s = target * 32 + id;
    this.pendLatch[s] = 1;
    if (source >= 0) this.sgiSources[target * 16 + id] |= 1 << source;
    this.update(target);
  }

  // ---- bitmap register helpers shared by v2 GICD, v3 GICD and GICR (one bit per INTID) ----

  /** 32 INTIDs starting at `first` as seen by `cpu`: read one bit array. */
  readBits(arr: Uint8Array, cpu: number, first: number): number {
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const id = first + b;
      if (id >= this.nIrqs) break;
      if (arr[this.slot(cpu, id)] !== 0) v |= 1 << b;
    }
    return v >>> 0;
  }

  readPendingBits(cpu: number, first: number): number {
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const id = first + b;
      if (id >= this.nIrqs) break;
      if (this.isPending(this.slot(cpu, id))) v |= 1 << b;
    }
    return v >>> 0;
  }

  /** Set (value 1) or clear (value 0) the bits written as 1. */
  writeBits(arr: Uint8Array, cpu: number, first: number, mask: number, value: 0 | 1): void {
    if (arr === this.enabled) this.enabledSpisStale = true;
    for (let b = 0; b < 32; b++) {
      if ((mask & (1 << b)) === 0) continue;
      const id = first + b;
      if (id >= this.nIrqs) break;
      arr[this.slot(cpu, id)] = value;
    }
    if (first >= 32) this.updateAll();
    else this.update(cpu);
  }

  /** ICFGR: two bits per interrupt, bit 1 of each pair = edge. SGIs are fixed edge. */
  readCfg(cpu: number, first: number): number {
    let v = 0;
    for (let k = 0; k < 16; k++) {
      const id = first + k;
      if (id >= this.nIrqs) break;
      if (this.edge[this.slot(cpu, id)] !== 0) v |= 2 << (2 * k);
    }
    return v >>> 0;
  }

  writeCfg(cpu: number, first: number, value: number): void {
    for (let k = 0; k < 16; k++) {
      const id = first + k;
      if (id < 16 || id >= this.nIrqs) continue;
      this.edge[this.slot(cpu, id)] = (value >>> (2 * k + 1)) & 1;
    }
    if (first >= 32) this.updateAll();
    else this.update(cpu);
  }

  readPriority(cpu: number, id: number): number {
    return id < this.nIrqs ? this.priority[this.slot(cpu, id)]! : 0;
  }

  writePriority(cpu: number, id: number, v: number): void {
    if (id >= this.nIrqs) return;
    this.priority[this.slot(cpu, id)] = v & PRIORITY_MASK;
  }
}
