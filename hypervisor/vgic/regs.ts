// GIC register offsets and fields the vGIC emulates (guest side) and drives (physical side).
// Names as in ARM IHI 0048B (GICv2) ch. 4-5 and ARM IHI 0069 (GICv3) ch. 12.

/** Distributor (GICD) and the SGI_base frame of a GICv3 redistributor share these banks. */
export const GICD = {
  CTLR: 0x000,
  TYPER: 0x004,
  IIDR: 0x008,
  TYPER2: 0x00c,
  IGROUPR: 0x080,
  ISENABLER: 0x100,
  ICENABLER: 0x180,
  ISPENDR: 0x200,
  ICPENDR: 0x280,
  ISACTIVER: 0x300,
  ICACTIVER: 0x380,
  IPRIORITYR: 0x400,
  ITARGETSR: 0x800,
  ICFGR: 0xc00,
  IGRPMODR: 0xd00,
  SGIR: 0xf00,
  CPENDSGIR: 0xf10,
  SPENDSGIR: 0xf20,
  IROUTER: 0x6000,
  /** Peripheral ID2 (ArchRev in bits 7:4): 0xfe8 on GICv2, 0xffe8 on GICv3. */
  PIDR2_V2: 0xfe8,
  PIDR2_V3: 0xffe8,
} as const;

/** GICD_CTLR bits. GICv3 as seen with a single Security state (DS = 1). */
export const GICD_CTLR = {
  ENABLE_GRP0: 1 << 0,
  ENABLE_GRP1: 1 << 1,
  ARE: 1 << 4,
  DS: 1 << 6,
  RWP: 1 << 31,
} as const;

/** Redistributor RD_base frame (GICv3); SGI_base follows at +0x10000. */
export const GICR = {
  CTLR: 0x0000,
  IIDR: 0x0004,
  TYPER: 0x0008,
  STATUSR: 0x0010,
  WAKER: 0x0014,
  PIDR2: 0xffe8,
  SGI_BASE: 0x10000,
  /** One RD_base + SGI_base pair per CPU (no VLPI frames). */
  STRIDE: 0x20000,
} as const;

export const GICR_WAKER = { PROCESSOR_SLEEP: 1 << 1, CHILDREN_ASLEEP: 1 << 2 } as const;
/** GICR_TYPER.Last (bit 4). */
export const GICR_TYPER_LAST = 1n << 4n;

/** GICv2 CPU interface (GICC) as EL2 uses it for physical interrupts. */
export const GICC = {
  CTLR: 0x00,
  PMR: 0x04,
  IAR: 0x0c,
  EOIR: 0x10,
  DIR: 0x1000,
} as const;
/** GICC_CTLR: EnableGrp0, EnableGrp1, EOImodeNS (bit 9: EOIR drops priority only). */
export const GICC_CTLR_ENABLE_EOIMODE = (1 << 0) | (1 << 1) | (1 << 9);

/** GICv2 hypervisor control interface (GICH, IHI 0048B 5.3). */
export const GICH = {
  HCR: 0x00,
  VTR: 0x04,
  VMCR: 0x08,
  MISR: 0x10,
  EISR0: 0x20,
  ELRSR0: 0x30,
  APR: 0xf0,
  LR0: 0x100,
} as const;

/** ICH_HCR_EL2 / GICH_HCR bits (same layout on v2 and v3). */
export const ICH_HCR = {
  EN: 1 << 0,
  /** Underflow: maintenance while at most one LR is valid. */
  UIE: 1 << 1,
  /** LR entry not present: maintenance while EOIcount is non-zero. */
  LRENPIE: 1 << 2,
  /** No pending: maintenance while no LR is pending. */
  NPIE: 1 << 3,
  EOICOUNT_SHIFT: 27,
} as const;

/** List register states (ICH_LR<n>_EL2.State, GICH_LR<n>.State). */
export const LR_INVALID = 0;
export const LR_PENDING = 1;
export const LR_ACTIVE = 2;

/** Priority bits the virtual CPU interface implements (ICH_VTR_EL2.PRIbits = 4: five bits). */
export const PRIORITY_MASK = 0xf8;
/** Linux's GICD_INT_DEF_PRI, also the hypervisor's default for physical interrupts. */
export const DEFAULT_PRIORITY = 0xa0;

/** The maintenance interrupt (PPI 9). */
export const MAINTENANCE_INTID = 25;

/** MPIDR affinity packed as boards and VgicHost give it (Aff3 in bits 39:32) → Aff3..Aff0 bytes. */
export function affinityBytes(mpidr: number): [aff3: number, aff2: number, aff1: number, aff0: number] {
  return [Math.floor(mpidr / 2 ** 32) & 0xff, (mpidr >>> 16) & 0xff, (mpidr >>> 8) & 0xff, mpidr & 0xff];
}

/** The 32-bit Aff3.Aff2.Aff1.Aff0 word of GICR_TYPER[63:32] (IHI 0069 12.11.35). */
export function affinityWord(mpidr: number): number {
  const [a3, a2, a1, a0] = affinityBytes(mpidr);
  return ((a3 << 24) | (a2 << 16) | (a1 << 8) | a0) >>> 0;
}
