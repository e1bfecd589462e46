// SHA-1 and SHA-256 instructions (FEAT_SHA1, FEAT_SHA256; ARM ARM C7.2 SHA1C/SHA1P/SHA1M,
// SHA1H, SHA1SU0, SHA1SU1, SHA256H, SHA256H2, SHA256SU0, SHA256SU1 and the shared pseudocode
// SHAchoose, SHAparity, SHAmajority, SHA256hash, SHAhashSIGMA0/1). Registers are read as four
// 32-bit words, word 0 = bits 31:0. All arithmetic is modulo 2^32 on JS int32 values.
// Fields: d, n, m; kind (SHA1C/P/M: 0 choose, 1 parity, 2 majority; SHA256H: 1 = H, 0 = H2).
import type { Cpu } from '../cpu.ts';
import type { Fields } from '../decode/pattern.ts';

const rol = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
const ror = (x: number, k: number): number => (x >>> k) | (x << (32 - k));
const choose = (x: number, y: number, z: number): number => ((y ^ z) & x) ^ z;
const majority = (x: number, y: number, z: number): number => (x & y) | ((x | y) & z);

/** SHA1C (choose), SHA1P (parity), SHA1M (majority): four rounds; Qd = abcd, Sn = e, Vm = w + k. */
export function sha1Hash(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4, m = f.m * 4;
  let x0 = v[d]!, x1 = v[d + 1]!, x2 = v[d + 2]!, x3 = v[d + 3]!;
  let y = v[f.n * 4]!;
  const kind: number = f.kind;
  for (let e = 0; e < 4; e++) {
    const t = kind === 0 ? choose(x1, x2, x3) : kind === 1 ? x1 ^ x2 ^ x3 : majority(x1, x2, x3);
    y = (y + rol(x0, 5) + t + v[m + e]!) | 0;
    x1 = rol(x1, 30);
    // <Y, X> = ROL(Y : X, 32)
    const top = x3;
    x3 = x2;
    x2 = x1;
    x1 = x0;
    x0 = y;
    y = top;
  }
  v[d] = x0;
  v[d + 1] = x1;
  v[d + 2] = x2;
  v[d + 3] = x3;
}

/** SHA1H: Sd = ROL(Sn, 30), the rest of Vd cleared. */
export function sha1h(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4;
  v[d] = rol(v[f.n * 4]!, 30);
  v[d + 1] = 0;
  v[d + 2] = 0;
  v[d + 3] = 0;
}

/** SHA1SU0: Vd = (Vn<63:0> : Vd<127:64>) ^ Vd ^ Vm. */
export function sha1su0(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4;
  const r0 = v[d + 2]! ^ v[d]! ^ v[m]!;
  const r1 = v[d + 3]! ^ v[d + 1]! ^ v[m + 1]!;
  const r2 = v[n]! ^ v[d + 2]! ^ v[m + 2]!;
  const r3 = v[n + 1]! ^ v[d + 3]! ^ v[m + 3]!;
  v[d] = r0;
  v[d + 1] = r1;
  v[d + 2] = r2;
  v[d + 3] = r3;
}

/** SHA1SU1: T = Vd ^ (Vn >> 32); each word ROL 1, word 3 also ^ ROL(T<31:0>, 2). */
export function sha1su1(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4, n = f.n * 4;
  const t0 = v[d]! ^ v[n + 1]!;
  const t1 = v[d + 1]! ^ v[n + 2]!;
  const t2 = v[d + 2]! ^ v[n + 3]!;
  const t3 = v[d + 3]!;
  v[d] = rol(t0, 1);
  v[d + 1] = rol(t1, 1);
  v[d + 2] = rol(t2, 1);
  v[d + 3] = rol(t3, 1) ^ rol(t0, 2);
}

/**
 * SHA256H (part1 = 1): Qd = SHA256hash(Qd, Qn, Vm, TRUE); SHA256H2: Qd = SHA256hash(Qn, Qd, Vm,
 * FALSE). X holds a..d, Y holds e..h; four rounds.
 */
export function sha256Hash(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4;
  const part1 = f.kind === 1;
  const xr = part1 ? d : n, yr = part1 ? n : d;
  let x0 = v[xr]!, x1 = v[xr + 1]!, x2 = v[xr + 2]!, x3 = v[xr + 3]!;
  let y0 = v[yr]!, y1 = v[yr + 1]!, y2 = v[yr + 2]!, y3 = v[yr + 3]!;
  for (let e = 0; e < 4; e++) {
    const chs = choose(y0, y1, y2);
    const maj = majority(x0, x1, x2);
    const t = (y3 + (ror(y0, 6) ^ ror(y0, 11) ^ ror(y0, 25)) + chs + v[m + e]!) | 0;
    x3 = (t + x3) | 0;
    y3 = (t + (ror(x0, 2) ^ ror(x0, 13) ^ ror(x0, 22)) + maj) | 0;
    // <Y, X> = ROL(Y : X, 32): X = X<95:0> : Y<127:96>, Y = Y<95:0> : X<127:96>
    const xTop = x3, yTop = y3;
    x3 = x2;
    x2 = x1;
    x1 = x0;
    x0 = yTop;
    y3 = y2;
    y2 = y1;
    y1 = y0;
    y0 = xTop;
  }
  if (part1) {
    v[d] = x0;
    v[d + 1] = x1;
    v[d + 2] = x2;
    v[d + 3] = x3;
  } else {
    v[d] = y0;
    v[d + 1] = y1;
    v[d + 2] = y2;
    v[d + 3] = y3;
  }
}

const sigma0 = (x: number): number => ror(x, 7) ^ ror(x, 18) ^ (x >>> 3);
const sigma1 = (x: number): number => ror(x, 17) ^ ror(x, 19) ^ (x >>> 10);

/** SHA256SU0: T = Vn<31:0> : Vd<127:32>; Vd.S[e] += sigma0(T.S[e]). */
export function sha256su0(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4, n = f.n * 4;
  const t0 = v[d + 1]!, t1 = v[d + 2]!, t2 = v[d + 3]!, t3 = v[n]!;
  v[d] = (v[d]! + sigma0(t0)) | 0;
  v[d + 1] = (v[d + 1]! + sigma0(t1)) | 0;
  v[d + 2] = (v[d + 2]! + sigma0(t2)) | 0;
  v[d + 3] = (v[d + 3]! + sigma0(t3)) | 0;
}

/** SHA256SU1: T0 = Vm<31:0> : Vn<127:32>; words 0-1 from sigma1(Vm<127:64>), words 2-3 from the new words 0-1. */
export function sha256su1(cpu: Cpu, f: Fields): void {
  const v = cpu.regs.vsi;
  const d = f.d * 4, n = f.n * 4, m = f.m * 4;
  const t0 = v[n + 1]!, t1 = v[n + 2]!, t2 = v[n + 3]!, t3 = v[m]!;
  const r0 = (sigma1(v[m + 2]!) + v[d]! + t0) | 0;
  const r1 = (sigma1(v[m + 3]!) + v[d + 1]! + t1) | 0;
  const r2 = (sigma1(r0) + v[d + 2]! + t2) | 0;
  const r3 = (sigma1(r1) + v[d + 3]! + t3) | 0;
  v[d] = r0;
  v[d + 1] = r1;
  v[d + 2] = r2;
  v[d + 3] = r3;
}
