// The per-interrupt register banks that the distributor (SPIs; on GICv2 also the accessing
// vCPU's SGIs/PPIs) and a GICv3 redistributor's SGI_base frame (one vCPU's SGIs/PPIs) share:
// IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER (one bit per INTID, 32-bit accesses),
// IPRIORITYR (byte or word), ICFGR (two bits per INTID), IGRPMODR (RAZ/WI, one Security state).
// An INTID the VM does not own reads as zero and ignores writes.
import type { VirqModel } from './state.ts';
import { GICD } from './regs.ts';

/** INTID of bit / byte / field 0 of the bank register at `off`, or -1 when `off` is no bank. */
export function firstIntid(off: number): number {
  if (off >= GICD.IGROUPR && off < GICD.IPRIORITYR) return ((off & 0x7f) >> 2) * 32;
  if (off >= GICD.IPRIORITYR && off < GICD.ITARGETSR) return off - GICD.IPRIORITYR;
  if (off >= GICD.ICFGR && off < GICD.IGRPMODR) return ((off - GICD.ICFGR) >> 2) * 16;
  return -1;
}

export class Banks {
  constructor(private readonly m: VirqModel) {}

  /** Slot of `id` in the bank of vCPU `bank`, or -1 when the VM does not have it. */
  private slotOf(bank: number, id: number): number {
    const m = this.m;
    if (id >= m.nIrqs) return -1;
    const s = m.slot(bank, id);
    return m.owned[s] ? s : -1;
  }

  /**
   * Read a bank register at `off` whose first INTID is `first` (already checked to be banked
   * here: < 32 only for the vCPU's own private interrupts), for vCPU `bank`'s private INTIDs.
   */
  read(bank: number, off: number, first: number, size: number): number {
    const m = this.m;
    if (off >= GICD.IPRIORITYR && off < GICD.ITARGETSR) {
      let v = 0;
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) {
        const s = this.slotOf(bank, first + k);
        if (s >= 0) v |= m.priority[s]! << (8 * k);
      }
      return v >>> 0;
    }
    if (size !== 4) return 0;
    if (off >= GICD.ICFGR) {
      if (off >= GICD.IGRPMODR) return 0;
      let v = 0;
      for (let k = 0; k < 16; k++) {
        const s = this.slotOf(bank, first + k);
        if (s >= 0 && m.edge[s]) v |= 2 << (2 * k);
      }
      return v >>> 0;
    }
    const kind = off & ~0x7f;
    let v = 0;
    for (let b = 0; b < 32; b++) {
      const s = this.slotOf(bank, first + b);
      if (s < 0) continue;
      let bit: boolean;
      switch (kind) {
        case GICD.IGROUPR:
          bit = m.group[s] !== 0;
          break;
        case GICD.ISENABLER:
        case GICD.ICENABLER:
          bit = m.enabled[s] !== 0;
          break;
        case GICD.ISPENDR:
        case GICD.ICPENDR:
          bit = m.isPending(s);
          break;
        default:
          bit = m.active[s] !== 0;
      }
      if (bit) v |= 1 << b;
    }
    return v >>> 0;
  }

  /** Write a bank register; `accessor` is the vCPU doing it (GICv2 SGI sources, banked PPIs). */
  write(bank: number, off: number, first: number, size: number, v: number, accessor: number): void {
    const m = this.m;
    if (off >= GICD.IPRIORITYR && off < GICD.ITARGETSR) {
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) {
        const s = this.slotOf(bank, first + k);
        if (s >= 0) m.setPriority(s, (v >>> (8 * k)) & 0xff);
      }
      return;
    }
    if (size !== 4) return;
    if (off >= GICD.ICFGR) {
      if (off >= GICD.IGRPMODR) return;
      for (let k = 0; k < 16; k++) {
        const s = this.slotOf(bank, first + k);
        if (s >= 0) m.setEdge(s, ((v >>> (2 * k + 1)) & 1) !== 0);
      }
      return;
    }
    const kind = off & ~0x7f;
    for (let b = 0; b < 32; b++) {
      const one = ((v >>> b) & 1) !== 0;
      if (!one && kind !== GICD.IGROUPR) continue;
      const s = this.slotOf(bank, first + b);
      if (s < 0) continue;
      switch (kind) {
        case GICD.IGROUPR:
          m.setGroup(s, one ? 1 : 0);
          break;
        case GICD.ISENABLER:
        case GICD.ICENABLER:
          m.setEnabled(s, kind === GICD.ISENABLER);
          break;
        case GICD.ISPENDR:
        case GICD.ICPENDR:
          m.setPending(s, kind === GICD.ISPENDR, accessor);
          break;
        default:
          m.setActive(s, kind === GICD.ISACTIVER, accessor);
      }
    }
  }
}
