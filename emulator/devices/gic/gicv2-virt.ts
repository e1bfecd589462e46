// GICv2 virtualization frames (IHI 0048B ch. 5): GICH, the hypervisor control interface, and
// GICV, the virtual CPU interface a guest finds where it expects GICC. Both are banked by the
// accessing CPU (GicV2.currentCpu) and drive the shared VirtualCpuInterface model.
import type { MmioDevice } from '../../bus/device.ts';
import { type VirtualCpuInterface, LR, NUM_LRS, lrState } from './virtual.ts';
import { PRIORITY_MASK } from './core.ts';

/** GICH_LR<n> (v2) → ICH_LR<n>_EL2 layout. */
export function lrFromV2(v: number): bigint {
  const vid = BigInt(v & 0x3ff);
  const hw = (v >>> 31) & 1;
  const prio = BigInt(((v >>> 23) & 0x1f) << 3);
  const state = BigInt((v >>> 28) & 3);
  let l = vid | (prio << LR.PRIORITY_SHIFT) | (state << LR.STATE_SHIFT);
  if ((v >>> 30) & 1) l |= LR.GROUP;
  if (hw) l |= LR.HW | (BigInt((v >>> 10) & 0x3ff) << LR.PINTID_SHIFT);
  else if ((v >>> 19) & 1) l |= LR.EOI;
  return l;
}

export function lrToV2(l: bigint): number {
  const hw = (l & LR.HW) !== 0n;
  let v = Number(l & 0x3ffn) | (((Number((l >> LR.PRIORITY_SHIFT) & 0xffn) >> 3) & 0x1f) << 23) | (lrState(l) << 28);
  if ((l & LR.GROUP) !== 0n) v |= 1 << 30;
  if (hw) v |= (1 << 31) | (Number((l >> LR.PINTID_SHIFT) & 0x3ffn) << 10);
  else if ((l & LR.EOI) !== 0n) v |= 1 << 19;
  return v >>> 0;
}

export function gichDevice(virt: VirtualCpuInterface[], currentCpu: () => number): MmioDevice {
  return {
    name: 'gich',
    read: (off) => {
      const v = virt[currentCpu()]!;
      if (off >= 0x100 && off < 0x100 + 4 * NUM_LRS) return lrToV2(v.lr[(off - 0x100) >> 2]!);
      switch (off) {
        case 0x00:
          return v.hcr;
        case 0x04: // VTR: PRIbits-1 = 4, PREbits-1 = 4, ListRegs-1
          return ((4 << 29) | (4 << 26) | (NUM_LRS - 1)) >>> 0;
        case 0x08: // VMCR: VENG0, VENG1, VEOIM (bit 9), VBPR (21:23), VPMR (31:27)
          return ((v.veng0 ? 1 : 0) | (v.veng1 ? 2 : 0) | (v.veoim ? 1 << 9 : 0) | (v.vbpr1 << 18) | ((v.vpmr >> 3) << 27)) >>> 0;
        case 0x10:
          return v.misr;
        case 0x20:
          return v.eisr;
        case 0x30:
          return v.elrsr;
        case 0xf0:
          return v.apr;
      }
      return 0;
    },
    write: (off, _size, val) => {
      const v = virt[currentCpu()]!;
      if (off >= 0x100 && off < 0x100 + 4 * NUM_LRS) return v.setLr((off - 0x100) >> 2, lrFromV2(val));
      if (off === 0x00) return v.setHcr(val);
      if (off === 0xf0) return v.setApr(val); // GICH_APR is read-write (IHI 0048B 5.3.9)
      if (off === 0x08) {
        v.veng0 = (val & 1) !== 0;
        v.veng1 = (val & 2) !== 0;
        v.veoim = (val & (1 << 9)) !== 0;
        v.vbpr1 = (val >>> 18) & 7;
        v.vpmr = ((val >>> 27) << 3) & PRIORITY_MASK;
        v.update();
      }
    },
  };
}

/** GICV: the guest's GICC. GICv2 LRs hold group 0 or 1; the guest enables both with CTLR. */
export function gicvDevice(virt: VirtualCpuInterface[], currentCpu: () => number): MmioDevice {
  return {
    name: 'gicv',
    read: (off) => {
      const v = virt[currentCpu()]!;
      switch (off) {
        case 0x00:
          return (v.veng0 ? 1 : 0) | (v.veng1 ? 2 : 0) | (v.veoim ? 1 << 9 : 0);
        case 0x04:
          return v.vpmr;
        case 0x08:
          return v.vbpr1;
        case 0x0c:
          return v.acknowledge();
        case 0x14:
          return v.rpr();
        case 0x18:
          return v.hppir();
        case 0xfc:
          return 0x0202143b;
      }
      return 0;
    },
    write: (off, _size, val) => {
      const v = virt[currentCpu()]!;
      switch (off) {
        case 0x00:
          v.veng0 = (val & 1) !== 0;
          v.veng1 = (val & 2) !== 0 || (val & 1) !== 0;
          v.veoim = (val & (1 << 9)) !== 0;
          v.update();
          return;
        case 0x04:
          v.vpmr = val & PRIORITY_MASK;
          v.update();
          return;
        case 0x08:
          v.vbpr1 = Math.max(val & 7, 1);
          v.update();
          return;
        case 0x10:
          v.endOfInterrupt(val & 0x3ff);
          return;
        case 0x1000:
          v.deactivate(val & 0x3ff);
          return;
      }
    },
  };
}
