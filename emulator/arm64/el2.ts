// The EL2 port: everything EL2 software touches on real hardware, and nothing more (DESIGN.md
// "The seam between hardware and hypervisor"). The hypervisor under hypervisor/ imports this file
// (types and register names only) and never Cpu, Machine or a device class.
//
// Per physical CPU (El2Cpu): the syndrome of the exception taken to EL2, the trapped vCPU's
// general-purpose registers, ELR_EL2/SPSR_EL2, the EL2 system registers that hardware uses while
// a guest runs (MSR/MRS by name, El2Reg), the GIC virtual interface (ICH_* on GICv3; GICv2's GICH
// is MMIO and is reached through El2Machine.mmio*), the EL2 physical timer, save()/restore() of
// the whole EL1 context for a world switch, and EL2 WFI (park).
//
// Per machine (El2Machine): physical CPU power, physical memory (RAM reads/writes that keep
// decoded code coherent, and MMIO such as the physical GIC distributor), the board data.
//
// Control flow: the emulator calls El2Software.{start, sync, irq} on the CPU concerned with that
// CPU at EL2; when the call returns, the CPU performs the exception return from ELR_EL2/SPSR_EL2
// (which the hypervisor may have changed, e.g. after restore() of another vCPU) — unless the
// hypervisor called park(), in which case the CPU waits at EL2 until an interrupt is asserted
// toward it and then calls irq().

import type { BoardDescription } from '../../boards/types.ts';

/** EL2-accessible system registers, named as in the ARM ARM (MSR/MRS at EL2). */
export const enum El2Reg {
  HCR_EL2 = 0,
  VTTBR_EL2,
  VTCR_EL2,
  VMPIDR_EL2,
  VPIDR_EL2,
  CNTVOFF_EL2,
  CNTHCTL_EL2,
  CPTR_EL2,
  MDCR_EL2,
  /** EL2 physical timer (its interrupt is PPI 26, board timer.ppis[3] + 16). */
  CNTHP_CTL_EL2,
  CNTHP_CVAL_EL2,
  /** The physical counter, as EL2 reads it. */
  CNTPCT_EL0,
  CNTFRQ_EL0,
  /** GICv3 virtual interface control (IHI 0069 12.4); absent (reads 0) on a GICv2 machine. */
  ICH_HCR_EL2,
  ICH_VMCR_EL2,
  ICH_VTR_EL2,
  ICH_MISR_EL2,
  ICH_EISR_EL2,
  ICH_ELRSR_EL2,
  ICH_AP1R0_EL2,
  /** ICH_LR<n>_EL2 is ICH_LR0_EL2 + n. */
  ICH_LR0_EL2,
  /** Physical GICv3 CPU interface as EL2 uses it (acknowledge, EOI, deactivate, SGIs, priority). */
  ICC_IAR1_EL1 = 64,
  ICC_EOIR1_EL1,
  ICC_DIR_EL1,
  ICC_SGI1R_EL1,
  ICC_PMR_EL1,
  ICC_CTLR_EL1,
  ICC_IGRPEN1_EL1,
  ICC_SRE_EL1,
  ICC_HPPIR1_EL1,
}

/** One physical CPU as EL2 software sees it while handling an exception on it. */
export interface El2Cpu {
  /** Physical CPU number (index into the board's cpus). */
  readonly index: number;
  /** MPIDR_EL1 affinity of this physical CPU. */
  readonly mpidr: number;

  // ---- the exception taken to EL2 ----
  /** ESR_EL2 (EC in bits 31:26, IL, ISS). */
  readonly esr: number;
  /** FAR_EL2: the faulting virtual address (data/instruction aborts). */
  readonly far: number;
  /** HPFAR_EL2: FIPA[47:12] in bits 43:4 (stage-2 aborts). */
  readonly hpfar: number;
  /** ELR_EL2: where the exception return goes. */
  elr: number;
  /** SPSR_EL2: the PSTATE the exception return restores. */
  spsr: number;
  /** ELR_EL2 += 4: skip the trapped instruction (after emulating it). */
  advancePc(): void;

  // ---- the interrupted context's registers ----
  /** X<n> for n = 0..30; n = 31 reads zero (XZR, as ESR's SRT/Rt encode it). */
  x(n: number): bigint;
  /** Write X<n>; n = 31 is ignored. */
  setX(n: number, v: bigint): void;

  // ---- EL2 system registers (writes that change translation flush TLBs and decoded code) ----
  mrs(reg: El2Reg | number): bigint;
  msr(reg: El2Reg | number, v: bigint): void;

  // ---- world switch ----
  /** Save the whole EL1 context (and ELR_EL2/SPSR_EL2 as its PC/PSTATE) into ctx. */
  save(ctx: El1Context): void;
  /** Load a saved EL1 context; the next exception return resumes it. */
  restore(ctx: El1Context): void;

  /** EL2 WFI: after this handler returns, wait at EL2 until an interrupt is asserted, then irq(). */
  park(): void;
  /**
   * Charge modeled cycles for work done at EL2 on this CPU (trap handling, world switch), so the
   * hypervisor's time shows in guest time as real EL2 code's would.
   */
  chargeCycles(n: number): void;
}

/** A saved EL1 context (Rust-Shyper's ContextFrame + system-register + FP frames). Opaque. */
export interface El1Context {
  /** The whole state as 32-bit words (snapshots write and read it as bytes). */
  readonly words: Uint32Array;
}

/** The machine as EL2 software sees it. */
export interface El2Machine {
  readonly board: BoardDescription;
  readonly cpus: readonly El2Cpu[];
  readonly gicVersion: 2 | 3;
  /** RAM the board has: [base, base + size). The hypervisor carves VM memory out of it. */
  readonly ramBase: number;
  readonly ramSize: number;

  /** A fresh, zeroed EL1 context (reset state: EL1h, DAIF masked, MMU off). */
  newContext(): El1Context;

  /** Power on physical CPU i at EL2: El2Software.start(cpu) runs on it at its next turn. */
  startCpu(i: number): void;

  // ---- physical memory; writes keep every CPU's decoded code coherent ----
  readPhys(pa: number, out: Uint8Array): void;
  writePhys(pa: number, data: Uint8Array): void;
  /** Zero RAM [pa, pa+size) (a VM's memory before reuse): writePhys of zeros, done cheaply. */
  zeroPhys(pa: number, size: number): void;
  read64(pa: number): bigint;
  write64(pa: number, v: bigint): void;
  /** MMIO (or RAM) access of 1, 2 or 4 bytes at a physical address, e.g. GICD/GICH/GICC. */
  mmioRead(pa: number, size: 1 | 2 | 4): number;
  mmioWrite(pa: number, size: 1 | 2 | 4, v: number): void;
  /** Does this physical address hold RAM? */
  isRam(pa: number): boolean;
  /**
   * TLBI VMALLS12E1IS on every CPU: forget cached stage-1 and stage-2 translations after EL2
   * software changed stage-2 tables (DSB + TLBI + DSB on real hardware).
   */
  invalidateTlbs(): void;

  /** Virtual time in nanoseconds (for logs; guests read the counter). */
  now(): number;
}

/** What the emulator calls: EL2 software's exception vectors. */
export interface El2Software {
  /** Physical CPU powered on at EL2 (startCpu). Return to enter the guest, or park(). */
  start(cpu: El2Cpu): void;
  /** Synchronous exception from EL1/EL0: HVC, trapped SMC/WFx/sysreg, stage-2 abort. */
  sync(cpu: El2Cpu): void;
  /** Physical IRQ taken to EL2 (HCR_EL2.IMO, or while parked). */
  irq(cpu: El2Cpu): void;
}

/** ESR_EL2 exception classes EL2 software dispatches on (ARM ARM D17.2.40). */
export const ESR_EC = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  FP_ACCESS: 0x07,
  SVC64: 0x15,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  IABT_LOWER: 0x20,
  DABT_LOWER: 0x24,
} as const;

/** HCR_EL2 bits (ARM ARM D17.2.48). */
export const HCR_EL2 = {
  VM: 1n << 0n,
  SWIO: 1n << 1n,
  FMO: 1n << 3n,
  IMO: 1n << 4n,
  AMO: 1n << 5n,
  VI: 1n << 7n,
  TWI: 1n << 13n,
  TWE: 1n << 14n,
  TID2: 1n << 17n,
  TID3: 1n << 18n,
  TSC: 1n << 19n,
  TVM: 1n << 26n,
  TDZ: 1n << 28n,
  RW: 1n << 31n,
} as const;
