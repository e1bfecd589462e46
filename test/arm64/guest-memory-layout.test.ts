// The wasm memory's layout (emulator/arm64/jit/guest-memory.ts): RAM, then the CPU slots, then the
// wasm interpreter's arena, in whole wasm pages, never overlapping and never past 4 GiB.
import { describe, expect, it } from 'vitest';
import { TABLE_HEAT } from '../../emulator/arm64/jit/winterp-ops.ts';
import { ARENA_BYTES, ARENA_TABLE_BYTES, ARENA_TABLES, CPU_SLOT_BYTES, CPU_SLOTS, GuestMemory, WASM_PAGE, WASM_RAM_LIMIT, wasmLayout } from '../../emulator/arm64/jit/guest-memory.ts';

const SLOTS_END = (cpuBase: number): number => cpuBase + CPU_SLOTS * CPU_SLOT_BYTES;

describe('wasm memory layout', () => {
  it('keeps RAM, CPU slots and arena apart, in whole pages, up to the RAM limit', () => {
    for (const ram of [1, WASM_PAGE, 64 * 2 ** 20 + 1, 512 * 2 ** 20, 3 * 2 ** 30 + 12345, WASM_RAM_LIMIT - 1, WASM_RAM_LIMIT]) {
      const { cpuBase, arenaBase, pages } = wasmLayout(ram);
      expect(Number.isInteger(pages), `ram ${ram}`).toBe(true);
      expect(cpuBase).toBeGreaterThanOrEqual(ram);
      expect(cpuBase % WASM_PAGE).toBe(0);
      expect(arenaBase).toBeGreaterThanOrEqual(SLOTS_END(cpuBase));
      expect(arenaBase + ARENA_BYTES).toBe(pages * WASM_PAGE);
      // Slot tables 8-byte aligned, and their slots and entries whole doubles (runtime.ts slotsFor
      // zeroes them as doubles); memos likewise.
      expect([arenaBase, ARENA_TABLE_BYTES, TABLE_HEAT, ARENA_TABLES * ARENA_TABLE_BYTES].map((x) => x % 8)).toEqual([0, 0, 0, 0]);
      expect(pages).toBeLessThanOrEqual(65536); // wasm32: 4 GiB
    }
    expect(WASM_RAM_LIMIT % WASM_PAGE).toBe(0);
  });

  it('allocates exactly the layout, the arena being the memory\'s last ARENA_BYTES', () => {
    const m = new GuestMemory(512 * 2 ** 20);
    const { cpuBase, arenaBase, pages } = wasmLayout(512 * 2 ** 20);
    expect(m.cpuBase).toBe(cpuBase);
    expect(m.memory!.buffer.byteLength).toBe(pages * WASM_PAGE);
    // (jit/runtime.ts finds the arena this way.)
    expect(m.memory!.buffer.byteLength - ARENA_BYTES).toBe(arenaBase);
    expect(arenaBase).toBeGreaterThanOrEqual(SLOTS_END(m.cpuBase));
  });

  it("is not counted as the isolate's external memory (V8 would start a garbage collection for it)", () => {
    const before = process.memoryUsage().external;
    const m = new GuestMemory(512 * 2 ** 20);
    expect(m.buffer.byteLength).toBeGreaterThan(512 * 2 ** 20);
    // (A plain wasm memory of this size adds its whole size here.)
    expect(process.memoryUsage().external - before).toBeLessThan(16 * 2 ** 20);
  });
});
