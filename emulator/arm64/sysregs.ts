// The system-register file as MRS/MSR see it: one table keyed by the packed encoding
// (op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2), built from the EL0 registers here and the EL1
// definitions in sysregs-el1.ts; devices (generic timer, GICv3 CPU interface) answer for their
// own encodings through cpu.sysregProviders. Lookups happen at decode time.
import type { Cpu } from './cpu.ts';
import { EC } from './ec.ts';
import { FPCR, FPSR } from './regs.ts';
import { el1Sysregs, enc, isIdSpace, sysregTrapIss, valueReg, type SysregDef } from './sysregs-el1.ts';
import { El1Slot, HCR, SCTLR } from './sysstate.ts';
import { setElSp } from './exceptions.ts';
import { el0TimerAccessMask, CNTFRQ_EL0, CNTVCT_EL0, CNTPCT_EL0, CNTP_TVAL_EL0, CNTP_CTL_EL0, CNTV_TVAL_EL0, CNTV_CTL_EL0 } from './timer-regs.ts';
import { pmuSysregs, PMCCNTR_EL0 } from './pmu.ts';

const el0Sysregs: SysregDef[] = [
  {
    name: 'NZCV',
    enc: enc(3, 3, 4, 2, 0),
    minEl: 0,
    read: (cpu) => BigInt(cpu.nzcv >>> 0),
    write: (cpu, v) => void (cpu.nzcv = Number(v & 0xf0000000n)),
    readWords: (cpu, r, i) => {
      r[i] = cpu.nzcv | 0;
      r[i + 1] = 0;
    },
    writeWords: (cpu, lo) => void (cpu.nzcv = (lo & 0xf0000000) >>> 0),
  },
  {
    name: 'DAIF',
    enc: enc(3, 3, 4, 2, 1),
    minEl: 1,
    read: (cpu) => BigInt(cpu.daif),
    // (An unmask ends the block only when an interrupt may be taken: int-sys.ts msrImm.)
    write: (cpu, v) => {
      cpu.daif = Number(v & 0x3c0n);
      if (cpu.mayTakeInterrupt()) cpu.exitRequest = 1;
    },
    readWords: (cpu, r, i) => {
      r[i] = cpu.daif;
      r[i + 1] = 0;
    },
    writeWords: (cpu, lo) => {
      cpu.daif = lo & 0x3c0;
      if (cpu.mayTakeInterrupt()) cpu.exitRequest = 1;
    },
  },
  {
    name: 'SPSel',
    enc: enc(3, 0, 4, 2, 0),
    minEl: 1,
    read: (cpu) => BigInt(cpu.spsel),
    write: (cpu, v) => setElSp(cpu, cpu.el, Number(v & 1n)),
  },
  {
    name: 'PAN',
    enc: enc(3, 0, 4, 2, 3),
    minEl: 1,
    read: (cpu) => BigInt(cpu.sys.pan << 22),
    write: (cpu, v) => {
      cpu.sys.pan = Number((v >> 22n) & 1n);
      cpu.flushTlb();
    },
  },
  {
    name: 'FPCR',
    enc: enc(3, 3, 4, 4, 0),
    minEl: 0,
    read: (cpu) => BigInt(cpu.r[FPCR]! >>> 0),
    write: (cpu, v) => void (cpu.r[FPCR] = Number(v & 0x07ff9f00n)),
  },
  {
    name: 'FPSR',
    enc: enc(3, 3, 4, 4, 1),
    minEl: 0,
    read: (cpu) => BigInt(cpu.r[FPSR]! >>> 0),
    write: (cpu, v) => void (cpu.r[FPSR] = Number(v & 0xf800009fn)),
  },
  valueReg('TPIDR_EL0', enc(3, 3, 13, 0, 2), El1Slot.TPIDR_EL0, 0),
  valueReg('TPIDRRO_EL0', enc(3, 3, 13, 0, 3), El1Slot.TPIDRRO_EL0, 0),
  // BS = 4: DC ZVA zeroes 2^4 words (exec/int-sys.ts dcZva).
  { name: 'DCZID_EL0', enc: enc(3, 3, 0, 0, 7), minEl: 0, read: () => 4n, constant: 4 },
];

const table = new Map<number, SysregDef>();
for (const d of [...el0Sysregs, ...el1Sysregs, ...pmuSysregs]) table.set(d.enc, d);

/**
 * Registers whose value is a function of the time at the very instruction that reads them: the
 * counters, the timers' TVAL and ISTATUS, the cycle counter. An MRS of one is executed first in a
 * block (cpu.timedReadPc) so that it sees the exact instruction count.
 */
const TIMED = new Set([CNTVCT_EL0, CNTPCT_EL0, CNTV_TVAL_EL0, CNTV_CTL_EL0, CNTP_TVAL_EL0, CNTP_CTL_EL0, PMCCNTR_EL0]);
export function isTimedSysreg(e: number): boolean {
  return TIMED.has(e);
}

export function sysregDef(e: number): SysregDef | undefined {
  return table.get(e);
}

export function sysregName(e: number): string {
  const d = table.get(e);
  if (d) return d.name;
  return `S${e >>> 14}_${(e >>> 11) & 7}_C${(e >>> 7) & 15}_C${(e >>> 3) & 15}_${e & 7}`;
}

const TPIDRRO = enc(3, 3, 13, 0, 3);

/** Deterministic stand-ins when no generic timer is attached (user-mode programs). */
function fallbackCounter(cpu: Cpu, e: number): bigint | undefined {
  if (e === CNTFRQ_EL0) return 62_500_000n;
  if (e === CNTVCT_EL0 || e === CNTPCT_EL0) return BigInt(Math.floor(cpu.instret / 16));
  return undefined;
}

/** MRS: value of the register, or raises (UNDEFINED / trap to EL2). */
export function readSysreg(cpu: Cpu, e: number, def: SysregDef | undefined, rt: number): bigint {
  if (def !== undefined && def.read) {
    if (def.minEl > cpu.el) cpu.raiseUndefined();
    if (def.trapRead && cpu.hcrTraps(def.trapRead)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(e, rt, true), 0, 0, cpu.pc);
    return def.read(cpu);
  }
  if (cpu.el >= 1 && isIdSpace(e)) {
    if (cpu.hcrTraps(HCR.TID3)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(e, rt, true), 0, 0, cpu.pc);
    return 0n;
  }
  if (!providerAllowed(cpu, e)) cpu.raiseUndefined();
  for (const p of cpu.sysregProviders) {
    const v = p.readSysreg(e);
    if (v !== undefined) return v;
  }
  if (cpu.sysregProviders.length === 0) {
    const v = fallbackCounter(cpu, e);
    if (v !== undefined) return v;
  }
  return cpu.raiseUndefined();
}

// GICv3 SGI generation registers: with HCR_EL2.IMO (or FMO) set, EL1 writes trap to EL2 (IHI 0069
// 12.2.x ICC_SGI0R/SGI1R/ASGI1R_EL1 "Traps"): SGIs are not virtualized by the list registers.
const ICC_SGI1R = enc(3, 0, 12, 11, 5);
const ICC_ASGI1R = enc(3, 0, 12, 11, 6);
const ICC_SGI0R = enc(3, 0, 12, 11, 7);

/**
 * MRS into X<rt>'s words r[i], r[i + 1] without BigInt, when the register has a word reader and
 * the access needs no check beyond readSysreg's (false: take readSysreg).
 */
export function readSysregWords(cpu: Cpu, def: SysregDef | undefined, r: Int32Array, i: number): boolean {
  if (def === undefined || def.readWords === undefined || def.minEl > cpu.el) return false;
  if (def.trapRead && cpu.hcrTraps(def.trapRead)) return false;
  def.readWords(cpu, r, i);
  return true;
}

/** MSR from words without BigInt, as readSysregWords (false: take writeSysreg). */
export function writeSysregWords(cpu: Cpu, e: number, def: SysregDef | undefined, lo: number, hi: number): boolean {
  if (def === undefined || def.writeWords === undefined || def.minEl > cpu.el || (e === TPIDRRO && cpu.el === 0)) return false;
  if (def.trapWrite && cpu.hcrTraps(def.trapWrite)) return false;
  def.writeWords(cpu, lo, hi);
  return true;
}

/** MSR: write, or raise. */
export function writeSysreg(cpu: Cpu, e: number, def: SysregDef | undefined, rt: number, v: bigint): void {
  if ((e === ICC_SGI1R || e === ICC_ASGI1R || e === ICC_SGI0R) && cpu.hcrTraps(HCR.IMO | HCR.FMO)) {
    cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(e, rt, false), 0, 0, cpu.pc);
  }
  if (def !== undefined) {
    // TPIDRRO_EL0 is read-only at EL0.
    if (def.minEl > cpu.el || !def.write || (e === TPIDRRO && cpu.el === 0)) cpu.raiseUndefined();
    if (def.trapWrite && cpu.hcrTraps(def.trapWrite)) cpu.raiseToEl2(EC.SYSREG, sysregTrapIss(e, rt, false), 0, 0, cpu.pc);
    def.write!(cpu, v);
    return;
  }
  if (!providerAllowed(cpu, e)) cpu.raiseUndefined();
  for (const p of cpu.sysregProviders) if (p.writeSysreg(e, v)) return;
  cpu.raiseUndefined();
}

/**
 * Device registers: EL0 reaches only the timer registers CNTKCTL_EL1 opens to it; EL2/EL3
 * registers (op1 = 4/6) are never reachable from EL0/EL1 (their owner is the hypervisor port).
 */
function providerAllowed(cpu: Cpu, e: number): boolean {
  const op1 = (e >>> 11) & 7;
  if (op1 === 4 || op1 === 6) return false;
  if (cpu.el > 0) return true;
  const mask = el0TimerAccessMask(e);
  if (mask === 0) return false;
  const timer = cpu.timer;
  if (timer === null) return true; // user mode: the fallback counter
  return (timer.cntkctl & mask) !== 0;
}

export { SCTLR };
