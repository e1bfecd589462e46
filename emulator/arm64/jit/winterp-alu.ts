// The wasm interpreter's integer data-processing operations (winterp.ts): the same arithmetic as
// exec/int-dp.ts on native i64, with the fields read from the instruction's slot at run time.
import { Op, T } from './wasm.ts';
import { Asm, condHolds, topBit, widthMask, zext, L_A, L_B, L_C, L_IMM, L_R, L_RA, L_RBN, L_RC, L_S, L_T } from './winterp-asm.ts';
import { bitfieldBody, dp1Body } from './winterp-bits.ts';
import { OP_ADCSBC, OP_ADDI32, OP_ADDI64, OP_ADDSI, OP_DIV, OP_ADDSUBR, OP_ADDSUBR_LSL, OP_ADDSUBX, OP_ADR, OP_ADRP, OP_BITFIELD, OP_CCMP, OP_CSEL, OP_DP1, OP_EXTR, OP_LOGI, OP_LOGR, OP_LOGR_LSL, OP_MADD, OP_MADDL, OP_MOVI, OP_MOVK, OP_MOVR32, OP_MOVR64, OP_SHIFTI, OP_SHIFTV } from './winterp-ops.ts';

/**
 * AddWithCarry (as emit-alu.ts): R = A + B + cin with A, B in locals (32-bit forms zero-extended
 * already); cin in local L_T (0 or 1); flags when `flags` (an i32 pushed by the pusher) is set;
 * 64-bit when local sf (pushed by `sf`) is set.
 */
function addWithCarry(a: Asm, sf: () => void, flags: (() => void) | null, rd: number | null): void {
  a.get(L_A);
  a.get(L_B);
  a.o(Op.i64_add);
  a.get(L_T);
  a.o(Op.i64_extend_i32_u, Op.i64_add);
  a.set(L_R);
  const setFlags = (): void => {
    // top bit index: 63 or 31
    setN(a, sf);
    a.setFlag('z', () => {
      a.get(L_R);
      widthMask(a, sf);
      a.o(Op.i64_and, Op.i64_eqz);
    });
    a.setFlag('c', () => {
      sf();
      a.if(T.i32);
      // carry out of 64 bits: R < A, or R == A with a carry in
      a.get(L_R);
      a.get(L_A);
      a.o(Op.i64_lt_u);
      a.get(L_R);
      a.get(L_A);
      a.o(Op.i64_eq);
      a.get(L_T);
      a.o(Op.i32_and, Op.i32_or);
      a.else();
      a.get(L_R);
      a.i64(32);
      a.o(Op.i64_shr_u, Op.i32_wrap_i64);
      a.end();
    });
    a.setFlag('v', () => {
      a.get(L_A);
      a.get(L_R);
      a.o(Op.i64_xor);
      a.get(L_B);
      a.get(L_R);
      a.o(Op.i64_xor, Op.i64_and);
      topBit(a, sf);
      a.o(Op.i64_shr_u, Op.i32_wrap_i64);
      a.i32(1);
      a.o(Op.i32_and);
    });
  };
  if (flags !== null) {
    flags();
    a.if();
    setFlags();
    a.end();
  }
  if (rd !== null) {
    a.setX(rd, () => {
      a.get(L_R);
      widthMask(a, sf);
      a.o(Op.i64_and);
    });
  }
}

/** PSTATE.N = the top bit of the width of the result in L_R. */
function setN(a: Asm, sf: () => void): void {
  a.setFlag('n', () => {
    a.get(L_R);
    topBit(a, sf);
    a.o(Op.i64_shr_u, Op.i32_wrap_i64);
    a.i32(1);
    a.o(Op.i32_and);
  });
}

/**
 * A + B or A - B (p1) with A, B in locals, into Ra: the common tail of the ADD/SUB forms. The
 * carry in is 1 for a subtraction, or what `carry` pushes (ADC/SBC: PSTATE.C).
 */
function addSubTail(a: Asm, sf: () => void, flags: () => void, carry: (() => void) | null = null, sub: () => void = () => a.p(1)): void {
  sub();
  a.tee(L_T);
  if (carry !== null) {
    carry();
    a.set(L_T);
  }
  a.if();
  a.get(L_B);
  a.i64(-1);
  a.o(Op.i64_xor);
  a.set(L_B);
  a.end();
  sf();
  a.i32(0);
  a.o(Op.i32_eq);
  a.if();
  a.get(L_A);
  zext(a);
  a.set(L_A);
  a.get(L_B);
  zext(a);
  a.set(L_B);
  a.end();
  addWithCarry(a, sf, flags, L_RA);
}

/** Push local B shifted by type (p3: LSL LSR ASR ROR) and the amount in L_IMM; 64 or 32-bit by sf (p0). */
function shiftB(a: Asm): void {
  a.p(0);
  a.if(T.i64);
  shiftBy(a, false);
  a.else();
  shiftBy(a, true);
  a.end();
}
function shiftBy(a: Asm, w32: boolean): void {
  a.cases(T.i64, () => a.p(3), [0, 1, 2, 3].map((type) => () => pushShift(a, w32, type)));
}
function pushShift(a: Asm, w32: boolean, type: number): void {
  if (w32) {
    a.get(L_B);
    a.o(Op.i32_wrap_i64);
    a.get(L_IMM);
    a.o(Op.i32_wrap_i64);
    a.o([Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s, Op.i32_rotr][type]!);
    a.o(Op.i64_extend_i32_u);
  } else {
    a.get(L_B);
    a.get(L_IMM);
    a.o([Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s, Op.i64_rotr][type]!);
  }
}

/** Ra + product, or Ra - product when p1 (MADD/MSUB, the long forms): both i64 on the stack. */
function accumulate(a: Asm): void {
  a.set(L_C);
  a.p(1);
  a.if(T.i64);
  a.i64(0);
  a.get(L_C);
  a.o(Op.i64_sub);
  a.else();
  a.get(L_C);
  a.end();
  a.o(Op.i64_add);
}

/** The i64 pushed, inverted when slot byte p`k` is set (a logical operation's N, CSINV's inv). */
function invertIf(a: Asm, k: number): void {
  a.p(k);
  a.if(T.i64);
  a.i64(-1);
  a.else();
  a.i64(0);
  a.end();
  a.o(Op.i64_xor);
}

/**
 * Rd = Rn op B (local B), op by opc: 0 AND, 1 ORR, 2 EOR, 3 ANDS (flags too); `opc` a constant,
 * or null: the slot's p1. 32-bit zero-extended by sf.
 */
function logicalTail(a: Asm, sf: () => void, opc: number | null): void {
  a.x(L_RBN);
  a.set(L_A);
  const ops = [Op.i64_and, Op.i64_or, Op.i64_xor, Op.i64_and];
  if (opc !== null) {
    a.get(L_A);
    a.get(L_B);
    a.o(ops[opc]!);
    a.set(L_R);
  } else {
    a.cases(
      T.void,
      () => a.p(1),
      ops.slice(0, 3).map((o) => () => {
        a.get(L_A);
        a.get(L_B);
        a.o(o);
        a.set(L_R);
      }),
      [0, 1, 2, 0],
    );
  }
  sf();
  a.i32(0);
  a.o(Op.i32_eq);
  a.if();
  a.get(L_R);
  zext(a);
  a.set(L_R);
  a.end();
  const flags = (): void => {
    setN(a, sf);
    a.setFlag('z', () => {
      a.get(L_R);
      a.o(Op.i64_eqz);
    });
    a.setFlag('c', () => a.i32(0));
    a.setFlag('v', () => a.i32(0));
  };
  if (opc === null) {
    a.p(1);
    a.i32(3);
    a.o(Op.i32_eq);
    a.if();
    flags();
    a.end();
  } else if (opc === 3) flags();
  a.setX(L_RA, () => a.get(L_R));
}

/** The body of ALU operation `op` (true), or false when it is not one. */
export function aluBody(a: Asm, op: number): boolean {
  const sf = (): void => a.p(0);
  if (op >= OP_ADDSI && op < OP_ADDSI + 4) {
    // ADDS/SUBS (immediate): width and subtraction are the operation's.
    const k = op - OP_ADDSI;
    a.x(L_RBN);
    a.set(L_A);
    a.get(L_IMM);
    a.set(L_B);
    addSubTail(a, () => a.i32(k & 1), () => a.i32(1), null, () => a.i32(k >> 1));
    return true;
  }
  if (op >= OP_SHIFTI && op < OP_SHIFTI + 6) {
    // LSL/LSR/ASR (immediate), 64-bit then 32-bit: the operation's.
    const i = op - OP_SHIFTI;
    a.setX(L_RA, () => {
      if (i < 3) {
        a.x(L_RBN);
        a.get(L_IMM);
        a.o([Op.i64_shl, Op.i64_shr_u, Op.i64_shr_s][i]!);
      } else {
        a.w(L_RBN);
        a.get(L_IMM);
        a.o(Op.i32_wrap_i64);
        a.o([Op.i32_shl, Op.i32_shr_u, Op.i32_shr_s][i - 3]!);
        a.o(Op.i64_extend_i32_u);
      }
    });
    return true;
  }
  if (op >= OP_LOGR_LSL && op < OP_LOGR_LSL + 4) {
    // Logical (shifted register) with LSL: B = Rm << amount, inverted for N (p2); opc the operation's.
    a.x(L_RC);
    a.get(L_IMM);
    a.o(Op.i64_shl);
    invertIf(a, 2);
    a.set(L_B);
    logicalTail(a, sf, op - OP_LOGR_LSL);
    return true;
  }
  if (op >= OP_LOGI && op < OP_LOGI + 4) {
    // Logical (immediate): B = the mask (imm, imm2); the operation (opc) is the operation's.
    a.get(L_S);
    a.mem(Op.i64_load, 4, 2);
    a.set(L_B);
    logicalTail(a, sf, op - OP_LOGI);
    return true;
  }
  if (op >= OP_ADDSUBR_LSL && op < OP_ADDSUBR_LSL + 8) {
    // ADD/SUB(S) (shifted register) with LSL: width, subtraction and flags are the operation's
    // (constants: no jump table of shift types, no tests of the slot's bytes).
    const k = op - OP_ADDSUBR_LSL;
    const w64 = (k & 1) !== 0;
    a.x(L_RBN);
    a.set(L_A);
    a.x(L_RC);
    a.get(L_IMM);
    a.o(Op.i64_shl);
    a.set(L_B);
    addSubTail(a, () => a.i32(w64 ? 1 : 0), () => a.i32(k >> 2), null, () => a.i32((k >> 1) & 1));
    return true;
  }
  switch (op) {
    case OP_ADDI64:
      a.setX(L_RA, () => {
        a.x(L_RBN);
        a.get(L_IMM);
        a.o(Op.i64_add);
      });
      return true;
    case OP_ADDI32:
      a.setX(L_RA, () => {
        a.w(L_RBN);
        a.get(L_IMM);
        a.o(Op.i32_wrap_i64, Op.i32_add, Op.i64_extend_i32_u);
      });
      return true;
    case OP_ADDSUBR:
      // A = Rn, B = shifted Rm, inverted for a subtraction (cin 1); 32-bit zero-extended.
      a.x(L_RBN);
      a.set(L_A);
      a.x(L_RC);
      a.set(L_B);
      shiftB(a);
      a.set(L_B);
      addSubTail(a, sf, () => a.p(2));
      return true;
    case OP_ADCSBC:
      // ADC/SBC(S): A = Rn, B = Rm (inverted for SBC), carry in PSTATE.C
      a.x(L_RBN);
      a.set(L_A);
      a.x(L_RC);
      a.set(L_B);
      addSubTail(a, sf, () => a.p(2), () => a.flag('c'));
      return true;
    case OP_DIV:
      // UDIV/SDIV (p1 signed): by zero gives 0; INT_MIN / -1 gives INT_MIN (negation wraps)
      a.setX(L_RA, () => {
        for (const w64 of [true, false]) {
          if (w64) {
            sf();
            a.if(T.i64);
          } else a.else();
          const ty = w64 ? T.i64 : T.i32;
          const reg = (l: number): void => (w64 ? a.x(l) : a.w(l));
          reg(L_RC);
          a.o(w64 ? Op.i64_eqz : Op.i32_eqz);
          a.if(ty);
          if (w64) a.i64(0);
          else a.i32(0);
          a.else();
          a.p(1);
          a.if(ty);
          reg(L_RC);
          if (w64) a.i64(-1);
          else a.i32(-1);
          a.o(w64 ? Op.i64_eq : Op.i32_eq);
          a.if(ty);
          if (w64) a.i64(0);
          else a.i32(0);
          reg(L_RBN);
          a.o(w64 ? Op.i64_sub : Op.i32_sub);
          a.else();
          reg(L_RBN);
          reg(L_RC);
          a.o(w64 ? Op.i64_div_s : Op.i32_div_s);
          a.end();
          a.else();
          reg(L_RBN);
          reg(L_RC);
          a.o(w64 ? Op.i64_div_u : Op.i32_div_u);
          a.end();
          a.end();
          if (!w64) a.o(Op.i64_extend_i32_u);
        }
        a.end();
      });
      return true;
    case OP_MOVR64:
      a.setX(L_RA, () => a.x(L_RC));
      return true;
    case OP_MOVR32:
      a.setX(L_RA, () => {
        a.w(L_RC);
        a.o(Op.i64_extend_i32_u);
      });
      return true;
    case OP_MOVI:
      a.setX(L_RA, () => {
        a.get(L_S);
        a.mem(Op.i64_load, 4, 2);
      });
      return true;
    case OP_MOVK:
      // X = X & ~(0xffff << 16hw) | imm16 << 16hw; the 32-bit form clears the top.
      a.get(L_S);
      a.mem(Op.i32_load8_u, 13);
      a.i32(4);
      a.o(Op.i32_shl, Op.i64_extend_i32_u);
      a.set(L_C);
      a.setX(L_RA, () => {
        a.x(L_RA);
        a.i64(0xffff);
        a.get(L_C);
        a.o(Op.i64_shl);
        a.i64(-1);
        a.o(Op.i64_xor, Op.i64_and);
        a.get(L_IMM);
        a.get(L_C);
        a.o(Op.i64_shl, Op.i64_or);
        widthMask(a, sf);
        a.o(Op.i64_and);
      });
      return true;
    case OP_LOGR:
      // B = Rm shifted and maybe inverted (p2 N)
      a.x(L_RC);
      a.set(L_B);
      shiftB(a);
      invertIf(a, 2);
      a.set(L_B);
      logicalTail(a, sf, null);
      return true;
    case OP_ADRP:
      a.setX(L_RA, () => {
        a.pc();
        a.i64(-4096);
        a.o(Op.i64_and);
        a.get(L_IMM);
        a.i64(12);
        a.o(Op.i64_shl, Op.i64_add);
      });
      return true;
    case OP_ADR:
      a.setX(L_RA, () => {
        a.pc();
        a.get(L_IMM);
        a.o(Op.i64_add);
      });
      return true;
    case OP_CSEL:
      a.setX(L_RA, () => {
        condHolds(a, () => a.p(3));
        a.if(T.i64);
        a.x(L_RBN);
        a.else();
        a.x(L_RC);
        invertIf(a, 1);
        a.p(2);
        a.o(Op.i64_extend_i32_u, Op.i64_add);
        a.end();
        widthMask(a, sf);
        a.o(Op.i64_and);
      });
      return true;
    case OP_CCMP:
      condHolds(a, () => a.p(2));
      a.if();
      a.x(L_RBN);
      a.set(L_A);
      a.get(L_S);
      a.mem(Op.i32_load, 8, 2);
      a.if(T.i64);
      a.get(L_IMM);
      a.else();
      a.x(L_RC);
      a.end();
      a.set(L_B);
      addSubTail(a, sf, () => a.i32(1));
      a.else();
      for (const [f, bit] of [['n', 3], ['z', 2], ['c', 1], ['v', 0]] as const) {
        a.setFlag(f, () => {
          a.p(3);
          a.i32(bit);
          a.o(Op.i32_shr_u);
          a.i32(1);
          a.o(Op.i32_and);
        });
      }
      a.end();
      return true;
    case OP_BITFIELD:
      bitfieldBody(a);
      return true;
    case OP_EXTR:
      // 64-bit: lsb 0 is Rm, else Rm >> lsb | Rn << (64 - lsb); 32-bit: the low word of Rn:Rm >> lsb.
      a.setX(L_RA, () => {
        a.p(0);
        a.if(T.i64);
        a.p(1);
        a.o(Op.i32_eqz);
        a.if(T.i64);
        a.x(L_RC);
        a.else();
        a.x(L_RC);
        a.p(1);
        a.o(Op.i64_extend_i32_u, Op.i64_shr_u);
        a.x(L_RBN);
        a.i64(64);
        a.p(1);
        a.o(Op.i64_extend_i32_u, Op.i64_sub, Op.i64_shl, Op.i64_or);
        a.end();
        a.else();
        a.x(L_RBN);
        a.i64(32);
        a.o(Op.i64_shl);
        a.w(L_RC);
        a.o(Op.i64_extend_i32_u, Op.i64_or);
        a.p(1);
        a.o(Op.i64_extend_i32_u, Op.i64_shr_u);
        zext(a);
        a.end();
      });
      return true;
    case OP_SHIFTV:
      // the amount is Rm modulo the width: wasm's shifts take it so
      a.x(L_RC);
      a.set(L_IMM);
      a.x(L_RBN);
      a.set(L_B);
      a.setX(L_RA, () => shiftB(a));
      return true;
    case OP_ADDSUBX:
      // B = Rm extended by option (p3: UXTB UXTH UXTW UXTX SXTB SXTH SXTW SXTX) << imm
      a.x(L_RC);
      a.i64(64);
      a.i64(8);
      a.p(3);
      a.i32(3);
      a.o(Op.i32_and, Op.i64_extend_i32_u, Op.i64_shl, Op.i64_sub);
      a.tee(L_C);
      a.o(Op.i64_shl);
      a.set(L_B);
      a.p(3);
      a.i32(4);
      a.o(Op.i32_and);
      a.if(T.i64);
      a.get(L_B);
      a.get(L_C);
      a.o(Op.i64_shr_s);
      a.else();
      a.get(L_B);
      a.get(L_C);
      a.o(Op.i64_shr_u);
      a.end();
      a.get(L_IMM);
      a.o(Op.i64_shl);
      a.set(L_B);
      a.x(L_RBN);
      a.set(L_A);
      addSubTail(a, sf, () => a.p(2));
      return true;
    case OP_MADD:
      // Ra +- Rn * Rm (Ra's slot in imm)
      a.setX(L_RA, () => {
        a.xImm();
        a.x(L_RBN);
        a.x(L_RC);
        a.o(Op.i64_mul);
        accumulate(a);
        widthMask(a, sf);
        a.o(Op.i64_and);
      });
      return true;
    case OP_MADDL:
      // Ra +- Wn * Wm, each word sign- (p0) or zero-extended (Ra's slot in imm)
      a.setX(L_RA, () => {
        a.xImm();
        for (const l of [L_RBN, L_RC]) {
          a.w(l);
          a.o(Op.i64_extend_i32_s);
          a.w(l);
          a.o(Op.i64_extend_i32_u);
          a.p(0);
          a.o(Op.select);
        }
        a.o(Op.i64_mul);
        accumulate(a);
      });
      return true;
    case OP_DP1:
      dp1Body(a);
      return true;
  }
  return false;
}
