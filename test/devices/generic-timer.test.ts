import { describe, expect, it } from 'vitest';
import { Clock } from '../../emulator/clock/clock.ts';
import {
  CNTFRQ_EL0, CNTHCTL_EL2, CNTHP_CTL_EL2, CNTHP_CVAL_EL2, CNTHP_TVAL_EL2, CNTKCTL_EL1, CNTPCT_EL0, CNTP_CTL_EL0,
  CNTP_CVAL_EL0, CNTP_TVAL_EL0, CNTVCT_EL0, CNTVOFF_EL2, CNTV_CTL_EL0, CNTV_CVAL_EL0, CNTV_TVAL_EL0, GenericTimer,
  PPI_CNTHP, PPI_CNTP, PPI_CNTV, SystemCounter, el0TimerAccessMask, sysregEnc,
} from '../../emulator/devices/generic-timer.ts';
import type { IrqLine } from '../../emulator/devices/irq.ts';

class Wire implements IrqLine {
  level = false;
  edges: string[] = [];
  constructor(private readonly clock: Clock) {}
  set(level: boolean): void {
    this.level = level;
    this.edges.push(`${level ? 'up' : 'down'}@${this.clock.now}`);
  }
}

function setup(freq = 24_000_000) {
  const clock = new Clock();
  const counter = new SystemCounter(freq);
  const phys = new Wire(clock);
  const virt = new Wire(clock);
  const hyp = new Wire(clock);
  const timer = new GenericTimer({ clock, counter, irqs: { phys, virt, hyp } });
  return { clock, counter, timer, phys, virt, hyp };
}

describe('system register encodings', () => {
  it('pack op0:op1:CRn:CRm:op2 as the MRS/MSR fields', () => {
    // MRS x0, CNTVCT_EL0 = 0xd53be040: bits [20:5] = o0(1) op1 CRn CRm op2 = 0xdf02
    expect(CNTVCT_EL0).toBe((0xd53be040 >> 5) & 0xffff);
    expect(CNTVCT_EL0).toBe(0xdf02);
    // MSR CNTP_CTL_EL0, x0 = 0xd51be220; MSR CNTHP_CTL_EL2, x0 = 0xd51ce220; MSR CNTKCTL_EL1, x0 = 0xd518e100
    expect(CNTP_CTL_EL0).toBe((0xd51be220 >> 5) & 0xffff);
    expect(CNTHP_CTL_EL2).toBe((0xd51ce220 >> 5) & 0xffff);
    expect(CNTKCTL_EL1).toBe((0xd518e100 >> 5) & 0xffff);
    // MSR CNTVOFF_EL2, x0 = 0xd51ce060
    expect(CNTVOFF_EL2).toBe((0xd51ce060 >> 5) & 0xffff);
    expect(sysregEnc(3, 3, 14, 0, 0)).toBe(CNTFRQ_EL0);
  });

  it('PPIs are the ones the arm,armv8-timer binding lists', () => {
    expect([PPI_CNTP, PPI_CNTV, PPI_CNTHP]).toEqual([30, 27, 26]);
  });

  it('tells which CNTKCTL_EL1 bit gates EL0 access', () => {
    expect(el0TimerAccessMask(CNTVCT_EL0)).toBe(1 << 1); // EL0VCTEN
    expect(el0TimerAccessMask(CNTPCT_EL0)).toBe(1 << 0); // EL0PCTEN
    expect(el0TimerAccessMask(CNTFRQ_EL0)).toBe(0b11);
    expect(el0TimerAccessMask(CNTV_CTL_EL0)).toBe(1 << 8); // EL0VTEN
    expect(el0TimerAccessMask(CNTP_TVAL_EL0)).toBe(1 << 9); // EL0PTEN
    expect(el0TimerAccessMask(CNTHP_CTL_EL2)).toBe(0);
    expect(el0TimerAccessMask(CNTVOFF_EL2)).toBe(0);
  });
});

describe('system counter', () => {
  it('CNTPCT = floor(ns * freq / 1e9), exactly', () => {
    const c = new SystemCounter(24_000_000);
    expect(c.countAt(0)).toBe(0);
    expect(c.countAt(41)).toBe(0); // 0.984 ticks
    expect(c.countAt(42)).toBe(1); // 1.008
    expect(c.countAt(125)).toBe(3);
    expect(c.countAt(1e9)).toBe(24_000_000);
    for (const ns of [2 ** 52 + 7, 2 ** 53 - 1, 123456789012345]) {
      expect(BigInt(c.countAt(ns))).toBe((BigInt(ns) * 24_000_000n) / 1_000_000_000n);
    }
    const q = new SystemCounter(62_500_000); // qemu virt: 16 ns per tick
    expect(q.countAt(15)).toBe(0);
    expect(q.countAt(16)).toBe(1);
    expect(q.countAt(2 ** 53 - 1)).toBe(Math.floor((2 ** 53 - 1) / 16));
  });

  it('finds the first nanosecond a count is reached', () => {
    const c = new SystemCounter(24_000_000);
    expect(c.nsForCount(1n)).toBe(42);
    expect(c.nsForCount(3n)).toBe(125);
    expect(c.nsForCount(24_000_000n)).toBe(1e9);
    expect(c.nsForCount(1n << 63n)).toBe(Infinity);
  });
});

describe('EL1 physical timer', () => {
  it('fires at the exact deadline: raises the PPI, ISTATUS reads 1, TVAL counts down past zero', () => {
    const { clock, timer, phys } = setup();
    expect(timer.readSysreg(CNTFRQ_EL0)).toBe(24_000_000n);
    // 1 ms at 24 MHz
    timer.writeSysreg(CNTP_TVAL_EL0, 24_000n);
    timer.writeSysreg(CNTP_CTL_EL0, 1n);
    expect(timer.readSysreg(CNTP_CVAL_EL0)).toBe(24_000n);
    expect(clock.nextEventAt()).toBe(1_000_000);
    clock.advanceTo(999_999);
    expect(phys.level).toBe(false);
    expect(timer.readSysreg(CNTP_CTL_EL0)).toBe(1n);
    expect(timer.readSysreg(CNTP_TVAL_EL0)).toBe(1n);
    clock.advanceTo(1_000_000);
    expect(phys.edges).toEqual(['up@1000000']);
    expect(timer.readSysreg(CNTP_CTL_EL0)).toBe(5n); // ENABLE | ISTATUS
    expect(timer.readSysreg(CNTP_TVAL_EL0)).toBe(0n);
    clock.advanceTo(1_000_042);
    // TVAL = CVAL - CNTPCT = -1, read back as 32 bits zero-extended
    expect(timer.readSysreg(CNTP_TVAL_EL0)).toBe(0xffff_ffffn);
  });

  it('a deadline between nanoseconds rounds up to the first ns where the count is reached', () => {
    const { clock, timer, phys } = setup();
    timer.writeSysreg(CNTP_CVAL_EL0, 1n);
    timer.writeSysreg(CNTP_CTL_EL0, 1n);
    clock.advanceTo(41);
    expect(phys.level).toBe(false);
    clock.advanceTo(100);
    expect(phys.edges).toEqual(['up@42']);
  });

  it('Linux arch_timer handling: mask in the handler, re-program with ENABLE and no IMASK', () => {
    const { clock, timer, phys } = setup();
    timer.writeSysreg(CNTP_CVAL_EL0, 240n);
    timer.writeSysreg(CNTP_CTL_EL0, 1n);
    clock.advanceTo(20_000);
    expect(phys.level).toBe(true);
    // arch_timer_handler_phys: ctl has ISTATUS -> write ctl | IMASK
    const ctl = timer.readSysreg(CNTP_CTL_EL0)!;
    expect(ctl & 4n).toBe(4n);
    timer.writeSysreg(CNTP_CTL_EL0, ctl | 2n);
    expect(phys.level).toBe(false);
    expect(timer.readSysreg(CNTP_CTL_EL0)).toBe(7n); // ISTATUS still reads 1 while masked
    // set_next_event: CVAL = now + delta, ctl = ENABLE
    const now = timer.readSysreg(CNTPCT_EL0)!;
    expect(now).toBe(480n);
    timer.writeSysreg(CNTP_CVAL_EL0, now + 24n);
    timer.writeSysreg(CNTP_CTL_EL0, 1n);
    expect(phys.level).toBe(false);
    clock.advanceTo(21_000);
    expect(phys.edges).toEqual(['up@10000', 'down@20000', 'up@21000']);
  });

  it('clearing IMASK with the condition met raises the line at once; disabling drops it and ISTATUS', () => {
    const { clock, timer, phys } = setup();
    timer.writeSysreg(CNTP_CTL_EL0, 3n); // ENABLE | IMASK, CVAL = 0 <= count
    expect(phys.level).toBe(false);
    expect(clock.pending).toBe(0);
    timer.writeSysreg(CNTP_CTL_EL0, 1n);
    expect(phys.level).toBe(true);
    timer.writeSysreg(CNTP_CTL_EL0, 0n);
    expect(phys.level).toBe(false);
    expect(timer.readSysreg(CNTP_CTL_EL0)).toBe(0n);
    // ISTATUS is read-only
    timer.writeSysreg(CNTP_CTL_EL0, 4n);
    expect(timer.readSysreg(CNTP_CTL_EL0)).toBe(0n);
  });

  it('a negative TVAL puts CVAL in the past: the condition holds at once', () => {
    const { clock, timer, phys } = setup();
    clock.advanceTo(1e6); // count 24000
    timer.writeSysreg(CNTP_CTL_EL0, 1n);
    timer.writeSysreg(CNTP_TVAL_EL0, 0xffff_fff6n); // -10 as 32 bits
    expect(timer.readSysreg(CNTP_CVAL_EL0)).toBe(23_990n);
    expect(phys.level).toBe(true);
    // bits [63:32] of the written value are ignored
    timer.writeSysreg(CNTP_TVAL_EL0, 0x1234_5678_0000_0010n);
    expect(timer.readSysreg(CNTP_CVAL_EL0)).toBe(24_016n);
    expect(phys.level).toBe(false);
    timer.writeSysreg(CNTP_TVAL_EL0, 0x8000_0000n); // -2^31
    expect(timer.readSysreg(CNTP_CVAL_EL0)).toBe(24_000n - 2n ** 31n + 2n ** 64n);
    // CVAL near 2^64 compares unsigned: far in the future, never due
    expect(phys.level).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('CNTPCT and CNTVCT are read-only', () => {
    const { timer } = setup();
    expect(timer.writeSysreg(CNTPCT_EL0, 5n)).toBe(false);
    expect(timer.writeSysreg(CNTVCT_EL0, 5n)).toBe(false);
    expect(timer.readSysreg(sysregEnc(3, 0, 1, 0, 0))).toBeUndefined();
  });
});

describe('EL1 virtual timer and CNTVOFF_EL2', () => {
  it('CNTVCT = CNTPCT - CNTVOFF, modulo 2^64', () => {
    const { clock, timer } = setup();
    clock.advanceTo(1e9);
    timer.writeSysreg(CNTVOFF_EL2, 4_000_000n);
    expect(timer.readSysreg(CNTPCT_EL0)).toBe(24_000_000n);
    expect(timer.readSysreg(CNTVCT_EL0)).toBe(20_000_000n);
    timer.writeSysreg(CNTVOFF_EL2, 24_000_001n);
    expect(timer.readSysreg(CNTVCT_EL0)).toBe(2n ** 64n - 1n);
  });

  it('fires when CNTVCT reaches CVAL, and a CNTVOFF write re-arms it', () => {
    const { clock, timer, virt, phys } = setup();
    clock.advanceTo(1e9); // CNTPCT 24_000_000
    timer.writeSysreg(CNTVOFF_EL2, 24_000_000n);
    timer.writeSysreg(CNTV_CVAL_EL0, 100n);
    timer.writeSysreg(CNTV_CTL_EL0, 1n);
    // physical count 24_000_100 at ceil(24_000_100 * 1e9 / 24e6) ns
    expect(clock.nextEventAt()).toBe(1_000_004_167);
    clock.advanceTo(1_000_004_166);
    expect(virt.level).toBe(false);
    clock.advanceTo(1_000_004_167);
    expect(virt.level).toBe(true);
    expect(timer.readSysreg(CNTV_TVAL_EL0)).toBe(0n);
    // the hypervisor moves the guest's time back: CNTVCT = 50, condition no longer met
    timer.writeSysreg(CNTVOFF_EL2, 24_000_050n);
    expect(virt.level).toBe(false);
    expect(timer.readSysreg(CNTV_CTL_EL0)).toBe(1n);
    expect(clock.nextEventAt()).toBe(1_000_006_250); // count 24_000_150
    timer.writeSysreg(CNTVOFF_EL2, 0n);
    expect(virt.level).toBe(true);
    expect(phys.edges).toEqual([]);
    expect(virt.edges).toEqual(['up@1000004167', 'down@1000004167', 'up@1000004167']);
  });

  it('the comparison is unsigned: a CNTVOFF above CNTPCT wraps CNTVCT to a huge value that meets any CVAL', () => {
    const { timer, virt } = setup();
    timer.writeSysreg(CNTVOFF_EL2, 24_000_000n);
    timer.writeSysreg(CNTV_CVAL_EL0, 100n);
    timer.writeSysreg(CNTV_CTL_EL0, 1n);
    expect(timer.readSysreg(CNTVCT_EL0)).toBe(2n ** 64n - 24_000_000n);
    expect(virt.level).toBe(true);
  });

  it('virtual TVAL is relative to CNTVCT', () => {
    const { clock, timer } = setup();
    clock.advanceTo(1e9);
    timer.writeSysreg(CNTVOFF_EL2, 4_000_000n);
    timer.writeSysreg(CNTV_TVAL_EL0, 1000n);
    expect(timer.readSysreg(CNTV_CVAL_EL0)).toBe(20_001_000n);
  });
});

describe('EL2 physical timer and control registers', () => {
  it('CNTHP fires on its own line and ignores CNTVOFF', () => {
    const { clock, timer, hyp, phys, virt } = setup(62_500_000);
    timer.writeSysreg(CNTVOFF_EL2, 1000n);
    timer.writeSysreg(CNTHP_TVAL_EL2, 10n);
    timer.writeSysreg(CNTHP_CTL_EL2, 1n);
    expect(timer.readSysreg(CNTHP_CVAL_EL2)).toBe(10n);
    clock.advanceTo(1000);
    expect(hyp.edges).toEqual(['up@160']);
    expect(phys.edges.length + virt.edges.length).toBe(0);
  });

  it('CNTKCTL_EL1 and CNTHCTL_EL2 hold their defined bits', () => {
    const { timer } = setup();
    expect(timer.readSysreg(CNTHCTL_EL2)).toBe(3n);
    timer.writeSysreg(CNTKCTL_EL1, 0xffff_ffffn);
    expect(timer.readSysreg(CNTKCTL_EL1)).toBe(0x3ffn);
    timer.writeSysreg(CNTHCTL_EL2, 0x1n);
    expect(timer.readSysreg(CNTHCTL_EL2)).toBe(1n);
  });

  it('reads the counter at the PE\'s local time when it runs ahead of the clock', () => {
    const clock = new Clock();
    let local = 0;
    const w = new Wire(clock);
    const timer = new GenericTimer({ clock, counter: new SystemCounter(24_000_000), irqs: { phys: w, virt: w, hyp: w }, now: () => local });
    local = 1e6;
    expect(timer.readSysreg(CNTPCT_EL0)).toBe(24_000n);
    local = 0;
    clock.advanceTo(2e6);
    expect(timer.readSysreg(CNTPCT_EL0)).toBe(48_000n);
  });
});
