// An idle machine: when every CPU waits in WFI, Machine.runFor returns 'idle' with the virtual
// time to the next event instead of skipping to it, so the caller can let the host sleep; with
// the host clock, virtual time follows the host. And the --clock option.
import { describe, expect, it } from 'vitest';
import { Machine } from '../../emulator/machine.ts';
import { ClockEvent } from '../../emulator/clock/clock.ts';
import { HostConsole } from '../../emulator/devices/console.ts';
import { IdlePacer, RealTimePacer } from '../../emulator/clock/pacing.ts';
import { getBoard } from '../../src/options.ts';
import { parseBootArgs } from '../../src/commands/boot.ts';

/** A minimal arm64 Image: branch over the header to `wfi; add x1, x1, #1; b wfi`. */
function wfiLoopImage(): Uint8Array {
  const img = new Uint8Array(0x1000);
  const dv = new DataView(img.buffer);
  dv.setUint32(0, 0x14000010, true); // b +0x40
  dv.setBigUint64(16, 0x1000n, true); // image_size
  dv.setUint32(0x38, 0x644d5241, true); // "ARM\x64"
  dv.setUint32(0x40, 0xd503207f, true); // wfi
  dv.setUint32(0x44, 0x91000421, true); // add x1, x1, #1
  dv.setUint32(0x48, 0x17fffffe, true); // b 0x40
  return img;
}

const SLICE = 20_000;
const EVENT_AT = 5_000_000;

function idleMachine(clock: 'cycles' | 'host' = 'cycles', eventAt = EVENT_AT): Machine {
  const m = new Machine({ board: getBoard('qemu-virt'), smp: 1, console: new HostConsole(), clock });
  m.loadLinux({ kernel: wfiLoopImage(), cmdline: '' });
  // A device interrupt at EVENT_AT, lowered again 1 ns later.
  const cpu = m.cpus[0]!;
  const lower = new ClockEvent(() => cpu.pins.setIrq(false), 'test.lower');
  m.clock.schedule(
    new ClockEvent((now) => {
      cpu.pins.setIrq(true);
      m.clock.schedule(lower, now + 1);
    }, 'test.irq'),
    eventAt,
  );
  return m;
}

describe('Machine: every CPU idle', () => {
  it("runFor returns 'idle' with the exact virtual ns to the next event, and time stays put", () => {
    const m = idleMachine();
    expect(m.runFor(1000)).toBe('idle');
    // One slice ran (the CPU reached WFI), then the next round found it waiting.
    expect(m.virtualNs()).toBe(SLICE);
    expect(m.idleNs).toBe(EVENT_AT - SLICE);
    expect(m.runFor(1000)).toBe('idle');
    expect(m.virtualNs()).toBe(SLICE);
    expect(m.cpus[0]!.getX(1)).toBe(0n);
  });

  it('advanceIdle(Infinity) goes exactly to the event, which wakes the CPU', () => {
    const m = idleMachine();
    m.runFor(1000);
    m.advanceIdle(Infinity);
    expect(m.virtualNs()).toBe(EVENT_AT);
    expect(m.cpus[0]!.waiting).toBe(false);
    // The CPU runs while the line is high; then it waits with nothing left to wake it.
    let state = m.runFor(1000);
    while (state === 'running') state = m.runFor(1000);
    expect(state).toBe('hang');
    expect(m.cpus[0]!.getX(1) > 0n).toBe(true);
  });

  it('a partial advanceIdle (the host woke early, e.g. on input) stops short of the event', () => {
    const m = idleMachine();
    m.runFor(1000);
    m.advanceIdle(1_000_000);
    expect(m.virtualNs()).toBe(SLICE + 1_000_000);
    expect(m.runFor(1000)).toBe('idle');
    expect(m.idleNs).toBe(EVENT_AT - SLICE - 1_000_000);
    m.advanceIdle(10 * EVENT_AT);
    expect(m.virtualNs()).toBe(EVENT_AT);
  });

  it('runSlice keeps skipping idle time to the next event', () => {
    const m = idleMachine();
    m.runSlice();
    m.runSlice();
    expect(m.virtualNs()).toBe(EVENT_AT);
  });

  it('host clock: virtual time follows the host while idle', async () => {
    const m = idleMachine('host', 10e9);
    expect(m.runFor(1000)).toBe('idle');
    const before = m.virtualNs();
    expect(m.idleNs).toBe(10e9 - before);
    // Wait 20 ms by the clock the machine reads: a 20 ms timer may fire a little early by it
    // (libuv schedules timers from its cached loop time), seen once under CI load at 19.88 ms.
    const t0 = performance.now();
    while (performance.now() - t0 < 20) await new Promise((r) => setTimeout(r, 20 - (performance.now() - t0) + 1));
    m.advanceIdle(0);
    expect(m.virtualNs()).toBeGreaterThanOrEqual(before + 20_000_000);
    expect(m.virtualNs()).toBeLessThan(10e9);
    expect(m.runFor(1000)).toBe('idle');
    expect(m.cpus[0]!.getX(1)).toBe(0n);
  });
});

describe('pacing', () => {
  it('IdlePacer: sleep what is owed; an oversleep is credit for the next short idle period, capped', () => {
    const p = new IdlePacer(10);
    expect(p.sleepMs(4_000_000)).toBe(4);
    p.record(4_000_000, 5.5); // slept 1.5 ms too long
    expect(p.sleepMs(1_000_000)).toBe(0);
    p.record(1_000_000, 0);
    expect(p.sleepMs(1_000_000)).toBeCloseTo(0.5, 9);
    p.record(1_000_000, 100); // a long host stall: credit stops at 10 ms
    expect(p.sleepMs(12_000_000)).toBeCloseTo(2, 9);
  });

  it('RealTimePacer: virtual now and delays from an injected host clock', () => {
    let host = 1000;
    const p = new RealTimePacer(5_000, () => host);
    expect(p.virtualNow()).toBe(5_000);
    host += 2.5;
    expect(p.virtualNow()).toBe(2_505_000);
    expect(p.delayMs(4_505_000)).toBeCloseTo(2, 9);
    expect(p.delayMs(1_000)).toBe(0);
  });
});

describe('--clock', () => {
  it('defaults to cycles, takes host, rejects anything else', () => {
    expect(parseBootArgs([])).toMatchObject({ clock: 'cycles' });
    expect(parseBootArgs(['--clock', 'host'])).toMatchObject({ clock: 'host' });
    expect(parseBootArgs(['--clock=cycles'])).toMatchObject({ clock: 'cycles' });
    expect(() => parseBootArgs(['--clock', 'wall'])).toThrow("--clock: 'wall' is not cycles or host");
  });
});
