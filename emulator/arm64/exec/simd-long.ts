// Advanced SIMD three different (ARM ARM C4.1.6): widening ("long" and "wide") and narrowing
// ("high narrow") arithmetic, and the by-element long multiplies that share their arithmetic.
// Fields: d, n, m, es (narrow element bits), half (1 = the "2" form: upper half of narrow
// operands / result), kind, signed, idx (by-element lane of Vm, -1 for the vector form),
// scalar (SQDMULL/SQDMLAL/SQDMLSL scalar: one element, rest of Vd cleared).

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { pmul8 } from './simd-ops.ts';
import { clearHigh, getLane, getLane64, satB, satN, setLane, setLane64 } from './simd-lanes.ts';

export const ADDL = 0, SUBL = 1, ABAL = 2, ABDL = 3, MLAL = 4, MLSL = 5, MULL = 6;
export const QDMLAL = 7, QDMLSL = 8, QDMULL = 9, PMULL = 10, ADDW = 11, SUBW = 12;

function longN(kind: number, a: number, b: number, c: number, es: number, r: Int32Array): number {
  const w = es * 2;
  switch (kind) {
    case ADDL: case ADDW: return a + b;
    case SUBL: case SUBW: return a - b;
    case ABAL: return c + Math.abs(a - b);
    case ABDL: return Math.abs(a - b);
    case MLAL: return c + a * b;
    case MLSL: return c - a * b;
    case MULL: return a * b;
    case QDMLAL: return satN(c + satN(2 * a * b, w, true, r), w, true, r);
    case QDMLSL: return satN(c - satN(2 * a * b, w, true, r), w, true, r);
    case QDMULL: return satN(2 * a * b, w, true, r);
    default: {
      // PMULL 8-bit -> 16-bit polynomial product.
      let r = 0;
      for (let i = 0; i < 8; i++) if ((b >> i) & 1) r ^= a << i;
      return r;
    }
  }
}

function longB(kind: number, a: bigint, b: bigint, c: bigint, r: Int32Array): bigint {
  switch (kind) {
    case ADDL: case ADDW: return a + b;
    case SUBL: case SUBW: return a - b;
    case ABAL: return c + (a > b ? a - b : b - a);
    case ABDL: return a > b ? a - b : b - a;
    case MLAL: return c + a * b;
    case MLSL: return c - a * b;
    case MULL: return a * b;
    case QDMLAL: return satB(c + satB(2n * a * b, 64, true, r), 64, true, r);
    case QDMLSL: return satB(c - satB(2n * a * b, 64, true, r), 64, true, r);
    default: return satB(2n * a * b, 64, true, r);
  }
}

const tmp = new Float64Array(16);
const tmpB: bigint[] = [0n, 0n];

/** Long, wide and long-by-element forms: 2*es-bit results from es-bit operands. */
export function widen(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, m, es, kind, idx } = f;
  const sg: boolean = f.signed;
  const lanes = f.scalar ? 1 : 64 / es;
  const base = f.half ? lanes : 0;
  const wideA = kind === ADDW || kind === SUBW;
  const w = es * 2;
  if (w === 64) {
    for (let i = 0; i < lanes; i++) {
      const a = wideA ? getLane64(v, n, i, sg) : BigInt(getLane(v, n, base + i, 32, sg));
      const b = BigInt(getLane(v, m, idx >= 0 ? idx : base + i, 32, sg));
      tmpB[i] = longB(kind, a, b, getLane64(v, d, i, sg), cpu.r);
    }
    if (f.scalar) clearHigh(v, d);
    for (let i = 0; i < lanes; i++) setLane64(v, d, i, tmpB[i]!);
  } else {
    for (let i = 0; i < lanes; i++) {
      const a = wideA ? getLane(v, n, i, w, sg) : getLane(v, n, base + i, es, sg);
      const b = getLane(v, m, idx >= 0 ? idx : base + i, es, sg);
      tmp[i] = longN(kind, a, b, getLane(v, d, i, w, sg), es, cpu.r);
    }
    if (f.scalar) {
      const o = d * 4;
      v.vs[o] = 0;
      v.vs[o + 1] = 0;
      clearHigh(v, d);
    }
    for (let i = 0; i < lanes; i++) setLane(v, d, i, w, tmp[i]!);
  }
}

/** PMULL/PMULL2 on bytes: 8 polynomial products of 16 bits. */
export function pmull8(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const base = f.half ? 8 : 0;
  for (let i = 0; i < 8; i++) tmp[i] = longN(PMULL, v.vb[f.n * 16 + base + i]!, v.vb[f.m * 16 + base + i]!, 0, 8, cpu.r);
  for (let i = 0; i < 8; i++) v.vh[f.d * 8 + i] = tmp[i]!;
}

/**
 * PMULL/PMULL2 .1Q (FEAT_PMULL): Vd = the 128-bit carry-less product of the 64-bit elements
 * Vn.D[half] and Vm.D[half]. Shift-and-xor over 32-bit words, no allocation.
 */
export function pmull64(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const n = f.n * 4 + 2 * f.half, m = f.m * 4 + 2 * f.half;
  const alo = s[n]!, ahi = s[n + 1]!, blo = s[m]!, bhi = s[m + 1]!;
  let r0 = 0, r1 = 0, r2 = 0, r3 = 0;
  for (let i = 0; i < 32; i++) {
    if ((blo >>> i) & 1) {
      // a << i spans words 0..2
      r0 ^= alo << i;
      if (i !== 0) {
        r1 ^= (ahi << i) | (alo >>> (32 - i));
        r2 ^= ahi >>> (32 - i);
      } else r1 ^= ahi;
    }
    if ((bhi >>> i) & 1) {
      // a << (32 + i) spans words 1..3
      r1 ^= alo << i;
      if (i !== 0) {
        r2 ^= (ahi << i) | (alo >>> (32 - i));
        r3 ^= ahi >>> (32 - i);
      } else r2 ^= ahi;
    }
  }
  const d = f.d * 4;
  s[d] = r0;
  s[d + 1] = r1;
  s[d + 2] = r2;
  s[d + 3] = r3;
}

/** ADDHN/RADDHN/SUBHN/RSUBHN (+2): the high half of each 2*es-bit sum or difference. */
export function highNarrow(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, m, es } = f;
  const lanes = 64 / es;
  const w = es * 2;
  for (let i = 0; i < lanes; i++) {
    if (w === 64) {
      const a = getLane64(v, n, i, false), b = getLane64(v, m, i, false);
      const x = (f.sub ? a - b : a + b) + (f.round ? 1n << 31n : 0n);
      tmp[i] = Number(BigInt.asUintN(32, x >> 32n));
    } else {
      const a = getLane(v, n, i, w, false), b = getLane(v, m, i, w, false);
      tmp[i] = Math.floor(((f.sub ? a - b : a + b) + (f.round ? 2 ** (es - 1) : 0)) / 2 ** es);
    }
  }
  const base = f.half ? lanes : 0;
  for (let i = 0; i < lanes; i++) setLane(v, d, base + i, es, tmp[i]!);
  if (!f.half) clearHigh(v, d);
}

export { pmul8 };
