// Emitters for integer data processing (ARM ARM C4.1.86 immediate, C4.1.88 register): the same
// operations as exec/int-dp.ts, on native i64 instead of 32-bit halves. Each is keyed by the
// interpreter handler the decode table chose for the word, and reads the same prepared fields,
// so the tables stay the one description of the ISA. An emitter returning false leaves the
// instruction to the interpreter's handler (called from the generated code).
import type { Fields } from '../decode/pattern.ts';
import * as x from '../exec/int-dp.ts';
import { Op } from './wasm.ts';
import { type Emit, L_A, L_B, L_C, L_R, L_T } from './emitter.ts';

export type Emitter = (e: Emit, f: Fields) => boolean;

const SINK = 33;

/** Push (hi << 32) | lo as an i64 constant. */
function const64(e: Emit, lo: number, hi: number): void {
  e.i64((BigInt(hi | 0) << 32n) | BigInt(lo >>> 0));
}

/** Push Rm shifted by type (LSL, LSR, ASR, ROR) and amount, 64-bit. */
function shifted64(e: Emit, rm: number, type: number, amt: number): void {
  e.x(rm);
  if (amt === 0) return;
  e.i64(amt);
  e.op([Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s, Op.i64_rotr][type]!);
}
/** Push W<rm> shifted, as i32. */
function shifted32(e: Emit, rm: number, type: number, amt: number): void {
  e.w(rm);
  if (amt === 0) return;
  e.i32(amt);
  e.op([Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s, Op.i32_rotr][type]!);
}

/**
 * AddWithCarry (ARM ARM J1 shared/functions/integer/AddWithCarry): Rd = a + b + cin where the
 * pushers leave a and b (b already inverted for a subtraction) as i64; `cin` 0, 1 or 'c' (PSTATE.C).
 * 32-bit forms pass zero-extended operands and compute in i64 so the carry is bit 32.
 */
function addWithCarry(e: Emit, sf: boolean, a: () => void, b: () => void, cin: 0 | 1 | 'c', flags: boolean, rd: number): void {
  if (cin === 'c') {
    e.flag('c');
    e.set(L_T);
  }
  a();
  if (!sf) zext(e);
  e.set(L_A);
  b();
  if (!sf) zext(e);
  e.set(L_B);
  e.get(L_A);
  e.get(L_B);
  e.op(Op.i64_add);
  if (cin === 1) {
    e.i64(1);
    e.op(Op.i64_add);
  } else if (cin === 'c') {
    e.get(L_T);
    e.op(Op.i64_extend_i32_u);
    e.op(Op.i64_add);
  }
  e.set(L_R);
  if (flags) {
    const top = sf ? 63 : 31;
    e.setFlag('n', () => {
      e.get(L_R);
      e.i64(top);
      e.op(Op.i64_shr_u);
      e.op(Op.i32_wrap_i64);
      e.i32(1);
      e.op(Op.i32_and);
    });
    e.setFlag('z', () => {
      e.get(L_R);
      if (!sf) zext(e);
      e.op(Op.i64_eqz);
    });
    e.setFlag('c', () => {
      if (!sf) {
        e.get(L_R);
        e.i64(32);
        e.op(Op.i64_shr_u);
        e.op(Op.i32_wrap_i64);
      } else if (cin === 0) {
        e.get(L_R);
        e.get(L_A);
        e.op(Op.i64_lt_u);
      } else if (cin === 1) {
        e.get(L_R);
        e.get(L_A);
        e.op(Op.i64_le_u);
      } else {
        // carry out of a + b + c: R < A, or R == A with a carry in.
        e.get(L_R);
        e.get(L_A);
        e.op(Op.i64_lt_u);
        e.get(L_R);
        e.get(L_A);
        e.op(Op.i64_eq);
        e.get(L_T);
        e.op(Op.i32_and);
        e.op(Op.i32_or);
      }
    });
    e.setFlag('v', () => {
      e.get(L_A);
      e.get(L_R);
      e.op(Op.i64_xor);
      e.get(L_B);
      e.get(L_R);
      e.op(Op.i64_xor);
      e.op(Op.i64_and);
      e.i64(top);
      e.op(Op.i64_shr_u);
      e.op(Op.i32_wrap_i64);
      e.i32(1);
      e.op(Op.i32_and);
    });
  }
  e.setX(rd, () => {
    e.get(L_R);
    if (!sf) zext(e);
  });
}

function zext(e: Emit): void {
  e.i64(0xffffffff);
  e.op(Op.i64_and);
}
function not64(e: Emit): void {
  e.i64(-1);
  e.op(Op.i64_xor);
}

/** N and Z from the result in L_R (64-bit, or its low word), C = V = 0: the logical ops' flags. */
function setNZ(e: Emit, sf: boolean): void {
  e.setFlag('n', () => {
    e.get(L_R);
    e.i64(sf ? 63 : 31);
    e.op(Op.i64_shr_u);
    e.op(Op.i32_wrap_i64);
    e.i32(1);
    e.op(Op.i32_and);
  });
  e.setFlag('z', () => {
    e.get(L_R);
    if (!sf) zext(e);
    e.op(Op.i64_eqz);
  });
  e.setFlag('c', () => e.i32(0));
  e.setFlag('v', () => e.i32(0));
}

const LOGIC = [Op.i64_and, Op.i64_or, Op.i64_xor, Op.i64_and];

export const aluEmitters = new Map<unknown, Emitter>([
  [x.adr, (e, f) => (e.setX(f.rd, () => e.pcPlus(e.idx * 4 + f.imm)), true)],
  // The page base is 4 KiB aligned: ADRP is the page base plus the immediate.
  [x.adrp, (e, f) => (e.setX(f.rd, () => e.pcPlus(f.imm)), true)],
  [x.addImm64, (e, f) => (e.setX(f.rd, () => { e.x(f.rn); e.i64(f.imm); e.op(Op.i64_add); }), true)],
  [x.addImm32, (e, f) => (e.setW(f.rd, () => { e.w(f.rn); e.i32(f.imm); e.op(Op.i32_add); }), true)],
  [x.addsImm64, (e, f) => (addWithCarry(e, true, () => e.x(f.rn), () => e.i64(f.sub ? ~f.uimm : f.uimm), f.sub ? 1 : 0, true, f.rd), true)],
  [x.addsImm32, (e, f) => (addWithCarry(e, false, () => e.x(f.rn), () => e.i64(f.sub ? ~f.uimm : f.uimm), f.sub ? 1 : 0, true, f.rd), true)],
  [x.logImm, (e, f) => {
    e.x(f.rn);
    if (!f.sf) zext(e);
    const64(e, f.mlo, f.sf ? f.mhi : 0);
    e.op(LOGIC[f.opc]!);
    e.set(L_R);
    if (f.opc === 3) setNZ(e, !!f.sf);
    e.setX(f.rd, () => e.get(L_R));
    return true;
  }],
  [x.movImm, (e, f) => (e.setX(f.rd, () => const64(e, f.lo, f.hi)), true)],
  [x.movk, (e, f) => {
    const sh = BigInt(16 * f.hw);
    e.setX(f.rd, () => {
      e.x(f.rd);
      e.i64(~(0xffffn << sh));
      e.op(Op.i64_and);
      e.i64(BigInt(f.imm16) << sh);
      e.op(Op.i64_or);
      if (!f.sf) zext(e);
    });
    return true;
  }],
  [x.lslImm64, (e, f) => (e.setX(f.rd, () => { e.x(f.rn); e.i64(f.sh); e.op(Op.i64_shl); }), true)],
  [x.lsrImm64, (e, f) => (e.setX(f.rd, () => { e.x(f.rn); e.i64(f.sh); e.op(Op.i64_shr_u); }), true)],
  [x.asrImm64, (e, f) => (e.setX(f.rd, () => { e.x(f.rn); e.i64(f.sh); e.op(Op.i64_shr_s); }), true)],
  [x.lslImm32, (e, f) => (e.setW(f.rd, () => { e.w(f.rn); e.i32(f.sh); e.op(Op.i32_shl); }), true)],
  [x.lsrImm32, (e, f) => (e.setW(f.rd, () => { e.w(f.rn); e.i32(f.sh); e.op(Op.i32_shr_u); }), true)],
  [x.asrImm32, (e, f) => (e.setW(f.rd, () => { e.w(f.rn); e.i32(f.sh); e.op(Op.i32_shr_s); }), true)],
  [x.bitfield, emitBitfield],
  [x.extr, (e, f) => {
    const lsb = f.imms;
    if (f.sf) {
      e.setX(f.rd, () => {
        e.x(f.rm);
        if (lsb === 0) return;
        e.i64(lsb);
        e.op(Op.i64_shr_u);
        e.x(f.rn);
        e.i64(64 - lsb);
        e.op(Op.i64_shl);
        e.op(Op.i64_or);
      });
    } else {
      e.setW(f.rd, () => {
        e.w(f.rm);
        if (lsb === 0) return;
        e.i32(lsb);
        e.op(Op.i32_shr_u);
        e.w(f.rn);
        e.i32(32 - lsb);
        e.op(Op.i32_shl);
        e.op(Op.i32_or);
      });
    }
    return true;
  }],
  [x.logReg, (e, f) => {
    e.x(f.rn);
    if (f.sf) shifted64(e, f.rm, f.shift, f.amt);
    else {
      shifted32(e, f.rm, f.shift, f.amt);
      e.op(Op.i64_extend_i32_u);
    }
    if (f.inv) not64(e);
    e.op(LOGIC[f.opc]!);
    if (!f.sf) zext(e);
    e.set(L_R);
    if (f.opc === 3) setNZ(e, !!f.sf);
    e.setX(f.rd, () => e.get(L_R));
    return true;
  }],
  [x.movReg64, (e, f) => (e.setX(f.rd, () => e.x(f.rm)), true)],
  [x.movReg32, (e, f) => (e.setW(f.rd, () => e.w(f.rm)), true)],
  [x.addSubShifted, (e, f) => {
    const sf = !!f.sf;
    addWithCarry(e, sf, () => e.x(f.rn), () => {
      if (sf) shifted64(e, f.rm, f.shift, f.amt);
      else {
        shifted32(e, f.rm, f.shift, f.amt);
        e.op(Op.i64_extend_i32_u);
      }
      if (f.sub) not64(e);
    }, f.sub ? 1 : 0, f.s, f.rd);
    return true;
  }],
  [x.addSubExtended, (e, f) => {
    addWithCarry(e, !!f.sf, () => e.x(f.rn), () => {
      e.x(f.rm);
      switch (f.option) {
        case 0: e.i64(0xff); e.op(Op.i64_and); break;
        case 1: e.i64(0xffff); e.op(Op.i64_and); break;
        case 2: zext(e); break;
        case 4: e.op(Op.i64_extend8_s); break;
        case 5: e.op(Op.i64_extend16_s); break;
        case 6: e.op(Op.i64_extend32_s); break;
        default: break;
      }
      if (f.amt) {
        e.i64(f.amt);
        e.op(Op.i64_shl);
      }
      if (f.sub) not64(e);
    }, f.sub ? 1 : 0, f.s, f.rd);
    return true;
  }],
  [x.adcSbc, (e, f) => {
    addWithCarry(e, !!f.sf, () => e.x(f.rn), () => {
      e.x(f.rm);
      if (f.sub) not64(e);
    }, 'c', f.s, f.rd);
    return true;
  }],
  [x.condCompare, (e, f) => {
    e.cond(f.cond);
    e.if();
    addWithCarry(e, !!f.sf, () => e.x(f.rn), () => {
      if (f.isImm) e.i64(f.imm5);
      else e.x(f.rm);
      if (f.sub) not64(e);
    }, f.sub ? 1 : 0, true, SINK);
    e.else();
    e.setFlag('n', () => e.i32((f.nzcv >> 3) & 1));
    e.setFlag('z', () => e.i32((f.nzcv >> 2) & 1));
    e.setFlag('c', () => e.i32((f.nzcv >> 1) & 1));
    e.setFlag('v', () => e.i32(f.nzcv & 1));
    e.end();
    return true;
  }],
  [x.condSelect, (e, f) => {
    e.setX(f.rd, () => {
      e.x(f.rn);
      e.x(f.rm);
      if (f.inv) not64(e);
      if (f.inc) {
        e.i64(1);
        e.op(Op.i64_add);
      }
      e.cond(f.cond);
      e.op(Op.select);
      if (!f.sf) zext(e);
    });
    return true;
  }],
  [x.div, emitDiv],
  [x.shiftVar, (e, f) => {
    if (f.sf) {
      e.setX(f.rd, () => {
        e.x(f.rn);
        e.x(f.rm);
        e.op([Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s, Op.i64_rotr][f.shift]!);
      });
    } else {
      e.setW(f.rd, () => {
        e.w(f.rn);
        e.w(f.rm);
        e.op([Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s, Op.i32_rotr][f.shift]!);
      });
    }
    return true;
  }],
  [x.madd, (e, f) => {
    const sf = !!f.sf;
    e.setX(f.rd, () => {
      e.x(f.ra);
      e.x(f.rn);
      e.x(f.rm);
      e.op(Op.i64_mul);
      e.op(f.sub ? Op.i64_sub : Op.i64_add);
      if (!sf) zext(e);
    });
    return true;
  }],
  [x.maddl, (e, f) => {
    const ext = f.signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u;
    e.setX(f.rd, () => {
      e.x(f.ra);
      e.w(f.rn);
      e.op(ext);
      e.w(f.rm);
      e.op(ext);
      e.op(Op.i64_mul);
      e.op(f.sub ? Op.i64_sub : Op.i64_add);
    });
    return true;
  }],
  [x.dp1, emitDp1],
]);

// Data-processing (1 source), exec/int-dp.ts dp1: op 0 RBIT, 1 REV16, 2 REV32 (REV of a W
// register), 3 REV (64-bit), 4 CLZ, 5 CLS. Byte and bit reversals are swaps of ever larger
// fields under masks (wasm has no byte-swap instruction): bits, pairs, nibbles, bytes,
// halfwords, words.
/** The masks of the swap steps, by field width in bits; 32-bit forms take their low words. */
const SWAP_MASKS = new Map<number, bigint>([[1, 0x5555555555555555n], [2, 0x3333333333333333n], [4, 0x0f0f0f0f0f0f0f0fn], [8, 0x00ff00ff00ff00ffn], [16, 0x0000ffff0000ffffn]]);

/** The swap steps of each op, from the finest: RBIT all, REV16 bytes, REV32 bytes + halfwords. */
function swapSteps(op: number): number[] {
  return op === 0 ? [1, 2, 4, 8, 16] : op === 1 ? [8] : [8, 16];
}

/** Local l = ((l >> k) & m) | ((l & m) << k) for each step k, on i64 (`wide`) or i32. */
function swapFields(e: Emit, wide: boolean, l: number, steps: number[]): void {
  const [shr, and, shl, or] = wide ? [Op.i64_shr_u, Op.i64_and, Op.i64_shl, Op.i64_or] : [Op.i32_shr_u, Op.i32_and, Op.i32_shl, Op.i32_or];
  const push = (v: number | bigint): void => (wide ? e.i64(v) : e.i32(Number(v)));
  for (const k of steps) {
    const m = wide ? SWAP_MASKS.get(k)! : SWAP_MASKS.get(k)! & 0xffffffffn;
    e.get(l);
    push(k);
    e.op(shr);
    push(m);
    e.op(and);
    e.get(l);
    push(m);
    e.op(and);
    push(k);
    e.op(shl);
    e.op(or);
    e.set(l);
  }
}

function emitDp1(e: Emit, f: Fields): boolean {
  if (f.op === 4) {
    if (f.sf) e.setX(f.rd, () => { e.x(f.rn); e.op(Op.i64_clz); });
    else e.setW(f.rd, () => { e.w(f.rn); e.op(Op.i32_clz); });
    return true;
  }
  if (f.op === 5) {
    // CLS: leading bits equal to the sign bit, not counting it = clz(x ^ (x >> signbits)) - 1.
    const wide = !!f.sf;
    const [l, shr, xor, clz, sub] = wide ? [L_A, Op.i64_shr_s, Op.i64_xor, Op.i64_clz, Op.i64_sub] : [L_T, Op.i32_shr_s, Op.i32_xor, Op.i32_clz, Op.i32_sub];
    const push = (v: number): void => (wide ? e.i64(v) : e.i32(v));
    const value = (): void => {
      if (wide) e.x(f.rn);
      else e.w(f.rn);
      e.set(l);
      e.get(l);
      e.get(l);
      push(wide ? 63 : 31);
      e.op(shr);
      e.op(xor);
      e.op(clz);
      push(1);
      e.op(sub);
    };
    if (wide) e.setX(f.rd, value);
    else e.setW(f.rd, value);
    return true;
  }
  if (f.op > 5) return false;
  if (f.sf) {
    // A 64-bit REV or RBIT swaps the words last.
    e.setX(f.rd, () => {
      e.x(f.rn);
      e.set(L_A);
      swapFields(e, true, L_A, swapSteps(f.op));
      e.get(L_A);
      if (f.op === 0 || f.op === 3) {
        e.i64(32);
        e.op(Op.i64_rotr);
      }
    });
  } else {
    // 32-bit: REV16 and REV on W (op 3 is not a 32-bit encoding); the halfword swap is a rotate.
    if (f.op === 3) return false;
    e.setW(f.rd, () => {
      e.w(f.rn);
      e.set(L_T);
      swapFields(e, false, L_T, swapSteps(f.op).filter((k) => k !== 16));
      e.get(L_T);
      if (f.op !== 1) {
        e.i32(16);
        e.op(Op.i32_rotr);
      }
    });
  }
  return true;
}

/** SBFM/BFM/UBFM with the ARM ARM's ROR + wmask/tmask formulation (exec/int-dp.ts bitfield). */
function emitBitfield(e: Emit, f: Fields): boolean {
  const sf = !!f.sf;
  if (f.opc !== 1) {
    // The aliases as shifts (ARM ARM C6.2: SBFX/UBFX/SXTB/SXTH/SXTW when imms >= immr,
    // SBFIZ/UBFIZ when imms < immr): a few ops where the rotate-and-mask form takes twenty.
    const r = f.immr;
    const sh = f.imms;
    const signed = f.opc === 0;
    e.setX(f.rd, () => {
      e.x(f.rn);
      if (signed) {
        // The field's top bit (imms) to bit 63, then back down, sign-extending.
        if (sh < 63) {
          e.i64(63 - sh);
          e.op(Op.i64_shl);
        }
        const down = sh >= r ? 63 - sh + r : 63 - sh;
        if (down) {
          e.i64(down);
          e.op(Op.i64_shr_s);
        }
        if (sh < r) {
          e.i64((sf ? 64 : 32) - r);
          e.op(Op.i64_shl);
        }
        if (!sf) zext(e);
      } else if (sh >= r) {
        if (r) {
          e.i64(r);
          e.op(Op.i64_shr_u);
        }
        if (sh - r + 1 < 64) {
          e.i64(2n ** BigInt(sh - r + 1) - 1n);
          e.op(Op.i64_and);
        }
      } else {
        e.i64(2n ** BigInt(sh + 1) - 1n);
        e.op(Op.i64_and);
        e.i64((sf ? 64 : 32) - r);
        e.op(Op.i64_shl);
      }
    });
    return true;
  }
  const wmask = (BigInt(f.whi | 0) << 32n) | BigInt(f.wlo >>> 0);
  const tmask = (BigInt(f.thi | 0) << 32n) | BigInt(f.tlo >>> 0);
  // bot = ROR(src, immr) AND wmask  -> L_B
  if (sf) {
    e.x(f.rn);
    e.i64(f.immr);
    e.op(Op.i64_rotr);
  } else {
    e.w(f.rn);
    e.i32(f.immr);
    e.op(Op.i32_rotr);
    e.op(Op.i64_extend_i32_u);
  }
  e.i64(wmask);
  e.op(Op.i64_and);
  e.set(L_B);
  if (f.opc === 2) {
    e.get(L_B);
    e.i64(tmask);
    e.op(Op.i64_and);
  } else if (f.opc === 0) {
    // top = Replicate(src<imms>)
    e.x(f.rn);
    e.i64(63 - f.imms);
    e.op(Op.i64_shl);
    e.i64(63);
    e.op(Op.i64_shr_s);
    e.i64(~tmask);
    e.op(Op.i64_and);
    e.get(L_B);
    e.i64(tmask);
    e.op(Op.i64_and);
    e.op(Op.i64_or);
  } else {
    e.x(f.rdr);
    e.set(L_C);
    // (dst AND NOT tmask) OR (((dst AND NOT wmask) OR bot) AND tmask)
    e.get(L_C);
    e.i64(~tmask);
    e.op(Op.i64_and);
    e.get(L_C);
    e.i64(~wmask);
    e.op(Op.i64_and);
    e.get(L_B);
    e.op(Op.i64_or);
    e.i64(tmask);
    e.op(Op.i64_and);
    e.op(Op.i64_or);
  }
  if (!sf) zext(e);
  e.set(L_R);
  e.setX(f.rd, () => e.get(L_R));
  return true;
}

/** UDIV/SDIV: x / 0 = 0, and INT_MIN / -1 = INT_MIN (wasm would trap on both). */
function emitDiv(e: Emit, f: Fields): boolean {
  if (f.sf) {
    e.x(f.rn);
    e.set(L_A);
    e.x(f.rm);
    e.set(L_B);
  } else {
    e.w(f.rn);
    e.op(f.signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
    e.set(L_A);
    e.w(f.rm);
    e.op(f.signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
    e.set(L_B);
  }
  // In 32-bit forms the operands are extended to 64 bits, where neither case can trap but
  // division by zero; INT32_MIN / -1 = 2^31, whose low word is INT32_MIN as required.
  e.i64(0);
  e.set(L_R);
  e.get(L_B);
  e.op(Op.i64_eqz);
  e.op(Op.i32_eqz);
  e.if();
  if (f.signed && f.sf) {
    e.get(L_B);
    e.i64(-1);
    e.op(Op.i64_eq);
    e.if();
    e.i64(0);
    e.get(L_A);
    e.op(Op.i64_sub);
    e.set(L_R);
    e.else();
    e.get(L_A);
    e.get(L_B);
    e.op(Op.i64_div_s);
    e.set(L_R);
    e.end();
  } else {
    e.get(L_A);
    e.get(L_B);
    e.op(f.signed ? Op.i64_div_s : Op.i64_div_u);
    e.set(L_R);
  }
  e.end();
  e.setX(f.rd, () => {
    e.get(L_R);
    if (!f.sf) zext(e);
  });
  return true;
}
