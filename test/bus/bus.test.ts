import { describe, expect, it } from 'vitest';
import { Bus } from '../../emulator/bus/bus.ts';
import { BusError, type MmioDevice } from '../../emulator/bus/device.ts';
import type { PhysicalMemory } from '../../emulator/arm64/memory.ts';
import { defaultDecoder } from '../../emulator/arm64/cpu.ts';
import { setRamDiscard } from '../../emulator/arm64/jit/guest-memory.ts';
import { discardPages } from '../../src/huge-pages.ts';

class Recorder implements MmioDevice {
  log: string[] = [];
  constructor(readonly name: string) {}
  read(offset: number, size: 1 | 2 | 4): number {
    this.log.push(`r${size}@${offset.toString(16)}`);
    return 0x11223344 + offset;
  }
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    this.log.push(`w${size}@${offset.toString(16)}=${value.toString(16)}`);
  }
}

class Wide extends Recorder {
  read64(offset: number): bigint {
    this.log.push(`r8@${offset.toString(16)}`);
    return 0x8877665544332211n;
  }
  write64(offset: number, v: bigint): void {
    this.log.push(`w8@${offset.toString(16)}=${v.toString(16)}`);
  }
}

describe('Bus RAM', () => {
  it('places regions back to back in one buffer and maps pages linearly', () => {
    const bus = new Bus();
    bus.addRam(0x4000_0000, 0x10000);
    bus.addRam(0x0, 0x2000);
    // sorted by base for lookup, but buffer offsets in the order added
    expect(bus.ramOffset(0x4000_0000)).toBe(0);
    expect(bus.ramOffset(0x4000_0fff)).toBe(0xfff);
    expect(bus.ramOffset(0x0)).toBe(0x10000);
    expect(bus.ramOffset(0x1234)).toBe(0x11234);
    expect(bus.ramOffset(0x2000)).toBe(-1);
    expect(bus.ramOffset(0x4001_0000)).toBe(-1);
    expect(bus.ram.byteLength).toBe(0x12000);
    expect(bus.ramBytes.buffer).toBe(bus.ram.buffer);
    // the CPU takes the bus as its PhysicalMemory
    const mem: PhysicalMemory = bus;
    expect(mem.ramOffset(0x4000_0004)).toBe(4);
  });

  it('rejects unaligned, overlapping and late RAM', () => {
    const bus = new Bus();
    expect(() => bus.addRam(0x800, 0x1000)).toThrow(/4 KiB/);
    expect(() => bus.addRam(0x1000, 0x1800)).toThrow(/4 KiB/);
    bus.addRam(0x1000, 0x2000);
    expect(() => bus.addRam(0x2000, 0x1000)).toThrow(/overlaps RAM/);
    expect(() => bus.addMmio(0x2ff0, 0x100, new Recorder('x'))).toThrow(/overlaps RAM/);
    void bus.ram;
    expect(() => bus.addRam(0x10000, 0x1000)).toThrow(/after/);
  });

  it('slow path reads and writes RAM little-endian', () => {
    const bus = new Bus();
    bus.addRam(0x8000_0000, 0x1000);
    bus.write(0x8000_0010, 4, 0xdeadbeef);
    expect(bus.read(0x8000_0010, 1)).toBe(0xef);
    expect(bus.read(0x8000_0012, 2)).toBe(0xdead);
    expect(bus.read(0x8000_0010, 4)).toBe(0xdeadbeef);
    bus.write64(0x8000_0020, 0x0123456789abcdefn);
    expect(bus.read(0x8000_0020, 4)).toBe(0x89abcdef);
    expect(bus.read64(0x8000_0020)).toBe(0x0123456789abcdefn);
    expect(bus.ram.getUint32(0x24, true)).toBe(0x01234567);
  });

  it('an access past the end of RAM is a BusError, not a host exception', () => {
    const bus = new Bus();
    bus.addRam(0, 0x1000);
    expect(() => bus.read(0x1000, 4)).toThrow(BusError);
    expect(() => bus.read(0xffe, 4)).toThrow(BusError);
    expect(() => bus.write64(0xffc, 1n)).toThrow(BusError);
    try {
      bus.write(0x5000, 2, 1);
    } catch (e) {
      expect(e).toBeInstanceOf(BusError);
      expect((e as BusError).address).toBe(0x5000);
      expect((e as BusError).write).toBe(true);
      expect((e as BusError).size).toBe(2);
    }
  });

  it('loadBytes/readBytes span adjacent regions and refuse non-RAM', () => {
    const bus = new Bus();
    bus.addRam(0x1000, 0x1000);
    bus.addRam(0x2000, 0x1000);
    const data = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    bus.loadBytes(0x1ff8, data);
    expect(bus.read(0x1ff8, 1)).toBe(1);
    expect(bus.read(0x2000, 1)).toBe(9);
    expect([...bus.readBytes(0x1ffc, 8)]).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(() => bus.loadBytes(0x2ff8, data)).toThrow(/not RAM/);
    expect(() => bus.readBytes(-1, 4)).toThrow(/bad RAM range/);
  });
});

describe('Bus MMIO', () => {
  it('dispatches by offset to the right device among many', () => {
    const bus = new Bus();
    const devs = Array.from({ length: 20 }, (_, i) => new Recorder(`d${i}`));
    // added out of order to exercise sorting
    for (const i of [5, 1, 19, 0, 7, 3, 2, 4, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]) {
      bus.addMmio(0x0900_0000 + i * 0x1000, 0x100, devs[i]);
    }
    expect(bus.read(0x0900_7004, 4)).toBe(0x11223348);
    bus.write(0x0901_3010, 1, 0x41);
    expect(devs[7].log).toEqual(['r4@4']);
    expect(devs[19].log).toEqual(['w1@10=41']);
    expect(bus.deviceAt(0x0900_0000)?.dev.name).toBe('d0');
    // gap between devices, and past the last
    expect(() => bus.read(0x0900_7100, 4)).toThrow(BusError);
    expect(() => bus.read(0x0901_4000, 4)).toThrow(BusError);
    expect(() => bus.read(0x08ff_ffff, 1)).toThrow(BusError);
    // an access straddling the region end
    expect(() => bus.read(0x0900_70fe, 4)).toThrow(BusError);
    expect(() => bus.addMmio(0x0900_70f0, 0x20, new Recorder('o'))).toThrow(/overlaps device "d7"/);
  });

  it('writes of size 4 reach the device as unsigned', () => {
    const bus = new Bus();
    const d = new Recorder('d');
    bus.addMmio(0x1000, 0x100, d);
    bus.write(0x1000, 4, -1);
    expect(d.log).toEqual(['w4@0=ffffffff']);
  });

  it('64-bit access uses read64/write64 when present, else two 32-bit accesses low word first', () => {
    const bus = new Bus();
    const narrow = new Recorder('narrow');
    const wide = new Wide('wide');
    bus.addMmio(0x1000, 0x100, narrow);
    bus.addMmio(0x2000, 0x100, wide);
    expect(bus.read64(0x1008)).toBe((BigInt(0x11223344 + 0xc) << 32n) | BigInt(0x11223344 + 8));
    bus.write64(0x1010, 0xaabbccdd_11223344n);
    expect(narrow.log).toEqual(['r4@8', 'r4@c', 'w4@10=11223344', 'w4@14=aabbccdd']);
    expect(bus.read64(0x2008)).toBe(0x8877665544332211n);
    bus.write64(0x2010, -1n);
    expect(wide.log).toEqual(['r8@8', 'w8@10=ffffffffffffffff']);
  });

  it('addresses up to 2^48 are numbers; beyond is refused', () => {
    const bus = new Bus();
    bus.addMmio(0xffff_ffff_0000, 0x1000, new Recorder('high'));
    expect(bus.read(0xffff_ffff_0ffc, 4)).toBe(0x11223344 + 0xffc);
    expect(() => bus.addMmio(0xffff_ffff_f000, 0x2000, new Recorder('x'))).toThrow(/bad range/);
  });
});

describe('Bus device DMA', () => {
  it('isRam covers adjacent regions and refuses gaps, MMIO and unsafe numbers', () => {
    const bus = new Bus();
    bus.addRam(0x1000, 0x1000);
    bus.addRam(0x2000, 0x1000);
    bus.addRam(0x8000, 0x1000);
    bus.addMmio(0x4000, 0x1000, new Recorder('dev'));
    expect(bus.isRam(0x1ff0, 0x20)).toBe(true);
    expect(bus.isRam(0x1000, 0x2000)).toBe(true);
    expect(bus.isRam(0x2ff0, 0x20)).toBe(false);
    expect(bus.isRam(0x4000, 4)).toBe(false);
    expect(bus.isRam(2 ** 60, 4)).toBe(false);
    expect(bus.isRam(0x8000, 0)).toBe(true);
  });

  it('writeBytes copies across regions; readInto reads it back; a range that is not all RAM writes nothing', () => {
    const bus = new Bus();
    bus.addRam(0x1000, 0x1000);
    bus.addRam(0x2000, 0x1000);
    bus.writeBytes(0x1ffe, Uint8Array.of(1, 2, 3, 4));
    expect(Array.from(bus.readInto(0x1ffe, new Uint8Array(4)))).toEqual([1, 2, 3, 4]);
    expect(() => bus.writeBytes(0x2ffe, Uint8Array.of(9, 9, 9))).toThrow(/bus error: write/);
    expect(Array.from(bus.readInto(0x2ffe, new Uint8Array(2)))).toEqual([0, 0]);
  });

  it('zeroBytes clears a range as writeBytes of zeros would: every byte, decoded code dropped, nothing outside', () => {
    const bus = new Bus();
    bus.addRam(0x100000, 0x400000); // 4 MiB: chunks of 64 KiB, some zero already, some not
    const ram = bus.ramBytes;
    for (const o of [0, 0x1000, 0x10fff, 0x123456, 0x3fffff]) ram[o] = 0xa5;
    const code = bus.codeCache.page(0x20000, defaultDecoder());
    expect(bus.codeCache.isCode(0x20000 / 4096)).toBe(true);
    bus.zeroBytes(0x100000 + 0x1000, 0x3fe000); // all but the first and the last page
    expect([ram[0], ram[0x1000], ram[0x10fff], ram[0x123456], ram[0x3fffff]]).toEqual([0xa5, 0, 0, 0, 0xa5]);
    expect(ram.subarray(0x1000, 0x3ff000).some((b) => b !== 0)).toBe(false);
    expect(code.valid).toBe(false);
    expect(bus.codeCache.isCode(0x20000 / 4096)).toBe(false);
    expect(() => bus.zeroBytes(0x4ff000, 0x2000)).toThrow(/bus error: write/); // runs off the end of RAM
  });

  it('zeroBytes gives whole pages of the wasm memory back to the host (src/huge-pages.ts), with the same result', () => {
    const given: [number, number][] = [];
    setRamDiscard((v) => (given.push([v.byteOffset, v.byteLength]), discardPages(v)));
    try {
      const bus = new Bus();
      bus.addRam(0x100000, 0x400000);
      const ram = bus.ramBytes;
      for (const o of [0, 0x1000, 0x10fff, 0x123456, 0x3f0000, 0x3fefff, 0x3fffff]) ram[o] = 0xa5;
      const code = bus.codeCache.page(0x20000, defaultDecoder());
      bus.zeroBytes(0x100000 + 0x1000, 0x3fe000);
      // The 64 KiB-aligned middle given back, the partial blocks at either end written.
      expect(given).toEqual([[0x10000, 0x3e0000]]);
      expect([ram[0], ram[0x1000], ram[0x10fff], ram[0x123456], ram[0x3f0000], ram[0x3fefff], ram[0x3fffff]]).toEqual([0xa5, 0, 0, 0, 0, 0, 0xa5]);
      expect(ram.subarray(0x1000, 0x3ff000).some((b) => b !== 0)).toBe(false);
      expect(code.valid).toBe(false);
      // Given back, the pages are RAM as before: written and read again.
      ram[0x123456] = 7;
      expect(bus.read(0x223456, 1)).toBe(7);
      // Where pages cannot be given back, the chunks are written instead.
      setRamDiscard(() => false);
      ram[0x200000] = 1;
      bus.zeroBytes(0x100000, 0x400000);
      expect(ram.some((b) => b !== 0)).toBe(false);
    } finally {
      setRamDiscard(null);
    }
  });
});
