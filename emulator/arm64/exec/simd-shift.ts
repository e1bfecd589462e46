// Advanced SIMD shift by immediate, vector and scalar (ARM ARM C4.1.6 "Advanced SIMD shift by
// immediate"): SSHR..URSRA, SRI, SHL, SLI, SQSHL/UQSHL/SQSHLU, the narrowing SHRN family and
// SSHLL/USHLL. Fields: d, n, es (element bits), lanes, q (0 = clear bits 127:64), sh (shift amount
// decoded from immh:immb), kind, signed, round, acc, scalar.

import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';
import {
  clearHigh, getLane, getLane64, satB, satN, setLane, setLane64,
} from './simd-lanes.ts';

export const SHR = 0, SRI = 1, SHL = 2, SLI = 3, QSHL = 4, QSHLU = 5;

function shiftN(kind: number, a: number, c: number, es: number, sh: number, f: Fields, r: Int32Array): number {
  switch (kind) {
    case SHR: {
      const r = Math.floor((a + (f.round ? 2 ** (sh - 1) : 0)) / 2 ** sh);
      return f.acc ? r + c : r;
    }
    case SRI: {
      const low = 2 ** (es - sh);
      return c - (c % low) + Math.floor(a / 2 ** sh);
    }
    case SHL:
      return (a * 2 ** sh) % 2 ** es;
    case SLI:
      return ((a * 2 ** sh) % 2 ** es) + (c % 2 ** sh);
    case QSHL:
      return satN(a * 2 ** sh, es, f.signed, r);
    default:
      return satN(a * 2 ** sh, es, false, r);
  }
}

const M64 = (1n << 64n) - 1n;

function shift64(kind: number, a: bigint, c: bigint, sh: number, f: Fields, r: Int32Array): bigint {
  const s = BigInt(sh);
  switch (kind) {
    case SHR: {
      const r = (a + (f.round ? 1n << (s - 1n) : 0n)) >> s;
      return f.acc ? r + c : r;
    }
    case SRI: {
      const keep = sh === 0 ? 0n : (M64 << BigInt(64 - sh)) & M64;
      return (BigInt.asUintN(64, c) & keep) | (BigInt.asUintN(64, a) >> s);
    }
    case SHL:
      return a << s;
    case SLI:
      return (a << s) | (BigInt.asUintN(64, c) & ((1n << s) - 1n));
    case QSHL:
      return satB(a << s, 64, f.signed, r);
    default:
      return satB(a << s, 64, false, r);
  }
}

const tmp = new Float64Array(16);

/** Same-width shifts: vector (lanes, q) or scalar (lanes = 1, rest of Vd cleared). */
export function shiftImm(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, lanes, sh, kind } = f;
  if (f.plain && es === 32) {
    // SSHR/USHR/SHL on 32-bit lanes without rounding or accumulation: native shifts.
    const a = v.vs, o = d * 4, p = n * 4;
    if (kind === SHL) for (let i = 0; i < lanes; i++) a[o + i] = a[p + i]! << sh;
    else if (f.signed) for (let i = 0; i < lanes; i++) a[o + i] = sh === 32 ? (a[p + i]! | 0) >> 31 : (a[p + i]! | 0) >> sh;
    else for (let i = 0; i < lanes; i++) a[o + i] = sh === 32 ? 0 : a[p + i]! >>> sh;
    if (f.q === 0) clearHigh(v, d);
    return;
  }
  const sg: boolean = f.signed;
  if (es === 64) {
    const r0 = shift64(kind, getLane64(v, n, 0, sg), getLane64(v, d, 0, sg), sh, f, cpu.r);
    const r1 = lanes === 2 ? shift64(kind, getLane64(v, n, 1, sg), getLane64(v, d, 1, sg), sh, f, cpu.r) : 0n;
    setLane64(v, d, 0, r0);
    setLane64(v, d, 1, r1);
  } else {
    for (let i = 0; i < lanes; i++) tmp[i] = shiftN(kind, getLane(v, n, i, es, sg), getLane(v, d, i, es, false), es, sh, f, cpu.r);
    if (f.scalar) {
      const o = d * 4;
      v.vs[o] = 0;
      v.vs[o + 1] = 0;
    }
    for (let i = 0; i < lanes; i++) setLane(v, d, i, es, tmp[i]!);
  }
  if (f.q === 0) clearHigh(v, d);
}

export const SHRN = 0, QSHRN = 1, QSHRUN = 2;

/**
 * SHRN/RSHRN/SQSHRN/UQSHRN/SQSHRUN (+ rounding, "2" and scalar forms): shift each 2*es-bit
 * element of Vn right and narrow it to es bits.
 */
export function shiftNarrow(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, lanes, sh, kind } = f;
  const wide = es * 2;
  const sg: boolean = f.signed;
  if (kind === SHRN && !f.round && wide !== 64) {
    for (let i = 0; i < lanes; i++) tmp[i] = getLane(v, n, i, wide, false) >>> sh;
  } else for (let i = 0; i < lanes; i++) {
    let r: number;
    if (wide === 64) {
      const s = BigInt(sh);
      const x = (getLane64(v, n, i, sg) + (f.round ? 1n << (s - 1n) : 0n)) >> s;
      r = Number(kind === SHRN ? BigInt.asUintN(32, x) : satB(x, 32, kind === QSHRN && sg, cpu.r));
    } else {
      const x = Math.floor((getLane(v, n, i, wide, sg) + (f.round ? 2 ** (sh - 1) : 0)) / 2 ** sh);
      r = kind === SHRN ? x : satN(x, es, kind === QSHRN && sg, cpu.r);
    }
    tmp[i] = r;
  }
  if (f.scalar) {
    const o = d * 4;
    v.vs[o] = 0;
    v.vs[o + 1] = 0;
    v.vs[o + 2] = 0;
    v.vs[o + 3] = 0;
  }
  const base = f.half ? lanes : 0;
  for (let i = 0; i < lanes; i++) setLane(v, d, base + i, es, tmp[i]!);
  if (!f.half && !f.scalar) clearHigh(v, d);
}

/** SSHLL/USHLL (SXTL/UXTL when sh = 0), "2" reads the upper half. */
export function shiftLong(cpu: Cpu, f: Fields): void {
  const v = cpu.regs;
  const { d, n, es, sh } = f;
  const lanes = 64 / es;
  const base = f.half ? lanes : 0;
  for (let i = 0; i < lanes; i++) tmp[i] = getLane(v, n, base + i, es, f.signed);
  if (es === 32) {
    for (let i = 0; i < lanes; i++) setLane64(v, d, i, BigInt(tmp[i]!) << BigInt(sh));
  } else {
    for (let i = 0; i < lanes; i++) setLane(v, d, i, es * 2, tmp[i]! * 2 ** sh);
  }
}
