// Element-wise Advanced SIMD handlers: one ElemOp applied lane by lane (three same, two-register
// misc, their scalar forms, and the pairwise forms). Fields prepared at decode time:
//   d, n, m   register numbers     es     element size in bits (8/16/32/64)
//   lanes     element count        q      1 = 128-bit result, 0 = 64-bit (bits 127:64 cleared)
//   op        the ElemOp (simd-ops.ts)

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { clearHigh, getLane, getLane64, setLane, setLane64 } from './simd-lanes.ts';

/** Vd[i] = op(Vn[i], Vm[i], Vd[i]) for every lane. */
export function elementwise(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, m, es, lanes } = f;
  const op = f.op;
  const sg: boolean = op.signed;
  const r = cpu.r;
  if (es === 64) {
    for (let i = 0; i < lanes; i++) {
      setLane64(v, d, i, op.b(getLane64(v, n, i, sg), getLane64(v, m, i, sg), getLane64(v, d, i, sg), r));
    }
  } else {
    const fn = op.n;
    for (let i = 0; i < lanes; i++) {
      setLane(v, d, i, es, fn(getLane(v, n, i, es, sg), getLane(v, m, i, es, sg), getLane(v, d, i, es, sg), es, r));
    }
  }
  if (f.q === 0) clearHigh(v, d);
}

/** Scalar form: element 0 only; every other bit of Vd is cleared. */
export function scalarElem(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, m, es } = f;
  const op = f.op;
  const sg: boolean = op.signed;
  const o = d * 4;
  if (es === 64) {
    const x = op.b(getLane64(v, n, 0, sg), getLane64(v, m, 0, sg), getLane64(v, d, 0, sg), cpu.r);
    clearHigh(v, d);
    setLane64(v, d, 0, x);
  } else {
    const x = op.n(getLane(v, n, 0, es, sg), getLane(v, m, 0, es, sg), getLane(v, d, 0, es, sg), es, cpu.r);
    v.vs[o] = 0;
    v.vs[o + 1] = 0;
    clearHigh(v, d);
    setLane(v, d, 0, es, x);
  }
}

const pairTmp = new Float64Array(16);
const pairTmp64: bigint[] = [0n, 0n];

/** Pairwise: the result's lanes are op over adjacent pairs of the concatenation Vm:Vn. */
export function pairwise(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, m, es, lanes } = f;
  const op = f.op;
  const sg: boolean = op.signed;
  const half = lanes >> 1;
  if (es === 64) {
    pairTmp64[0] = op.b(getLane64(v, n, 0, sg), getLane64(v, n, 1, sg), 0n, cpu.r);
    pairTmp64[1] = op.b(getLane64(v, m, 0, sg), getLane64(v, m, 1, sg), 0n, cpu.r);
    setLane64(v, d, 0, pairTmp64[0]!);
    setLane64(v, d, 1, pairTmp64[1]!);
    return;
  }
  const fn = op.n;
  for (let i = 0; i < lanes; i++) {
    const src = i < half ? n : m;
    const j = 2 * (i < half ? i : i - half);
    pairTmp[i] = fn(getLane(v, src, j, es, sg), getLane(v, src, j + 1, es, sg), 0, es, cpu.r);
  }
  for (let i = 0; i < lanes; i++) setLane(v, d, i, es, pairTmp[i]!);
  if (f.q === 0) clearHigh(v, d);
}

/** ADDP (scalar): D[d] = Vn.D[0] + Vn.D[1]. */
export function addpScalar(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const n = f.n * 4;
  const lo = s[n]! + s[n + 2]!;
  const hi = (s[n + 1]! + s[n + 3]! + (lo > 0xffffffff ? 1 : 0)) >>> 0;
  const d = f.d * 4;
  s[d] = lo;
  s[d + 1] = hi;
  s[d + 2] = 0;
  s[d + 3] = 0;
}

// ---- bitwise (three same, opcode 00011): whole 32-bit words, element size is irrelevant ----

function logicalTail(v: Cpu['regs'], d: number, q: number): void {
  if (q === 0) clearHigh(v, d);
}

export function vAnd(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = s[n + i]! & s[m + i]!;
  logicalTail(cpu.regs, f.d, f.q);
}
export function vBic(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = s[n + i]! & ~s[m + i]!;
  logicalTail(cpu.regs, f.d, f.q);
}
export function vOrr(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = s[n + i]! | s[m + i]!;
  logicalTail(cpu.regs, f.d, f.q);
}
export function vOrn(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = s[n + i]! | ~s[m + i]!;
  logicalTail(cpu.regs, f.d, f.q);
}
export function vEor(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = s[n + i]! ^ s[m + i]!;
  logicalTail(cpu.regs, f.d, f.q);
}
/** BSL: Vd = (Vn & Vd) | (Vm & ~Vd). */
export function vBsl(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = (s[n + i]! & s[d + i]!) | (s[m + i]! & ~s[d + i]!);
  logicalTail(cpu.regs, f.d, f.q);
}
/** BIT: insert Vn bits where Vm is 1. */
export function vBit(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = (s[d + i]! & ~s[m + i]!) | (s[n + i]! & s[m + i]!);
  logicalTail(cpu.regs, f.d, f.q);
}
/** BIF: insert Vn bits where Vm is 0. */
export function vBif(cpu: Cpu, f: Fields): void {
  const s = cpu.regs.vs;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4, k = f.words;
  for (let i = 0; i < k; i++) s[d + i] = (s[d + i]! & s[m + i]!) | (s[n + i]! & ~s[m + i]!);
  logicalTail(cpu.regs, f.d, f.q);
}

/** Vector by element (MUL/MLA/MLS/SQDMULH/SQRDMULH): Vd[i] = op(Vn[i], Vm[idx], Vd[i]). */
export function byElement(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, lanes } = f;
  const op = f.op;
  const sg: boolean = op.signed;
  const fn = op.n;
  const b = getLane(v, f.m, f.idx, es, sg);
  const scalar = f.scalar;
  const r = cpu.r;
  const r0 = fn(getLane(v, n, 0, es, sg), b, getLane(v, d, 0, es, sg), es, r);
  if (scalar) {
    const o = d * 4;
    v.vs[o] = 0;
    v.vs[o + 1] = 0;
  }
  setLane(v, d, 0, es, r0);
  for (let i = 1; i < lanes; i++) setLane(v, d, i, es, fn(getLane(v, n, i, es, sg), b, getLane(v, d, i, es, sg), es, r));
  if (f.q === 0) clearHigh(v, d);
}
