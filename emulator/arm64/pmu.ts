// The Performance Monitors Extension (ARM ARM D13 "PMUv3"), reduced to what measuring in cycles
// needs: the cycle counter PMCCNTR_EL0 and its controls, no event counters (PMCR_EL0.N = 0).
// ID_AA64DFR0_EL1.PMUVer reads 1 (PMUv3). Bare-metal latency benchmarks read PMCCNTR_EL0 the way
// cyclictest reads a clock: the test guest guests/rtvm does.
//
// A core's cycles are its modeled time: (instructions + charged stall) x cycles per simple
// instruction of its core model (emulator/clock/cycle-model.ts), so EL2 work charged by the
// hypervisor (El2Cpu.chargeCycles) and exception entry/return costs count. What is not modeled:
// PMCCFILTR_EL0 filtering by EL (every cycle counts, as with NSH=1, P=U=0), the overflow
// interrupt (the 64-bit counter never wraps in practice), EL0 access (UNDEFINED, as with
// PMUSERENR_EL0.EN = 0), MDCR_EL2 traps. The PMU is per physical CPU: a world switch does not
// save it (Rust-Shyper neither virtualizes nor switches the PMU).
import type { Cpu } from './cpu.ts';
import { enc, type SysregDef } from './sysregs-el1.ts';

/** PMCR_EL0 bits (ARM ARM D13.2.?, PMCR_EL0). */
const PMCR_E = 1;
const PMCR_P = 1 << 1;
const PMCR_C = 1 << 2;
const PMCR_D = 1 << 3;
/** Bits that hold a value: E, D, X (4), DP (5), LC (6). P and C are write-only actions. */
const PMCR_RW = PMCR_E | PMCR_D | (1 << 4) | (1 << 5) | (1 << 6);
/** IMP = 0x41 (Arm), IDCODE 0, N = 0 event counters. */
const PMCR_ID = 0x41 << 24;
/** PMCNTENSET/CLR, PMINTENSET/CLR, PMOVSSET/CLR: bit 31 is the cycle counter's. */
const C_BIT = 0x8000_0000;

export class Pmu {
  pmcr = 0;
  cntEn = 0;
  intEn = 0;
  overflow = 0;
  userEn = 0;
  sel = 0;
  ccFilter = 0;
  /** PMCCNTR_EL0 at the core cycle count `since` (when counting) or frozen (when not). */
  private base = 0n;
  private since = 0;

  private static cycles(cpu: Cpu): number {
    return (cpu.instret + cpu.stall) * cpu.cyclesPerInstr;
  }

  private counting(): boolean {
    return (this.pmcr & PMCR_E) !== 0 && (this.cntEn & C_BIT) !== 0;
  }

  /** PMCCNTR_EL0 now. */
  read(cpu: Cpu): bigint {
    if (!this.counting()) return this.base;
    let n = Math.floor(Pmu.cycles(cpu) - this.since);
    if (this.pmcr & PMCR_D) n = Math.floor(n / 64);
    return BigInt.asUintN(64, this.base + BigInt(n));
  }

  write(cpu: Cpu, v: bigint): void {
    this.base = BigInt.asUintN(64, v);
    this.since = Pmu.cycles(cpu);
  }

  /** Change a control that starts, stops or rescales counting: fold the count so far first. */
  private control(cpu: Cpu, change: () => void): void {
    this.base = this.read(cpu);
    change();
    this.since = Pmu.cycles(cpu);
  }

  setPmcr(cpu: Cpu, v: number): void {
    this.control(cpu, () => {
      if (v & PMCR_C) this.base = 0n;
      this.pmcr = v & PMCR_RW;
    });
    void PMCR_P; // event counter reset: there are none
  }

  setCntEn(cpu: Cpu, set: boolean, v: number): void {
    this.control(cpu, () => {
      this.cntEn = set ? this.cntEn | (v & C_BIT) : this.cntEn & ~(v & C_BIT);
    });
  }
}

const reg = (name: string, e: number, read: (cpu: Cpu) => bigint, write?: (cpu: Cpu, v: bigint) => void): SysregDef => ({ name, enc: e, minEl: 1, read, write });
const lo = (v: bigint): number => Number(v & 0xffffffffn) >>> 0;
const u = (n: number): bigint => BigInt(n >>> 0);

export const pmuSysregs: SysregDef[] = [
  reg('PMCR_EL0', enc(3, 3, 9, 12, 0), (c) => u(PMCR_ID | c.pmu.pmcr), (c, v) => c.pmu.setPmcr(c, lo(v))),
  reg('PMCNTENSET_EL0', enc(3, 3, 9, 12, 1), (c) => u(c.pmu.cntEn), (c, v) => c.pmu.setCntEn(c, true, lo(v))),
  reg('PMCNTENCLR_EL0', enc(3, 3, 9, 12, 2), (c) => u(c.pmu.cntEn), (c, v) => c.pmu.setCntEn(c, false, lo(v))),
  reg('PMOVSCLR_EL0', enc(3, 3, 9, 12, 3), (c) => u(c.pmu.overflow), (c, v) => void (c.pmu.overflow &= ~(lo(v) & C_BIT))),
  { name: 'PMSWINC_EL0', enc: enc(3, 3, 9, 12, 4), minEl: 1, write: () => {} },
  reg('PMSELR_EL0', enc(3, 3, 9, 12, 5), (c) => u(c.pmu.sel), (c, v) => void (c.pmu.sel = lo(v) & 31)),
  reg('PMCEID0_EL0', enc(3, 3, 9, 12, 6), () => 0n),
  reg('PMCEID1_EL0', enc(3, 3, 9, 12, 7), () => 0n),
  reg('PMCCNTR_EL0', enc(3, 3, 9, 13, 0), (c) => c.pmu.read(c), (c, v) => c.pmu.write(c, v)),
  // With no event counters, PMXEVTYPER reaches PMCCFILTR only when PMSELR.SEL = 31.
  reg('PMXEVTYPER_EL0', enc(3, 3, 9, 13, 1), (c) => (c.pmu.sel === 31 ? u(c.pmu.ccFilter) : 0n), (c, v) => {
    if (c.pmu.sel === 31) c.pmu.ccFilter = lo(v) & 0xfc00_0000;
  }),
  reg('PMXEVCNTR_EL0', enc(3, 3, 9, 13, 2), () => 0n, () => {}),
  reg('PMUSERENR_EL0', enc(3, 3, 9, 14, 0), (c) => u(c.pmu.userEn), (c, v) => void (c.pmu.userEn = lo(v) & 0xf)),
  reg('PMINTENSET_EL1', enc(3, 0, 9, 14, 1), (c) => u(c.pmu.intEn), (c, v) => void (c.pmu.intEn |= lo(v) & C_BIT)),
  reg('PMINTENCLR_EL1', enc(3, 0, 9, 14, 2), (c) => u(c.pmu.intEn), (c, v) => void (c.pmu.intEn &= ~(lo(v) & C_BIT))),
  reg('PMOVSSET_EL0', enc(3, 3, 9, 14, 3), (c) => u(c.pmu.overflow), (c, v) => void (c.pmu.overflow |= lo(v) & C_BIT)),
  reg('PMCCFILTR_EL0', enc(3, 3, 14, 15, 7), (c) => u(c.pmu.ccFilter), (c, v) => void (c.pmu.ccFilter = lo(v) & 0xfc00_0000)),
];

/** PMCCNTR_EL0's encoding (a counter read: see sysregs.ts isTimedSysreg). */
export const PMCCNTR_EL0 = enc(3, 3, 9, 13, 0);
