// qemu-aarch64 (softfloat, a faithful model of the ARM FP pseudocode) as the oracle for floating
// point instructions: a batch of (instruction word, V0-V7, X0-X7, FPCR, NZCV) cases becomes one
// static AArch64 program that, per case, loads the state, clears FPSR, executes the word and dumps
// V0-V7, X0-X7, FPSR and NZCV. The same cases run on TestCpu and the dumps are compared.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { NF, ZF, CF, VF } from '../../emulator/arm64/regs.ts';
import { TestCpu } from './harness.ts';
import { runQemuBatch } from './qemu-batch.ts';

/** V0..V7 (128 bytes), X0..X7 (64), FPCR (8), NZCV in bits 31:28 (8). */
export const IN_BYTES = 128 + 64 + 16;
/** V0..V7, X0..X7, FPSR (8), NZCV (8). */
export const OUT_BYTES = 128 + 64 + 16;

export interface Case {
  word: number;
  input: Uint8Array;
}

/** mulberry32. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const u32 = (rand: () => number): number => (rand() * 4294967296) >>> 0;

// Special operands per format, as bit patterns (double: [hi, lo]).
const SPECIAL_S = [
  0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0xff812345, 0x7fa00000, // zeros, infs, NaNs
  0x00000001, 0x80000001, 0x007fffff, 0x00400000, 0x807ffffe, 0x00800000, 0x80800000, 0x7f7fffff, 0xff7fffff, // denormals, min/max normal
  0x3f800000, 0xbf800000, 0x3f800001, 0x33800000, 0x33c00000, 0x40000000, 0x3fc00000, 0x3f000000, 0xbf000000, // 1, ties: 2^-24, 1.5*2^-24
  0x4b000000, 0x4b000001, 0x4effffff, 0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x4f800000, 0x3effffff, // integer-range boundaries
  0x40400000, 0x3eaaaaab, 0x0c800000, 0x34000000, 0x00800001, 0x01000000, 0x7effffff,
];
const SPECIAL_D: [number, number][] = [
  [0, 0], [0x80000000, 0], [0x7ff00000, 0], [0xfff00000, 0], [0x7ff80000, 0], [0xfff80000, 1], [0x7ff00000, 1], [0x7ff40000, 0x1234],
  [0, 1], [0x80000000, 1], [0x000fffff, 0xffffffff], [0x00080000, 0], [0x00100000, 0], [0x80100000, 0], [0x7fefffff, 0xffffffff],
  [0x3ff00000, 0], [0xbff00000, 0], [0x3ff00000, 1], [0x3ca00000, 0], [0x3ca80000, 0], [0x3fe00000, 0], [0xbfe00000, 0], [0x3ff80000, 0],
  [0x43300000, 0], [0x43300000, 1], [0x41dfffff, 0xffc00000], [0x41e00000, 0], [0xc1e00000, 0], [0x43e00000, 0], [0xc3e00000, 0],
  [0x43f00000, 0], [0x41efffff, 0xffe00000], [0x3fd55555, 0x55555555], [0x36a00000, 0], [0x38100000, 0], [0x47efffff, 0xe0000000],
  [0x47efffff, 0xf0000000], [0x00100000, 1], [0x3e700000, 0], [0x40f00000, 0], [0x3f100000, 0],
];
const SPECIAL_H = [0, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe01, 0x7c01, 0x7d23, 0x0001, 0x83ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0xbc00, 0x3c01, 0x1400, 0x3e00];

/** A random single: special, near 1.0 (rounding at work), or any exponent. */
function randS(rand: () => number): number {
  const k = rand();
  if (k < 0.3) return pick(rand, SPECIAL_S) >>> 0;
  if (k < 0.6) return ((u32(rand) & 0x807fffff) | ((120 + Math.floor(rand() * 16)) << 23)) >>> 0;
  if (k < 0.7) return (u32(rand) & 0x807fffff) >>> 0; // denormal
  if (k < 0.8) return ((u32(rand) & 0x807fffff) | (pick(rand, [1, 2, 24, 25, 102, 103, 150, 151, 152, 157, 158, 189, 190, 191, 253, 254]) << 23)) >>> 0;
  return u32(rand);
}
function randD(rand: () => number): [number, number] {
  const k = rand();
  if (k < 0.3) return pick(rand, SPECIAL_D);
  const lo = u32(rand);
  const sfrac = u32(rand) & 0x800fffff;
  if (k < 0.6) return [(sfrac | ((1016 + Math.floor(rand() * 16)) << 20)) >>> 0, lo];
  if (k < 0.7) return [sfrac >>> 0, lo];
  if (k < 0.8) return [(sfrac | (pick(rand, [1, 2, 53, 54, 872, 873, 896, 897, 1053, 1054, 1055, 1085, 1086, 1087, 2045, 2046]) << 20)) >>> 0, lo];
  if (k < 0.85) return [sfrac >>> 0 | 0x3ff00000, lo & 0xfffff000]; // few significant bits: exact products/sums
  return [u32(rand), lo];
}
function randH(rand: () => number): number {
  const k = rand();
  if (k < 0.35) return pick(rand, SPECIAL_H);
  if (k < 0.7) return (u32(rand) & 0x83ff) | ((10 + Math.floor(rand() * 10)) << 10);
  return u32(rand) & 0xffff;
}

const INT_SPECIAL = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0x80000001, 0x01000001, 0x00ffffff, 0x7fffffc0, 0xfffffe00];

/**
 * Random state for a word whose FP element size is `esize` (16, 32 or 64): every V lane is a
 * value of that format; X registers are integers near rounding boundaries.
 */
export function randomInput(rand: () => number, esize: number, fpcr: number, nzcv: number): Uint8Array {
  const b = new Uint8Array(IN_BYTES);
  const dv = new DataView(b.buffer);
  for (let v = 0; v < 8; v++) {
    for (let k = 0; k < 16; k += esize / 8) {
      if (esize === 64) {
        const [hi, lo] = randD(rand);
        dv.setUint32(v * 16 + k, lo, true);
        dv.setUint32(v * 16 + k + 4, hi, true);
      } else if (esize === 32) dv.setUint32(v * 16 + k, randS(rand), true);
      else dv.setUint16(v * 16 + k, randH(rand), true);
    }
  }
  for (let x = 0; x < 8; x++) {
    const k = rand();
    let lo = u32(rand), hi = u32(rand);
    if (k < 0.3) hi = rand() < 0.5 ? 0 : 0xffffffff;
    else if (k < 0.5) {
      lo = pick(rand, INT_SPECIAL);
      hi = pick(rand, [0, 0xffffffff, 0x7fffffff, 0x80000000, 0x00200000, 0x001fffff]);
    } else if (k < 0.6) {
      // 2^53 < |v| < 2^64 with bits below the double's precision: 64-bit SCVTF rounding
      hi = (u32(rand) | 0x00200000) >>> 0;
    }
    dv.setUint32(128 + x * 8, lo, true);
    dv.setUint32(128 + x * 8 + 4, hi, true);
  }
  dv.setUint32(192, fpcr, true);
  dv.setUint32(200, (nzcv << 28) >>> 0, true);
  return b;
}

/** Random FPCR: every rounding mode, FZ and DN on/off, AHP sometimes. */
export function randomFpcr(rand: () => number): number {
  let v = Math.floor(rand() * 4) << 22;
  if (rand() < 0.3) v |= 1 << 24;
  if (rand() < 0.3) v |= 1 << 25;
  if (rand() < 0.15) v |= 1 << 26;
  if (rand() < 0.3) v |= 1 << 19; // FZ16
  return v >>> 0;
}

/** A random instance of an encoding: free bits random, register fields in 0..7. */
export function randomWord(def: OpDef, rand: () => number): number {
  let w = (def.value | (u32(rand) & ~def.mask)) >>> 0;
  for (const p of def.parts) {
    if (!/^r[dnma]$/.test(p.name)) continue;
    const fieldMask = ((1 << p.len) - 1) << p.pos;
    w = ((w & ~fieldMask) | (Math.floor(rand() * 8) << p.pos)) >>> 0;
  }
  // By element: the M bit (bit 20) extends Rm for 32-bit elements; keep Vm within V0-V7.
  if (def.names.includes('m') && def.names.includes('h')) w = (w & ~(1 << 20)) >>> 0;
  return w;
}

/** Run every case under qemu-aarch64; returns OUT_BYTES per case. */
export function runQemu(cases: Case[]): Uint8Array {
  const caseLines: string[] = [];
  for (const c of cases) {
    caseLines.push(
        'ldp q0, q1, [x20], #32', 'ldp q2, q3, [x20], #32', 'ldp q4, q5, [x20], #32', 'ldp q6, q7, [x20], #32',
        'ldp x0, x1, [x20], #16', 'ldp x2, x3, [x20], #16', 'ldp x4, x5, [x20], #16', 'ldp x6, x7, [x20], #16',
        'ldp x9, x10, [x20], #16', 'msr fpcr, x9', 'msr nzcv, x10', 'msr fpsr, xzr',
        `.inst 0x${(c.word >>> 0).toString(16)}`,
        'mrs x10, nzcv', 'mrs x9, fpsr',
        'stp q0, q1, [x21], #32', 'stp q2, q3, [x21], #32', 'stp q4, q5, [x21], #32', 'stp q6, q7, [x21], #32',
        'stp x0, x1, [x21], #16', 'stp x2, x3, [x21], #16', 'stp x4, x5, [x21], #16', 'stp x6, x7, [x21], #16',
        'stp x9, x10, [x21], #16',
    );
  }
  const input = Buffer.concat(cases.map((c) => Buffer.from(c.input)));
  return runQemuBatch(caseLines, input, cases.length * OUT_BYTES, ['msr fpcr, xzr']);
}

/** Run one case on TestCpu; returns OUT_BYTES in the qemu dump's layout. */
export function runOurs(t: TestCpu, c: Case): Uint8Array {
  const cpu = t.cpu;
  const regs = cpu.regs;
  regs.vb.set(c.input.subarray(0, 128), 0);
  const di = new DataView(c.input.buffer, c.input.byteOffset, IN_BYTES);
  for (let i = 0; i < 8; i++) t.setX(i, di.getBigUint64(128 + i * 8, true));
  cpu.fpcr = di.getUint32(192, true);
  cpu.fpsr = 0;
  const nzcv = di.getUint32(200, true) >>> 28;
  cpu.r[NF] = nzcv >> 3;
  cpu.r[ZF] = (nzcv >> 2) & 1;
  cpu.r[CF] = (nzcv >> 1) & 1;
  cpu.r[VF] = nzcv & 1;
  t.traps.length = 0;
  t.exec([c.word]);
  const out = new Uint8Array(OUT_BYTES);
  out.set(regs.vb.subarray(0, 128), 0);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) dv.setBigUint64(128 + i * 8, t.x(i), true);
  dv.setUint32(192, t.traps.length ? 0xdeadbeef : cpu.fpsr, true);
  const r = cpu.r;
  dv.setUint32(200, ((r[NF]! << 31) | (r[ZF]! << 30) | (r[CF]! << 29) | (r[VF]! << 28)) >>> 0, true);
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Human-readable difference between two dumps, or null when equal. */
export function diffDump(ours: Uint8Array, ref: Uint8Array): string | null {
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) {
    const a = ours.subarray(i * 16, i * 16 + 16), b = ref.subarray(i * 16, i * 16 + 16);
    if (hex(a) !== hex(b)) parts.push(`v${i} ours ${hex(a)} qemu ${hex(b)}`);
  }
  for (let i = 0; i < 8; i++) {
    const a = ours.subarray(128 + i * 8, 136 + i * 8), b = ref.subarray(128 + i * 8, 136 + i * 8);
    if (hex(a) !== hex(b)) parts.push(`x${i} ours ${hex(a)} qemu ${hex(b)}`);
  }
  const fa = new DataView(ours.buffer, ours.byteOffset).getUint32(192, true);
  const fb = new DataView(ref.buffer, ref.byteOffset).getUint32(192, true);
  if (fa !== fb) parts.push(`fpsr ours ${fa.toString(16)} qemu ${fb.toString(16)}`);
  const na = new DataView(ours.buffer, ours.byteOffset).getUint32(200, true);
  const nb = new DataView(ref.buffer, ref.byteOffset).getUint32(200, true);
  if (na !== nb) parts.push(`nzcv ours ${(na >>> 28).toString(2)} qemu ${(nb >>> 28).toString(2)}`);
  return parts.length ? parts.join('; ') : null;
}

/** Describe a case's inputs briefly (for failure messages). */
export function describeInput(c: Case): string {
  const dv = new DataView(c.input.buffer, c.input.byteOffset, IN_BYTES);
  return `fpcr=${dv.getUint32(192, true).toString(16)} v0..v7=${hex(c.input.subarray(0, 128))}`;
}

export { objdumpKnows } from './simd-oracle.ts';
