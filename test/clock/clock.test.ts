import { describe, expect, it } from 'vitest';
import { Clock, ClockEvent } from '../../emulator/clock/clock.ts';
import { CORTEX_A55, CORTEX_A76, CoreModel, CycleCounter, InstrClass } from '../../emulator/clock/cycle-model.ts';

describe('Clock', () => {
  it('runs due events in time order, ties in scheduling order, with now = deadline', () => {
    const clock = new Clock();
    const log: string[] = [];
    const mk = (n: string) => new ClockEvent((now) => log.push(`${n}@${now}`), n);
    const a = mk('a');
    const b = mk('b');
    const c = mk('c');
    const d = mk('d');
    clock.schedule(c, 300);
    clock.schedule(a, 100);
    clock.schedule(d, 100);
    clock.schedule(b, 200);
    expect(clock.nextEventAt()).toBe(100);
    clock.advanceTo(250);
    expect(log).toEqual(['a@100', 'd@100', 'b@200']);
    expect(clock.now).toBe(250);
    expect(clock.nextEventAt()).toBe(300);
    clock.advanceTo(1000);
    expect(log.at(-1)).toBe('c@300');
    expect(clock.nextEventAt()).toBe(Infinity);
    expect(clock.now).toBe(1000);
  });

  it('re-arming moves an event, cancel removes it, Infinity means never', () => {
    const clock = new Clock();
    const log: number[] = [];
    const ev = new ClockEvent((now) => log.push(now));
    const other = new ClockEvent(() => log.push(-1));
    clock.schedule(ev, 500);
    clock.schedule(other, 400);
    clock.schedule(ev, 50);
    expect(clock.pending).toBe(2);
    clock.cancel(other);
    clock.cancel(other);
    expect(clock.pending).toBe(1);
    clock.advanceTo(600);
    expect(log).toEqual([50]);
    expect(ev.scheduled).toBe(false);
    clock.schedule(ev, 700);
    clock.schedule(ev, Infinity);
    expect(clock.pending).toBe(0);
  });

  it('callbacks may re-arm themselves within the same advance (periodic timer)', () => {
    const clock = new Clock();
    const log: number[] = [];
    const ev: ClockEvent = new ClockEvent((now) => {
      log.push(now);
      clock.schedule(ev, now + 100);
    });
    clock.schedule(ev, 100);
    clock.advanceTo(450);
    expect(log).toEqual([100, 200, 300, 400]);
    expect(clock.nextEventAt()).toBe(500);
  });

  it('keeps heap order across many random operations (deterministic)', () => {
    const clock = new Clock();
    const fired: number[] = [];
    const evs = Array.from({ length: 200 }, (_, i) => new ClockEvent((now) => fired.push(now), `e${i}`));
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 10000;
    for (let k = 0; k < 1000; k++) {
      const ev = evs[rnd() % evs.length];
      if (rnd() % 5 === 0) clock.cancel(ev);
      else clock.schedule(ev, rnd());
    }
    const expected = evs.filter((e) => e.scheduled).map((e) => e.at).sort((x, y) => x - y);
    clock.advanceTo(20000);
    expect(fired).toEqual(expected);
  });
});

describe('cycle model', () => {
  it('converts cycles to ns exactly with the core frequency', () => {
    // 2.4 GHz: 12 cycles = 5 ns
    expect(CORTEX_A76.nsForCycles(12)).toBe(5);
    expect(CORTEX_A76.nsForCycles(11)).toBe(4);
    expect(CORTEX_A76.nsForCycles(2.4e9)).toBe(1e9);
    // 1.8 GHz: 9 cycles = 5 ns
    expect(CORTEX_A55.nsForCycles(9)).toBe(5);
    expect(CORTEX_A55.cyclesForNs(1e9)).toBe(1.8e9);
    expect(CORTEX_A76.cyclesForNs(5)).toBe(12);
  });

  it('the A76 runs simple code faster than the A55', () => {
    const big = new CycleCounter(CORTEX_A76);
    const little = new CycleCounter(CORTEX_A55);
    for (let i = 0; i < 1_000_000; i++) {
      big.charge(InstrClass.Alu);
      little.charge(InstrClass.Alu);
    }
    // 1e6 ALU instructions: 0.5 cycles at 2.4 GHz vs 1 cycle at 1.8 GHz
    expect(big.cycles).toBe(500_000);
    expect(big.ns).toBe(208_333);
    expect(little.ns).toBe(555_555);
    expect(big.instructions).toBe(1_000_000);
  });

  it('validates its table', () => {
    expect(() => new CoreModel({ name: 'x', freqHz: 1e9, cycles: [1] })).toThrow(/costs/);
  });
});
