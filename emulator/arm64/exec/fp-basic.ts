// Scalar floating point (ARM ARM C7, FPProcessNaNs / FPRound in J1): single and double
// precision arithmetic, compares, conversions and moves, in the FPCR rounding mode
// round-to-nearest-even (JS arithmetic is binary64 RNE; single results are Math.fround of the
// binary64 result, which is correctly rounded for + - * / sqrt). NaNs follow the architecture:
// a signalling NaN operand wins over a quiet one, the first operand over the second, results are
// quieted, FPCR.DN selects the default NaN; FPSR.IOC/DZC are set exactly.
// Known gaps (tracked in NOTES.md): directed rounding modes for arithmetic, FPSR IXC/UFC/OFC,
// FPCR.FZ flushing. Fused multiply-add is rounded once (fp/fma.ts).
import type { Cpu } from '../cpu.ts';
import { FPCR, FPSR, NF, ZF, CF, VF } from '../regs.ts';
import { fromBig, toBig } from './int-alu.ts';
import { fusedMulAdd } from '../fp/fma.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const IOC = 1;
const DZC = 2;
const NO_FLIPS: number[] = [];
const SIGN = 0x80000000 | 0;
const FPCR_DN = 1 << 25;

const buf = new ArrayBuffer(8);
const f64 = new Float64Array(buf);
const f32 = new Float32Array(buf);
const u32 = new Uint32Array(buf);

// ---- raw access to V registers (scalar in lane 0, upper bits zeroed on write) ----

function readD(cpu: Cpu, n: number): number {
  return cpu.regs.vf64[n * 2]!;
}
function writeD(cpu: Cpu, d: number, v: number): void {
  const vs = cpu.regs.vs;
  f64[0] = v;
  vs[d * 4] = u32[0]!;
  vs[d * 4 + 1] = u32[1]!;
  vs[d * 4 + 2] = 0;
  vs[d * 4 + 3] = 0;
}
function bitsD(cpu: Cpu, n: number): [number, number] {
  return [cpu.regs.vs[n * 4]!, cpu.regs.vs[n * 4 + 1]!];
}
function writeS(cpu: Cpu, d: number, v: number): void {
  f32[0] = v;
  const vs = cpu.regs.vs;
  vs[d * 4] = u32[0]!;
  vs[d * 4 + 1] = 0;
  vs[d * 4 + 2] = 0;
  vs[d * 4 + 3] = 0;
}
function writeSBits(cpu: Cpu, d: number, bits: number): void {
  const vs = cpu.regs.vs;
  vs[d * 4] = bits >>> 0;
  vs[d * 4 + 1] = 0;
  vs[d * 4 + 2] = 0;
  vs[d * 4 + 3] = 0;
}
function writeDBits(cpu: Cpu, d: number, lo: number, hi: number): void {
  const vs = cpu.regs.vs;
  vs[d * 4] = lo >>> 0;
  vs[d * 4 + 1] = hi >>> 0;
  vs[d * 4 + 2] = 0;
  vs[d * 4 + 3] = 0;
}

function isNaNS(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0;
}
function isSNaNS(bits: number): boolean {
  return isNaNS(bits) && (bits & 0x400000) === 0;
}
function isNaND(hi: number, lo: number): boolean {
  return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0);
}
function isSNaND(hi: number, lo: number): boolean {
  return isNaND(hi, lo) && (hi & 0x80000) === 0;
}

function fpExc(cpu: Cpu, bits: number): void {
  cpu.r[FPSR] |= bits;
}

/**
 * FPProcessNaNs for up to three operands (n, m, a order as the pseudocode takes them):
 * returns true and writes the result if any operand is a NaN.
 */
function processNaNs(cpu: Cpu, dbl: boolean, d: number, ops: number[], flips: number[] = NO_FLIPS): boolean {
  const vs = cpu.regs.vs;
  let pick = -1;
  let pickFlip = 0;
  for (const sig of [true, false]) {
    for (let k = 0; k < ops.length; k++) {
      const n = ops[k]!;
      const lo = vs[n * 4]!, hi = vs[n * 4 + 1]!;
      const nan = dbl ? isNaND(hi, lo) : isNaNS(lo);
      if (!nan) continue;
      const s = dbl ? isSNaND(hi, lo) : isSNaNS(lo);
      if (s === sig) {
        pick = n;
        pickFlip = flips[k] ?? 0;
        break;
      }
    }
    if (pick >= 0) break;
  }
  if (pick < 0) return false;
  // Operands negated by the instruction (FNMADD...) are negated before NaN processing.
  const lo = dbl ? vs[pick * 4]! : vs[pick * 4]! ^ pickFlip;
  const hi = dbl ? vs[pick * 4 + 1]! ^ pickFlip : vs[pick * 4 + 1]!;
  let anySig = false;
  for (const n of ops) {
    const l = vs[n * 4]!, h = vs[n * 4 + 1]!;
    if (dbl ? isSNaND(h, l) : isSNaNS(l)) anySig = true;
  }
  if (anySig) fpExc(cpu, IOC);
  const dn = (cpu.r[FPCR]! & FPCR_DN) !== 0;
  if (dbl) {
    if (dn) writeDBits(cpu, d, 0, 0x7ff80000);
    else writeDBits(cpu, d, lo, hi | 0x80000);
  } else {
    if (dn) writeSBits(cpu, d, 0x7fc00000);
    else writeSBits(cpu, d, lo | 0x400000);
  }
  return true;
}

/** A NaN produced by an invalid operation: the default NaN, IOC set. */
function invalid(cpu: Cpu, dbl: boolean, d: number): void {
  fpExc(cpu, IOC);
  if (dbl) writeDBits(cpu, d, 0, 0x7ff80000);
  else writeSBits(cpu, d, 0x7fc00000);
}

function readS(cpu: Cpu, n: number): number {
  // Through the raw bits: a float32 load into a double would quiet a signalling NaN.
  u32[0] = cpu.regs.vs[n * 4]!;
  return f32[0]!;
}

function write(cpu: Cpu, dbl: boolean, d: number, v: number): void {
  if (Number.isNaN(v)) return invalid(cpu, dbl, d);
  if (dbl) writeD(cpu, d, v);
  else writeS(cpu, d, Math.fround(v));
}

function read(cpu: Cpu, dbl: boolean, n: number): number {
  return dbl ? readD(cpu, n) : readS(cpu, n);
}

// ---- data processing, 2 sources: opcode 0 FMUL 1 FDIV 2 FADD 3 FSUB 4 FMAX 5 FMIN 6 FMAXNM 7 FMINNM 8 FNMUL ----

export function fp2(cpu: Cpu, f: F): void {
  const dbl = f.dbl;
  const op = f.opcode;
  if (op === 6 || op === 7) {
    // MAXNM/MINNM: a single quiet NaN operand is ignored.
    const vs = cpu.regs.vs;
    const nq = dbl ? isNaND(vs[f.rn * 4 + 1]!, vs[f.rn * 4]!) && !isSNaND(vs[f.rn * 4 + 1]!, vs[f.rn * 4]!) : isNaNS(vs[f.rn * 4]!) && !isSNaNS(vs[f.rn * 4]!);
    const mq = dbl ? isNaND(vs[f.rm * 4 + 1]!, vs[f.rm * 4]!) && !isSNaND(vs[f.rm * 4 + 1]!, vs[f.rm * 4]!) : isNaNS(vs[f.rm * 4]!) && !isSNaNS(vs[f.rm * 4]!);
    if (nq && !mq && !(dbl ? isNaND(vs[f.rm * 4 + 1]!, vs[f.rm * 4]!) : isNaNS(vs[f.rm * 4]!))) return write(cpu, dbl, f.rd, read(cpu, dbl, f.rm));
    if (mq && !nq && !(dbl ? isNaND(vs[f.rn * 4 + 1]!, vs[f.rn * 4]!) : isNaNS(vs[f.rn * 4]!))) return write(cpu, dbl, f.rd, read(cpu, dbl, f.rn));
  }
  if (processNaNs(cpu, dbl, f.rd, [f.rn, f.rm])) return;
  const a = read(cpu, dbl, f.rn);
  const b = read(cpu, dbl, f.rm);
  let r: number;
  switch (op) {
    case 0:
      r = a * b;
      break;
    case 1:
      if (b === 0 && a !== 0 && !Number.isNaN(a) && Number.isFinite(a)) fpExc(cpu, DZC);
      r = a / b;
      break;
    case 2:
      r = a + b;
      break;
    case 3:
      r = a - b;
      break;
    case 4:
    case 6:
      r = a > b ? a : b < a ? b : a === b ? (Object.is(a, -0) ? b : a) : b;
      if (a === 0 && b === 0) r = Object.is(a, -0) && Object.is(b, -0) ? -0 : 0;
      break;
    case 5:
    case 7:
      r = a < b ? a : b;
      if (a === 0 && b === 0) r = Object.is(a, -0) || Object.is(b, -0) ? -0 : 0;
      break;
    default:
      r = -(a * b);
  }
  write(cpu, dbl, f.rd, r);
}

// ---- 1 source: 0 FMOV 1 FABS 2 FNEG 3 FSQRT, FCVT, FRINT* ----

export function fmovReg(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  if (f.dbl) writeDBits(cpu, f.rd, vs[f.rn * 4]!, vs[f.rn * 4 + 1]!);
  else writeSBits(cpu, f.rd, vs[f.rn * 4]!);
}
export function fabsNeg(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  const lo = vs[f.rn * 4]!, hi = vs[f.rn * 4 + 1]!;
  if (f.dbl) writeDBits(cpu, f.rd, lo, f.neg ? hi ^ 0x80000000 : hi & 0x7fffffff);
  else writeSBits(cpu, f.rd, f.neg ? lo ^ 0x80000000 : lo & 0x7fffffff);
}
export function fsqrt(cpu: Cpu, f: F): void {
  if (processNaNs(cpu, f.dbl, f.rd, [f.rn])) return;
  const a = read(cpu, f.dbl, f.rn);
  if (a < 0) return invalid(cpu, f.dbl, f.rd);
  write(cpu, f.dbl, f.rd, Math.sqrt(a));
}
/** FCVT between single (0) and double (1); half precision is not implemented here. */
export function fcvt(cpu: Cpu, f: F): void {
  const vs = cpu.regs.vs;
  if (f.from === 0 && f.to === 1) {
    const bits = vs[f.rn * 4]!;
    if (isNaNS(bits)) {
      if (isSNaNS(bits)) fpExc(cpu, IOC);
      if ((cpu.r[FPCR]! & FPCR_DN) !== 0) return writeDBits(cpu, f.rd, 0, 0x7ff80000);
      // Payload moves to the top of the double's fraction.
      const frac = bits & 0x3fffff;
      return writeDBits(cpu, f.rd, (frac << 29) >>> 0, ((bits & 0x80000000) | 0x7ff80000 | (frac >>> 3)) >>> 0);
    }
    return writeD(cpu, f.rd, readS(cpu, f.rn));
  }
  if (f.from === 1 && f.to === 0) {
    const lo = vs[f.rn * 4]!, hi = vs[f.rn * 4 + 1]!;
    if (isNaND(hi, lo)) {
      if (isSNaND(hi, lo)) fpExc(cpu, IOC);
      if ((cpu.r[FPCR]! & FPCR_DN) !== 0) return writeSBits(cpu, f.rd, 0x7fc00000);
      const frac = ((hi & 0x7ffff) << 3) | (lo >>> 29);
      return writeSBits(cpu, f.rd, ((hi & 0x80000000) | 0x7fc00000 | frac) >>> 0);
    }
    return writeS(cpu, f.rd, Math.fround(readD(cpu, f.rn)));
  }
  cpu.raiseUndefined();
}

/** Round to integral in rounding mode rm (0 N, 1 P, 2 M, 3 Z, 4 A ties away). */
function roundInt(v: number, rm: number): number {
  switch (rm) {
    case 1:
      return Math.ceil(v);
    case 2:
      return Math.floor(v);
    case 3:
      return Math.trunc(v);
    case 4: {
      const t = Math.trunc(v);
      return Math.abs(v - t) >= 0.5 ? t + Math.sign(v) : t;
    }
    default: {
      const fl = Math.floor(v);
      const diff = v - fl;
      if (diff < 0.5) return fl;
      if (diff > 0.5) return fl + 1;
      return fl % 2 === 0 ? fl : fl + 1;
    }
  }
}

export function frint(cpu: Cpu, f: F): void {
  if (processNaNs(cpu, f.dbl, f.rd, [f.rn])) return;
  const a = read(cpu, f.dbl, f.rn);
  const rm = f.rmode < 0 ? (cpu.r[FPCR]! >>> 22) & 3 : f.rmode;
  let r = Number.isFinite(a) ? roundInt(a, rm) : a;
  if (r === 0 && (a < 0 || Object.is(a, -0))) r = -0;
  write(cpu, f.dbl, f.rd, r);
}

// ---- compares ----

export function fcmp(cpu: Cpu, f: F): void {
  const dbl = f.dbl;
  const vs = cpu.regs.vs;
  const nlo = vs[f.rn * 4]!, nhi = vs[f.rn * 4 + 1]!;
  const a = read(cpu, dbl, f.rn);
  let b = 0;
  let mlo = 0, mhi = 0;
  if (!f.zero) {
    mlo = vs[f.rm * 4]!;
    mhi = vs[f.rm * 4 + 1]!;
    b = read(cpu, dbl, f.rm);
  }
  const nNaN = dbl ? isNaND(nhi, nlo) : isNaNS(nlo);
  const mNaN = !f.zero && (dbl ? isNaND(mhi, mlo) : isNaNS(mlo));
  setCompareFlags(cpu, a, b, nNaN || mNaN, f.signalAll || (dbl ? isSNaND(nhi, nlo) : isSNaNS(nlo)) || (!f.zero && (dbl ? isSNaND(mhi, mlo) : isSNaNS(mlo))));
}

function setCompareFlags(cpu: Cpu, a: number, b: number, unordered: boolean, signal: boolean): void {
  const r = cpu.r;
  if (unordered) {
    if (signal) fpExc(cpu, IOC);
    r[NF] = 0;
    r[ZF] = 0;
    r[CF] = 1;
    r[VF] = 1;
    return;
  }
  r[VF] = 0;
  if (a === b) {
    r[NF] = 0;
    r[ZF] = 1;
    r[CF] = 1;
  } else if (a < b) {
    r[NF] = 1;
    r[ZF] = 0;
    r[CF] = 0;
  } else {
    r[NF] = 0;
    r[ZF] = 0;
    r[CF] = 1;
  }
}

export function fccmp(cpu: Cpu, f: F, condHolds: (r: Int32Array, c: number) => boolean): void {
  if (condHolds(cpu.r, f.cond)) {
    fcmp(cpu, { ...f, zero: false });
  } else {
    const r = cpu.r;
    r[NF] = (f.nzcv >> 3) & 1;
    r[ZF] = (f.nzcv >> 2) & 1;
    r[CF] = (f.nzcv >> 1) & 1;
    r[VF] = f.nzcv & 1;
  }
}

export function fcsel(cpu: Cpu, f: F, condHolds: (r: Int32Array, c: number) => boolean): void {
  const src = condHolds(cpu.r, f.cond) ? f.rn : f.rm;
  const vs = cpu.regs.vs;
  if (f.dbl) writeDBits(cpu, f.rd, vs[src * 4]!, vs[src * 4 + 1]!);
  else writeSBits(cpu, f.rd, vs[src * 4]!);
}

// ---- 3 sources: FMADD/FMSUB/FNMADD/FNMSUB ----

export function fp3(cpu: Cpu, f: F): void {
  const dbl = f.dbl;
  // FMSUB/FNMADD negate operand n, FNMADD/FNMSUB negate the addend, before NaN processing.
  const flips = [f.o1 ? SIGN : 0, f.o0 !== f.o1 ? SIGN : 0, 0];
  if (processNaNs(cpu, dbl, f.rd, [f.ra, f.rn, f.rm], flips)) return;
  let a = read(cpu, dbl, f.ra);
  let n = read(cpu, dbl, f.rn);
  const m = read(cpu, dbl, f.rm);
  if (f.o1) a = -a; // FNMADD/FNMSUB negate the addend
  if (f.o0 !== f.o1) n = -n; // FMSUB/FNMADD negate the product
  if ((n === 0 && !Number.isFinite(m)) || (m === 0 && !Number.isFinite(n))) return invalid(cpu, dbl, f.rd);
  write(cpu, dbl, f.rd, fusedMulAdd(n, m, a, !dbl));
}

// ---- moves and immediates ----

/** FMOV (general): to/from W/X and S/D or the upper half D[1]. */
export function fmovGen(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const vs = cpu.regs.vs;
  switch (f.kind) {
    case 'w2s':
      return writeSBits(cpu, f.rd, r[2 * f.rn]!);
    case 's2w':
      r[2 * f.rd] = vs[f.rn * 4]! | 0;
      r[2 * f.rd + 1] = 0;
      return;
    case 'x2d':
      return writeDBits(cpu, f.rd, r[2 * f.rn]!, r[2 * f.rn + 1]!);
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
  if (f.dbl) writeDBits(cpu, f.rd, 0, f.bitsHi);
  else writeSBits(cpu, f.rd, f.bits);
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

// ---- conversions between integers and FP ----

/** SCVTF/UCVTF from W/X (fbits = fixed-point fraction bits). Correctly rounded for 64-bit sources. */
export function intToFp(cpu: Cpu, f: F): void {
  const r = cpu.r;
  let v: number;
  if (f.sf) {
    let big = toBig(r[2 * f.rn]!, r[2 * f.rn + 1]!);
    if (!f.unsigned) big = BigInt.asIntN(64, big);
    v = f.dbl ? Number(big) : Math.fround(bigToF32(big));
  } else {
    const w = r[2 * f.rn]!;
    v = f.unsigned ? w >>> 0 : w;
  }
  if (f.fbits) v = v / 2 ** f.fbits;
  if (f.dbl) writeD(cpu, f.rd, v);
  else writeS(cpu, f.rd, Math.fround(v));
}

/** BigInt → nearest float32 value without double rounding (BigInt→double then →float can round twice). */
function bigToF32(v: bigint): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  if (a < 1n << 53n) return neg ? -Number(a) : Number(a);
  // Keep 25 significant bits plus a sticky bit, so the single rounding to 24 bits is exact.
  const bits = a.toString(2).length;
  const shift = BigInt(bits - 26);
  const sticky = (a & ((1n << shift) - 1n)) !== 0n ? 1n : 0n;
  a = ((a >> shift) | sticky) << shift;
  return neg ? -Number(a) : Number(a);
}

/**
 * FCVT{N,P,M,Z,A}{S,U} to W/X: round in the given mode, saturate, NaN → 0, IOC on NaN/overflow,
 * IXC is not tracked.
 */
export function fpToInt(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const vs = cpu.regs.vs;
  const nan = f.dbl ? isNaND(vs[f.rn * 4 + 1]!, vs[f.rn * 4]!) : isNaNS(vs[f.rn * 4]!);
  let a = read(cpu, f.dbl, f.rn);
  if (f.fbits) a *= 2 ** f.fbits;
  const bitsN = f.sf ? 64 : 32;
  if (nan) {
    fpExc(cpu, IOC);
    r[2 * f.rd] = 0;
    r[2 * f.rd + 1] = 0;
    return;
  }
  let v = Number.isFinite(a) ? roundInt(a, f.rmode) : a;
  // In range iff min <= v < 2^(N-1) (signed) or 0 <= v < 2^N (unsigned); all bounds exact doubles.
  const lim = f.unsigned ? 2 ** bitsN : 2 ** (bitsN - 1);
  const min = f.unsigned ? 0 : -lim;
  let big: bigint | null = null;
  if (v >= lim) {
    fpExc(cpu, IOC);
    big = BigInt(lim) - 1n;
  } else if (v < min) {
    fpExc(cpu, IOC);
    big = BigInt(min);
  }
  if (f.sf) {
    fromBig(r, f.rd, BigInt.asUintN(64, big ?? BigInt(v)));
  } else {
    const w = big !== null ? Number(big) : v;
    r[2 * f.rd] = f.unsigned ? w >>> 0 : w | 0;
    r[2 * f.rd + 1] = 0;
  }
}

export { readD, bitsD };
