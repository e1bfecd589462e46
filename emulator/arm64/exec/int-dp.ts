// Integer data processing (ARM ARM C4.1.86 immediate, C4.1.88 register): the handlers.
// Operands and immediates arrive pre-decoded in f (see decode/int-imm.ts, int-reg.ts).
import type { Cpu } from '../cpu.ts';
import { NF, ZF, CF, VF, SP } from '../regs.ts';
import { H, addc32, addc64, condHolds, lsl64, lsr64, asr64, ror64, mul64, mulhiU32, setNZ32, setNZ64, shift32, shift64, toBig, fromBig, addrOf, setAddr } from './int-alu.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

// ---------------- immediate ----------------

export function adr(cpu: Cpu, f: F): void {
  setAddr(cpu.r, f.rd, cpu.pc + f.imm);
}
export function adrp(cpu: Cpu, f: F): void {
  const pc = cpu.pc;
  setAddr(cpu.r, f.rd, pc - (pc & 0xfff) + f.imm);
}

/** ADD/SUB (immediate), 64-bit, no flags: the SP-friendly fast path. */
export function addImm64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const n = f.rn;
  const l = (r[2 * n]! >>> 0) + f.imm;
  // f.imm is in [-(2^24), 2^24]: propagate carry/borrow into the high word.
  const c = l >= 4294967296 ? 1 : l < 0 ? -1 : 0;
  r[2 * f.rd] = l | 0;
  r[2 * f.rd + 1] = (r[2 * n + 1]! + c) | 0;
}
export function addImm32(cpu: Cpu, f: F): void {
  const r = cpu.r;
  r[2 * f.rd] = (r[2 * f.rn]! + f.imm) | 0;
  r[2 * f.rd + 1] = 0;
}
export function addsImm64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const n = f.rn;
  if (f.sub) addc64(r, f.rd, r[2 * n]!, r[2 * n + 1]!, ~f.uimm, -1, 1, true);
  else addc64(r, f.rd, r[2 * n]!, r[2 * n + 1]!, f.uimm, 0, 0, true);
}
export function addsImm32(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (f.sub) addc32(r, f.rd, r[2 * f.rn]!, ~f.uimm, 1, true);
  else addc32(r, f.rd, r[2 * f.rn]!, f.uimm, 0, true);
}

/** AND/ORR/EOR/ANDS with a decoded bitmask (mlo, mhi); op 0 AND, 1 ORR, 2 EOR, 3 ANDS. */
export function logImm(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const alo = r[2 * f.rn]!;
  const ahi = f.sf ? r[2 * f.rn + 1]! : 0;
  let lo: number, hi: number;
  switch (f.opc) {
    case 1:
      lo = alo | f.mlo;
      hi = ahi | f.mhi;
      break;
    case 2:
      lo = alo ^ f.mlo;
      hi = ahi ^ f.mhi;
      break;
    default:
      lo = alo & f.mlo;
      hi = ahi & f.mhi;
  }
  if (!f.sf) hi = 0;
  if (f.opc === 3) {
    if (f.sf) setNZ64(r, lo, hi);
    else setNZ32(r, lo);
  }
  r[2 * f.rd] = lo;
  r[2 * f.rd + 1] = hi;
}

export function movImm(cpu: Cpu, f: F): void {
  cpu.r[2 * f.rd] = f.lo;
  cpu.r[2 * f.rd + 1] = f.hi;
}
export function movk(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const i = 2 * f.rd + (f.hw >> 1);
  const sh = (f.hw & 1) * 16;
  r[i] = (r[i]! & ~(0xffff << sh)) | (f.imm16 << sh);
  if (!f.sf) r[2 * f.rd + 1] = 0;
}

/** SBFM/BFM/UBFM via the ARM ARM's ROR + wmask/tmask formulation. opc 0 SBFM, 1 BFM, 2 UBFM. */
export function bitfield(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const slo = r[2 * f.rn]!;
  const shi = f.sf ? r[2 * f.rn + 1]! : 0;
  let blo: number, bhi: number;
  if (f.sf) {
    blo = ror64(slo, shi, f.immr);
    bhi = H;
  } else {
    blo = f.immr === 0 ? slo : (slo >>> f.immr) | (slo << (32 - f.immr));
    bhi = 0;
  }
  blo &= f.wlo;
  bhi &= f.whi;
  let lo: number, hi: number;
  if (f.opc === 2) {
    lo = blo & f.tlo;
    hi = bhi & f.thi;
  } else if (f.opc === 0) {
    // top = Replicate(src<S>)
    const bit = f.imms < 32 ? (slo >>> f.imms) & 1 : (shi >>> (f.imms - 32)) & 1;
    const top = bit ? -1 : 0;
    lo = (top & ~f.tlo) | (blo & f.tlo);
    hi = (top & ~f.thi) | (bhi & f.thi);
  } else {
    const dlo = r[2 * f.rdr]!;
    const dhi = f.sf ? r[2 * f.rdr + 1]! : 0;
    const mlo = (dlo & ~f.wlo) | blo;
    const mhi = (dhi & ~f.whi) | bhi;
    lo = (dlo & ~f.tlo) | (mlo & f.tlo);
    hi = (dhi & ~f.thi) | (mhi & f.thi);
  }
  r[2 * f.rd] = lo;
  r[2 * f.rd + 1] = f.sf ? hi : 0;
}

export function extr(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const lsb = f.imms;
  if (f.sf) {
    const mlo = r[2 * f.rm]!, mhi = r[2 * f.rm + 1]!;
    const nlo = r[2 * f.rn]!, nhi = r[2 * f.rn + 1]!;
    if (lsb === 0) {
      r[2 * f.rd] = mlo;
      r[2 * f.rd + 1] = mhi;
      return;
    }
    const a = lsr64(mlo, mhi, lsb);
    const ah = H;
    const b = lsl64(nlo, nhi, 64 - lsb);
    const bh = H;
    r[2 * f.rd] = a | b;
    r[2 * f.rd + 1] = ah | bh;
  } else {
    const m = r[2 * f.rm]!, n = r[2 * f.rn]!;
    r[2 * f.rd] = lsb === 0 ? m : (m >>> lsb) | (n << (32 - lsb));
    r[2 * f.rd + 1] = 0;
  }
}

// ---------------- register ----------------

/** Logical (shifted register): opc 0 AND, 1 ORR, 2 EOR, 3 ANDS; inv = N (BIC/ORN/EON/BICS). */
export function logReg(cpu: Cpu, f: F): void {
  const r = cpu.r;
  let blo: number, bhi: number;
  if (f.sf) {
    blo = f.amt === 0 ? r[2 * f.rm]! : shift64(r[2 * f.rm]!, r[2 * f.rm + 1]!, f.shift, f.amt);
    bhi = f.amt === 0 ? r[2 * f.rm + 1]! : H;
  } else {
    blo = shift32(r[2 * f.rm]!, f.shift, f.amt);
    bhi = 0;
  }
  if (f.inv) {
    blo = ~blo;
    bhi = ~bhi;
  }
  const alo = r[2 * f.rn]!;
  const ahi = r[2 * f.rn + 1]!;
  let lo: number, hi: number;
  switch (f.opc) {
    case 1:
      lo = alo | blo;
      hi = ahi | bhi;
      break;
    case 2:
      lo = alo ^ blo;
      hi = ahi ^ bhi;
      break;
    default:
      lo = alo & blo;
      hi = ahi & bhi;
  }
  if (!f.sf) hi = 0;
  if (f.opc === 3) {
    if (f.sf) setNZ64(r, lo, hi);
    else setNZ32(r, lo);
  }
  r[2 * f.rd] = lo;
  r[2 * f.rd + 1] = hi;
}

/** MOV Xd, Xm (ORR Xd, XZR, Xm): the most common register move. */
export function movReg64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  r[2 * f.rd] = r[2 * f.rm]!;
  r[2 * f.rd + 1] = r[2 * f.rm + 1]!;
}
export function movReg32(cpu: Cpu, f: F): void {
  const r = cpu.r;
  r[2 * f.rd] = r[2 * f.rm]!;
  r[2 * f.rd + 1] = 0;
}

/** ADD/SUB(S) shifted register. */
export function addSubShifted(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (f.sf) {
    let blo = f.amt === 0 ? r[2 * f.rm]! : shift64(r[2 * f.rm]!, r[2 * f.rm + 1]!, f.shift, f.amt);
    let bhi = f.amt === 0 ? r[2 * f.rm + 1]! : H;
    if (f.sub) {
      blo = ~blo;
      bhi = ~bhi;
    }
    addc64(r, f.rd, r[2 * f.rn]!, r[2 * f.rn + 1]!, blo, bhi, f.sub, f.s);
  } else {
    let b = shift32(r[2 * f.rm]!, f.shift, f.amt);
    if (f.sub) b = ~b;
    addc32(r, f.rd, r[2 * f.rn]!, b, f.sub, f.s);
  }
}

/** ADD/SUB(S) extended register: option = UXTB..SXTX, then LSL #imm3. */
export function addSubExtended(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const mlo = r[2 * f.rm]!;
  const mhi = r[2 * f.rm + 1]!;
  let lo: number, hi: number;
  switch (f.option) {
    case 0:
      lo = mlo & 0xff;
      hi = 0;
      break;
    case 1:
      lo = mlo & 0xffff;
      hi = 0;
      break;
    case 2:
      lo = mlo;
      hi = 0;
      break;
    case 3:
      lo = mlo;
      hi = mhi;
      break;
    case 4:
      lo = (mlo << 24) >> 24;
      hi = lo >> 31;
      break;
    case 5:
      lo = (mlo << 16) >> 16;
      hi = lo >> 31;
      break;
    case 6:
      lo = mlo;
      hi = mlo >> 31;
      break;
    default:
      lo = mlo;
      hi = mhi;
  }
  if (f.amt) {
    lo = lsl64(lo, hi, f.amt);
    hi = H;
  }
  if (f.sub) {
    lo = ~lo;
    hi = ~hi;
  }
  if (f.sf) addc64(r, f.rd, r[2 * f.rn]!, r[2 * f.rn + 1]!, lo, hi, f.sub, f.s);
  else addc32(r, f.rd, r[2 * f.rn]!, lo, f.sub, f.s);
}

export function adcSbc(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const c = r[CF]!;
  if (f.sf) {
    let blo = r[2 * f.rm]!;
    let bhi = r[2 * f.rm + 1]!;
    if (f.sub) {
      blo = ~blo;
      bhi = ~bhi;
    }
    addc64(r, f.rd, r[2 * f.rn]!, r[2 * f.rn + 1]!, blo, bhi, c, f.s);
  } else {
    let b = r[2 * f.rm]!;
    if (f.sub) b = ~b;
    addc32(r, f.rd, r[2 * f.rn]!, b, c, f.s);
  }
}

/** CCMP/CCMN (register or immediate): compare if cond holds, else NZCV = #nzcv. */
export function condCompare(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (condHolds(r, f.cond)) {
    let blo = f.isImm ? f.imm5 : r[2 * f.rm]!;
    let bhi = f.isImm ? 0 : r[2 * f.rm + 1]!;
    if (f.sub) {
      blo = ~blo;
      bhi = ~bhi;
    }
    if (f.sf) addc64(r, 33, r[2 * f.rn]!, r[2 * f.rn + 1]!, blo, bhi, f.sub, true);
    else addc32(r, 33, r[2 * f.rn]!, blo, f.sub, true);
  } else {
    r[NF] = (f.nzcv >> 3) & 1;
    r[ZF] = (f.nzcv >> 2) & 1;
    r[CF] = (f.nzcv >> 1) & 1;
    r[VF] = f.nzcv & 1;
  }
}

/** CSEL/CSINC/CSINV/CSNEG: op2 bit0 = increment, op bit = invert. */
export function condSelect(cpu: Cpu, f: F): void {
  const r = cpu.r;
  let lo: number, hi: number;
  if (condHolds(r, f.cond)) {
    lo = r[2 * f.rn]!;
    hi = r[2 * f.rn + 1]!;
  } else {
    lo = r[2 * f.rm]!;
    hi = r[2 * f.rm + 1]!;
    if (f.inv) {
      lo = ~lo;
      hi = ~hi;
    }
    if (f.inc) {
      const l = (lo >>> 0) + 1;
      lo = l | 0;
      if (l > 0xffffffff) hi = (hi + 1) | 0;
    }
  }
  r[2 * f.rd] = lo;
  r[2 * f.rd + 1] = f.sf ? hi : 0;
}

function rbit32(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return (v >>> 16) | (v << 16);
}
function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}
function rev16(v: number): number {
  return ((v & 0x00ff00ff) << 8) | ((v >>> 8) & 0x00ff00ff);
}
/** Data-processing (1 source): op 0 RBIT, 1 REV16, 2 REV32/REV(w), 3 REV (x), 4 CLZ, 5 CLS. */
export function dp1(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const lo = r[2 * f.rn]!;
  const hi = f.sf ? r[2 * f.rn + 1]! : 0;
  let rl = 0, rh = 0;
  switch (f.op) {
    case 0:
      if (f.sf) {
        rl = rbit32(hi);
        rh = rbit32(lo);
      } else rl = rbit32(lo);
      break;
    case 1:
      rl = rev16(lo);
      rh = rev16(hi);
      break;
    case 2:
      rl = bswap32(lo);
      rh = bswap32(hi);
      break;
    case 3:
      rl = bswap32(hi);
      rh = bswap32(lo);
      break;
    case 4:
      rl = f.sf ? (hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo)) : Math.clz32(lo);
      break;
    case 5: {
      if (f.sf) {
        // CLS: leading bits equal to the sign bit, not counting it.
        const s = hi >> 31;
        const xh = hi ^ s, xl = lo ^ s;
        rl = (xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl)) - 1;
      } else {
        rl = Math.clz32(lo ^ (lo >> 31)) - 1;
      }
      break;
    }
  }
  r[2 * f.rd] = rl;
  r[2 * f.rd + 1] = f.sf ? rh : 0;
}

/** UDIV/SDIV: division by zero gives 0; INT_MIN / -1 gives INT_MIN (no trap, ARM ARM C6.2). */
export function div(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (!f.sf) {
    const a = r[2 * f.rn]!, b = r[2 * f.rm]!;
    let q: number;
    if (b === 0) q = 0;
    else if (f.signed) q = a === -2147483648 && b === -1 ? a : Math.trunc(a / b);
    else q = Math.trunc((a >>> 0) / (b >>> 0));
    r[2 * f.rd] = q | 0;
    r[2 * f.rd + 1] = 0;
    return;
  }
  const alo = r[2 * f.rn]!, ahi = r[2 * f.rn + 1]!, blo = r[2 * f.rm]!, bhi = r[2 * f.rm + 1]!;
  if (blo === 0 && bhi === 0) {
    r[2 * f.rd] = 0;
    r[2 * f.rd + 1] = 0;
    return;
  }
  let a = toBig(alo, ahi);
  let b = toBig(blo, bhi);
  if (f.signed) {
    a = BigInt.asIntN(64, a);
    b = BigInt.asIntN(64, b);
  }
  fromBig(r, f.rd, BigInt.asUintN(64, a / b));
}

/** LSLV/LSRV/ASRV/RORV: shift amount = Rm mod datasize. */
export function shiftVar(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (f.sf) {
    const n = r[2 * f.rm]! & 63;
    const lo = f.shift === 0 ? lsl64(r[2 * f.rn]!, r[2 * f.rn + 1]!, n) : f.shift === 1 ? lsr64(r[2 * f.rn]!, r[2 * f.rn + 1]!, n) : f.shift === 2 ? asr64(r[2 * f.rn]!, r[2 * f.rn + 1]!, n) : ror64(r[2 * f.rn]!, r[2 * f.rn + 1]!, n);
    r[2 * f.rd] = lo;
    r[2 * f.rd + 1] = H;
  } else {
    r[2 * f.rd] = shift32(r[2 * f.rn]!, f.shift, r[2 * f.rm]! & 31);
    r[2 * f.rd + 1] = 0;
  }
}

const CRC_TABLES = new Map<number, Int32Array>();
function crcTable(poly: number): Int32Array {
  let t = CRC_TABLES.get(poly);
  if (!t) {
    t = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
      t[i] = c;
    }
    CRC_TABLES.set(poly, t);
  }
  return t;
}
const CRC32 = crcTable(0xedb88320);
const CRC32C = crcTable(0x82f63b78);

/** CRC32{B,H,W,X} and CRC32C*: bytes of Rm, least significant first, into Wn's running CRC. */
export function crc(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const t = f.c ? CRC32C : CRC32;
  let acc = r[2 * f.rn]!;
  const bytes = 1 << f.sz;
  const lo = r[2 * f.rm]!, hi = r[2 * f.rm + 1]!;
  for (let i = 0; i < bytes; i++) {
    const b = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
    acc = t[(acc ^ b) & 0xff]! ^ (acc >>> 8);
  }
  r[2 * f.rd] = acc;
  r[2 * f.rd + 1] = 0;
}

/** MADD/MSUB (sf selects 32/64). */
export function madd(cpu: Cpu, f: F): void {
  const r = cpu.r;
  if (f.sf) {
    let plo = mul64(r[2 * f.rn]!, r[2 * f.rn + 1]!, r[2 * f.rm]!, r[2 * f.rm + 1]!);
    let phi = H;
    if (f.sub) {
      plo = ~plo;
      phi = ~phi;
    }
    addc64(r, f.rd, r[2 * f.ra]!, r[2 * f.ra + 1]!, plo, phi, f.sub, false);
  } else {
    const p = Math.imul(r[2 * f.rn]!, r[2 * f.rm]!);
    r[2 * f.rd] = f.sub ? (r[2 * f.ra]! - p) | 0 : (r[2 * f.ra]! + p) | 0;
    r[2 * f.rd + 1] = 0;
  }
}

/** SMADDL/SMSUBL/UMADDL/UMSUBL: 32x32→64 product plus/minus Xa. */
export function maddl(cpu: Cpu, f: F): void {
  const r = cpu.r;
  const a = r[2 * f.rn]!, b = r[2 * f.rm]!;
  let plo = Math.imul(a, b);
  let phi = mulhiU32(a, b);
  if (f.signed) phi = (phi - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
  if (f.sub) {
    plo = ~plo;
    phi = ~phi;
  }
  addc64(r, f.rd, r[2 * f.ra]!, r[2 * f.ra + 1]!, plo, phi, f.sub, false);
}

export function mulh(cpu: Cpu, f: F): void {
  const r = cpu.r;
  let a = toBig(r[2 * f.rn]!, r[2 * f.rn + 1]!);
  let b = toBig(r[2 * f.rm]!, r[2 * f.rm + 1]!);
  if (f.signed) {
    a = BigInt.asIntN(64, a);
    b = BigInt.asIntN(64, b);
  }
  fromBig(r, f.rd, BigInt.asUintN(64, (a * b) >> 64n));
}

export { addrOf, SP };

// Shift-by-immediate aliases of UBFM/SBFM (LSL, LSR, ASR): the commonest bitfield forms.
export function lslImm64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  r[2 * f.rd] = lsl64(r[2 * f.rn]!, r[2 * f.rn + 1]!, f.sh);
  r[2 * f.rd + 1] = H;
}
export function lsrImm64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  r[2 * f.rd] = lsr64(r[2 * f.rn]!, r[2 * f.rn + 1]!, f.sh);
  r[2 * f.rd + 1] = H;
}
export function asrImm64(cpu: Cpu, f: F): void {
  const r = cpu.r;
  r[2 * f.rd] = asr64(r[2 * f.rn]!, r[2 * f.rn + 1]!, f.sh);
  r[2 * f.rd + 1] = H;
}
export function lslImm32(cpu: Cpu, f: F): void {
  cpu.r[2 * f.rd] = cpu.r[2 * f.rn]! << f.sh;
  cpu.r[2 * f.rd + 1] = 0;
}
export function lsrImm32(cpu: Cpu, f: F): void {
  cpu.r[2 * f.rd] = cpu.r[2 * f.rn]! >>> f.sh;
  cpu.r[2 * f.rd + 1] = 0;
}
export function asrImm32(cpu: Cpu, f: F): void {
  cpu.r[2 * f.rd] = cpu.r[2 * f.rn]! >> f.sh;
  cpu.r[2 * f.rd + 1] = 0;
}
