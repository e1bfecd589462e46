// EL1 system registers (ARM ARM D17) as MRS/MSR see them (MIDR/MPIDR read VPIDR_EL2/VMPIDR_EL2
// while a hypervisor runs the guest), with ID register values of each CPU's real core (A76/A55,
// A72, A57) minus the features this emulator does not implement (no PAC, BTI, SVE, MTE, LPA2,
// RAS, PMU event counters, hardware AF/DBM; DESIGN.md). The instruction-set fields come from the
// CPU's feature set (features.ts), the one its decoder has.
// Each definition names its HCR_EL2 trap bits, so a hypervisor sees exactly the traps it
// asked for (EC 0x18 with the MRS/MSR syndrome).

import type { Cpu } from './cpu.ts';
import { El1Slot, HCR, type CpuIdentity } from './sysstate.ts';
import { idAa64isar0, idAa64isar1, idAa64mmfr1, idAa64pfr0Fp } from './features.ts';
import { SLOT_EL1, SLOT_SP_EL0 } from './jit/guest-memory.ts';

export function enc(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export interface SysregDef {
  name: string;
  enc: number;
  /** Lowest EL allowed to access it (0 or 1; EL2 registers are reached only through the port). */
  minEl: number;
  read?: (cpu: Cpu) => bigint;
  write?: (cpu: Cpu, v: bigint) => void;
  /**
   * The same read and write on 32-bit halves, without BigInt: the registers Linux reads and writes
   * on its hot paths (SP_EL0 is `current`, TPIDR_EL1 the per-CPU offset, DAIF around every
   * irqsave) have them. readWords stores the value in r[i] (low) and r[i + 1] (high).
   */
  readWords?: (cpu: Cpu, r: Int32Array, i: number) => void;
  writeWords?: (cpu: Cpu, lo: number, hi: number) => void;
  /**
   * Where the register's 64-bit value lives in the CPU's slot of the wasm memory, when its read
   * and write are nothing but a load and a store there (jit/emit-sys.ts reads and writes it in
   * translated code, after the same EL and trap checks).
   */
  slotOffset?: number;
  /** HCR_EL2 bits (low word) that trap reads / writes from EL1/EL0 to EL2. */
  trapRead?: number;
  trapWrite?: number;
  /**
   * The value of a read-only register that never changes (what `read` returns, below 2^32): a
   * move for the wasm interpreter and the translator, when trapRead is none or HCR_EL2.TID2 (the
   * CPU flags word says whether that traps).
   */
  constant?: number;
}

const TWO32 = 4294967296;
const lo32 = (v: bigint): number => Number(v & 0xffffffffn);
const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const u64 = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
/** A 64-bit value as a signed JS number (canonical virtual addresses). */
const vaOf = (v: bigint): number => Number(BigInt.asIntN(64, v));
const fromVa = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

export type { CpuIdentity };

/** Board identification of a CPU (machine.ts); the same as assigning cpu.sys.identity. */
export function setCpuIdentity(cpu: Cpu, id: CpuIdentity): void {
  cpu.sys.identity = id;
}

/**
 * A register that holds a value and nothing else (thread ID, auxiliary, context, debug): it reads
 * back what was written, from its slot in the CPU's SystemState.el1 (per-CPU, saved by context.ts).
 */
export function valueReg(name: string, e: number, slot: El1Slot, minEl = 1, extra: Partial<SysregDef> = {}): SysregDef {
  return {
    name,
    enc: e,
    minEl,
    read: (cpu) => cpu.sys.el1[slot]!,
    write: (cpu, v) => void (cpu.sys.el1[slot] = v),
    readWords: (cpu, r, i) => {
      const w = cpu.sys.el1Words;
      r[i] = w[2 * slot]! | 0;
      r[i + 1] = w[2 * slot + 1]! | 0;
    },
    writeWords: (cpu, lo, hi) => {
      const w = cpu.sys.el1Words;
      w[2 * slot] = lo;
      w[2 * slot + 1] = hi;
    },
    slotOffset: SLOT_EL1 + 8 * slot,
    ...extra,
    // A custom read or write has no word form here: it must not be bypassed.
    ...(extra.read ? { readWords: undefined, slotOffset: undefined } : {}),
    ...(extra.write ? { writeWords: undefined, slotOffset: undefined } : {}),
  };
}

/**
 * The word forms of a register kept as an unsigned 32-bit number in cpu.sys (ESR, SPSR): Linux's
 * exception entry and return read and write ELR/SPSR/ESR/FAR at every exception (~6 K a kit boot).
 */
function u32Words(field: 'esr1' | 'spsr1'): Pick<SysregDef, 'readWords' | 'writeWords'> {
  return {
    readWords: (cpu, r, i) => {
      r[i] = cpu.sys[field] | 0;
      r[i + 1] = 0;
    },
    writeWords: (cpu, lo) => void (cpu.sys[field] = lo >>> 0),
  };
}

/**
 * The word forms of a register kept as a 64-bit address in a number (vaOf: the signed value,
 * rounded to the nearest double as Number(BigInt) rounds it; hi * 2^32 + lo rounds the same).
 */
function vaWords(field: 'elr1' | 'far1'): Pick<SysregDef, 'readWords' | 'writeWords'> {
  return {
    readWords: (cpu, r, i) => {
      const v = cpu.sys[field];
      const hi = Math.floor(v / TWO32);
      r[i] = (v - hi * TWO32) | 0;
      r[i + 1] = hi | 0;
    },
    writeWords: (cpu, lo, hi) => void (cpu.sys[field] = (hi | 0) * TWO32 + (lo >>> 0)),
  };
}

function ro(name: string, e: number, value: (cpu: Cpu) => bigint, trapRead = 0): SysregDef {
  return { name, enc: e, minEl: 1, read: value, trapRead };
}

// ID_AA64PFR0_EL1: EL0..EL3 AArch64-only (1), FP/AdvSIMD 1 with half precision (FEAT_FP16, as
// A76/A55 have) or 0 (Armv8.0 cores), GIC sysregs per board, CSV2 = CSV3 = 1 (A76: not affected by
// Spectre-v2 / Meltdown, so Linux does not need KPTI).
function pfr0(cpu: Cpu): bigint {
  const gic = cpu.sys.identity.gicv3 ? 1n : 0n;
  return 0x1111n | idAa64pfr0Fp(cpu.decoder.features) | (gic << 24n) | (1n << 56n) | (1n << 60n);
}

// PARange 48 bits, ASIDBits 16, SNSMem, TGran16/64 not supported, TGran4 supported.
const ID_AA64MMFR0 = 0x5n | (2n << 4n) | (1n << 12n) | (0n << 20n) | (0xfn << 24n) | (0n << 28n);
// DebugVer 8.0 (6), PMUVer 1 (PMUv3: the cycle counter only, pmu.ts), BRPs 6, WRPs 4, CTX_CMPs 2.
const ID_AA64DFR0 = 0x6n | (1n << 8n) | (5n << 12n) | (3n << 20n) | (1n << 28n);
// Cortex-A76 caches: L1 I/D 64 KiB, L2 unified; CLIDR LoUU=1, LoC=2 (as reported by r4p0).
const CLIDR = 0x82000023n;
const CTR_EL0 = 0x8444c004n;

function ttbr(v: bigint): { base: number; asid: number } {
  return { base: Number(v & 0xfffffffffffen), asid: Number(v >> 48n) };
}

export const el1Sysregs: SysregDef[] = [
  // ---- identification (HCR_EL2.TID1/TID2/TID3 trap them) ----
  {
    name: 'MIDR_EL1',
    enc: enc(3, 0, 0, 0, 0),
    minEl: 1,
    read: (cpu) => BigInt(cpu.hypervisor !== null && cpu.el < 2 ? cpu.sys.vpidr >>> 0 : cpu.sys.identity.midr >>> 0),
  },
  {
    name: 'MPIDR_EL1',
    enc: enc(3, 0, 0, 0, 5),
    minEl: 1,
    read: (cpu) => (cpu.hypervisor !== null && cpu.el < 2 ? u64(cpu.sys.vmpidrHi, cpu.sys.vmpidrLo) : cpu.sys.identity.mpidr),
  },
  ro('REVIDR_EL1', enc(3, 0, 0, 0, 6), () => 0n, HCR.TID1),
  ro('AIDR_EL1', enc(3, 1, 0, 0, 7), () => 0n, HCR.TID1),
  ro('ID_AA64PFR0_EL1', enc(3, 0, 0, 4, 0), pfr0, HCR.TID3),
  ro('ID_AA64PFR1_EL1', enc(3, 0, 0, 4, 1), () => 0n, HCR.TID3),
  ro('ID_AA64ZFR0_EL1', enc(3, 0, 0, 4, 4), () => 0n, HCR.TID3),
  ro('ID_AA64SMFR0_EL1', enc(3, 0, 0, 4, 5), () => 0n, HCR.TID3),
  ro('ID_AA64DFR0_EL1', enc(3, 0, 0, 5, 0), () => ID_AA64DFR0, HCR.TID3),
  ro('ID_AA64DFR1_EL1', enc(3, 0, 0, 5, 1), () => 0n, HCR.TID3),
  ro('ID_AA64AFR0_EL1', enc(3, 0, 0, 5, 4), () => 0n, HCR.TID3),
  ro('ID_AA64AFR1_EL1', enc(3, 0, 0, 5, 5), () => 0n, HCR.TID3),
  ro('ID_AA64ISAR0_EL1', enc(3, 0, 0, 6, 0), (cpu) => idAa64isar0(cpu.decoder.features), HCR.TID3),
  ro('ID_AA64ISAR1_EL1', enc(3, 0, 0, 6, 1), (cpu) => idAa64isar1(cpu.decoder.features), HCR.TID3),
  ro('ID_AA64ISAR2_EL1', enc(3, 0, 0, 6, 2), () => 0n, HCR.TID3),
  ro('ID_AA64MMFR0_EL1', enc(3, 0, 0, 7, 0), () => ID_AA64MMFR0, HCR.TID3),
  ro('ID_AA64MMFR1_EL1', enc(3, 0, 0, 7, 1), (cpu) => idAa64mmfr1(cpu.decoder.features), HCR.TID3),
  ro('ID_AA64MMFR2_EL1', enc(3, 0, 0, 7, 2), () => 0n, HCR.TID3),
  ro('CLIDR_EL1', enc(3, 1, 0, 0, 1), () => CLIDR, HCR.TID2),
  ro('CCSIDR_EL1', enc(3, 1, 0, 0, 0), () => 0x701fe01an, HCR.TID2),
  valueReg('CSSELR_EL1', enc(3, 2, 0, 0, 0), El1Slot.CSSELR_EL1, 1, { trapRead: HCR.TID2, trapWrite: HCR.TID2 }),
  { name: 'CTR_EL0', enc: enc(3, 3, 0, 0, 1), minEl: 0, read: () => CTR_EL0, trapRead: HCR.TID2, constant: Number(CTR_EL0) },

  // ---- translation (HCR_EL2.TVM traps writes, TRVM reads) ----
  {
    name: 'SCTLR_EL1',
    enc: enc(3, 0, 1, 0, 0),
    minEl: 1,
    read: (cpu) => u64(cpu.sys.sctlrHi, cpu.sys.sctlr),
    write: (cpu, v) => {
      cpu.sys.sctlr = lo32(v);
      cpu.sys.sctlrHi = hi32(v);
      cpu.flushTlb();
    },
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  valueReg('ACTLR_EL1', enc(3, 0, 1, 0, 1), El1Slot.ACTLR_EL1, 1, { trapRead: HCR.TACR, trapWrite: HCR.TACR }),
  valueReg('CPACR_EL1', enc(3, 0, 1, 0, 2), El1Slot.CPACR_EL1),
  {
    name: 'TTBR0_EL1',
    enc: enc(3, 0, 2, 0, 0),
    minEl: 1,
    read: (cpu) => (BigInt(cpu.sys.asid0) << 48n) | BigInt(cpu.sys.ttbr0),
    write: (cpu, v) => {
      const t = ttbr(v);
      cpu.sys.ttbr0 = t.base;
      cpu.sys.asid0 = t.asid;
      cpu.flushTlb();
    },
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  {
    name: 'TTBR1_EL1',
    enc: enc(3, 0, 2, 0, 1),
    minEl: 1,
    read: (cpu) => (BigInt(cpu.sys.asid1) << 48n) | BigInt(cpu.sys.ttbr1),
    write: (cpu, v) => {
      const t = ttbr(v);
      const [base, asid] = [cpu.sys.ttbr1, cpu.sys.asid1];
      cpu.sys.ttbr1 = t.base;
      cpu.sys.asid1 = t.asid;
      cpu.switchTtbr1(base, asid, t.base, t.asid);
    },
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  {
    name: 'TCR_EL1',
    enc: enc(3, 0, 2, 0, 2),
    minEl: 1,
    read: (cpu) => u64(cpu.sys.tcrHi, cpu.sys.tcr),
    write: (cpu, v) => {
      // HA/HD (bits 39/40) are RES0 without FEAT_HAFDBS.
      cpu.sys.tcr = lo32(v);
      cpu.sys.tcrHi = hi32(v) & ~0x180;
      cpu.flushTlb();
    },
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  {
    name: 'MAIR_EL1',
    enc: enc(3, 0, 10, 2, 0),
    minEl: 1,
    read: (cpu) => u64(cpu.sys.mairHi, cpu.sys.mairLo),
    write: (cpu, v) => {
      cpu.sys.mairLo = lo32(v);
      cpu.sys.mairHi = hi32(v);
    },
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  valueReg('AMAIR_EL1', enc(3, 0, 10, 3, 0), El1Slot.AMAIR_EL1, 1, { trapRead: HCR.TRVM, trapWrite: HCR.TVM }),
  valueReg('CONTEXTIDR_EL1', enc(3, 0, 13, 0, 1), El1Slot.CONTEXTIDR_EL1, 1, { trapRead: HCR.TRVM, trapWrite: HCR.TVM }),
  valueReg('AFSR0_EL1', enc(3, 0, 5, 1, 0), El1Slot.AFSR0_EL1, 1, { trapRead: HCR.TRVM, trapWrite: HCR.TVM }),
  valueReg('AFSR1_EL1', enc(3, 0, 5, 1, 1), El1Slot.AFSR1_EL1, 1, { trapRead: HCR.TRVM, trapWrite: HCR.TVM }),
  valueReg('PAR_EL1', enc(3, 0, 7, 4, 0), El1Slot.PAR_EL1),

  // ---- exception state ----
  {
    name: 'ESR_EL1',
    enc: enc(3, 0, 5, 2, 0),
    minEl: 1,
    read: (cpu) => BigInt(cpu.sys.esr1 >>> 0),
    write: (cpu, v) => void (cpu.sys.esr1 = lo32(v)),
    ...u32Words('esr1'),
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  {
    name: 'FAR_EL1',
    enc: enc(3, 0, 6, 0, 0),
    minEl: 1,
    read: (cpu) => fromVa(cpu.sys.far1),
    write: (cpu, v) => void (cpu.sys.far1 = vaOf(v)),
    ...vaWords('far1'),
    trapRead: HCR.TRVM,
    trapWrite: HCR.TVM,
  },
  {
    name: 'VBAR_EL1',
    enc: enc(3, 0, 12, 0, 0),
    minEl: 1,
    read: (cpu) => fromVa(cpu.sys.vbar1),
    write: (cpu, v) => void (cpu.sys.vbar1 = vaOf(v & ~0x7ffn)),
  },
  {
    name: 'ELR_EL1',
    enc: enc(3, 0, 4, 0, 1),
    minEl: 1,
    read: (cpu) => fromVa(cpu.sys.elr1),
    write: (cpu, v) => void (cpu.sys.elr1 = vaOf(v)),
    ...vaWords('elr1'),
  },
  {
    name: 'SPSR_EL1',
    enc: enc(3, 0, 4, 0, 0),
    minEl: 1,
    read: (cpu) => BigInt(cpu.sys.spsr1 >>> 0),
    write: (cpu, v) => void (cpu.sys.spsr1 = lo32(v)),
    ...u32Words('spsr1'),
  },
  {
    name: 'SP_EL0',
    enc: enc(3, 0, 4, 1, 0),
    minEl: 1,
    // Accessible at EL1 only while SP_EL1 is selected (else UNDEFINED, ARM ARM C5.2.19).
    read: (cpu) => u64(cpu.sys.spEl0Hi, cpu.sys.spEl0Lo),
    write: (cpu, v) => {
      cpu.sys.spEl0Lo = lo32(v) | 0;
      cpu.sys.spEl0Hi = hi32(v) | 0;
    },
    readWords: (cpu, r, i) => {
      r[i] = cpu.sys.spEl0Lo;
      r[i + 1] = cpu.sys.spEl0Hi;
    },
    writeWords: (cpu, lo, hi) => {
      cpu.sys.spEl0Lo = lo | 0;
      cpu.sys.spEl0Hi = hi | 0;
    },
    slotOffset: SLOT_SP_EL0,
  },
  {
    name: 'CurrentEL',
    enc: enc(3, 0, 4, 2, 2),
    minEl: 1,
    read: (cpu) => BigInt(cpu.el << 2),
    readWords: (cpu, r, i) => {
      r[i] = cpu.el << 2;
      r[i + 1] = 0;
    },
  },
  {
    name: 'ISR_EL1',
    enc: enc(3, 0, 12, 1, 0),
    minEl: 1,
    read: (cpu) => {
      const routed = cpu.hypervisor !== null && cpu.el < 2;
      const hcr = routed ? cpu.sys.hcr : 0;
      const i = hcr & HCR.IMO ? cpu.virqLine || (hcr & HCR.VI) !== 0 : cpu.irqLine;
      const f = hcr & HCR.FMO ? cpu.vfiqLine || (hcr & HCR.VF) !== 0 : cpu.fiqLine;
      return BigInt((i ? 0x80 : 0) | (f ? 0x40 : 0));
    },
  },
  // ---- thread ids ----
  valueReg('TPIDR_EL1', enc(3, 0, 13, 0, 4), El1Slot.TPIDR_EL1),

  // ---- debug (ARM ARM D17.3): Linux resets breakpoints and the OS lock at boot; values are kept
  // per CPU, nothing is acted on (no breakpoints, watchpoints or debug state are modelled) ----
  valueReg('MDSCR_EL1', enc(2, 0, 0, 2, 2), El1Slot.MDSCR_EL1),
  valueReg('MDCCINT_EL1', enc(2, 0, 0, 2, 0), El1Slot.MDCCINT_EL1),
  // OSLAR_EL1 is write-only (MRS is UNDEFINED); bit 0 sets OSLSR_EL1.OSLK.
  { name: 'OSLAR_EL1', enc: enc(2, 0, 1, 0, 4), minEl: 1, write: (cpu, v) => void (cpu.sys.el1[El1Slot.OSLK] = v & 1n) },
  valueReg('OSDLR_EL1', enc(2, 0, 1, 3, 4), El1Slot.OSDLR_EL1),
  // OSLSR_EL1: OSLM = 0b10 (OS lock implemented, bits 3 and 0), OSLK in bit 1.
  ro('OSLSR_EL1', enc(2, 0, 1, 1, 4), (cpu) => 0x8n | (cpu.sys.el1[El1Slot.OSLK]! << 1n)),
  valueReg('DBGPRCR_EL1', enc(2, 0, 1, 4, 4), El1Slot.DBGPRCR_EL1),
  // The claim tag (8 bits): CLAIMSET writes set bits, CLAIMCLR writes clear them, both read it.
  {
    name: 'DBGCLAIMSET_EL1',
    enc: enc(2, 0, 7, 8, 6),
    minEl: 1,
    read: (cpu) => cpu.sys.el1[El1Slot.DBGCLAIM]!,
    write: (cpu, v) => void (cpu.sys.el1[El1Slot.DBGCLAIM] |= v & 0xffn),
  },
  {
    name: 'DBGCLAIMCLR_EL1',
    enc: enc(2, 0, 7, 9, 6),
    minEl: 1,
    read: (cpu) => cpu.sys.el1[El1Slot.DBGCLAIM]!,
    write: (cpu, v) => void (cpu.sys.el1[El1Slot.DBGCLAIM] &= ~v & 0xffn),
  },
  { name: 'MDCCSR_EL0', enc: enc(2, 3, 0, 1, 0), minEl: 0, read: () => 0n },
  ...[0, 1, 2, 3, 4, 5].flatMap((n) => [
    valueReg(`DBGBVR${n}_EL1`, enc(2, 0, 0, n, 4), El1Slot.DBGBVR0 + n),
    valueReg(`DBGBCR${n}_EL1`, enc(2, 0, 0, n, 5), El1Slot.DBGBCR0 + n),
  ]),
  ...[0, 1, 2, 3].flatMap((n) => [
    valueReg(`DBGWVR${n}_EL1`, enc(2, 0, 0, n, 6), El1Slot.DBGWVR0 + n),
    valueReg(`DBGWCR${n}_EL1`, enc(2, 0, 0, n, 7), El1Slot.DBGWCR0 + n),
  ]),
];

/**
 * The unallocated parts of the ID register space (op0=3, op1=0, CRn=0, CRm=1..7) read as zero at
 * EL1 (ARM ARM D17.1.3), which covers the AArch32 ID registers and future ID registers.
 */
export function isIdSpace(e: number): boolean {
  const op0 = e >>> 14;
  const op1 = (e >>> 11) & 7;
  const crn = (e >>> 7) & 15;
  const crm = (e >>> 3) & 15;
  return op0 === 3 && op1 === 0 && crn === 0 && crm >= 1 && crm <= 7;
}

/** ESR ISS for a trapped MSR/MRS/SYS (EC 0x18, ARM ARM D17.2.40). */
export function sysregTrapIss(e: number, rt: number, isRead: boolean): number {
  const op0 = e >>> 14;
  const op1 = (e >>> 11) & 7;
  const crn = (e >>> 7) & 15;
  const crm = (e >>> 3) & 15;
  const op2 = e & 7;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (isRead ? 1 : 0);
}

export { TWO32 };
