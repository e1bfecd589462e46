// Scalar floating point (ARM ARM C7.2 scalar FP instructions): each handler reads the operand
// bit patterns from V registers, calls the FP library (emulator/arm64/fp/) which implements the
// FPCR rounding modes, FZ, DN, AHP and the exact FPSR flags, and writes the result with the upper
// bits of the destination V register zeroed. f.fmt is 16, 32 or 64.
import type { Cpu } from '../cpu.ts';
import { NF, ZF, CF, VF } from '../regs.ts';
import { type Fmt, D, H, S, out, signMask } from '../fp/bits.ts';
import { add, sub, mul, div, nmul, sqrt, fma } from '../fp/arith.ts';
import { compare, maxMin } from '../fp/compare.ts';
import { fastArith, fastFp3D } from './fp-fast.ts';
import { convert, roundInt, toFixed, fromFixed } from '../fp/convert.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---- V register scalar access ----

function lo(cpu: Cpu, fmt: Fmt, n: number): number {
  return fmt === H ? cpu.regs.vh[n * 8]! : cpu.regs.vs[n * 4]! | 0;
}
function hi(cpu: Cpu, fmt: Fmt, n: number): number {
  return fmt === D ? cpu.regs.vs[n * 4 + 1]! | 0 : 0;
}
/** Write a scalar result (lo, out.hi for double); the rest of Vd is zeroed. */
export function writeScalar(cpu: Cpu, fmt: Fmt, d: number, l: number, h: number): void {
  const vs = cpu.regs.vs;
  if (fmt === H) {
    vs[d * 4] = l & 0xffff;
    vs[d * 4 + 1] = 0;
  } else {
    vs[d * 4] = l;
    vs[d * 4 + 1] = fmt === D ? h : 0;
  }
  vs[d * 4 + 2] = 0;
  vs[d * 4 + 3] = 0;
}

// ---- data processing, 2 sources: opcode 0 FMUL 1 FDIV 2 FADD 3 FSUB 4 FMAX 5 FMIN 6 FMAXNM 7 FMINNM 8 FNMUL ----

export function fp2(cpu: Cpu, f: F): void {
  const fmt: Fmt = f.fmt;
  const r = cpu.r;
  const al = lo(cpu, fmt, f.rn), ah = hi(cpu, fmt, f.rn), bl = lo(cpu, fmt, f.rm), bh = hi(cpu, fmt, f.rm);
  let res: number;
  switch (f.opcode) {
    case 0: res = mul(r, fmt, al, ah, bl, bh); break;
    case 1: res = div(r, fmt, al, ah, bl, bh); break;
    case 2: res = add(r, fmt, al, ah, bl, bh); break;
    case 3: res = sub(r, fmt, al, ah, bl, bh); break;
    case 4: res = maxMin(r, fmt, al, ah, bl, bh, true, false); break;
    case 5: res = maxMin(r, fmt, al, ah, bl, bh, false, false); break;
    case 6: res = maxMin(r, fmt, al, ah, bl, bh, true, true); break;
    case 7: res = maxMin(r, fmt, al, ah, bl, bh, false, true); break;
    default: res = nmul(r, fmt, al, ah, bl, bh);
  }
  writeScalar(cpu, fmt, f.rd, res, out.hi);
}

/** FMUL/FDIV/FADD/FSUB single or double: the native fast path (fp-fast.ts), else fp2. */
export function fp2fast(cpu: Cpu, f: F): void {
  if (!fastArith(cpu, f.fastOp, f.fmt === D, 1, f.rn, f.rm, f.rd, f.fmt === D ? 2 : 1)) fp2(cpu, f);
}

// ---- 1 source ----

export function fmovReg(cpu: Cpu, f: F): void {
  writeScalar(cpu, f.fmt, f.rd, lo(cpu, f.fmt, f.rn), hi(cpu, f.fmt, f.rn));
}
export function fabsNeg(cpu: Cpu, f: F): void {
  const fmt: Fmt = f.fmt;
  let l = lo(cpu, fmt, f.rn), h = hi(cpu, fmt, f.rn);
  const m = signMask(fmt);
  if (fmt === D) h = f.neg ? h ^ m : h & ~m;
  else l = f.neg ? l ^ m : l & ~m;
  writeScalar(cpu, fmt, f.rd, l, h);
}
export function fsqrt(cpu: Cpu, f: F): void {
  const res = sqrt(cpu.r, f.fmt, lo(cpu, f.fmt, f.rn), hi(cpu, f.fmt, f.rn));
  writeScalar(cpu, f.fmt, f.rd, res, out.hi);
}
/** FCVT between half (16), single (32) and double (64). */
export function fcvt(cpu: Cpu, f: F): void {
  const res = convert(cpu.r, f.from, f.to, lo(cpu, f.from, f.rn), hi(cpu, f.from, f.rn));
  writeScalar(cpu, f.to, f.rd, res, out.hi);
}
/** FRINT*: f.rmode < 0 means FPCR.RMode; f.exact for FRINTX. */
export function frint(cpu: Cpu, f: F): void {
  const res = roundInt(cpu.r, f.fmt, lo(cpu, f.fmt, f.rn), hi(cpu, f.fmt, f.rn), f.rmode, f.exact);
  writeScalar(cpu, f.fmt, f.rd, res, out.hi);
}

// ---- compares ----

function setNZCV(cpu: Cpu, nzcv: number): void {
  const r = cpu.r;
  r[NF] = nzcv >> 3;
  r[ZF] = (nzcv >> 2) & 1;
  r[CF] = (nzcv >> 1) & 1;
  r[VF] = nzcv & 1;
}

export function fcmp(cpu: Cpu, f: F): void {
  const fmt: Fmt = f.fmt;
  const bl = f.zero ? 0 : lo(cpu, fmt, f.rm), bh = f.zero ? 0 : hi(cpu, fmt, f.rm);
  setNZCV(cpu, compare(cpu.r, fmt, lo(cpu, fmt, f.rn), hi(cpu, fmt, f.rn), bl, bh, f.signalAll));
}

export function fccmp(cpu: Cpu, f: F, condHolds: (r: Int32Array, c: number) => boolean): void {
  if (condHolds(cpu.r, f.cond)) {
    const fmt: Fmt = f.fmt;
    setNZCV(cpu, compare(cpu.r, fmt, lo(cpu, fmt, f.rn), hi(cpu, fmt, f.rn), lo(cpu, fmt, f.rm), hi(cpu, fmt, f.rm), f.signalAll));
  } else setNZCV(cpu, f.nzcv);
}

export function fcsel(cpu: Cpu, f: F, condHolds: (r: Int32Array, c: number) => boolean): void {
  const src = condHolds(cpu.r, f.cond) ? f.rn : f.rm;
  writeScalar(cpu, f.fmt, f.rd, lo(cpu, f.fmt, src), hi(cpu, f.fmt, src));
}

// ---- 3 sources: FMADD/FMSUB/FNMADD/FNMSUB ----

export function fp3(cpu: Cpu, f: F): void {
  const fmt: Fmt = f.fmt;
  if (fmt === D && fastFp3D(cpu, f.o1 !== 0, f.o0 !== f.o1, f.ra, f.rn, f.rm, f.rd)) return;
  const m = signMask(fmt);
  // FMSUB/FNMADD negate operand n, FNMADD/FNMSUB negate the addend, before NaN processing.
  const res = fma(cpu.r, fmt, lo(cpu, fmt, f.ra), hi(cpu, fmt, f.ra), lo(cpu, fmt, f.rn), hi(cpu, fmt, f.rn), lo(cpu, fmt, f.rm), hi(cpu, fmt, f.rm),
    f.o1 ? m : 0, f.o0 !== f.o1 ? m : 0);
  writeScalar(cpu, fmt, f.rd, res, out.hi);
}

// ---- moves and immediates ----

/** FMOV (general): to/from W/X and H/S/D or the upper half D[1]. */
export function fmovGen(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const vs = cpu.regs.vs;
  switch (f.kind) {
    case 'w2h':
      return writeScalar(cpu, H, f.rd, r[2 * f.rn]!, 0);
    case 'h2w':
      r[2 * f.rd] = cpu.regs.vh[f.rn * 8]!;
      r[2 * f.rd + 1] = 0;
      return;
    case 'w2s':
      return writeScalar(cpu, S, f.rd, r[2 * f.rn]!, 0);
    case 's2w':
      r[2 * f.rd] = vs[f.rn * 4]! | 0;
      r[2 * f.rd + 1] = 0;
      return;
    case 'x2d':
      return writeScalar(cpu, D, f.rd, r[2 * f.rn]!, r[2 * f.rn + 1]!);
    case 'd2x':
      r[2 * f.rd] = vs[f.rn * 4]! | 0;
      r[2 * f.rd + 1] = vs[f.rn * 4 + 1]! | 0;
      return;
    case 'x2d1':
      vs[f.rd * 4 + 2] = r[2 * f.rn]! >>> 0;
      vs[f.rd * 4 + 3] = r[2 * f.rn + 1]! >>> 0;
      return;
    case 'd12x':
      r[2 * f.rd] = vs[f.rn * 4 + 2]! | 0;
      r[2 * f.rd + 1] = vs[f.rn * 4 + 3]! | 0;
      return;
  }
}

export function fmovImm(cpu: Cpu, f: F): void {
  if (f.fmt === D) writeScalar(cpu, D, f.rd, 0, f.bitsHi);
  else writeScalar(cpu, f.fmt, f.rd, f.bits, 0);
}

/** VFPExpandImm for single (32-bit pattern) and double (high word). */
export function vfpExpandImm(imm8: number, dbl: boolean): number {
  const sign = imm8 >> 7;
  const b6 = (imm8 >> 6) & 1;
  const frac = imm8 & 0x3f;
  if (dbl) {
    // sign : NOT(b6) : Replicate(b6, 8) : imm8<5:0> : Zeros(48)
    const exp = ((b6 ^ 1) << 10) | (b6 ? 0x3fc : 0) | ((frac >> 4) & 3);
    return ((sign << 31) | (exp << 20) | ((frac & 0xf) << 16)) >>> 0;
  }
  const exp = ((b6 ^ 1) << 7) | (b6 ? 0x7c : 0) | ((frac >> 4) & 3);
  return ((sign << 31) | (exp << 23) | ((frac & 0xf) << 19)) >>> 0;
}

/** VFPExpandImm for half: sign : NOT(b6) : Replicate(b6, 2) : imm8<5:0> : Zeros(6). */
export function vfpExpandImmHalf(imm8: number): number {
  const b6 = (imm8 >> 6) & 1;
  return ((imm8 >> 7) << 15) | ((b6 ^ 1) << 14) | (b6 ? 0x3000 : 0) | ((imm8 & 0x3f) << 6);
}

// ---- conversions between integers and FP ----

/** SCVTF/UCVTF from W/X (f.fbits fixed-point fraction bits), rounded in FPCR.RMode. */
export function intToFp(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const res = fromFixed(r, f.fmt, r[2 * f.rn]!, r[2 * f.rn + 1]!, f.fbits, f.unsigned, f.sf ? 64 : 32);
  writeScalar(cpu, f.fmt, f.rd, res, out.hi);
}

/** FCVT{N,P,M,Z,A}{S,U} to W/X (f.rmode 0-4), saturating. */
export function fpToInt(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const res = toFixed(r, f.fmt, lo(cpu, f.fmt, f.rn), hi(cpu, f.fmt, f.rn), f.fbits, f.unsigned, f.sf ? 64 : 32, f.rmode);
  r[2 * f.rd] = res;
  r[2 * f.rd + 1] = f.sf ? out.hi : 0;
}
