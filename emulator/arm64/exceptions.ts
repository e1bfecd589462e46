// The AArch64 exception model for EL0/EL1 software and the EL2 port (ARM ARM D1.10-D1.11).
//
// EL1 is guest software executing on the emulated CPU. EL2 is the hypervisor, which here is
// TypeScript: when the architecture takes an exception to EL2, the CPU records exactly what
// hardware would (ESR_EL2, FAR_EL2, HPFAR_EL2, ELR_EL2, SPSR_EL2), calls the attached
// Hypervisor, and then performs the exception return from ELR_EL2/SPSR_EL2 — which the
// hypervisor may have changed (skip the trapping instruction, enter another vector...).
// EL3 is likewise a Firmware object (PSCI over SMC in native mode).

import type { Cpu } from './cpu.ts';
import { EC } from './ec.ts';
import { SP } from './regs.ts';
import { HCR, SCTLR } from './sysstate.ts';

export const enum ExceptionKind {
  Sync = 0,
  Irq = 1,
  Fiq = 2,
  SError = 3,
}

/**
 * What the CPU calls at EL2 (implemented by the EL2 port adapter, el2-cpu.ts, which hands EL2
 * software the narrow El2Cpu view of el2.ts; tests of the exception model may implement it).
 */
export interface Hypervisor {
  /** Synchronous exception to EL2 (trap, HVC, stage-2 abort): syndrome in cpu.sys.esr2/far2/hpfar2. */
  sync(cpu: Cpu): void;
  /** Physical IRQ/FIQ routed to EL2 by HCR_EL2.IMO/FMO, or asserted while parked at EL2. */
  irq(cpu: Cpu): void;
  fiq(cpu: Cpu): void;
  /** The CPU was powered on at EL2 (El2Machine.startCpu). */
  start?(cpu: Cpu): void;
}

/** EL3 firmware: answers SMC (and, when there is no EL2 software, HVC) — PSCI in native mode. */
export interface Firmware {
  smc(cpu: Cpu, imm16: number): void;
  hvc?(cpu: Cpu, imm16: number): void;
}

// SPSR/PSTATE bit positions (ARM ARM C5.2.18).
const SPSR_PAN = 1 << 22;
const SPSR_IL = 1 << 20;
const DAIF_MASK = 0x3c0;

/** PSTATE as an SPSR value for the current EL (AArch64 state). */
export function currentSpsr(cpu: Cpu): number {
  const m = (cpu.el << 2) | (cpu.el === 0 ? 0 : cpu.spsel);
  return (cpu.nzcv | (cpu.sys.pan ? SPSR_PAN : 0) | cpu.daif | m) >>> 0;
}

/** Save the live SP (register slot 31) into the bank the current EL/SPSel uses. */
function saveSp(cpu: Cpu): void {
  const r = cpu.r;
  const s = cpu.sys;
  if (cpu.el === 1 && cpu.spsel === 1) {
    s.spEl1Lo = r[2 * SP]!;
    s.spEl1Hi = r[2 * SP + 1]!;
  } else if (cpu.el <= 1) {
    s.spEl0Lo = r[2 * SP]!;
    s.spEl0Hi = r[2 * SP + 1]!;
  }
}

function loadSp(cpu: Cpu): void {
  const r = cpu.r;
  const s = cpu.sys;
  if (cpu.el === 1 && cpu.spsel === 1) {
    r[2 * SP] = s.spEl1Lo;
    r[2 * SP + 1] = s.spEl1Hi;
  } else {
    r[2 * SP] = s.spEl0Lo;
    r[2 * SP + 1] = s.spEl0Hi;
  }
}

/** Change EL and/or SPSel, banking the stack pointer. */
export function setElSp(cpu: Cpu, el: number, spsel: number): void {
  saveSp(cpu);
  cpu.el = el;
  cpu.spsel = spsel;
  loadSp(cpu);
  cpu.setTlbContext(el);
}

/** Exception entry to EL1 (ARM ARM D1.10.2 AArch64.TakeException). */
export function enterEl1(cpu: Cpu, kind: ExceptionKind, ec: number, iss: number, far: number, ret: number): void {
  const s = cpu.sys;
  const fromEl = cpu.el;
  s.spsr1 = currentSpsr(cpu);
  s.elr1 = ret;
  if (kind === ExceptionKind.Sync) {
    // IL = 1: every A64 instruction is 32 bits.
    s.esr1 = ((ec << 26) | (1 << 25) | (iss & 0x1ffffff)) >>> 0;
    if (ec === EC.DABT_LOWER || ec === EC.DABT_SAME || ec === EC.IABT_LOWER || ec === EC.IABT_SAME || ec === EC.PC_ALIGN || ec === EC.WATCH_LOWER || ec === EC.WATCH_SAME) {
      s.far1 = far;
    }
  }
  let offset = fromEl === 0 ? 0x400 : cpu.spsel === 1 ? 0x200 : 0;
  offset += kind * 0x80;
  setElSp(cpu, 1, 1);
  cpu.daif = DAIF_MASK;
  // SCTLR_EL1.SPAN is RES1 on a core without FEAT_PAN: PSTATE.PAN is then never set.
  if ((s.sctlr & SCTLR.SPAN) === 0 && cpu.decoder.features.has('PAN')) s.pan = 1;
  cpu.exclusiveAddr = -1;
  cpu.mmu.unprivileged = false;
  cpu.stall += cpu.exceptionStall;
  cpu.nextPc = s.vbar1 + offset;
  cpu.pc = cpu.nextPc;
}

/** Exception return (ERET from EL1, or the hypervisor's return from EL2). */
export function exceptionReturn(cpu: Cpu, spsr: number, elr: number): void {
  let el = (spsr >>> 2) & 3;
  let spsel = spsr & 1;
  // Returning to AArch32 or to a higher EL is an illegal exception return: stay, set PSTATE.IL.
  const illegal = (spsr & 0x10) !== 0 || el > (cpu.el === 2 ? 1 : cpu.el) || (el === 0 && spsel === 1);
  if (illegal) {
    el = cpu.el;
    spsel = cpu.spsel;
  }
  cpu.nzcv = spsr & 0xf0000000;
  cpu.daif = spsr & DAIF_MASK;
  cpu.sys.pan = (spsr & SPSR_PAN) !== 0 && cpu.decoder.features.has('PAN') ? 1 : 0;
  cpu.illegalState = illegal || (spsr & SPSR_IL) !== 0;
  if (cpu.el === 2) {
    // Leaving the hypervisor: EL2 has no stack bank here, load the target's SP.
    cpu.el = el;
    cpu.spsel = spsel;
    loadSp(cpu);
    cpu.setTlbContext(el);
  } else {
    setElSp(cpu, el, spsel);
  }
  cpu.exclusiveAddr = -1;
  cpu.stall += cpu.exceptionStall;
  cpu.nextPc = elr;
  cpu.pc = elr;
  cpu.exitRequest = 1; // re-evaluate interrupts under the new mask
}

/**
 * Exception entry to EL2: record the syndrome, run the hypervisor, return from EL2.
 * The guest's SP stays in slot 31 while EL2 runs; the hypervisor reads it through the port.
 */
export function enterEl2(cpu: Cpu, kind: ExceptionKind, ec: number, iss: number, far: number, hpfar: number, ret: number): void {
  const s = cpu.sys;
  const hv = cpu.hypervisor;
  if (hv === null) throw new Error('exception routed to EL2 with no hypervisor attached');
  s.spsr2 = currentSpsr(cpu);
  s.elr2 = ret;
  if (kind === ExceptionKind.Sync) {
    s.esr2 = ((ec << 26) | (1 << 25) | (iss & 0x1ffffff)) >>> 0;
    s.far2 = far;
    s.hpfar2 = hpfar;
  }
  saveSp(cpu);
  cpu.el = 2;
  cpu.mmu.unprivileged = false;
  cpu.stall += cpu.exceptionStall;
  runAtEl2(cpu, kind);
}

/**
 * Run EL2 software on a CPU that is at EL2, then leave EL2: the exception return from
 * ELR_EL2/SPSR_EL2, or, when the software parked the CPU (EL2 WFI), stay at EL2 waiting for an
 * interrupt. `start` is the power-on entry (no exception syndrome).
 */
export function runAtEl2(cpu: Cpu, kind: ExceptionKind | 'start'): void {
  const hv = cpu.hypervisor!;
  cpu.el2Parked = false;
  try {
    if (kind === 'start') hv.start?.(cpu);
    else if (kind === ExceptionKind.Sync) hv.sync(cpu);
    else if (kind === ExceptionKind.Irq) hv.irq(cpu);
    else hv.fiq(cpu);
  } finally {
    if (cpu.el2Parked) {
      cpu.waiting = true;
      cpu.exitRequest = 1;
    } else if (cpu.el === 2) exceptionReturn(cpu, cpu.sys.spsr2, cpu.sys.elr2);
  }
}

/** Is EL2 "there" for the guest, i.e. are HCR_EL2 controls in force? */
export function el2Active(cpu: Cpu): boolean {
  return cpu.hypervisor !== null && cpu.el < 2;
}

/**
 * Take the highest-priority pending, unmasked interrupt, if any (ARM ARM D1.13.4).
 * Physical IRQ/FIQ go to EL2 when HCR_EL2.IMO/FMO route them there, regardless of PSTATE.I/F
 * (EL2 is above the current EL); otherwise to EL1 when unmasked. Virtual IRQ/FIQ exist only
 * while routed, come from HCR_EL2.VI/VF or the GIC virtual CPU interface, and go to EL1.
 */
export function takePendingInterrupt(cpu: Cpu): boolean {
  const hcr = el2Active(cpu) ? cpu.sys.hcr : 0;
  const maskI = (cpu.daif & 0x80) !== 0;
  const maskF = (cpu.daif & 0x40) !== 0;
  const ret = cpu.pc;
  if (cpu.fiqLine) {
    if (hcr & HCR.FMO) return routeEl2(cpu, ExceptionKind.Fiq, ret);
    if (!maskF) return routeEl1(cpu, ExceptionKind.Fiq, ret);
  }
  if (cpu.irqLine) {
    if (hcr & HCR.IMO) return routeEl2(cpu, ExceptionKind.Irq, ret);
    if (!maskI) return routeEl1(cpu, ExceptionKind.Irq, ret);
  }
  if (hcr & HCR.FMO && !maskF && (cpu.vfiqLine || hcr & HCR.VF)) return routeEl1(cpu, ExceptionKind.Fiq, ret);
  if (hcr & HCR.IMO && !maskI && (cpu.virqLine || hcr & HCR.VI)) return routeEl1(cpu, ExceptionKind.Irq, ret);
  if (hcr & HCR.AMO && (cpu.daif & 0x100) === 0 && hcr & HCR.VSE) {
    cpu.sys.hcr &= ~HCR.VSE; // the virtual SError is consumed when taken
    return routeEl1(cpu, ExceptionKind.SError, ret);
  }
  return false;
}

function routeEl1(cpu: Cpu, kind: ExceptionKind, ret: number): true {
  enterEl1(cpu, kind, 0, 0, 0, ret);
  return true;
}

function routeEl2(cpu: Cpu, kind: ExceptionKind, ret: number): true {
  enterEl2(cpu, kind, 0, 0, 0, 0, ret);
  return true;
}

/** Any interrupt asserted toward this CPU, masked or not: what wakes WFI (ARM ARM D1.16.2). */
export function interruptAsserted(cpu: Cpu): boolean {
  const hcr = el2Active(cpu) ? cpu.sys.hcr : 0;
  return (
    cpu.irqLine ||
    cpu.fiqLine ||
    ((hcr & HCR.IMO) !== 0 && (cpu.virqLine || (hcr & HCR.VI) !== 0)) ||
    ((hcr & HCR.FMO) !== 0 && (cpu.vfiqLine || (hcr & HCR.VF) !== 0))
  );
}

/**
 * Route a synchronous exception raised at EL0/EL1 (ARM ARM D1.10.1): to EL2 when the hypervisor
 * traps it (HVC, and classes the caller already decided are EL2 traps), else to EL1.
 */
export function takeSyncException(cpu: Cpu, ec: number, iss: number, far: number, ret: number): void {
  if (ec === EC.HVC64) {
    if (cpu.hypervisor !== null) return enterEl2(cpu, ExceptionKind.Sync, ec, iss, 0, 0, ret);
    if (cpu.firmware?.hvc) return cpu.firmware.hvc(cpu, iss & 0xffff);
    return enterEl1(cpu, ExceptionKind.Sync, EC.UNKNOWN, 0, 0, cpu.pc);
  }
  if (ec === EC.SMC64) {
    if (cpu.hypervisor !== null && (cpu.sys.hcr & HCR.TSC) !== 0) return enterEl2(cpu, ExceptionKind.Sync, ec, iss, 0, 0, cpu.pc);
    if (cpu.firmware) return cpu.firmware.smc(cpu, iss & 0xffff);
    return enterEl1(cpu, ExceptionKind.Sync, EC.UNKNOWN, 0, 0, cpu.pc);
  }
  // HCR_EL2.TGE would route EL0 exceptions to EL2; the hypervisor never sets it (no host EL0).
  enterEl1(cpu, ExceptionKind.Sync, ec, iss, far, ret);
}

/**
 * Instruction syndrome for a data abort taken to EL2 (ESR_EL2.ISS ISV/SAS/SSE/SRT/SF/AR,
 * ARM ARM D17.2.40): valid only for single general-purpose register loads and stores without
 * writeback, exactly as hardware reports it, so the hypervisor can emulate MMIO.
 */
export function dataAbortSyndromeFor(word: number): number {
  const size = word >>> 30;
  let load: boolean, signed = false, sf: boolean, ar = false;
  const rt = word & 31;
  if ((word & 0x3b000000) === 0x39000000 || (word & 0x3b200c00) === 0x38000000 || (word & 0x3b200c00) === 0x38200800 || (word & 0x3b200c00) === 0x38000800) {
    if (word & (1 << 26)) return 0; // SIMD&FP register
    const opc = (word >>> 22) & 3;
    if (opc === 0) {
      load = false;
      sf = size === 3;
    } else if (opc === 1) {
      load = true;
      sf = size === 3;
    } else {
      if (size === 3) return 0; // PRFM / unallocated
      load = true;
      signed = true;
      sf = opc === 2;
    }
  } else if ((word & 0x3fa08000) === 0x08808000) {
    // LDAR/STLR (o2=1, o1=0, o0=1)
    load = (word & (1 << 22)) !== 0;
    sf = size === 3;
    ar = true;
  } else {
    return 0;
  }
  void load;
  return (1 << 24) | (size << 22) | (signed ? 1 << 21 : 0) | (rt << 16) | (sf ? 1 << 15 : 0) | (ar ? 1 << 14 : 0);
}
