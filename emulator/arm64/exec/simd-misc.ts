// Advanced SIMD two-register misc rows that change lane shape (REV*, pairwise long adds, the
// narrowing XTN family, SHLL) and the integer across-lanes reductions.

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import {
  clearHigh, getLane, getLane64, getLane64n, satN, scratchB, setLane, setLane64, setLane64n,
} from './simd-lanes.ts';

/** REV16/REV32/REV64: reverse the order of es-bit elements inside each cont-bit container. */
export function rev(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const eb = f.es >> 3;
  const flip = (f.cont >> 3) / eb - 1;
  const bytes = f.q ? 16 : 8;
  const n = f.n * 16;
  for (let p = 0; p < bytes; p++) {
    const e = (p / eb) | 0;
    scratchB[p] = v.vb[n + ((e ^ flip) * eb + (p - e * eb))]!;
  }
  const d = f.d * 16;
  for (let p = 0; p < bytes; p++) v.vb[d + p] = scratchB[p]!;
  if (f.q === 0) clearHigh(v, f.d);
}

const tmp = new Float64Array(16);

/** SADDLP/UADDLP/SADALP/UADALP: adjacent pairs summed into double-width lanes. */
export function addlp(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, lanes, signed } = f;
  if (es === 32) {
    for (let i = 0; i < lanes; i++) tmp[i] = getLane(v, n, 2 * i, 32, signed) + getLane(v, n, 2 * i + 1, 32, signed);
    for (let i = 0; i < lanes; i++) {
      if (f.acc) setLane64(v, d, i, getLane64(v, d, i, false) + BigInt(tmp[i]!));
      else setLane64n(v, d, i, tmp[i]!);
    }
  } else {
    for (let i = 0; i < lanes; i++) tmp[i] = getLane(v, n, 2 * i, es, signed) + getLane(v, n, 2 * i + 1, es, signed);
    const es2 = es * 2;
    for (let i = 0; i < lanes; i++) setLane(v, d, i, es2, tmp[i]! + (f.acc ? getLane(v, d, i, es2, false) : 0));
  }
  if (f.q === 0) clearHigh(v, d);
}

export const XTN = 0, SQXTN = 1, UQXTN = 2, SQXTUN = 3;

/** Read wide lane i (2*es bits) of V<n> and narrow it to es bits per `kind`. */
function narrowOne(cpu: Cpu, n: number, i: number, es: number, kind: number): number {
  const v = cpu.regs;
  const wide = es * 2;
  if (kind === XTN) return wide === 64 ? v.vs[n * 4 + 2 * i]! : getLane(v, n, i, wide, false);
  const signedSrc = kind !== UQXTN;
  const x = wide === 64 ? getLane64n(v, n, i, signedSrc) : getLane(v, n, i, wide, signedSrc);
  return satN(x, es, kind === SQXTN, cpu.r);
}

/** XTN/SQXTN/UQXTN/SQXTUN (and "2"): narrow into the lower half, or the upper half keeping the lower. */
export function narrow(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, lanes, kind } = f;
  for (let i = 0; i < lanes; i++) tmp[i] = narrowOne(cpu, n, i, es, kind);
  const base = f.half ? lanes : 0;
  for (let i = 0; i < lanes; i++) setLane(v, d, base + i, es, tmp[i]!);
  if (f.half === 0) clearHigh(v, d);
}

/** Scalar SQXTN/UQXTN/SQXTUN: one element, the rest of Vd cleared. */
export function narrowScalar(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const r = narrowOne(cpu, f.n, 0, f.es, f.kind);
  const o = f.d * 4;
  v.vs[o] = 0;
  v.vs[o + 1] = 0;
  v.vs[o + 2] = 0;
  v.vs[o + 3] = 0;
  setLane(v, f.d, 0, f.es, r);
}

/** SHLL/SHLL2: widen each element of one half and shift left by the element size. */
export function shll(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es } = f;
  const lanes = 64 / es;
  const base = f.half ? lanes : 0;
  for (let i = 0; i < lanes; i++) tmp[i] = getLane(v, n, base + i, es, false);
  if (es === 32) {
    for (let i = 0; i < lanes; i++) {
      v.vs[d * 4 + 2 * i] = 0;
      v.vs[d * 4 + 2 * i + 1] = tmp[i]!;
    }
  } else {
    for (let i = 0; i < lanes; i++) setLane(v, d, i, es * 2, tmp[i]! * 2 ** es);
  }
}

export const ADDV = 0, ADDLV = 1, MAXV = 2, MINV = 3;

/** ADDV, SADDLV/UADDLV, SMAXV/UMAXV, SMINV/UMINV: reduce all lanes into a scalar. */
export function across(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, lanes, kind, signed } = f;
  let acc = getLane(v, n, 0, es, signed);
  for (let i = 1; i < lanes; i++) {
    const x = getLane(v, n, i, es, signed);
    if (kind === MAXV) acc = x > acc ? x : acc;
    else if (kind === MINV) acc = x < acc ? x : acc;
    else acc += x;
  }
  const o = d * 4;
  v.vs[o] = 0;
  v.vs[o + 1] = 0;
  v.vs[o + 2] = 0;
  v.vs[o + 3] = 0;
  if (kind === ADDLV) {
    if (es === 32) setLane64n(v, d, 0, acc);
    else setLane(v, d, 0, es * 2, acc);
  } else {
    setLane(v, d, 0, es, acc);
  }
}
