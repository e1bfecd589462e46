// qemu-aarch64 as the oracle for integer data processing: a batch of (word, X0-X7, NZCV) cases
// becomes one static program that loads each state, executes the word and dumps X0-X7 and NZCV.
import type { OpDef } from '../../emulator/arm64/decode/pattern.ts';
import { TestCpu } from './harness.ts';
import { runQemuBatch } from './qemu-batch.ts';

export const IN = 8 * 8 + 8;
export const OUT = IN;

export interface IntCase {
  word: number;
  /** X0..X7 then NZCV (as a 64-bit word), little-endian. */
  input: Uint8Array;
}

const SPECIAL = [0n, 1n, 2n, 31n, 32n, 63n, 64n, 0x7fn, 0x80n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffffffen, 0x123456789abcdef0n];

export function randomIntInput(rand: () => number): Uint8Array {
  const b = new Uint8Array(IN);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) {
    const k = rand();
    let v: bigint;
    if (k < 0.3) v = SPECIAL[Math.floor(rand() * SPECIAL.length)]!;
    else if (k < 0.5) v = BigInt(Math.floor(rand() * 256));
    else v = (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
    dv.setBigUint64(i * 8, v, true);
  }
  dv.setBigUint64(64, BigInt(Math.floor(rand() * 16)) << 28n, true);
  return b;
}

/** A random instance of an encoding, register fields limited to X0-X7. */
export function randomIntWord(def: OpDef, rand: () => number): number {
  let w = (def.value | (((rand() * 4294967296) >>> 0) & ~def.mask)) >>> 0;
  for (const p of def.parts) {
    if (!/^r[dnmat]$/.test(p.name)) continue;
    const fieldMask = ((1 << p.len) - 1) << p.pos;
    w = ((w & ~fieldMask) | (Math.floor(rand() * 8) << p.pos)) >>> 0;
  }
  return w;
}

export function runQemuInt(cases: IntCase[]): Uint8Array {
  const caseLines: string[] = [];
  for (const c of cases) {
    caseLines.push(
        'ldp x0, x1, [x20], #16', 'ldp x2, x3, [x20], #16', 'ldp x4, x5, [x20], #16', 'ldp x6, x7, [x20], #16',
        'ldr x9, [x20], #8', 'msr nzcv, x9',
        `.inst 0x${(c.word >>> 0).toString(16)}`,
        'mrs x9, nzcv',
        'stp x0, x1, [x21], #16', 'stp x2, x3, [x21], #16', 'stp x4, x5, [x21], #16', 'stp x6, x7, [x21], #16',
        'str x9, [x21], #8',
    );
  }
  const input = Buffer.concat(cases.map((c) => Buffer.from(c.input)));
  return runQemuBatch(caseLines, input, cases.length * OUT, []);
}

export function runOursInt(t: TestCpu, c: IntCase): Uint8Array {
  const dv = new DataView(c.input.buffer, c.input.byteOffset, IN);
  for (let i = 0; i < 8; i++) t.setX(i, dv.getBigUint64(i * 8, true));
  t.cpu.nzcv = Number(dv.getBigUint64(64, true));
  t.traps.length = 0;
  t.exec([c.word]);
  const out = new Uint8Array(OUT);
  const o = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) o.setBigUint64(i * 8, t.x(i), true);
  o.setBigUint64(64, t.traps.length ? 0xdeadn : BigInt(t.cpu.nzcv >>> 0), true);
  return out;
}

export function diffInt(ours: Uint8Array, ref: Uint8Array): string | null {
  const a = new DataView(ours.buffer, ours.byteOffset), b = new DataView(ref.buffer, ref.byteOffset);
  const parts: string[] = [];
  for (let i = 0; i < 9; i++) {
    const x = a.getBigUint64(i * 8, true), y = b.getBigUint64(i * 8, true);
    if (x !== y) parts.push(`${i < 8 ? `x${i}` : 'nzcv'} ours ${x.toString(16)} qemu ${y.toString(16)}`);
  }
  return parts.length ? parts.join('; ') : null;
}
