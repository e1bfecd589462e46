// The ARM Generic Timer (ARM ARM D11 "The Generic Timer in AArch64 state"): one system counter
// shared by all PEs and, per PE, the EL1 physical, EL1 virtual and EL2 physical timers, reached
// through system registers. Counter values follow virtual time exactly:
// CNTPCT = floor(now_ns * freq / 1e9), CNTVCT = CNTPCT - CNTVOFF_EL2.
//
// Access permissions (CNTKCTL_EL1 / CNTHCTL_EL2 traps) are the CPU's business; this module only
// holds the registers, computes ISTATUS, drives the PPI lines and schedules a clock event at
// the exact nanosecond a timer condition becomes true.
import { Clock, ClockEvent } from '../clock/clock.ts';
import type { IrqLine } from './irq.ts';
import {
  CNTFRQ_EL0, CNTHCTL_EL2, CNTHP_CTL_EL2, CNTHP_CVAL_EL2, CNTHP_TVAL_EL2, CNTKCTL_EL1, CNTPCT_EL0, CNTP_CTL_EL0,
  CNTP_CVAL_EL0, CNTP_TVAL_EL0, CNTVCT_EL0, CNTVOFF_EL2, CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0, type CpuTimer,
} from '../arm64/timer-regs.ts';

// The encodings and EL0 access rules are the CPU's (timer-regs.ts); re-exported for device users.
export {
  CNTFRQ_EL0, CNTHCTL_EL2, CNTHP_CTL_EL2, CNTHP_CVAL_EL2, CNTHP_TVAL_EL2, CNTKCTL_EL1, CNTPCT_EL0, CNTP_CTL_EL0,
  CNTP_CVAL_EL0, CNTP_TVAL_EL0, CNTVCT_EL0, CNTVOFF_EL2, CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0,
  CNTKCTL_EL0PCTEN, CNTKCTL_EL0PTEN, CNTKCTL_EL0VCTEN, CNTKCTL_EL0VTEN, el0TimerAccessMask, sysregEnc,
} from '../arm64/timer-regs.ts';

/** INTIDs of the timer PPIs (Arm Base System Architecture / the DT "arm,armv8-timer" order). */
export const PPI_CNTHP = 26;
export const PPI_CNTV = 27;
export const PPI_CNTP = 30;

/** CNT*_CTL bits (D13.8.x). */
export const CTL_ENABLE = 1;
export const CTL_IMASK = 2;
export const CTL_ISTATUS = 4;

const MASK64 = (1n << 64n) - 1n;

/** The system counter: exact conversion between virtual nanoseconds and counter ticks. */
export class SystemCounter {
  // count = floor(ns * num / den), freqHz / 1e9 reduced to lowest terms.
  private readonly num: number;
  private readonly den: number;
  private readonly numBig: bigint;
  private readonly denBig: bigint;

  constructor(readonly freqHz: number) {
    if (!Number.isInteger(freqHz) || freqHz <= 0 || freqHz > 1e9) throw new Error(`bad counter frequency ${freqHz}`);
    let a = 1e9;
    let b = freqHz;
    while (b !== 0) [a, b] = [b, a % b];
    this.num = freqHz / a;
    this.den = 1e9 / a;
    this.numBig = BigInt(this.num);
    this.denBig = BigInt(this.den);
  }

  /** CNTPCT at time ns. Exact: ns is split so no product exceeds 2^53. */
  countAt(ns: number): number {
    const q = Math.floor(ns / this.den);
    const r = ns - q * this.den;
    return q * this.num + Math.floor((r * this.num) / this.den);
  }

  /** The first nanosecond at which the counter reaches `count`; Infinity if beyond 2^53 ns. */
  nsForCount(count: bigint): number {
    if (count <= 0n) return 0;
    const ns = (count * this.denBig + this.numBig - 1n) / this.numBig;
    return ns > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(ns);
  }
}

const enum Kind {
  Phys = 0,
  Virt = 1,
  Hyp = 2,
}

class Comparator {
  ctl = 0;
  cval = 0n;
  level = false;
  readonly event: ClockEvent;
  constructor(
    readonly kind: Kind,
    readonly irq: IrqLine,
    onEvent: () => void,
    name: string,
  ) {
    this.event = new ClockEvent(onEvent, name);
  }
}

export interface GenericTimerOptions {
  clock: Clock;
  counter: SystemCounter;
  /** The PPI wires of this PE: EL1 physical (30), EL1 virtual (27), EL2 physical (26). */
  irqs: { phys: IrqLine; virt: IrqLine; hyp: IrqLine };
  /**
   * This PE's notion of now, when it runs ahead of clock.now inside its time slice; counter
   * reads and ISTATUS use it. Defaults to clock.now.
   */
  now?: () => number;
  /** A deadline was (re)armed: the PE's run loop recomputes where to stop (machine.ts). */
  onArm?: () => void;
  name?: string;
}

/** The timers of one PE. */
export class GenericTimer implements CpuTimer {
  readonly counter: SystemCounter;
  /** CNTFRQ_EL0: firmware programs it with the counter frequency; we start it so. */
  cntfrq: number;
  cntvoff = 0n;
  cntkctl = 0;
  /** CNTHCTL_EL2: EL1PCTEN|EL1PCEN set, as firmware leaves it for a kernel entered at EL1. */
  cnthctl = 3;

  private readonly clock: Clock;
  private readonly nowFn: () => number;
  private readonly onArm: () => void;
  private readonly phys: Comparator;
  private readonly virt: Comparator;
  private readonly hyp: Comparator;

  constructor(opts: GenericTimerOptions) {
    this.clock = opts.clock;
    this.counter = opts.counter;
    this.cntfrq = opts.counter.freqHz;
    const clock = opts.clock;
    this.nowFn = opts.now ?? (() => clock.now);
    this.onArm = opts.onArm ?? (() => {});
    const name = opts.name ?? 'timer';
    this.phys = new Comparator(Kind.Phys, opts.irqs.phys, () => this.update(this.phys), `${name}.cntp`);
    this.virt = new Comparator(Kind.Virt, opts.irqs.virt, () => this.update(this.virt), `${name}.cntv`);
    this.hyp = new Comparator(Kind.Hyp, opts.irqs.hyp, () => this.update(this.hyp), `${name}.cnthp`);
  }

  /** CNTPCT_EL0 as a number (exact below 2^53 ticks). */
  physicalCount(): number {
    // Never behind the global clock: an event firing at its deadline must see the condition met.
    const now = this.nowFn();
    return this.counter.countAt(now > this.clock.now ? now : this.clock.now);
  }

  /** CNTVCT_EL0 = CNTPCT_EL0 - CNTVOFF_EL2, modulo 2^64. */
  virtualCount(): bigint {
    return (BigInt(this.physicalCount()) - this.cntvoff) & MASK64;
  }

  /** The system register at `enc`, or undefined when enc is not a timer register. */
  readSysreg(enc: number): bigint | undefined {
    switch (enc) {
      case CNTFRQ_EL0:
        return BigInt(this.cntfrq);
      case CNTPCT_EL0:
        return BigInt(this.physicalCount());
      case CNTVCT_EL0:
        return this.virtualCount();
      case CNTP_CTL_EL0:
        return BigInt(this.ctlValue(this.phys));
      case CNTP_CVAL_EL0:
        return this.phys.cval;
      case CNTP_TVAL_EL0:
        return this.tvalValue(this.phys);
      case CNTV_CTL_EL0:
        return BigInt(this.ctlValue(this.virt));
      case CNTV_CVAL_EL0:
        return this.virt.cval;
      case CNTV_TVAL_EL0:
        return this.tvalValue(this.virt);
      case CNTHP_CTL_EL2:
        return BigInt(this.ctlValue(this.hyp));
      case CNTHP_CVAL_EL2:
        return this.hyp.cval;
      case CNTHP_TVAL_EL2:
        return this.tvalValue(this.hyp);
      case CNTVOFF_EL2:
        return this.cntvoff;
      case CNTKCTL_EL1:
        return BigInt(this.cntkctl);
      case CNTHCTL_EL2:
        return BigInt(this.cnthctl);
      default:
        return undefined;
    }
  }

  /** Writes a timer register; false when enc is not one (or is read-only: CNTPCT, CNTVCT). */
  writeSysreg(enc: number, v: bigint): boolean {
    switch (enc) {
      case CNTFRQ_EL0:
        this.cntfrq = Number(v & 0xffff_ffffn);
        return true;
      case CNTP_CTL_EL0:
        return this.writeCtl(this.phys, v);
      case CNTP_CVAL_EL0:
        return this.writeCval(this.phys, v);
      case CNTP_TVAL_EL0:
        return this.writeTval(this.phys, v);
      case CNTV_CTL_EL0:
        return this.writeCtl(this.virt, v);
      case CNTV_CVAL_EL0:
        return this.writeCval(this.virt, v);
      case CNTV_TVAL_EL0:
        return this.writeTval(this.virt, v);
      case CNTHP_CTL_EL2:
        return this.writeCtl(this.hyp, v);
      case CNTHP_CVAL_EL2:
        return this.writeCval(this.hyp, v);
      case CNTHP_TVAL_EL2:
        return this.writeTval(this.hyp, v);
      case CNTVOFF_EL2:
        this.cntvoff = v & MASK64;
        this.update(this.virt);
        return true;
      case CNTKCTL_EL1:
        // EL0PCTEN, EL0VCTEN, EVNTEN, EVNTDIR, EVNTI, EL0VTEN, EL0PTEN
        this.cntkctl = Number(v & 0x3ffn);
        return true;
      case CNTHCTL_EL2:
        // bits [11:0]: both the E2H=0 and E2H=1 layouts live there
        this.cnthctl = Number(v & 0xfffn);
        return true;
      default:
        return false;
    }
  }

  /** CNTV_CTL_EL0.{ENABLE, IMASK} (CpuTimer: saved by a world switch). */
  get cntvCtl(): number {
    return this.virt.ctl;
  }
  /** CNTV_CVAL_EL0 (CpuTimer). */
  get cntvCval(): bigint {
    return this.virt.cval;
  }
  /** Loads the EL1 virtual timer of the context being switched in (CpuTimer). */
  setVirtualTimer(ctl: number, cval: bigint): void {
    this.virt.ctl = ctl & (CTL_ENABLE | CTL_IMASK);
    this.virt.cval = cval & MASK64;
    this.update(this.virt);
  }

  /** The earliest virtual time (ns) at which one of this PE's timer conditions becomes true; Infinity if none is armed. */
  nextEventNs(): number {
    let t = Infinity;
    for (const c of [this.phys, this.virt, this.hyp]) if (c.event.scheduled && c.event.at < t) t = c.event.at;
    return t;
  }

  /** Re-evaluates all three timers (after a snapshot restore or a CPU time-slice boundary). */
  refresh(): void {
    this.update(this.phys);
    this.update(this.virt);
    this.update(this.hyp);
  }

  private count(c: Comparator): bigint {
    return c.kind === Kind.Virt ? this.virtualCount() : BigInt(this.physicalCount());
  }

  private ctlValue(c: Comparator): number {
    if (!(c.ctl & CTL_ENABLE)) return c.ctl;
    return this.count(c) >= c.cval ? c.ctl | CTL_ISTATUS : c.ctl;
  }

  // TVAL reads the low 32 bits of CVAL - count, zero-extended (bits [63:32] RES0).
  private tvalValue(c: Comparator): bigint {
    return BigInt.asUintN(32, c.cval - this.count(c));
  }

  private writeCtl(c: Comparator, v: bigint): boolean {
    c.ctl = Number(v & BigInt(CTL_ENABLE | CTL_IMASK));
    this.update(c);
    return true;
  }

  private writeCval(c: Comparator, v: bigint): boolean {
    c.cval = v & MASK64;
    this.update(c);
    return true;
  }

  // TVAL writes set CVAL = count + SignExtend(TVAL[31:0]).
  private writeTval(c: Comparator, v: bigint): boolean {
    c.cval = (this.count(c) + BigInt.asIntN(32, v)) & MASK64;
    this.update(c);
    return true;
  }

  // Drives the line (ISTATUS && !IMASK, only while ENABLE) and schedules the event at the
  // first nanosecond the condition count >= CVAL holds.
  private update(c: Comparator): void {
    let level = false;
    if (c.ctl & CTL_ENABLE) {
      const count = this.count(c);
      if (count >= c.cval) {
        level = !(c.ctl & CTL_IMASK);
        this.clock.cancel(c.event);
      } else {
        const physTarget = c.kind === Kind.Virt ? c.cval + this.cntvoff : c.cval;
        const at = physTarget > MASK64 ? Infinity : this.counter.nsForCount(physTarget);
        if (!c.event.scheduled || c.event.at !== at) {
          this.clock.schedule(c.event, at);
          this.onArm();
        }
      }
    } else {
      this.clock.cancel(c.event);
    }
    if (level !== c.level) {
      c.level = level;
      c.irq.set(level);
    }
  }
}
