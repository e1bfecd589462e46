// qemu-aarch64 as the oracle for Advanced SIMD instructions: a batch of (instruction word, initial
// V0-V7/X0-X7) cases becomes one static AArch64 program that loads each case's state, clears FPSR,
// executes the word and dumps V0-V7, X0-X7 and FPSR. The same words run on TestCpu from the same
// state, and the two dumps are compared. Candidate words are screened with objdump first: a word
// the GNU disassembler does not know is unallocated and must be UNDEFINED for us too.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { TestCpu } from './harness.ts';
import { runQemuBatch } from './qemu-batch.ts';

export const IN_BYTES = 8 * 16 + 8 * 8;
export const OUT_BYTES = IN_BYTES + 16;

export interface Case {
  word: number;
  /** V0..V7 (128 bytes) then X0..X7 (64 bytes), little-endian. */
  input: Uint8Array;
}

/** mulberry32: small, seedable, good enough for test inputs. */
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

const SPECIAL = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

/** Random register state biased towards the boundaries where saturation and rounding happen. */
export function randomInput(rand: () => number): Uint8Array {
  const b = new Uint8Array(IN_BYTES);
  const w = new Uint32Array(b.buffer);
  for (let i = 0; i < w.length; i++) {
    const k = rand();
    if (k < 0.55) w[i] = (rand() * 4294967296) >>> 0;
    else if (k < 0.75) w[i] = SPECIAL[Math.floor(rand() * SPECIAL.length)]!;
    else if (k < 0.9) {
      // Small signed values per byte: useful shift counts and non-saturating sums.
      for (let j = 0; j < 4; j++) b[4 * i + j] = (Math.floor(rand() * 40) - 20) & 0xff;
    } else w[i] = ((rand() * 256) | 0) * 0x01010101;
  }
  return b;
}

/** A random instance of an encoding: free bits random, register fields (rd/rn/rm/ra) in 0..7. */
export function randomWord(def: OpDef, rand: () => number): number {
  let w = (def.value | ((rand() * 4294967296) >>> 0 & ~def.mask)) >>> 0;
  for (const p of def.parts) {
    if (!/^r[dnma]$/.test(p.name)) continue;
    const fieldMask = ((1 << p.len) - 1) << p.pos;
    const r = Math.floor(rand() * 8);
    w = ((w & ~fieldMask) | (r << p.pos)) >>> 0;
  }
  // By-element with 32-bit elements: M is the top bit of Vm; keep Vm within V0-V7.
  if (def.names.includes('M') && ((w >>> 22) & 3) === 2) w = (w & ~(1 << 20)) >>> 0;
  return w;
}

/** Words the GNU disassembler knows (true) or prints as `.inst ... undefined` (false). */
export function objdumpKnows(words: number[]): boolean[] {
  const dir = mkdtempSync(join(tmpdir(), 'simd-objdump-'));
  try {
    const bin = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => bin.writeUInt32LE(w >>> 0, i * 4));
    writeFileSync(join(dir, 'w.bin'), bin);
    const out = execFileSync('aarch64-linux-gnu-objdump', ['-D', '-b', 'binary', '-m', 'aarch64', join(dir, 'w.bin')], {
      maxBuffer: 1 << 28,
    }).toString();
    const known = new Array<boolean>(words.length).fill(false);
    for (const line of out.split('\n')) {
      const m = /^\s*([0-9a-f]+):\s+[0-9a-f]{8}\s+(.*)$/.exec(line);
      if (!m) continue;
      const idx = parseInt(m[1]!, 16) / 4;
      known[idx] = !/\.inst|undefined/.test(m[2]!);
    }
    return known;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run every case under qemu-aarch64; returns OUT_BYTES per case. */
export function runQemu(cases: Case[]): Uint8Array {
  const caseLines: string[] = [];
  for (const c of cases) {
    caseLines.push(
        'ldp q0, q1, [x20], #32', 'ldp q2, q3, [x20], #32', 'ldp q4, q5, [x20], #32', 'ldp q6, q7, [x20], #32',
        'ldp x0, x1, [x20], #16', 'ldp x2, x3, [x20], #16', 'ldp x4, x5, [x20], #16', 'ldp x6, x7, [x20], #16',
        'msr fpsr, xzr',
        `.inst 0x${(c.word >>> 0).toString(16)}`,
        'stp q0, q1, [x21], #32', 'stp q2, q3, [x21], #32', 'stp q4, q5, [x21], #32', 'stp q6, q7, [x21], #32',
        'stp x0, x1, [x21], #16', 'stp x2, x3, [x21], #16', 'stp x4, x5, [x21], #16', 'stp x6, x7, [x21], #16',
        'mrs x9, fpsr', 'stp x9, xzr, [x21], #16',
    );
  }
  const input = Buffer.concat(cases.map((c) => Buffer.from(c.input)));
  return runQemuBatch(caseLines, input, cases.length * OUT_BYTES, []);
}

/** Run one case on TestCpu; returns OUT_BYTES in the same layout as the qemu dump. */
export function runOurs(t: TestCpu, c: Case): Uint8Array {
  const regs = t.cpu.regs;
  regs.vb.set(c.input.subarray(0, 128), 0);
  const xi = new DataView(c.input.buffer, c.input.byteOffset + 128, 64);
  for (let i = 0; i < 8; i++) t.setX(i, xi.getBigUint64(i * 8, true));
  t.cpu.fpsr = 0;
  t.traps.length = 0;
  t.exec([c.word]);
  const out = new Uint8Array(OUT_BYTES);
  out.set(regs.vb.subarray(0, 128), 0);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) dv.setBigUint64(128 + i * 8, t.x(i), true);
  dv.setUint32(192, t.traps.length ? 0xdeadbeef : t.cpu.fpsr, true);
  return out;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

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
  const fa = ours.subarray(192, 196), fb = ref.subarray(192, 196);
  if (hex(fa) !== hex(fb)) parts.push(`fpsr ours ${hex(fa)} qemu ${hex(fb)}`);
  return parts.length ? parts.join('; ') : null;
}
