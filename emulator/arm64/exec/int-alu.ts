// 64-bit integer arithmetic on 32-bit halves (DESIGN.md: no BigInt on hot paths). A 64-bit
// value is (lo, hi) as int32s; functions that produce one return the low word and leave the
// high word in H (module scratch, read immediately by the caller).
import type { Cpu } from '../cpu.ts';
import { NF, ZF, CF, VF } from '../regs.ts';

export let H = 0;

/** ROR of a 64-bit value by r (0..63). */
export function ror64(lo: number, hi: number, r: number): number {
  if (r === 0) {
    H = hi;
    return lo;
  }
  if (r >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
    r -= 32;
    if (r === 0) {
      H = hi;
      return lo;
    }
  }
  H = (hi >>> r) | (lo << (32 - r));
  return (lo >>> r) | (hi << (32 - r));
}

export function lsl64(lo: number, hi: number, n: number): number {
  if (n === 0) {
    H = hi;
    return lo;
  }
  if (n >= 32) {
    H = lo << (n - 32);
    return 0;
  }
  H = (hi << n) | (lo >>> (32 - n));
  return lo << n;
}

export function lsr64(lo: number, hi: number, n: number): number {
  if (n === 0) {
    H = hi;
    return lo;
  }
  if (n >= 32) {
    H = 0;
    return hi >>> (n - 32);
  }
  H = hi >>> n;
  return (lo >>> n) | (hi << (32 - n));
}

export function asr64(lo: number, hi: number, n: number): number {
  if (n === 0) {
    H = hi;
    return lo;
  }
  if (n >= 32) {
    H = hi >> 31;
    return hi >> (n - 32);
  }
  H = hi >> n;
  return (lo >>> n) | (hi << (32 - n));
}

/** Shift by type (LSL 0, LSR 1, ASR 2, ROR 3), 64-bit. */
export function shift64(lo: number, hi: number, type: number, n: number): number {
  switch (type) {
    case 0:
      return lsl64(lo, hi, n);
    case 1:
      return lsr64(lo, hi, n);
    case 2:
      return asr64(lo, hi, n);
    default:
      return ror64(lo, hi, n);
  }
}

/** Shift by type, 32-bit (result in the low word; H = 0). */
export function shift32(v: number, type: number, n: number): number {
  H = 0;
  if (n === 0) return v;
  switch (type) {
    case 0:
      return v << n;
    case 1:
      return v >>> n;
    case 2:
      return v >> n;
    default:
      return (v >>> n) | (v << (32 - n));
  }
}

/** AddWithCarry, 64-bit, result to slot d; flags written when setFlags. */
export function addc64(r: Int32Array, d: number, alo: number, ahi: number, blo: number, bhi: number, cin: number, setFlags: boolean): void {
  const l = (alo >>> 0) + (blo >>> 0) + cin;
  const c1 = l > 0xffffffff ? 1 : 0;
  const hs = (ahi >>> 0) + (bhi >>> 0) + c1;
  const rl = l | 0;
  const rh = hs | 0;
  if (setFlags) {
    r[NF] = rh >>> 31;
    r[ZF] = rl === 0 && rh === 0 ? 1 : 0;
    r[CF] = hs > 0xffffffff ? 1 : 0;
    r[VF] = ((ahi ^ rh) & (bhi ^ rh)) >>> 31;
  }
  r[2 * d] = rl;
  r[2 * d + 1] = rh;
}

export function addc32(r: Int32Array, d: number, a: number, b: number, cin: number, setFlags: boolean): void {
  const s = (a >>> 0) + (b >>> 0) + cin;
  const res = s | 0;
  if (setFlags) {
    r[NF] = res >>> 31;
    r[ZF] = res === 0 ? 1 : 0;
    r[CF] = s > 0xffffffff ? 1 : 0;
    r[VF] = ((a ^ res) & (b ^ res)) >>> 31;
  }
  r[2 * d] = res;
  r[2 * d + 1] = 0;
}

export function setNZ64(r: Int32Array, lo: number, hi: number): void {
  r[NF] = hi >>> 31;
  r[ZF] = lo === 0 && hi === 0 ? 1 : 0;
  r[CF] = 0;
  r[VF] = 0;
}

export function setNZ32(r: Int32Array, v: number): void {
  r[NF] = v >>> 31;
  r[ZF] = v === 0 ? 1 : 0;
  r[CF] = 0;
  r[VF] = 0;
}

/** ConditionHolds (ARM ARM J1 shared/functions/system/ConditionHolds). */
export function condHolds(r: Int32Array, cond: number): boolean {
  let res: boolean;
  switch (cond >> 1) {
    case 0:
      res = r[ZF] === 1;
      break;
    case 1:
      res = r[CF] === 1;
      break;
    case 2:
      res = r[NF] === 1;
      break;
    case 3:
      res = r[VF] === 1;
      break;
    case 4:
      res = r[CF] === 1 && r[ZF] === 0;
      break;
    case 5:
      res = r[NF] === r[VF];
      break;
    case 6:
      res = r[NF] === r[VF] && r[ZF] === 0;
      break;
    default:
      return true; // AL and NV
  }
  return (cond & 1) === 1 ? !res : res;
}

/** Low 32 bits of the 64-bit product of two unsigned 32-bit values are Math.imul; this is the high 32. */
export function mulhiU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + Math.floor(mid / 65536)) | 0;
}

/** Low 64 bits of a 64x64 product. */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): number {
  H = (mulhiU32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
  return Math.imul(alo, blo);
}

export function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

export function fromBig(r: Int32Array, d: number, v: bigint): void {
  r[2 * d] = Number(v & 0xffffffffn) | 0;
  r[2 * d + 1] = Number((v >> 32n) & 0xffffffffn) | 0;
}

/** Register as a signed JS number (a virtual address). */
export function addrOf(r: Int32Array, n: number): number {
  return r[2 * n + 1]! * 4294967296 + (r[2 * n]! >>> 0);
}

/** Store a JS-number address (possibly negative: upper VA range) into slot d. */
export function setAddr(r: Int32Array, d: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  r[2 * d] = (v - hi * 4294967296) | 0;
  r[2 * d + 1] = hi | 0;
}

export type { Cpu };
