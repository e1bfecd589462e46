// The soft TLB as wasm sees it: the probes of translated code and of the wasm interpreter compare
// the integer tags (soft-tlb.ts rTagI/wTagI), the JavaScript paths the doubles beside them. Every
// way an entry is made or dropped must change both: a stale integer tag would let wasm code reach
// a page through a translation the guest has torn down (TLBI) or into decoded code (writes).
import { describe, expect, it } from 'vitest';
import { Cpu } from '../../emulator/arm64/cpu.ts';
import { FlatMemory } from '../../emulator/arm64/flat-memory.ts';
import { Access } from '../../emulator/arm64/memory.ts';
import { TYPES } from '../../emulator/arm64/jit/chain.ts';
import { probeFunction, probeKey } from '../../emulator/arm64/jit/emit-mem.ts';
import { buildModule } from '../../emulator/arm64/jit/wasm.ts';
import { TLB_SIZE } from '../../emulator/arm64/soft-tlb.ts';

const RAM = 1 << 20;
/** A kernel-like address: negative as a JS number (the upper VA range), page number < -2^32. */
const KVA = -0x7ffff7ff6000;

/** A CPU whose every virtual address maps to RAM at va mod 1 MiB, and wasm probes of its TLBs. */
function setup() {
  const mem = new FlatMemory(RAM);
  const cpu = new Cpu(mem);
  cpu.translator = { pageCacheable: true, translate: (va: number, _access: Access) => ((va % RAM) + RAM) % RAM };
  const memory = mem.guest.memory!;
  const probe = (size: number, write: boolean) => {
    const bytes = buildModule(TYPES, [{ name: 'm', kind: 'memory' }], [probeFunction(probeKey(size, write))]);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { e: { m: memory } }).exports.f as (va: bigint, rb: number, ctx: number) => number;
    // ctx: the TLB context's byte offset (EL1 here), as the run loop passes it.
    return (va: number): number => f(BigInt(va), cpu.slot.base, cpu.el === 0 ? 0 : TLB_SIZE * 8);
  };
  return { mem, cpu, read: probe(4, false), write: probe(4, true) };
}

describe('soft TLB tags seen from wasm', () => {
  it('a read or write entry is found at its page, negative addresses included, and nowhere else', () => {
    const { cpu, read, write } = setup();
    cpu.el = 1;
    cpu.setTlbContext(1);
    for (const va of [0x5008, KVA + 0x10]) {
      expect(read(va)).toBe(-1);
      cpu.read32(va);
      const ro = ((va % RAM) + RAM) % RAM;
      expect(read(va)).toBe(ro);
      expect(read(va + 0xff0 - (va & 0xfff))).toBe(ro - (va & 0xfff) + 0xff0);
      // Same TLB index, other page numbers: the whole page number is compared.
      expect(read(va + 2 ** 23)).toBe(-1);
      expect(read(va + 2 ** 44)).toBe(-1);
      expect(read(va - 2 ** 45)).toBe(-1);
      expect(write(va)).toBe(-1);
      cpu.write32(va, 7);
      expect(write(va)).toBe(ro);
      // An access that would leave the page misses.
      expect(read(va - (va & 0xfff) + 0xffd)).toBe(-1);
    }
  });

  it('TLBI by page, a full flush and code made in a page drop what wasm finds', () => {
    const { mem, cpu, read, write } = setup();
    cpu.el = 1;
    cpu.setTlbContext(1);
    const fill = (va: number) => {
      cpu.read32(va);
      cpu.write32(va, 1);
      expect(read(va)).toBeGreaterThanOrEqual(0);
      expect(write(va)).toBeGreaterThanOrEqual(0);
    };
    for (const va of [0x7000, KVA]) {
      fill(va);
      cpu.flushTlbPage(Math.floor(va / 4096));
      expect(read(va)).toBe(-1);
      expect(write(va)).toBe(-1);
      fill(va);
      cpu.flushTlb();
      expect(read(va)).toBe(-1);
      expect(write(va)).toBe(-1);
    }
    // Decoded code in a page takes it out of every CPU's write TLB (stores must drop the code).
    fill(0x9000);
    mem.codeCache.page(0x9000, cpu.decoder);
    expect(write(0x9000)).toBe(-1);
    expect(read(0x9000)).toBeGreaterThanOrEqual(0);
  });
});
