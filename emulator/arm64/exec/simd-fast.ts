// Fast paths for the element-wise and pairwise integer operations that compilers and the string
// routines of glibc use most (CMEQ/CMHI..., ADD/SUB, UMAX/UMIN..., MUL, ADDP/UMAXP/UMINP): the
// operation is a small integer `kind` switched on inside a loop over the typed-array view of the
// element size, so no per-lane call is made. 64-bit elements fall back to simd-elem.ts.

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import { elementwise, pairwise } from './simd-elem.ts';

export const K = {
  ADD: 0, SUB: 1, CMEQ: 2, CMHI: 3, CMHS: 4, CMGT: 5, CMGE: 6, CMTST: 7,
  UMAX: 8, UMIN: 9, SMAX: 10, SMIN: 11, MUL: 12,
} as const;

/** x, y: unsigned lane values; sh = 32 - element bits (for sign extension). */
function calc(k: number, x: number, y: number, sh: number): number {
  switch (k) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x === y ? -1 : 0;
    case 3: return x > y ? -1 : 0;
    case 4: return x >= y ? -1 : 0;
    case 5: return (x << sh) >> sh > (y << sh) >> sh ? -1 : 0;
    case 6: return (x << sh) >> sh >= (y << sh) >> sh ? -1 : 0;
    case 7: return (x & y) !== 0 ? -1 : 0;
    case 8: return x > y ? x : y;
    case 9: return x < y ? x : y;
    case 10: return (x << sh) >> sh > (y << sh) >> sh ? x : y;
    case 11: return (x << sh) >> sh < (y << sh) >> sh ? x : y;
    default: return Math.imul(x, y);
  }
}

export function fastSame(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const k: number = f.kind, lanes: number = f.lanes;
  switch (f.es) {
    case 8: {
      const a = v.vb, d = f.d * 16, n = f.n * 16, m = f.m * 16;
      for (let i = 0; i < lanes; i++) a[d + i] = calc(k, a[n + i]!, a[m + i]!, 24);
      break;
    }
    case 16: {
      const a = v.vh, d = f.d * 8, n = f.n * 8, m = f.m * 8;
      for (let i = 0; i < lanes; i++) a[d + i] = calc(k, a[n + i]!, a[m + i]!, 16);
      break;
    }
    case 32: {
      const a = v.vs, d = f.d * 4, n = f.n * 4, m = f.m * 4;
      for (let i = 0; i < lanes; i++) a[d + i] = calc(k, a[n + i]!, a[m + i]!, 0);
      break;
    }
    default:
      if (k <= 7) same64(v.vs, v.vsi, k, f.d * 4, f.n * 4, f.m * 4);
      else elementwise(cpu, f);
      return;
  }
  if (f.q === 0) {
    v.vs[f.d * 4 + 2] = 0;
    v.vs[f.d * 4 + 3] = 0;
  }
}

/** ADD/SUB/CMxx on the two 64-bit lanes, as 32-bit halves (no BigInt). */
function same64(s: Uint32Array, si: Int32Array, k: number, d: number, n: number, m: number): void {
  for (let i = 0; i < 4; i += 2) {
    const xl = s[n + i]!, xh = s[n + i + 1]!, yl = s[m + i]!, yh = s[m + i + 1]!;
    let rl: number, rh: number;
    switch (k) {
      case 0: rl = xl + yl; rh = xh + yh + (rl > 0xffffffff ? 1 : 0); break;
      case 1: rl = xl - yl; rh = xh - yh - (rl < 0 ? 1 : 0); break;
      case 7: rl = rh = (xl & yl) !== 0 || (xh & yh) !== 0 ? -1 : 0; break;
      default: {
        let c: boolean;
        if (k === 2) c = xl === yl && xh === yh;
        else if (k === 3) c = xh > yh || (xh === yh && xl > yl);
        else if (k === 4) c = xh > yh || (xh === yh && xl >= yl);
        else {
          const sx = si[n + i + 1]!, sy = si[m + i + 1]!;
          c = k === 5 ? sx > sy || (sx === sy && xl > yl) : sx > sy || (sx === sy && xl >= yl);
        }
        rl = rh = c ? -1 : 0;
      }
    }
    s[d + i] = rl;
    s[d + i + 1] = rh;
  }
}

const tmp = new Float64Array(16);

/** Pairwise over the concatenation Vm:Vn (ADDP, UMAXP, UMINP, SMAXP, SMINP). */
export function fastPair(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const k: number = f.kind, lanes: number = f.lanes, half = lanes >> 1;
  switch (f.es) {
    case 8: {
      const a = v.vb, n = f.n * 16, m = f.m * 16;
      for (let i = 0; i < half; i++) tmp[i] = calc(k, a[n + 2 * i]!, a[n + 2 * i + 1]!, 24);
      for (let i = 0; i < half; i++) tmp[half + i] = calc(k, a[m + 2 * i]!, a[m + 2 * i + 1]!, 24);
      const d = f.d * 16;
      for (let i = 0; i < lanes; i++) a[d + i] = tmp[i]!;
      break;
    }
    case 16: {
      const a = v.vh, n = f.n * 8, m = f.m * 8;
      for (let i = 0; i < half; i++) tmp[i] = calc(k, a[n + 2 * i]!, a[n + 2 * i + 1]!, 16);
      for (let i = 0; i < half; i++) tmp[half + i] = calc(k, a[m + 2 * i]!, a[m + 2 * i + 1]!, 16);
      const d = f.d * 8;
      for (let i = 0; i < lanes; i++) a[d + i] = tmp[i]!;
      break;
    }
    case 32: {
      const a = v.vs, n = f.n * 4, m = f.m * 4;
      for (let i = 0; i < half; i++) tmp[i] = calc(k, a[n + 2 * i]!, a[n + 2 * i + 1]!, 0);
      for (let i = 0; i < half; i++) tmp[half + i] = calc(k, a[m + 2 * i]!, a[m + 2 * i + 1]!, 0);
      const d = f.d * 4;
      for (let i = 0; i < lanes; i++) a[d + i] = tmp[i]!;
      break;
    }
    default:
      pairwise(cpu, f);
      return;
  }
  if (f.q === 0) {
    v.vs[f.d * 4 + 2] = 0;
    v.vs[f.d * 4 + 3] = 0;
  }
}
