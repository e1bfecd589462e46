// Coherent code: the decoded-instruction cache is shared by physical RAM page across CPUs, and
// every write to a page holding decoded code (another CPU's store, a loader, DMA through the bus,
// the CPU's own store) makes the next fetch run the new instructions. IC and the store into code
// end the block; ISB ends it only when an interrupt is asserted (it is taken there).
import { describe, expect, it } from 'vitest';
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { Bus } from '../../emulator/bus/bus.ts';
import type { PhysicalMemory } from '../../emulator/arm64/memory.ts';
import { EC } from '../../emulator/arm64/ec.ts';
import { isb } from '../../emulator/arm64/exec/int-sys.ts';

const MOVZ_X0 = (imm: number): number => (0xd2800000 | (imm << 5)) >>> 0;
const BRK0 = 0xd4200000;
const STR_W1_X2 = 0xb9000041; // str w1, [x2]
const STR_W1_X2_800 = 0xb9080041; // str w1, [x2, #0x800]
const IC_IVAU_X2 = 0xd50b7522;
const IC_IALLU = 0xd508751f;
const ISB = 0xd5033fdf;
const DSB_ISH = 0xd5033b9f;
const CBNZ_X5_P18 = 0xb50000c5; // cbnz x5, .+0x18
const MOVZ_X5_1 = 0xd2800025;
const B_M18 = 0x17fffffa; // b .-0x18

interface Trap {
  ec: number;
  pc: number;
}

/** A CPU at EL0 with VA = PA whose synchronous exceptions stop run() and are recorded. */
function userCpu(mem: PhysicalMemory): { cpu: Cpu; traps: Trap[] } {
  const cpu = new Cpu(mem);
  const traps: Trap[] = [];
  cpu.exceptionHook = (c, ec) => {
    traps.push({ ec, pc: c.pc });
    c.stopRequested = true;
    c.exitRequest = 1;
  };
  cpu.el = 0;
  return { cpu, traps };
}

function put(mem: PhysicalMemory, pa: number, words: number[]): void {
  for (let i = 0; i < words.length; i++) mem.ram.setUint32(mem.ramOffset(pa + 4 * i), words[i]! >>> 0, true);
}

function runAt(cpu: Cpu, pc: number, budget = 100): number {
  cpu.pc = pc;
  return cpu.run(budget);
}

describe('one decoded-code cache per physical memory, shared by all CPUs', () => {
  it('CPUs on the same memory share the cache object', () => {
    const mem = new FlatMemory(1 << 16);
    const a = userCpu(mem).cpu;
    const b = userCpu(mem).cpu;
    expect(a.codeCache).toBe(mem.codeCache);
    expect(b.codeCache).toBe(mem.codeCache);
  });

  it('CPU A stores an instruction CPU B already ran (A had the page in its write TLB): B runs the new one', () => {
    const mem = new FlatMemory(1 << 16);
    const A = userCpu(mem);
    const B = userCpu(mem);
    // B's code at 0x1000: movz x0, #1; brk. A's code at 0x2000: one store.
    put(mem, 0x1000, [MOVZ_X0(1), BRK0]);
    put(mem, 0x2000, [STR_W1_X2, BRK0]);
    // A first writes data into the same page (0x1800) while it is not code: the page enters A's
    // write TLB, the fast path a later store would take.
    A.cpu.setX(1, 0x1234n);
    A.cpu.setX(2, 0x1800n);
    runAt(A.cpu, 0x2000);
    expect(mem.ram.getUint32(0x1800, true)).toBe(0x1234);

    runAt(B.cpu, 0x1000);
    expect(B.cpu.getX(0)).toBe(1n);
    expect(B.traps).toEqual([{ ec: EC.BRK64, pc: 0x1004 }]);
    expect(mem.codeCache.isCode(1)).toBe(true);

    // A patches B's first instruction.
    A.cpu.setX(1, BigInt(MOVZ_X0(7)));
    A.cpu.setX(2, 0x1000n);
    runAt(A.cpu, 0x2000);
    expect(mem.codeCache.isCode(1)).toBe(false);
    expect(mem.codeCache.invalidations).toBe(1);

    runAt(B.cpu, 0x1000);
    expect(B.cpu.getX(0)).toBe(7n);
    expect(B.traps.map((t) => t.pc)).toEqual([0x1004, 0x1004]);
  });

  it("a store from the CPU's slow path (page not in its write TLB) drops the page for the other CPU", () => {
    const mem = new FlatMemory(1 << 16);
    const A = userCpu(mem);
    const B = userCpu(mem);
    put(mem, 0x1000, [MOVZ_X0(1), BRK0]);
    put(mem, 0x3000, [STR_W1_X2_800, BRK0]);
    runAt(B.cpu, 0x1000);
    expect(B.cpu.getX(0)).toBe(1n);
    // A writes 0x800 bytes before the code: same page, different word. The page is dropped all
    // the same (coherence is per page); B re-decodes and still runs its unchanged instruction.
    A.cpu.setX(1, 0xdeadn);
    A.cpu.setX(2, 0x1000n);
    runAt(A.cpu, 0x3000);
    expect(mem.ram.getUint32(0x1800, true)).toBe(0xdead);
    expect(mem.codeCache.invalidations).toBe(1);
    put(mem, 0x1000, [MOVZ_X0(3)]); // direct RAM poke, no invalidation: the decoded copy is gone already
    runAt(B.cpu, 0x1000);
    expect(B.cpu.getX(0)).toBe(3n);
  });

  it('both CPUs ran the code; a bus load of a new image over it makes both run the new code', () => {
    const bus = new Bus();
    bus.addRam(0x4000_0000, 1 << 20);
    const A = userCpu(bus);
    const B = userCpu(bus);
    const image = (n: number): Uint8Array => new Uint8Array(Uint32Array.from([MOVZ_X0(n), BRK0]).buffer);
    bus.loadBytes(0x4000_0000, image(1));
    runAt(A.cpu, 0x4000_0000);
    runAt(B.cpu, 0x4000_0000);
    expect([A.cpu.getX(0), B.cpu.getX(0)]).toEqual([1n, 1n]);

    bus.loadBytes(0x4000_0000, image(2));
    runAt(A.cpu, 0x4000_0000);
    runAt(B.cpu, 0x4000_0000);
    expect([A.cpu.getX(0), B.cpu.getX(0)]).toEqual([2n, 2n]);
  });

  it('DMA-style bus writes (writeBytes, write, write64) over executed code are seen by the next fetch', () => {
    const bus = new Bus();
    bus.addRam(0x4000_0000, 1 << 20);
    const A = userCpu(bus);
    const base = 0x4000_0000;
    bus.loadBytes(base, new Uint8Array(Uint32Array.from([MOVZ_X0(1), BRK0]).buffer));
    runAt(A.cpu, base);
    expect(A.cpu.getX(0)).toBe(1n);

    bus.writeBytes(base, new Uint8Array(Uint32Array.from([MOVZ_X0(3)]).buffer));
    runAt(A.cpu, base);
    expect(A.cpu.getX(0)).toBe(3n);

    bus.write(base, 4, MOVZ_X0(4));
    runAt(A.cpu, base);
    expect(A.cpu.getX(0)).toBe(4n);

    bus.write64(base, BigInt(MOVZ_X0(5)) | (BigInt(BRK0) << 32n));
    runAt(A.cpu, base);
    expect(A.cpu.getX(0)).toBe(5n);
    expect(A.traps.map((t) => t.ec)).toEqual([EC.BRK64, EC.BRK64, EC.BRK64, EC.BRK64]);
    expect(bus.codeCache.invalidations).toBe(3);
  });

  it('writeBytes to a range that is not all RAM throws a BusError and writes nothing', () => {
    const bus = new Bus();
    bus.addRam(0x4000_0000, 0x1000);
    expect(() => bus.writeBytes(0x4000_0ffc, new Uint8Array(8).fill(0xff))).toThrow(/bus error: write of 8 bytes/);
    expect(bus.readBytes(0x4000_0ffc, 4)).toEqual(new Uint8Array(4));
  });
});

describe('self-modifying code in the executing page: the store and IC end the block', () => {
  // 0x1000: movz x0,#1 (patched to movz x0,#2); cbnz x5 -> brk; movz x5,#1; str w1,[x2];
  //         <sync>; <sync>; b 0x1000; brk. The branch back stays inside the page, where the run
  //         loop would keep using the decodes it holds unless the block ended.
  const program = (sync1: number, sync2: number): number[] => [MOVZ_X0(1), CBNZ_X5_P18, MOVZ_X5_1, STR_W1_X2, sync1, sync2, B_M18, BRK0];

  for (const [name, s1, s2] of [
    ['IC IVAU + ISB', IC_IVAU_X2, ISB],
    ['DSB + ISB', DSB_ISH, ISB],
    ['IC IVAU alone', DSB_ISH, IC_IVAU_X2],
  ] as const) {
    it(`store, ${name}, branch back: the new instruction runs`, () => {
      const mem = new FlatMemory(1 << 16);
      const { cpu, traps } = userCpu(mem);
      put(mem, 0x1000, program(s1, s2));
      cpu.setX(1, BigInt(MOVZ_X0(2)));
      cpu.setX(2, 0x1000n);
      const n = runAt(cpu, 0x1000);
      expect(cpu.getX(0)).toBe(2n);
      expect(traps).toEqual([{ ec: EC.BRK64, pc: 0x101c }]);
      expect(n).toBe(10);
    });
  }

  it('IC IALLU is UNDEFINED at EL0', () => {
    const mem = new FlatMemory(1 << 16);
    const { cpu, traps } = userCpu(mem);
    put(mem, 0x1000, [IC_IALLU, BRK0]);
    runAt(cpu, 0x1000);
    expect(traps).toEqual([{ ec: EC.UNKNOWN, pc: 0x1000 }]);
  });
});

describe('ISB', () => {
  it('ends the block only when an interrupt is asserted (to be taken at the ISB)', () => {
    const { cpu } = userCpu(new FlatMemory(1 << 16));
    cpu.exitRequest = 0;
    isb(cpu);
    expect(cpu.exitRequest, 'nothing asserted: the block goes on').toBe(0);
    for (const wire of ['irqLine', 'fiqLine'] as const) {
      cpu[wire] = true;
      isb(cpu);
      expect(cpu.exitRequest, wire).toBe(1);
      cpu[wire] = false;
      cpu.exitRequest = 0;
    }
  });
});
