// Address arithmetic is modulo 2^64 (ARM ARM: "address = X[n] + offset" on bits(64)); writeback
// carries across the 32-bit halves of the register file and wraps at 2^64; upper-half (kernel)
// addresses are negative JS numbers. The translator maps every VA to PA = VA mod 2^20.
import { expect, it } from 'vitest';
import { describeOracle } from '../oracles.ts';
import type { AddressTranslator } from '../../emulator/arm64/memory.ts';
import { TestCpu } from './harness.ts';
import { assemble } from './ls-oracle.ts';

function run(asm: string, regs: Record<number, bigint>): TestCpu {
  const t = new TestCpu();
  const low20: AddressTranslator = { pageCacheable: true, translate: (va: number) => ((va % 0x100000) + 0x100000) % 0x100000 };
  t.cpu.translator = low20;
  for (let i = 0; i < 0x100; i++) t.mem.ram.setUint8(0x80000 + i, i);
  for (const [n, v] of Object.entries(regs)) t.setX(Number(n), v);
  // Code at CODE = 0x1000 is reached through the same translator (VA = PA there).
  t.exec(assemble([asm]));
  expect(t.traps).toEqual([]);
  return t;
}

const M64 = (1n << 64n) - 1n;

describeOracle('64-bit address arithmetic', ['cross-as'], () => {
  it('post-index from an upper-half address', () => {
    const t = run('ldr x1, [x2], #16', { 2: (M64 - 0xfffffn) + 0x80000n });
    // VA 0xffff_ffff_fff8_0000 -> PA 0x80000: bytes 00..07
    expect(t.x(1)).toBe(0x0706050403020100n);
    expect(t.x(2)).toBe(0xfffffffffff80010n);
  });
  it('post-index crossing 2^64 gives a small address', () => {
    const t = run('ldrb w1, [x2], #32', { 2: M64 - 7n });
    expect(t.x(2)).toBe(24n);
  });
  it('pre-index carries into the high word', () => {
    const t = run('ldr x1, [x2, #16]!', { 2: 0xfffffff8n });
    expect(t.x(2)).toBe(0x100000008n);
  });
  it('pre-index borrows from the high word (LDP)', () => {
    const t = run('ldp x1, x3, [x2, #-16]!', { 2: 0x100000008n });
    expect(t.x(2)).toBe(0xfffffff8n);
  });
  it('upper-half base with a negative register offset', () => {
    const t = run('ldr w1, [x2, x3, lsl #2]', { 2: 0xffff800000080010n, 3: M64 - 3n });
    // 0xffff_8000_0008_0010 - 16 -> PA 0x80000
    expect(t.x(1)).toBe(0x03020100n);
  });
  it('post-index by register wraps (LD1)', () => {
    const t = run('ld1 {v0.16b}, [x2], x3', { 2: 0x80000n, 3: M64 });
    expect(t.x(2)).toBe(0x7ffffn);
    expect(t.cpu.regs.vd[0]).toBe(0x0706050403020100n);
  });
});
