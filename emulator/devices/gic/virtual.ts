// The GIC virtualization extension, one per CPU (IHI 0069 ch. 6 / IHI 0048B ch. 5): list
// registers written by the hypervisor, the virtual CPU interface the guest sees (GICV_* MMIO on
// GICv2, ICV_* system registers on GICv3 while HCR_EL2.IMO is set), the vIRQ output and the
// maintenance interrupt (PPI 25). State is kept in the GICv3 ICH_LR<n>_EL2 layout; GICv2's
// GICH_LR<n> is converted on access.
import type { CpuInterruptPins, IrqLine } from '../irq.ts';
import type { GicCore } from './core.ts';
import { SPURIOUS } from './core.ts';

export const NUM_LRS = 4;
/** ICH_LR<n>_EL2 fields (IHI 0069 12.5.10). */
export const LR = {
  STATE_SHIFT: 62n,
  HW: 1n << 61n,
  GROUP: 1n << 60n,
  PRIORITY_SHIFT: 48n,
  PINTID_SHIFT: 32n,
  /** EOI bit (bit 41) of a software LR: request a maintenance interrupt on deactivation. */
  EOI: 1n << 41n,
} as const;
export const LR_STATE = { INVALID: 0, PENDING: 1, ACTIVE: 2, PENDING_ACTIVE: 3 } as const;

// ICH_HCR_EL2 bits.
const HCR_EN = 1;
const HCR_UIE = 1 << 1;
const HCR_LRENPIE = 1 << 2;
const HCR_NPIE = 1 << 3;
// ICH_MISR_EL2 bits.
export const MISR = { EOI: 1, U: 2, LRENP: 4, NP: 8 } as const;

export class VirtualCpuInterface {
  readonly lr = new Array<bigint>(NUM_LRS).fill(0n);
  /** ICH_HCR_EL2 (EOIcount in bits 31:27). */
  hcr = 0;
  /** ICH_VMCR_EL2 fields as the guest sees them: VPMR, VBPR1, VENG0/1, VEOIM. */
  vpmr = 0;
  vbpr1 = 3;
  veng0 = false;
  veng1 = false;
  veoim = false;
  /** Virtual active priorities (ICH_AP1R0_EL2 equivalent) as a stack with the LR that set each. */
  readonly activePrio: number[] = [];
  /** Cached output levels. */
  private virq = false;
  private maint = false;

  constructor(
    private readonly core: GicCore,
    readonly cpu: number,
    private readonly pins: () => CpuInterruptPins | null,
    private readonly maintenance: IrqLine,
  ) {}

  // ---- hypervisor side (what EL2 code reads and writes) ----

  setLr(n: number, v: bigint): void {
    this.lr[n] = BigInt.asUintN(64, v);
    this.update();
  }

  /** ICH_ELRSR_EL2: bit n set when LR n is empty (invalid and not requesting EOI maintenance). */
  get elrsr(): number {
    let v = 0;
    for (let n = 0; n < NUM_LRS; n++) if (lrState(this.lr[n]!) === LR_STATE.INVALID && (this.lr[n]! & LR.EOI) === 0n) v |= 1 << n;
    return v;
  }

  /** ICH_EISR_EL2: LRs that were deactivated with EOI maintenance requested. */
  get eisr(): number {
    let v = 0;
    for (let n = 0; n < NUM_LRS; n++) {
      const l = this.lr[n]!;
      if (lrState(l) === LR_STATE.INVALID && (l & LR.EOI) !== 0n && (l & LR.HW) === 0n) v |= 1 << n;
    }
    return v;
  }

  get misr(): number {
    let m = 0;
    if (this.eisr !== 0) m |= MISR.EOI;
    let valid = 0;
    let pending = 0;
    for (const l of this.lr) {
      const s = lrState(l);
      if (s !== LR_STATE.INVALID) valid++;
      if (s === LR_STATE.PENDING || s === LR_STATE.PENDING_ACTIVE) pending++;
    }
    if (this.hcr & HCR_UIE && valid <= 1) m |= MISR.U;
    if (this.hcr & HCR_LRENPIE && this.hcr >>> 27 !== 0) m |= MISR.LRENP;
    if (this.hcr & HCR_NPIE && pending === 0) m |= MISR.NP;
    return m;
  }

  setHcr(v: number): void {
    this.hcr = v >>> 0;
    this.update();
  }

  /** ICH_VMCR_EL2 (IHI 0069 12.5.12): VENG0 [0], VENG1 [1], VEOIM [9], VBPR1 [20:18], VPMR [31:24]. */
  get vmcr(): number {
    return ((this.veng0 ? 1 : 0) | (this.veng1 ? 2 : 0) | (this.veoim ? 1 << 9 : 0) | ((this.vbpr1 & 7) << 18) | ((this.vpmr & 0xff) << 24)) >>> 0;
  }
  set vmcr(v: number) {
    this.veng0 = (v & 1) !== 0;
    this.veng1 = (v & 2) !== 0;
    this.veoim = (v & (1 << 9)) !== 0;
    this.vbpr1 = (v >>> 18) & 7;
    this.vpmr = ((v >>> 24) & 0xff) & PRIORITY_BITS;
    this.update();
  }

  /**
   * ICH_AP1R0_EL2 / GICH_APR: one bit per active group priority (5 priority bits: bit =
   * priority >> 3). Active priorities nest, so the stack is the set bits from the lowest priority
   * (highest value) to the highest.
   */
  get apr(): number {
    let a = 0;
    for (const p of this.activePrio) a |= 1 << (p >> 3);
    return a >>> 0;
  }
  /** Write the active priorities (a hypervisor restoring a vCPU): the highest becomes the running one. */
  setApr(v: number): void {
    this.activePrio.length = 0;
    for (let b = 31; b >= 0; b--) if ((v >>> b) & 1) this.activePrio.push(b << 3);
    this.update();
  }

  /** ICH_* system registers at EL2 (GICv3): value, or undefined for another encoding. */
  ichRead(enc: number): bigint | undefined {
    if (enc >= ICH_LR0 && enc < ICH_LR0 + 16) {
      const n = lrIndex(enc);
      return n < NUM_LRS ? this.lr[n]! : 0n;
    }
    switch (enc) {
      case ICH_HCR:
        return BigInt(this.hcr);
      case ICH_VTR: // PRIbits-1 = 4, PREbits-1 = 4, IDbits 16-bit, SEIS 0, A3V 1, ListRegs-1
        return BigInt(((4 << 29) | (4 << 26) | (1 << 21) | (NUM_LRS - 1)) >>> 0);
      case ICH_MISR:
        return BigInt(this.misr);
      case ICH_EISR:
        return BigInt(this.eisr);
      case ICH_ELRSR:
        return BigInt(this.elrsr);
      case ICH_VMCR:
        return BigInt(this.vmcr);
      case ICH_AP1R0:
        return BigInt(this.apr);
    }
    return undefined;
  }

  ichWrite(enc: number, v: bigint): boolean {
    const lo = Number(v & 0xffffffffn) >>> 0;
    if (enc >= ICH_LR0 && enc < ICH_LR0 + 16) {
      const n = lrIndex(enc);
      if (n < NUM_LRS) this.setLr(n, v);
      return true;
    }
    switch (enc) {
      case ICH_HCR:
        this.setHcr(lo);
        return true;
      case ICH_VMCR:
        this.vmcr = lo;
        return true;
      case ICH_AP1R0:
        this.setApr(lo);
        return true;
      case ICH_VTR:
      case ICH_MISR:
      case ICH_EISR:
      case ICH_ELRSR:
        return true; // read-only
    }
    return false;
  }

  // ---- guest side (ICV_* / GICV_*) ----

  /** Highest-priority pending LR that may be signalled, or -1. */
  private hppiLr(): number {
    let best = -1;
    let bestPrio = 0x100;
    for (let n = 0; n < NUM_LRS; n++) {
      const l = this.lr[n]!;
      if (lrState(l) !== LR_STATE.PENDING) continue;
      const grp1 = (l & LR.GROUP) !== 0n;
      if (grp1 ? !this.veng1 : !this.veng0) continue;
      const p = lrPriority(l);
      if (p < bestPrio) {
        bestPrio = p;
        best = n;
      }
    }
    return best;
  }

  private runningPriority(): number {
    const n = this.activePrio.length;
    return n ? this.activePrio[n - 1]! : 0x100;
  }

  /** ICV_HPPIR1_EL1 / GICV_HPPIR. */
  hppir(): number {
    const n = this.hppiLr();
    return n < 0 ? SPURIOUS : lrVintid(this.lr[n]!);
  }

  /** ICV_IAR1_EL1 / GICV_IAR: acknowledge the highest pending virtual interrupt. */
  acknowledge(): number {
    const n = this.hppiLr();
    if (n < 0) return SPURIOUS;
    const l = this.lr[n]!;
    const p = lrPriority(l);
    if (p >= this.vpmr || groupPrio(p, this.vbpr1) >= this.runningPriority()) return SPURIOUS;
    this.lr[n] = withState(l, LR_STATE.ACTIVE);
    this.activePrio.push(groupPrio(p, this.vbpr1));
    this.update();
    return lrVintid(l);
  }

  /** ICV_EOIR1_EL1 / GICV_EOIR: priority drop, and deactivation unless VEOIM. */
  endOfInterrupt(vintid: number): void {
    if (vintid >= 1020 && vintid <= 1023) return;
    this.activePrio.pop();
    if (!this.veoim) this.deactivate(vintid);
    else this.update();
  }

  /** ICV_DIR_EL1 / GICV_DIR: deactivate; a HW LR also deactivates its physical interrupt. */
  deactivate(vintid: number): void {
    for (let n = 0; n < NUM_LRS; n++) {
      const l = this.lr[n]!;
      const s = lrState(l);
      if ((s !== LR_STATE.ACTIVE && s !== LR_STATE.PENDING_ACTIVE) || lrVintid(l) !== vintid) continue;
      this.lr[n] = withState(l, s === LR_STATE.PENDING_ACTIVE ? LR_STATE.PENDING : LR_STATE.INVALID);
      if ((l & LR.HW) !== 0n) this.core.deactivate(this.cpu, Number((l >> LR.PINTID_SHIFT) & 0x3ffn));
      this.update();
      return;
    }
    // No LR holds it: count it for the hypervisor (ICH_HCR_EL2.EOIcount, LRENP maintenance).
    this.hcr = ((this.hcr & 0x07ffffff) | ((((this.hcr >>> 27) + 1) & 31) << 27)) >>> 0;
    this.update();
  }

  rpr(): number {
    const r = this.runningPriority();
    return r === 0x100 ? 0xff : r;
  }

  /** Recompute the vIRQ output and the maintenance interrupt. */
  update(): void {
    const en = (this.hcr & HCR_EN) !== 0;
    const n = en ? this.hppiLr() : -1;
    let virq = false;
    if (n >= 0) {
      const p = lrPriority(this.lr[n]!);
      virq = p < this.vpmr && groupPrio(p, this.vbpr1) < this.runningPriority();
    }
    if (virq !== this.virq) {
      this.virq = virq;
      this.pins()?.setVirq(virq);
    }
    const maint = en && this.misr !== 0;
    if (maint !== this.maint) {
      this.maint = maint;
      this.maintenance.set(maint);
    }
  }
}

const ich = (crm: number, op2: number): number => (3 << 14) | (4 << 11) | (12 << 7) | (crm << 3) | op2;
const ICH_AP1R0 = ich(9, 0);
const ICH_HCR = ich(11, 0);
const ICH_VTR = ich(11, 1);
const ICH_MISR = ich(11, 2);
const ICH_EISR = ich(11, 3);
const ICH_ELRSR = ich(11, 5);
const ICH_VMCR = ich(11, 7);
/** ICH_LR<n>_EL2: CRm = 12 + n/8, op2 = n%8; the 16 encodings are contiguous in (CRm, op2). */
const ICH_LR0 = ich(12, 0);
function lrIndex(enc: number): number {
  return (((enc >>> 3) & 15) - 12) * 8 + (enc & 7);
}
const PRIORITY_BITS = 0xf8;

export function lrState(l: bigint): number {
  return Number(l >> LR.STATE_SHIFT) & 3;
}
function lrPriority(l: bigint): number {
  return Number((l >> LR.PRIORITY_SHIFT) & 0xffn) & 0xf8;
}
function lrVintid(l: bigint): number {
  return Number(l & 0xffffffffn);
}
function withState(l: bigint, s: number): bigint {
  return (l & ~(3n << LR.STATE_SHIFT)) | (BigInt(s) << LR.STATE_SHIFT);
}
function groupPrio(p: number, bpr: number): number {
  return p & (0xff << Math.max(bpr - 1, 0) + 1) & 0xff;
}

/** Build an ICH_LR<n>_EL2 value. */
export function makeLr(o: { vintid: number; state: number; priority: number; group1?: boolean; hw?: number; eoi?: boolean }): bigint {
  let v = BigInt(o.vintid) | (BigInt(o.state) << LR.STATE_SHIFT) | (BigInt(o.priority & 0xff) << LR.PRIORITY_SHIFT);
  if (o.group1 !== false) v |= LR.GROUP;
  if (o.hw !== undefined) v |= LR.HW | (BigInt(o.hw) << LR.PINTID_SHIFT);
  else if (o.eoi) v |= LR.EOI;
  return v;
}
