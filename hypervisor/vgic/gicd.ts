// The VM's emulated distributor (GICD), GICv2 and GICv3, reached from stage-2 data aborts.
// Registers as Linux's irq-gic.c / irq-gic-v3.c use them; everything else is RAZ/WI, as are the
// SPIs the VM does not own. GICv3 is presented with affinity routing always on and a single
// Security state (ARE and DS read as one, like KVM's vGIC), so its SGI/PPI words live in GICR.
import type { VirqModel } from './state.ts';
import { Banks, firstIntid } from './banks.ts';
import { GICD, GICD_CTLR } from './regs.ts';
import { sgirTargets } from './sgi.ts';

const IROUTER_END = GICD.IROUTER + 8 * 1020;

export class VDistributor {
  private readonly banks: Banks;

  constructor(
    private readonly m: VirqModel,
    /** GICD_IIDR of the physical distributor, which the guest sees (Rust-Shyper does the same). */
    private readonly iidr: number,
  ) {
    this.banks = new Banks(m);
  }

  read(vcpu: number, off: number, size: number): bigint {
    const m = this.m;
    const v3 = m.version === 3;
    if (v3 && off >= GICD.IROUTER && off < IROUTER_END) {
      const id = (off - GICD.IROUTER) >> 3;
      if (!this.ownsSpi(id)) return 0n;
      const lo = m.irouterLo[id - 32]!;
      const hi = m.irouterHi[id - 32]!;
      if (size === 8) return (BigInt(hi) << 32n) | BigInt(lo);
      return BigInt(off & 4 ? hi : lo);
    }
    if (size === 8) return 0n;
    switch (off) {
      case GICD.CTLR:
        if (!v3) return m.distEn0 ? 1n : 0n;
        return BigInt(GICD_CTLR.ARE | GICD_CTLR.DS | (m.distEn0 ? GICD_CTLR.ENABLE_GRP0 : 0) | (m.distEn1 ? GICD_CTLR.ENABLE_GRP1 : 0));
      case GICD.TYPER: {
        // ITLinesNumber [4:0], CPUNumber [7:5]; v3: IDbits [23:19] = 9 (10-bit INTIDs), no LPIs.
        const t = (m.nIrqs / 32 - 1) | ((Math.min(m.nvcpu, 8) - 1) << 5);
        return BigInt(v3 ? t | (9 << 19) : t);
      }
      case GICD.IIDR:
        return BigInt(this.iidr >>> 0);
      case GICD.PIDR2_V2:
        return v3 ? 0n : 0x2bn; // ArchRev 2
      case GICD.PIDR2_V3:
        return v3 ? 0x3bn : 0n; // ArchRev 3
    }
    if (!v3 && off >= GICD.ITARGETSR && off < GICD.ICFGR) {
      let r = 0;
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) {
        const id = off - GICD.ITARGETSR + k;
        // ITARGETSR0-7 read as the accessing CPU's own bit (GIC-400); Linux finds its mask there.
        if (id < 32) r |= (1 << vcpu) << (8 * k);
        else if (this.ownsSpi(id)) r |= m.targetMask[id - 32]! << (8 * k);
      }
      return BigInt(r >>> 0);
    }
    if (!v3 && off >= GICD.CPENDSGIR && off < GICD.SPENDSGIR + 0x10) {
      const sgi = off & 0xf;
      let r = 0;
      for (let k = 0; k < (size === 1 ? 1 : 4) && sgi + k < 16; k++) r |= m.sgiSources[vcpu * 16 + sgi + k]! << (8 * k);
      return BigInt(r >>> 0);
    }
    const first = firstIntid(off);
    if (first < 0 || (v3 && first < 32)) return 0n;
    return BigInt(this.banks.read(vcpu, off, first, size));
  }

  write(vcpu: number, off: number, size: number, value: bigint): void {
    const m = this.m;
    const v3 = m.version === 3;
    if (v3 && off >= GICD.IROUTER && off < IROUTER_END) {
      const id = (off - GICD.IROUTER) >> 3;
      if (!this.ownsSpi(id)) return;
      let lo = m.irouterLo[id - 32]!;
      let hi = m.irouterHi[id - 32]!;
      if (size === 8) {
        lo = Number(value & 0xffffffffn);
        hi = Number((value >> 32n) & 0xffn);
      } else if (size === 4) {
        if (off & 4) hi = Number(value & 0xffn);
        else lo = Number(value & 0xffffffffn);
      } else return;
      m.setIrouter(id, lo, hi);
      return;
    }
    if (size === 8) return;
    const v = Number(value & 0xffffffffn) >>> 0;
    if (off === GICD.CTLR) {
      if (v3) m.setDistEnable((v & GICD_CTLR.ENABLE_GRP0) !== 0, (v & GICD_CTLR.ENABLE_GRP1) !== 0);
      else m.setDistEnable((v & 1) !== 0, (v & 1) !== 0); // GICv2: one Enable (Rust-Shyper: bit 0 only)
      return;
    }
    if (!v3 && off >= GICD.ITARGETSR && off < GICD.ICFGR) {
      for (let k = 0; k < (size === 1 ? 1 : 4); k++) {
        const id = off - GICD.ITARGETSR + k;
        if (id >= 32 && this.ownsSpi(id)) m.setTargetMask(id, (v >>> (8 * k)) & 0xff);
      }
      return;
    }
    if (!v3 && off === GICD.SGIR) {
      if (size !== 4) return;
      const targets = sgirTargets(v, vcpu, m.nvcpu);
      for (let t = 0; t < m.nvcpu; t++) if (targets & (1 << t)) m.sgiRequest(t, v & 0xf, vcpu);
      return;
    }
    if (!v3 && off >= GICD.CPENDSGIR && off < GICD.SPENDSGIR + 0x10) {
      // One byte per SGI of the accessing vCPU, one bit per source vCPU.
      const set = off >= GICD.SPENDSGIR;
      const sgi = off & 0xf;
      const sources = (1 << m.nvcpu) - 1;
      for (let k = 0; k < (size === 1 ? 1 : 4) && sgi + k < 16; k++) {
        const bits = (v >>> (8 * k)) & sources;
        if (bits === 0) continue;
        if (set) for (let src = 0; src < m.nvcpu; src++) if (bits & (1 << src)) m.sgiRequest(vcpu, sgi + k, src);
        if (!set) m.sgiClear(vcpu, sgi + k, bits);
      }
      return;
    }
    const first = firstIntid(off);
    if (first < 0 || (v3 && first < 32)) return;
    this.banks.write(vcpu, off, first, size, v, vcpu);
  }

  private ownsSpi(id: number): boolean {
    return id >= 32 && id < this.m.nIrqs && this.m.owned[this.m.slot(0, id)] !== 0;
  }
}
