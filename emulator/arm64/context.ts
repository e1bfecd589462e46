// The EL1 context of a vCPU as a world switch saves and restores it (DESIGN.md "The seam between
// hardware and hypervisor": El2Cpu.save/restore in el2.ts). One fixed-size Uint32Array, laid out
// as Rust-Shyper's frames so that a snapshot is plain data:
//
//   ContextFrame     X0..X30, SPSR (the guest's PSTATE), ELR (the guest's PC), SP_EL0
//   system frame     SP_EL1, ELR_EL1, SPSR_EL1, SCTLR_EL1, TTBR0/1_EL1 (with ASIDs), TCR_EL1,
//                    MAIR_EL1, VBAR_EL1, ESR_EL1, FAR_EL1, CNTKCTL_EL1, then every value-only
//                    register of SystemState.el1 (TPIDR_EL0/EL1, TPIDRRO_EL0, CPACR, ACTLR, AMAIR,
//                    CONTEXTIDR, AFSR0/1, PAR, CSSELR, MDSCR and the debug registers; El1Slot)
//   FP frame         V0..V31, FPCR, FPSR (QC included: saturation sets it in place, simd-lanes.ts)
//   virtual timer    CNTV_CTL_EL0 (ENABLE, IMASK), CNTV_CVAL_EL0
//   monitor          the local exclusive monitor: address (-1 when open), size, value loaded
//
// Every 64-bit field is two words, low word first. PSTATE.PAN is not a separate field: it is
// SPSR bit 22, as in SPSR_EL2 (ARM ARM C5.2.18). A CPU without a timer (user mode) saves CNTKCTL
// and the virtual timer as zero and ignores them on restore.
//
// When: inside a trap, i.e. while the CPU is at EL2 (cpu.el === 2, see enterEl2 in exceptions.ts).
// Then the guest's PC and PSTATE are ELR_EL2/SPSR_EL2, which the EL2 port owns: saveEl1 takes them
// as arguments and restoreEl1 returns the context's, for the port to write into ELR_EL2/SPSR_EL2;
// the exception return that ends the trap then applies them. Neither function touches an EL2
// register (HCR, VTTBR, VTCR, CNTVOFF... are the hypervisor's).
//
// Stack pointers: enterEl2 has already stored the live SP (register slot 31) into the bank of
// the interrupted EL/SPSel, and the exception return from EL2 reloads slot 31 from the bank the
// restored PSTATE selects. So saveEl1 reads the banks (sys.spEl0*, sys.spEl1*) and restoreEl1
// writes them (and, for consistency while EL2 runs, slot 31 as the return will).

import type { Cpu } from './cpu.ts';
import type { El1Context } from './el2.ts';
import { setElSp } from './exceptions.ts';
import { FPCR, FPSR, SP } from './regs.ts';
import { El1Slot, SCTLR_RESET } from './sysstate.ts';

const TWO32 = 4294967296;

// ---- layout (word offsets) ----
let at = 0;
function field(words: number): number {
  const o = at;
  at += words;
  return o;
}

/** Word offsets of the fields (tests, snapshots, debuggers). */
export const CTX = {
  // ContextFrame (Rust-Shyper's Aarch64ContextFrame: gpr[31], spsr, elr, sp)
  X0: field(62),
  SPSR: field(2),
  ELR: field(2),
  SP_EL0: field(2),
  // system-register frame
  SP_EL1: field(2),
  ELR_EL1: field(2),
  SPSR_EL1: field(2),
  SCTLR_EL1: field(2),
  TTBR0_EL1: field(2),
  TTBR1_EL1: field(2),
  TCR_EL1: field(2),
  MAIR_EL1: field(2),
  VBAR_EL1: field(2),
  ESR_EL1: field(2),
  FAR_EL1: field(2),
  CNTKCTL_EL1: field(2),
  /** SystemState.el1: El1Slot k is at EL1_SLOTS + 2k. */
  EL1_SLOTS: field(2 * El1Slot.COUNT),
  // FP frame
  V0: field(128),
  FPCR: field(1),
  FPSR: field(1),
  // virtual timer
  CNTV_CTL_EL0: field(2),
  CNTV_CVAL_EL0: field(2),
  // local exclusive monitor
  EXCL_ADDR: field(2),
  EXCL_SIZE: field(2),
  EXCL_VALUE: field(4),
} as const;

/** Size of every El1Context in 32-bit words. */
export const CONTEXT_WORDS = at;

/** PSTATE of a fresh vCPU: EL1h (M = 0b0101), D, A, I, F masked (ARM ARM D1.9 reset state). */
export const PSTATE_EL1H_MASKED = 0x3c5;

/** A saved EL1 context (El1Context of el2.ts) with accessors for the fields a loader sets. */
export class El1ContextData implements El1Context {
  readonly words = new Uint32Array(CONTEXT_WORDS);

  /** A fresh vCPU: reset state (resetEl1Context). */
  constructor() {
    resetEl1Context(this);
  }

  /** The guest PC (ELR in the ContextFrame), a canonical virtual address as a signed number. */
  get pc(): number {
    return getNum(this.words, CTX.ELR);
  }
  set pc(v: number) {
    putNum(this.words, CTX.ELR, v);
  }
  /** The guest PSTATE as an SPSR value (SPSR in the ContextFrame). */
  get pstate(): number {
    return this.words[CTX.SPSR]!;
  }
  set pstate(v: number) {
    this.words[CTX.SPSR] = v;
    this.words[CTX.SPSR + 1] = 0;
  }
  /** X<n>, n = 0..30. */
  x(n: number): bigint {
    const w = this.words;
    return (BigInt(w[CTX.X0 + 2 * n + 1]!) << 32n) | BigInt(w[CTX.X0 + 2 * n]!);
  }
  setX(n: number, v: bigint): void {
    const w = this.words;
    w[CTX.X0 + 2 * n] = Number(v & 0xffffffffn);
    w[CTX.X0 + 2 * n + 1] = Number((v >> 32n) & 0xffffffffn);
  }
}

/**
 * Reset state of a fresh vCPU (ARM ARM D1.9, "PE state on reset to AArch64 state"): PC 0, EL1h
 * with DAIF masked, MMU and caches off (SCTLR_EL1 = its RES1 bits), everything else zero, the
 * exclusive monitor open. The hypervisor then sets the entry PC and X0 as its boot protocol says.
 */
export function resetEl1Context(ctx: El1Context): void {
  const w = checked(ctx);
  w.fill(0);
  w[CTX.SPSR] = PSTATE_EL1H_MASKED;
  w[CTX.SCTLR_EL1] = SCTLR_RESET;
  putNum(w, CTX.EXCL_ADDR, -1);
}

/**
 * Save the EL1 context of `cpu` into ctx. `pc`/`pstate` are the guest's PC and PSTATE: at EL2,
 * ELR_EL2 and SPSR_EL2 (cpu.sys.elr2 / spsr2, unless the hypervisor has changed them). Allowed
 * below EL2 too (a native-mode snapshot): the live SP is first stored into its bank.
 */
export function saveEl1(cpu: Cpu, ctx: El1Context, pc: number, pstate: number): void {
  const w = checked(ctx);
  const s = cpu.sys;
  if (cpu.el < 2) setElSp(cpu, cpu.el, cpu.spsel); // stores slot 31 into its bank, changes nothing

  const u = cpu.regs.u;
  for (let i = 0; i < 62; i++) w[CTX.X0 + i] = u[i]!;
  w[CTX.SPSR] = pstate >>> 0;
  w[CTX.SPSR + 1] = 0;
  putNum(w, CTX.ELR, pc);
  w[CTX.SP_EL0] = s.spEl0Lo;
  w[CTX.SP_EL0 + 1] = s.spEl0Hi;

  w[CTX.SP_EL1] = s.spEl1Lo;
  w[CTX.SP_EL1 + 1] = s.spEl1Hi;
  putNum(w, CTX.ELR_EL1, s.elr1);
  put32(w, CTX.SPSR_EL1, s.spsr1);
  w[CTX.SCTLR_EL1] = s.sctlr;
  w[CTX.SCTLR_EL1 + 1] = s.sctlrHi;
  w[CTX.TTBR0_EL1] = s.ttbr0 % TWO32;
  w[CTX.TTBR0_EL1 + 1] = Math.floor(s.ttbr0 / TWO32) | (s.asid0 << 16);
  w[CTX.TTBR1_EL1] = s.ttbr1 % TWO32;
  w[CTX.TTBR1_EL1 + 1] = Math.floor(s.ttbr1 / TWO32) | (s.asid1 << 16);
  w[CTX.TCR_EL1] = s.tcr;
  w[CTX.TCR_EL1 + 1] = s.tcrHi;
  w[CTX.MAIR_EL1] = s.mairLo;
  w[CTX.MAIR_EL1 + 1] = s.mairHi;
  putNum(w, CTX.VBAR_EL1, s.vbar1);
  put32(w, CTX.ESR_EL1, s.esr1);
  putNum(w, CTX.FAR_EL1, s.far1);
  const timer = cpu.timer;
  put32(w, CTX.CNTKCTL_EL1, timer !== null ? timer.cntkctl : 0);
  const slots = s.el1Words;
  for (let i = 0; i < slots.length; i++) w[CTX.EL1_SLOTS + i] = slots[i]!;

  const vs = cpu.regs.vs;
  for (let i = 0; i < 128; i++) w[CTX.V0 + i] = vs[i]!;
  w[CTX.FPCR] = cpu.r[FPCR]!;
  w[CTX.FPSR] = cpu.r[FPSR]!;

  put32(w, CTX.CNTV_CTL_EL0, timer !== null ? timer.cntvCtl : 0);
  const cval = timer !== null ? timer.cntvCval : 0n;
  w[CTX.CNTV_CVAL_EL0] = Number(cval & 0xffffffffn);
  w[CTX.CNTV_CVAL_EL0 + 1] = Number(cval >> 32n);

  putNum(w, CTX.EXCL_ADDR, cpu.exclusiveAddr);
  put32(w, CTX.EXCL_SIZE, cpu.exclusiveSize);
  const ev = cpu.exclusiveValue;
  for (let i = 0; i < 4; i++) w[CTX.EXCL_VALUE + i] = ev[i]!;
}

/**
 * Load ctx into the EL1 state of `cpu`, which must be at EL2 (inside a trap). Returns the
 * context's PC and PSTATE for the caller to put in ELR_EL2/SPSR_EL2: the exception return from EL2
 * applies them (and, as ARM ARM AArch64.ExceptionReturn does, clears the local exclusive monitor
 * restored here). Flushes the soft TLBs, since the translation registers change.
 */
export function restoreEl1(cpu: Cpu, ctx: El1Context): { pc: number; pstate: number } {
  const w = checked(ctx);
  if (cpu.el !== 2) throw new Error('restoreEl1: the CPU must be at EL2 (inside a trap); its exception return applies PC/PSTATE');
  const s = cpu.sys;

  const u = cpu.regs.u;
  for (let i = 0; i < 62; i++) u[i] = w[CTX.X0 + i]!;
  const pstate = w[CTX.SPSR]!;
  const pc = getNum(w, CTX.ELR);
  s.spEl0Lo = w[CTX.SP_EL0]! | 0;
  s.spEl0Hi = w[CTX.SP_EL0 + 1]! | 0;

  s.spEl1Lo = w[CTX.SP_EL1]! | 0;
  s.spEl1Hi = w[CTX.SP_EL1 + 1]! | 0;
  // The guest's SP sits in slot 31 while EL2 runs (exceptions.ts); the return reloads it anyway.
  const onSpEl1 = ((pstate >>> 2) & 3) === 1 && (pstate & 1) === 1;
  cpu.r[2 * SP] = onSpEl1 ? s.spEl1Lo : s.spEl0Lo;
  cpu.r[2 * SP + 1] = onSpEl1 ? s.spEl1Hi : s.spEl0Hi;
  s.elr1 = getNum(w, CTX.ELR_EL1);
  s.spsr1 = w[CTX.SPSR_EL1]!;
  s.sctlr = w[CTX.SCTLR_EL1]!;
  s.sctlrHi = w[CTX.SCTLR_EL1 + 1]!;
  s.ttbr0 = (w[CTX.TTBR0_EL1 + 1]! & 0xffff) * TWO32 + w[CTX.TTBR0_EL1]!;
  s.asid0 = w[CTX.TTBR0_EL1 + 1]! >>> 16;
  s.ttbr1 = (w[CTX.TTBR1_EL1 + 1]! & 0xffff) * TWO32 + w[CTX.TTBR1_EL1]!;
  s.asid1 = w[CTX.TTBR1_EL1 + 1]! >>> 16;
  s.tcr = w[CTX.TCR_EL1]!;
  s.tcrHi = w[CTX.TCR_EL1 + 1]!;
  s.mairLo = w[CTX.MAIR_EL1]!;
  s.mairHi = w[CTX.MAIR_EL1 + 1]!;
  s.vbar1 = getNum(w, CTX.VBAR_EL1);
  s.esr1 = w[CTX.ESR_EL1]!;
  s.far1 = getNum(w, CTX.FAR_EL1);
  const timer = cpu.timer;
  if (timer !== null) timer.cntkctl = w[CTX.CNTKCTL_EL1]!;
  const slots = s.el1Words;
  for (let i = 0; i < slots.length; i++) slots[i] = w[CTX.EL1_SLOTS + i]!;

  const vs = cpu.regs.vs;
  for (let i = 0; i < 128; i++) vs[i] = w[CTX.V0 + i]!;
  cpu.r[FPCR] = w[CTX.FPCR]!;
  cpu.r[FPSR] = w[CTX.FPSR]!;

  if (timer !== null) {
    const cval = (BigInt(w[CTX.CNTV_CVAL_EL0 + 1]!) << 32n) | BigInt(w[CTX.CNTV_CVAL_EL0]!);
    timer.setVirtualTimer(w[CTX.CNTV_CTL_EL0]!, cval);
  }

  cpu.exclusiveAddr = getNum(w, CTX.EXCL_ADDR);
  cpu.exclusiveSize = w[CTX.EXCL_SIZE]!;
  const ev = cpu.exclusiveValue;
  for (let i = 0; i < 4; i++) ev[i] = w[CTX.EXCL_VALUE + i]! | 0;

  // SCTLR/TTBR/TCR changed: cached translations of the previous context are stale.
  cpu.flushTlb();
  return { pc, pstate };
}

/** Put `cpu` in the reset state of a fresh vCPU (at EL2, as restoreEl1); returns its PC/PSTATE. */
export function resetEl1(cpu: Cpu): { pc: number; pstate: number } {
  return restoreEl1(cpu, RESET);
}
const RESET = new El1ContextData();

function checked(ctx: El1Context): Uint32Array {
  const w = ctx.words;
  if (w.length !== CONTEXT_WORDS) throw new Error(`El1Context of ${w.length} words, expected ${CONTEXT_WORDS}`);
  return w;
}

/** A signed integer number (|v| < 2^53: addresses as the CPU keeps them) as two words. */
function putNum(w: Uint32Array, o: number, v: number): void {
  w[o] = v % TWO32; // ToUint32 wraps negative remainders
  w[o + 1] = Math.floor(v / TWO32);
}
/** Two words as a signed 64-bit value, exact while it fits 53 bits (canonical addresses, -1). */
function getNum(w: Uint32Array, o: number): number {
  return (w[o + 1]! | 0) * TWO32 + w[o]!;
}
/** A 32-bit register in a 64-bit field (upper half zero). */
function put32(w: Uint32Array, o: number, v: number): void {
  w[o] = v;
  w[o + 1] = 0;
}
