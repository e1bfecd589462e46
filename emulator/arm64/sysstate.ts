// The per-CPU system-register state: the EL1 and EL2 registers the hardware itself consults (the
// MMU, exception entry, interrupt masking), kept in the form their users need on hot paths — JS
// numbers for addresses (< 2^53) and 32-bit words for control bits, never BigInt — and, in one
// typed array (`el1`), the EL1 registers that only hold a value. Everything a world switch saves
// lives here or in the Cpu (context.ts), never in module globals. MRS/MSR convert
// (sysregs.ts, sysregs-el1.ts); the EL2 registers are the hypervisor port's (el2.ts).
import { type CpuSlot, privateSlot, SLOT_DAIF, SLOT_EL1, SLOT_SP_EL0 } from './jit/guest-memory.ts';

/** Per-CPU identification, from the board (MIDR of the core type, MPIDR affinity). */
export interface CpuIdentity {
  midr: number;
  /** MPIDR_EL1 value including bit 31 (RES1) and MT. */
  mpidr: bigint;
  /** GICv3 system-register interface present (ID_AA64PFR0_EL1.GIC = 1). */
  gicv3: boolean;
}

/**
 * EL1/EL0 registers that hold a value and drive nothing the emulator models (thread IDs, the
 * auxiliary/implementation-defined registers, PAR, the cache-size selector, and the self-hosted
 * debug registers: breakpoints, watchpoints and the debug state machine are not modelled, ARM ARM
 * D2): one 64-bit slot each in SystemState.el1, so a world switch copies them as one block.
 * A register added to the table gets a slot here and is saved by context.ts with no other change.
 */
export const enum El1Slot {
  TPIDR_EL0 = 0,
  TPIDRRO_EL0,
  TPIDR_EL1,
  CPACR_EL1,
  ACTLR_EL1,
  AMAIR_EL1,
  CONTEXTIDR_EL1,
  AFSR0_EL1,
  AFSR1_EL1,
  PAR_EL1,
  CSSELR_EL1,
  MDSCR_EL1,
  MDCCINT_EL1,
  OSDLR_EL1,
  /** OSLSR_EL1.OSLK, set and cleared by writes to OSLAR_EL1 (ARM ARM D17.3, OSLAR_EL1/OSLSR_EL1). */
  OSLK,
  DBGPRCR_EL1,
  /** The claim tag: DBGCLAIMSET_EL1 sets bits, DBGCLAIMCLR_EL1 clears them, both read it. */
  DBGCLAIM,
  /** DBGBVR<n>_EL1 / DBGBCR<n>_EL1, n = 0..5 (ID_AA64DFR0_EL1.BRPs = 5). */
  DBGBVR0,
  DBGBCR0 = DBGBVR0 + 6,
  /** DBGWVR<n>_EL1 / DBGWCR<n>_EL1, n = 0..3 (ID_AA64DFR0_EL1.WRPs = 3). */
  DBGWVR0 = DBGBCR0 + 6,
  DBGWCR0 = DBGWVR0 + 4,
  COUNT = DBGWCR0 + 4,
}

/** SCTLR_EL1 at reset: the RES1 bits of ARMv8.0 (the architectural reset value is UNKNOWN). */
export const SCTLR_RESET = 0x30d00800;

const DEFAULT_IDENTITY: CpuIdentity = { midr: 0x414fd0b0, mpidr: 0x80000000n, gicv3: true };

export class SystemState {
  /** MIDR/MPIDR and GIC interface of this CPU (what MIDR_EL1/MPIDR_EL1 read without EL2). */
  identity: CpuIdentity = DEFAULT_IDENTITY;

  /**
   * Value-only EL1/EL0 registers, indexed by El1Slot, and SP_EL0: in the CPU's slot of the wasm
   * memory (jit/guest-memory.ts SLOT_EL1, SLOT_SP_EL0) when it has one, so that translated code
   * reads and writes them as the handlers do (jit/emit-sys.ts).
   */
  readonly el1: BigUint64Array;
  /** The same slots as 32-bit words (low word first), for context save/restore. */
  readonly el1Words: Uint32Array;
  private readonly spEl0Words: Int32Array;

  constructor(slot: CpuSlot = privateSlot()) {
    if (SLOT_EL1 + El1Slot.COUNT * 8 > SLOT_DAIF) throw new Error('system registers overlap DAIF, the CPU flags and the soft TLBs');
    this.el1 = new BigUint64Array(slot.buffer, slot.base + SLOT_EL1, El1Slot.COUNT);
    this.el1Words = new Uint32Array(slot.buffer, slot.base + SLOT_EL1, El1Slot.COUNT * 2);
    this.spEl0Words = new Int32Array(slot.buffer, slot.base + SLOT_SP_EL0, 2);
  }

  // ---- stage 1, EL1&0 translation regime (ARM ARM D8) ----
  /** SCTLR_EL1 (bits 31:0; the upper half only holds features we do not implement). */
  sctlr = SCTLR_RESET; // Linux writes it before turning the MMU on
  sctlrHi = 0;
  /** TCR_EL1 low and high words. */
  tcr = 0;
  tcrHi = 0;
  /** TTBR0/1_EL1: table base address (bits 47:1) and ASID (bits 63:48). */
  ttbr0 = 0;
  asid0 = 0;
  ttbr1 = 0;
  asid1 = 0;
  mairLo = 0;
  mairHi = 0;

  // ---- exception state, EL1 ----
  vbar1 = 0;
  elr1 = 0;
  spsr1 = 0;
  esr1 = 0;
  far1 = 0;
  /** SP_EL0 and SP_EL1 while not selected (the selected one lives in register slot 31). */
  get spEl0Lo(): number {
    return this.spEl0Words[0]!;
  }
  set spEl0Lo(v: number) {
    this.spEl0Words[0] = v;
  }
  get spEl0Hi(): number {
    return this.spEl0Words[1]!;
  }
  set spEl0Hi(v: number) {
    this.spEl0Words[1] = v;
  }
  spEl1Lo = 0;
  spEl1Hi = 0;
  /** PSTATE.PAN (FEAT_PAN, present on A76/A55). */
  pan = 0;

  // ---- EL2 state the hardware uses while a guest runs (the hypervisor port) ----
  /** HCR_EL2 low and high words. */
  hcr = 0;
  hcrHi = 0;
  /** VTTBR_EL2 base (bits 47:1) and VMID (bits 55:48). */
  vttbr = 0;
  vmid = 0;
  vtcr = 0;
  /** VPIDR_EL2 / VMPIDR_EL2: what MIDR_EL1/MPIDR_EL1 read at EL1 when EL2 is enabled. */
  vpidr = 0;
  vmpidrLo = 0;
  vmpidrHi = 0;
  /** ESR/FAR/HPFAR/ELR/SPSR of the last exception taken to EL2 (read by the hypervisor). */
  esr2 = 0;
  far2 = 0;
  hpfar2 = 0;
  elr2 = 0;
  spsr2 = 0;
}

// HCR_EL2 bits (ARM ARM D17.2.48), low word.
export const HCR = {
  VM: 1 << 0,
  SWIO: 1 << 1,
  PTW: 1 << 2,
  FMO: 1 << 3,
  IMO: 1 << 4,
  AMO: 1 << 5,
  VF: 1 << 6,
  VI: 1 << 7,
  VSE: 1 << 8,
  FB: 1 << 9,
  BSU: 3 << 10,
  DC: 1 << 12,
  TWI: 1 << 13,
  TWE: 1 << 14,
  TID0: 1 << 15,
  TID1: 1 << 16,
  TID2: 1 << 17,
  TID3: 1 << 18,
  TSC: 1 << 19,
  TIDCP: 1 << 20,
  TACR: 1 << 21,
  TSW: 1 << 22,
  TPCP: 1 << 23,
  TPU: 1 << 24,
  TTLB: 1 << 25,
  TVM: 1 << 26,
  TGE: 1 << 27,
  TDZ: 1 << 28,
  HCD: 1 << 29,
  TRVM: 1 << 30,
  RW: 1 << 31,
} as const;

// SCTLR_EL1 bits used by the hardware.
export const SCTLR = {
  M: 1 << 0,
  A: 1 << 1,
  C: 1 << 2,
  SA: 1 << 3,
  SA0: 1 << 4,
  UMA: 1 << 9,
  I: 1 << 12,
  DZE: 1 << 14,
  UCT: 1 << 15,
  nTWI: 1 << 16,
  nTWE: 1 << 18,
  WXN: 1 << 19,
  SPAN: 1 << 23,
  E0E: 1 << 24,
  EE: 1 << 25,
  UCI: 1 << 26,
} as const;
