// Branches, exception generation and system instructions (ARM ARM C4.1.87).
import type { Cpu } from '../cpu.ts';
import { EC } from '../ec.ts';
import { SP } from '../regs.ts';
import { condHolds, addrOf, setAddr, toBig, fromBig } from './int-alu.ts';
import { readSysreg, readSysregWords, writeSysreg, writeSysregWords, sysregDef } from '../sysregs.ts';
import { setElSp } from '../exceptions.ts';
import { HCR, SCTLR } from '../sysstate.ts';
import { sysregTrapIss } from '../sysregs-el1.ts';
import { Access } from '../memory.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export function b(cpu: Cpu, f: F): void {
  cpu.nextPc = cpu.pc + f.off;
}
export function bl(cpu: Cpu, f: F): void {
  setAddr(cpu.r, 30, cpu.pc + 4);
  cpu.nextPc = cpu.pc + f.off;
}
export function bcond(cpu: Cpu, f: F): void {
  if (condHolds(cpu.r, f.cond)) cpu.nextPc = cpu.pc + f.off;
}
export function cbz64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const zero = r[2 * f.rt] === 0 && r[2 * f.rt + 1] === 0;
  if (zero !== f.nz) cpu.nextPc = cpu.pc + f.off;
}
export function cbz32(cpu: Cpu, f: F): void {
  if ((cpu.r[2 * f.rt] === 0) !== f.nz) cpu.nextPc = cpu.pc + f.off;
}
export function tbz(cpu: Cpu, f: F): void {
  const w = cpu.r[2 * f.rt + f.half]!;
  if ((((w >>> f.bit) & 1) === 1) === f.nz) cpu.nextPc = cpu.pc + f.off;
}
export function br(cpu: Cpu, f: F): void {
  cpu.nextPc = addrOf(cpu.r, f.rn);
}
export function blr(cpu: Cpu, f: F): void {
  const target = addrOf(cpu.r, f.rn);
  setAddr(cpu.r, 30, cpu.pc + 4);
  cpu.nextPc = target;
}
export function eret(cpu: Cpu): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  cpu.eret();
}

export function svc(cpu: Cpu, f: F): void {
  cpu.exceptionCall(EC.SVC64, f.imm16);
}
export function hvc(cpu: Cpu, f: F): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  cpu.exceptionCall(EC.HVC64, f.imm16);
}
export function smc(cpu: Cpu, f: F): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  cpu.exceptionCall(EC.SMC64, f.imm16);
}
export function brk(cpu: Cpu, f: F): void {
  cpu.exceptionCall(EC.BRK64, f.imm16);
}
export function undef(cpu: Cpu): void {
  cpu.raiseUndefined();
}
export function nop(): void {}

export function wfi(cpu: Cpu): void {
  cpu.waitForInterrupt(false);
}
export function wfe(cpu: Cpu): void {
  cpu.waitForInterrupt(true);
}
export function sev(cpu: Cpu): void {
  cpu.eventRegister = true;
}
export function clrex(cpu: Cpu): void {
  cpu.exclusiveAddr = -1;
}

/** MSR (immediate) to PSTATE fields: DAIFSet/DAIFClr, SPSel, PAN. */
export function msrImm(cpu: Cpu, f: F): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  switch (f.field) {
    case 'daifset':
      cpu.daif |= f.crm << 6;
      break;
    case 'daifclr':
      cpu.daif &= ~(f.crm << 6);
      // The block ends so that an interrupt this unmasks is taken at the next instruction; with
      // none asserted (the kernel's irqrestore, ~37 K times in a kit boot) nothing can be, until
      // something asserts one, which ends the block then.
      if (cpu.mayTakeInterrupt()) cpu.exitRequest = 1;
      break;
    case 'spsel':
      setElSp(cpu, cpu.el, f.crm & 1);
      break;
    case 'pan':
      cpu.sys.pan = f.crm & 1;
      cpu.flushTlb();
      break;
  }
}

export function mrs(cpu: Cpu, f: F): void {
  if (readSysregWords(cpu, f.def, cpu.r, 2 * f.rtw)) return;
  const v = readSysreg(cpu, f.enc, f.def, f.rt);
  fromBig(cpu.r, f.rtw, v);
}
/**
 * MRS of a counter (sysregs.ts isTimedSysreg): unless it is first in its block, end the block
 * before it (uncounted) and run it again first in the next, where the time is exact.
 */
export function mrsTimed(cpu: Cpu, f: F): void {
  if (cpu.timedReadPc !== cpu.pc) {
    cpu.timedReadPc = cpu.pc;
    cpu.instret--; // the run loop counts this attempt; the retry is the real one
    cpu.nextPc = cpu.pc;
    cpu.exitRequest = 1;
    return;
  }
  cpu.timedReadPc = -1;
  mrs(cpu, f);
}
export function msr(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (writeSysregWords(cpu, f.enc, f.def, r[2 * f.rtr]!, r[2 * f.rtr + 1]!)) return;
  writeSysreg(cpu, f.enc, f.def, f.rt, toBig(r[2 * f.rtr]!, r[2 * f.rtr + 1]!));
}

/** DC ZVA: zero the 64-byte block (DCZID_EL0.BS = 4 words = 2^4 * 4 bytes). */
export function dcZva(cpu: Cpu, f: F): void {
  if (cpu.el === 0 && (cpu.exceptionHook === null && (cpu.sys.sctlr & SCTLR.DZE) === 0)) cpu.raiseUndefined();
  if (cpu.hcrTraps(HCR.TDZ)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(f.enc, f.rt, false), 0, 0, cpu.pc);
  const va = addrOf(cpu.r, f.rtr);
  cpu.zeroBlock(va - (va & 63), 64);
}

/** Cache maintenance by VA to the point of coherency/unification: no caches are modelled, but the address is checked as a read. */
export function dcByVa(cpu: Cpu, f: F): void {
  if (cpu.el === 0 && f.el1Only) cpu.raiseUndefined();
  cpu.probeRead(addrOf(cpu.r, f.rtr), 1);
}

/** Set/way and whole-cache operations, EL1 only; trapped by HCR_EL2.TSW. */
export function cacheEl1(cpu: Cpu, f: F): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  if (f.setWay && cpu.hcrTraps(HCR.TSW)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(f.enc, f.rt, false), 0, 0, cpu.pc);
}

/**
 * IC IALLU, IC IALLUIS, IC IVAU. Decoded code is already dropped by every write to its page
 * (code-cache.ts), so no cache needs cleaning here; the instruction ends the block so the next
 * fetch re-translates and re-checks its page (the ISB software issues next ends it too).
 * IC IALLU/IALLUIS are EL1-only; IC IVAU at EL0 traps to EL1 unless SCTLR_EL1.UCI; all three
 * trap to EL2 under HCR_EL2.TPU.
 */
export function icInvalidate(cpu: Cpu, f: F): void {
  if (cpu.el === 0 && f.el1Only) cpu.raiseUndefined();
  if (cpu.exceptionHook === null) {
    // (User mode, with a hook instead of EL1 software: IC IVAU is allowed, as Linux sets UCI.)
    if (cpu.el === 0 && (cpu.sys.sctlr & SCTLR.UCI) === 0) cpu.raise(EC.SYSREG, sysregTrapIss(f.enc, f.rt, false), 0, cpu.pc);
    if (cpu.hcrTraps(HCR.TPU)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(f.enc, f.rt, false), 0, 0, cpu.pc);
  }
  cpu.exitRequest = 1;
}

/**
 * ISB: a context synchronization event. What it synchronizes for instruction fetch already ends
 * the block where it happens (MMU register writes flush the TLBs, stores into code and IC
 * invalidation drop decoded pages); what is left is interrupts: one asserted meanwhile (a GIC
 * or timer register write, an unmask) is taken here, at the ISB, so the block ends when one is
 * asserted. Otherwise the block goes on: ending it would change nothing the guest sees, and
 * kernels issue an ISB every few thousand instructions (~250 K in a distribution kernel's boot).
 */
export function isb(cpu: Cpu): void {
  if (cpu.mayTakeInterrupt()) cpu.exitRequest = 1;
}

export function tlbi(cpu: Cpu, f: F): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  if (cpu.hcrTraps(HCR.TTLB)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(f.enc, f.rt, false), 0, 0, cpu.pc);
  let pn: number | null = null;
  if (f.byVa) {
    // Xt[43:0] is VA[55:12]: the page number, negative for the TTBR1 range (VA[55] set).
    const r = cpu.r;
    pn = ((r[2 * f.rtr + 1]! << 20) >> 20) * 4294967296 + (r[2 * f.rtr]! >>> 0);
  }
  if (f.shareable || cpu.hcrTraps(HCR.FB)) cpu.flushTlbShareable(pn);
  else if (pn === null) cpu.flushTlb();
  else cpu.flushTlbPage(pn);
}

/** AT S1E1R/W, S1E0R/W: translate and report in PAR_EL1 (F=1 with FST on a fault). */
export function at(cpu: Cpu, f: F): void {
  if (cpu.el === 0) cpu.raiseUndefined();
  const va = addrOf(cpu.r, f.rtr);
  const par = cpu.translateForAt(va, f.write ? Access.Write : Access.Read, f.el0);
  sysregDef(PAR_EL1)!.write!(cpu, par);
}
const PAR_EL1 = (3 << 14) | (0 << 11) | (7 << 7) | (4 << 3) | 0;

export function sysUndef(cpu: Cpu): void {
  cpu.raiseUndefined();
}

export { SP };
