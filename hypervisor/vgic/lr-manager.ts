// List-register management for the vCPUs of one VM, on the physical CPU a vCPU is loaded on
// (KVM's vgic_flush_hwstate / vgic_sync_hwstate, with Rust-Shyper's observable behaviour):
//
// - flush() before entering the guest: the vCPU's active interrupts, then its deliverable pending
//   ones by priority, into the list registers (a pending one that beats every active one always
//   gets an LR, spilling the lowest active one). Hardware-linked ones get HW + pINTID;
//   level-triggered software ones request an EOI maintenance interrupt so that the line is
//   sampled again when the guest deactivates them. More than fit: NPIE (maintenance when the guest
//   has taken every pending LR) or, when every LR holds an active interrupt, UIE.
// - sync() after the guest exits: each used LR's state folds back into the model (pending →
//   active → inactive as the guest acknowledged and deactivated), then every interrupt on the
//   vCPU's list is re-placed (it may now belong to another vCPU, or to nobody).
// - save()/restore() around a world switch: ICH_VMCR and the active priorities; the LRs are empty
//   between save and the next flush, so another vCPU may use them.
import type { El2Cpu, El2Machine } from '../../emulator/arm64/el2.ts';
import { type ListRegisters, ListRegistersV2, ListRegistersV3 } from './list-registers.ts';
import type { PhysGic } from './phys-gic.ts';
import { TOUCH_ACTIVE, TOUCH_PENDING, type VirqModel } from './state.ts';
import { ICH_HCR, LR_ACTIVE, LR_INVALID, LR_PENDING } from './regs.ts';
import { COST } from '../cost.ts';

const MAX_LRS = 16;

export class LrManager {
  /** Per vCPU and LR n: the slot and (GICv2 SGIs) source written by the last flush. */
  private readonly lrSlot: Int16Array;
  private readonly lrSource: Uint8Array;
  /** LRs written by the last flush (they hold something until save() or the next flush). */
  private readonly used: Uint8Array;
  /** ICH_HCR value written by the last flush. */
  private readonly hcr: Uint32Array;
  /** sync() ran since the last flush(). */
  private readonly synced: Uint8Array;
  /** Active interrupts that did not fit in the LRs at the last flush, highest priority first. */
  private readonly spilled: number[][] = [];
  /** Saved virtual CPU interface state per vCPU. */
  private readonly vmcr: Uint32Array;
  private readonly apr: Uint32Array;
  private readonly v3: ListRegistersV3 | null;
  private v2: ListRegistersV2 | null = null;
  private readonly cands: number[] = [];
  private readonly byPriority: (a: number, b: number) => number;

  constructor(
    private readonly m: VirqModel,
    private readonly machine: El2Machine,
    private readonly phys: PhysGic,
  ) {
    const n = m.nvcpu;
    this.lrSlot = new Int16Array(n * MAX_LRS);
    this.lrSource = new Uint8Array(n * MAX_LRS);
    this.used = new Uint8Array(n);
    this.hcr = new Uint32Array(n);
    this.synced = new Uint8Array(n).fill(1);
    this.vmcr = new Uint32Array(n);
    this.apr = new Uint32Array(n);
    for (let v = 0; v < n; v++) this.spilled.push([]);
    this.v3 = m.version === 3 ? new ListRegistersV3() : null;
    // Active first, then priority (lower value first), then INTID.
    this.byPriority = (a, b) => m.active[b]! - m.active[a]! || m.priority[a]! - m.priority[b]! || m.intidOf(a) - m.intidOf(b);
  }

  private lrs(cpu: El2Cpu): ListRegisters {
    if (this.v3) return this.v3.bind(cpu);
    return (this.v2 ??= new ListRegistersV2(this.machine, this.machine.board.gic.gichBase!));
  }

  flush(v: number, cpu: El2Cpu): void {
    const m = this.m;
    // A second flush before the guest ran (the maintenance handler refills, then the run loop
    // flushes again): fold the first one's LRs back first. Flushing over them would lose the
    // pending edge interrupts it moved into LRs (their latch is clear while an LR holds them).
    if (!this.synced[v]) this.sync(v, cpu);
    this.synced[v] = 0;
    const list = m.ap[v]!;
    if (list.length === 0 && this.used[v] === 0 && this.hcr[v] === ICH_HCR.EN) return;
    const lrs = this.lrs(cpu);
    const cands = this.cands;
    cands.length = 0;
    for (const s of list) if (m.queued[s] === v && (m.active[s] || m.deliverable(s))) cands.push(s);
    if (cands.length > 1) cands.sort(this.byPriority);
    if (cands.length > lrs.count) this.makeRoomForPending(cands, lrs.count);
    const spilled = this.spilled[v]!;
    spilled.length = 0;
    const base = v * MAX_LRS;
    let n = 0;
    let overflow = false;
    let pendingInLr = false;
    for (const s of cands) {
      if (n === lrs.count) {
        overflow = true;
        if (m.active[s]) spilled.push(s);
        continue;
      }
      const id = m.intidOf(s);
      const act = m.active[s] !== 0;
      const pend = m.deliverable(s);
      let state = act ? LR_ACTIVE : LR_INVALID;
      let eoi = false;
      let source = 0;
      if (m.version === 2 && id < 16 && s < m.spiBase) {
        // One LR per (SGI, source): the active request's source, else the lowest pending one; an EOI
        // maintenance interrupt brings the next source once this one is deactivated.
        const k = m.sgiIndex(s);
        let srcs = m.sgiSources[k]!;
        if (act) source = m.activeSource[k]!;
        else if (pend) source = 31 - Math.clz32(srcs & -srcs);
        if (pend && srcs & (1 << source)) {
          state |= LR_PENDING;
          srcs &= ~(1 << source);
          m.sgiSources[k] = srcs;
        }
        m.pendLatch[s] = srcs !== 0 ? 1 : 0;
        eoi = srcs !== 0;
      } else if (m.hw[s]) {
        // HW LRs may not be pending and active; the physical interrupt cannot fire again while active.
        if (!act && pend) {
          state = LR_PENDING;
          m.pendLatch[s] = 0;
        }
      } else if (m.edge[s]) {
        if (pend) {
          state |= LR_PENDING;
          m.pendLatch[s] = 0;
        }
      } else {
        // Level, software: sample the line again at deactivation (no pending+active: KVM).
        eoi = true;
        if (!act && pend) state = LR_PENDING;
      }
      if (state === LR_INVALID) continue;
      if (state & LR_PENDING) pendingInLr = true;
      lrs.write(n, id, source, state, m.priority[s]!, m.group[s] !== 0, m.hw[s] ? m.pintid[s]! : -1, eoi);
      this.lrSlot[base + n] = s;
      this.lrSource[base + n] = source;
      m.inLr[s] = 1;
      n++;
    }
    for (let i = n; i < this.used[v]!; i++) lrs.clear(i);
    this.used[v] = n;
    if (n !== 0) cpu.chargeCycles(COST.lrWrite * n);
    let h = ICH_HCR.EN;
    if (overflow) h |= pendingInLr ? ICH_HCR.NPIE : ICH_HCR.UIE;
    if (spilled.length) h |= ICH_HCR.LRENPIE;
    lrs.writeHcr(h);
    this.hcr[v] = h;
  }

  /**
   * Every LR would hold an active interrupt while a pending one of higher priority than all of them
   * waits — the guest could take it now: it gets the last LR and the lowest-priority active one is
   * spilled (Rust-Shyper's add_lr evicts the same way; its deactivation arrives as EOIcount).
   */
  private makeRoomForPending(cands: number[], count: number): void {
    const m = this.m;
    let nActive = 0;
    while (nActive < cands.length && m.active[cands[nActive]!]) nActive++;
    if (nActive < count || nActive === cands.length) return;
    const best = cands[nActive]!;
    if (!m.deliverable(best) || m.priority[best]! >= m.priority[cands[0]!]!) return;
    cands.splice(nActive, 1);
    cands.splice(count - 1, 0, best);
  }

  sync(v: number, cpu: El2Cpu): void {
    const m = this.m;
    this.synced[v] = 1;
    const n = this.used[v]!;
    if (n !== 0 || this.hcr[v]! & ICH_HCR.LRENPIE) {
      const lrs = this.lrs(cpu);
      const base = v * MAX_LRS;
      cpu.chargeCycles(COST.lrRead * n);
      for (let i = 0; i < n; i++) {
        const s = this.lrSlot[base + i]!;
        this.fold(s, lrs.state(i), this.lrSource[base + i]!);
        m.inLr[s] = 0;
      }
      if (this.hcr[v]! & ICH_HCR.LRENPIE) {
        // The guest deactivated EOIcount interrupts that had no LR: the spilled actives, in order.
        const count = lrs.readHcr() >>> ICH_HCR.EOICOUNT_SHIFT;
        const spilled = this.spilled[v]!;
        for (let i = 0; i < count && i < spilled.length; i++) this.deactivate(spilled[i]!, v);
        spilled.length = 0;
        this.hcr[v] = 0; // rewrite at the next flush (clears EOIcount)
      }
    }
    const list = m.ap[v]!;
    for (let i = list.length - 1; i >= 0; i--) m.update(list[i]!, 0, v);
  }

  /** An LR's state back into the model; what a register write set meanwhile wins (TOUCH_*). */
  private fold(s: number, st: number, source: number): void {
    const m = this.m;
    const touched = m.touched[s]!;
    m.touched[s] = 0;
    const sgi2 = m.version === 2 && m.intidOf(s) < 16 && s < m.spiBase;
    if (!(touched & TOUCH_ACTIVE)) {
      m.active[s] = st & LR_ACTIVE ? 1 : 0;
      if (sgi2 && st & LR_ACTIVE) m.activeSource[m.sgiIndex(s)] = source;
    }
    if (!(touched & TOUCH_PENDING)) {
      if (st & LR_PENDING) {
        if (sgi2) m.sgiSources[m.sgiIndex(s)] |= 1 << source;
        if (sgi2 || m.edge[s] || m.hw[s]) m.pendLatch[s] = 1;
      } else if (st === LR_INVALID && !m.edge[s] && !m.hw[s]) {
        m.pendLatch[s] = 0; // a level interrupt's soft latch ends with its deactivation (KVM)
      }
    } else if (m.hw[s] && st === LR_PENDING && !m.isPending(s) && !m.active[s]) {
      // A forwarded physical interrupt the guest never took, withdrawn by ICPENDR: release it.
      this.phys.setActive(m.pintid[s]!, false, m.host.pcpu(s < m.spiBase ? s >> 5 : m.target[s]!));
    }
  }

  private deactivate(s: number, v: number): void {
    const m = this.m;
    m.active[s] = 0;
    if (m.hw[s]) this.phys.setActive(m.pintid[s]!, false, m.host.pcpu(v));
  }

  /** Leaving the vCPU: keep its virtual interface state, hand the LRs over empty. */
  save(v: number, cpu: El2Cpu): void {
    if (!this.synced[v]) this.sync(v, cpu);
    const lrs = this.lrs(cpu);
    this.vmcr[v] = lrs.readVmcr();
    this.apr[v] = lrs.readApr();
    for (let i = 0; i < this.used[v]!; i++) lrs.clear(i);
    this.used[v] = 0;
    lrs.writeHcr(0);
    this.hcr[v] = 0;
  }

  /**
   * Loading the vCPU: its virtual interface state, and the physical active state of its
   * hardware-linked private interrupts (the virtual timer's PPI is banked per physical CPU and
   * shared by every vCPU that runs there: active while this vCPU's copy is pending or active).
   */
  restore(v: number, cpu: El2Cpu): void {
    const m = this.m;
    const lrs = this.lrs(cpu);
    lrs.writeVmcr(this.vmcr[v]!);
    lrs.writeApr(this.apr[v]!);
    for (let s = v * 32 + 16; s < v * 32 + 32; s++) {
      if (m.hw[s]) this.phys.setActive(m.pintid[s]!, m.active[s] !== 0 || m.isPending(s), cpu.index);
    }
    this.synced[v] = 1;
  }
}
