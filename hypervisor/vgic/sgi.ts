// Software-generated interrupts between the vCPUs of one VM: which vCPUs a guest's request names.
// Targets are vCPU indices of the VM and nothing else, so a guest can never raise an SGI on a
// vCPU of another VM or on a physical CPU.

/** GICD_SGIR (IHI 0048B 4.3.15): the vCPU mask. TargetListFilter 0 list, 1 all others, 2 self, 3 none. */
export function sgirTargets(value: number, self: number, nvcpu: number): number {
  const all = (1 << nvcpu) - 1;
  switch ((value >>> 24) & 3) {
    case 0:
      return (value >>> 16) & 0xff & all;
    case 1:
      return all & ~(1 << self);
    case 2:
      return 1 << self;
    default:
      return 0;
  }
}

/**
 * ICC_SGI1R_EL1 (IHI 0069 12.2.23): IRM [40] = all vCPUs but the sender; otherwise the vCPUs whose
 * MPIDR has Aff3 [55:48], Aff2 [39:32], Aff1 [23:16] and an Aff0 listed in TargetList [15:0]
 * (offset by RS [47:44] * 16). Returns the vCPU mask.
 */
export function sgi1rTargets(value: bigint, self: number, vmpidrs: (v: number) => number, nvcpu: number): number {
  if ((value >> 40n) & 1n) return ((1 << nvcpu) - 1) & ~(1 << self);
  const lo = Number(value & 0xffffffffn);
  const hi = Number((value >> 32n) & 0xffffffffn);
  const list = lo & 0xffff;
  const aff1 = (lo >>> 16) & 0xff;
  const aff2 = hi & 0xff;
  const rs = (hi >>> 12) & 0xf;
  const aff3 = (hi >>> 16) & 0xff;
  let mask = 0;
  for (let v = 0; v < nvcpu; v++) {
    const m = vmpidrs(v);
    const a0 = m & 0xff;
    if (((m >>> 8) & 0xff) !== aff1 || ((m >>> 16) & 0xff) !== aff2 || (Math.floor(m / 2 ** 32) & 0xff) !== aff3) continue;
    if (a0 >> 4 === rs && list & (1 << (a0 & 0xf))) mask |= 1 << v;
  }
  return mask;
}
