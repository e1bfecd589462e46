// The VM's emulated GICv3 redistributors: one RD_base + SGI_base frame pair per vCPU, 0x20000
// apart, in vCPU order (IHI 0069 12.10-12.11). GICR_TYPER carries the vCPU's virtual MPIDR so that
// Linux's gic_populate_rdist() finds its frame; Last marks the last vCPU. No LPIs.
import type { VirqModel } from './state.ts';
import { Banks, firstIntid } from './banks.ts';
import { GICD, GICR, GICR_TYPER_LAST, GICR_WAKER, affinityWord } from './regs.ts';

export class VRedistributors {
  private readonly banks: Banks;
  /** GICR_WAKER per vCPU: ProcessorSleep / ChildrenAsleep, asleep at reset. */
  private readonly waker: Uint8Array;

  constructor(
    private readonly m: VirqModel,
    private readonly iidr: number,
  ) {
    this.banks = new Banks(m);
    this.waker = new Uint8Array(m.nvcpu).fill(GICR_WAKER.PROCESSOR_SLEEP | GICR_WAKER.CHILDREN_ASLEEP);
  }

  /** GICR_TYPER of vCPU `v`: Affinity_Value [63:32], Processor_Number [23:8], Last [4]. */
  typer(v: number): bigint {
    const last = v === this.m.nvcpu - 1 ? GICR_TYPER_LAST : 0n;
    return (BigInt(affinityWord(this.m.host.vmpidr(v))) << 32n) | (BigInt(v) << 8n) | last;
  }

  read(vcpu: number, off: number, size: number): bigint {
    const frame = Math.floor(off / GICR.STRIDE);
    if (frame >= this.m.nvcpu) return 0n;
    const o = off % GICR.STRIDE;
    if (o >= GICR.SGI_BASE) {
      if (size === 8) return 0n;
      const so = o - GICR.SGI_BASE;
      const first = this.sgiFrameFirst(so);
      return first < 0 ? 0n : BigInt(this.banks.read(frame, so, first, size));
    }
    if (o === GICR.TYPER && size === 8) return this.typer(frame);
    if (size !== 4) return 0n;
    switch (o) {
      case GICR.IIDR:
        return BigInt(this.iidr >>> 0);
      case GICR.TYPER:
        return this.typer(frame) & 0xffffffffn;
      case GICR.TYPER + 4:
        return this.typer(frame) >> 32n;
      case GICR.WAKER:
        return BigInt(this.waker[frame]!);
      case GICR.PIDR2:
        return 0x3bn; // ArchRev 3
    }
    return 0n; // CTLR (no LPIs, RWP 0), STATUSR, PROPBASER...
  }

  write(vcpu: number, off: number, size: number, value: bigint): void {
    const frame = Math.floor(off / GICR.STRIDE);
    if (frame >= this.m.nvcpu || size === 8) return;
    const o = off % GICR.STRIDE;
    const v = Number(value & 0xffffffffn) >>> 0;
    if (o >= GICR.SGI_BASE) {
      const so = o - GICR.SGI_BASE;
      const first = this.sgiFrameFirst(so);
      if (first >= 0) this.banks.write(frame, so, first, size, v, vcpu);
      return;
    }
    if (o === GICR.WAKER && size === 4) {
      // ChildrenAsleep follows ProcessorSleep at once (Linux's gic_enable_redist() polls it).
      const sleep = v & GICR_WAKER.PROCESSOR_SLEEP;
      this.waker[frame] = sleep ? GICR_WAKER.PROCESSOR_SLEEP | GICR_WAKER.CHILDREN_ASLEEP : 0;
    }
  }

  /** SGI_base: IGROUPR0, IS/ICENABLER0, IS/ICPENDR0, IS/ICACTIVER0, IPRIORITYR0-7, ICFGR0-1. */
  private sgiFrameFirst(so: number): number {
    if (so >= GICD.IGROUPR && so < GICD.IPRIORITYR) return (so & 0x7f) === 0 ? 0 : -1;
    if (so >= GICD.IPRIORITYR && so < GICD.IPRIORITYR + 32) return so - GICD.IPRIORITYR;
    if (so === GICD.ICFGR || so === GICD.ICFGR + 4) return firstIntid(so);
    return -1;
  }
}
