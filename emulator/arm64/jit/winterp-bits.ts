// The wasm interpreter's bit manipulation (winterp.ts): SBFM/BFM/UBFM by their aliases'
// arithmetic, and RBIT/REV16/REV32/REV/CLZ/CLS by byte and bit swaps, on native i64.
import { Op, T } from './wasm.ts';
import { Asm, widthMask, L_A, L_B, L_C, L_IMM, L_R, L_RA, L_RBN, L_RC, L_T, L_TGT, L_U, L_VA } from './winterp-asm.ts';

/**
 * SBFM/BFM/UBFM (p1: 0, 1, 2) by their aliases' arithmetic, which is the ARM ARM's ROR and masks
 * for every valid immr (p2) and imms (p3) in a width W of 64 or 32 (sf): with imms >= immr the
 * field Rn<imms:immr> goes to bit 0 (SBFX, BFXIL, UBFX), else Rn<imms:0> goes to bit W - immr
 * (SBFIZ, BFI, UBFIZ). Computed in 64 bits for both widths, the 32-bit result's top half cleared.
 */
export function bitfieldBody(a: Asm): void {
  // L_A = Rn; L_B = 64 - W; L_C = 63 - imms, the shift that puts the field's top bit (imms < W)
  // at bit 63, dropping the bits above it.
  a.x(L_RBN);
  a.set(L_A);
  a.p(0);
  a.o(Op.i32_eqz);
  a.if(T.i64);
  a.i64(32);
  a.else();
  a.i64(0);
  a.end();
  a.set(L_B);
  a.i64(63);
  a.p(3);
  a.o(Op.i64_extend_i32_u, Op.i64_sub);
  a.set(L_C);
  // width of the field: imms >= immr ? imms - immr + 1 : imms + 1; its lsb in the result:
  // imms >= immr ? 0 : W - immr.
  a.p(3);
  a.p(2);
  a.o(Op.i32_ge_s);
  a.set(L_T);
  // R = the field at the top (Rn << c), brought down to bit 0 (signed for SBFM), unsigned width.
  // shift down by 64 - width
  a.get(L_A);
  a.get(L_C);
  a.o(Op.i64_shl);
  a.set(L_R);
  // L_VA = 64 - width
  a.i64(64);
  a.p(3);
  a.get(L_T);
  a.if(T.i32);
  a.p(2);
  a.else();
  a.i32(0);
  a.end();
  a.o(Op.i32_sub, Op.i32_const);
  a.s32(1);
  a.o(Op.i32_add, Op.i64_extend_i32_u, Op.i64_sub);
  a.set(L_VA);
  // L_TGT = the field's lsb in the result
  a.get(L_T);
  a.if(T.i64);
  a.i64(0);
  a.else();
  a.i64(64);
  a.get(L_B);
  a.o(Op.i64_sub);
  a.p(2);
  a.o(Op.i64_extend_i32_u, Op.i64_sub);
  a.end();
  a.set(L_TGT);
  // mask of the field in place: ((1 << width) - 1) << lsb, width < 64 or all ones
  a.i64(-1);
  a.get(L_VA);
  a.o(Op.i64_shr_u);
  a.get(L_TGT);
  a.o(Op.i64_shl);
  a.set(L_IMM);
  // the field, zero-extended and in place
  a.get(L_R);
  a.get(L_VA);
  a.o(Op.i64_shr_u);
  a.get(L_TGT);
  a.o(Op.i64_shl);
  a.set(L_A);
  a.setX(L_RA, () => {
    const done = a.block(T.i64);
    const bfm = a.block();
    const sbfm = a.block();
    const ubfm = a.block();
    a.p(1);
    a.brTable([sbfm, bfm, ubfm], ubfm);
    a.end();
    // UBFM: the field alone
    a.get(L_A);
    a.br(done);
    a.end();
    // SBFM: the field, with its top bit copied above it: (R >>s (64 - width)) << lsb
    a.get(L_R);
    a.get(L_VA);
    a.o(Op.i64_shr_s);
    a.get(L_TGT);
    a.o(Op.i64_shl);
    a.br(done);
    a.end();
    // BFM: the field into Rd (read from c: Rd or XZR)
    a.x(L_RC);
    a.get(L_IMM);
    a.i64(-1);
    a.o(Op.i64_xor, Op.i64_and);
    a.get(L_A);
    a.o(Op.i64_or);
    a.end();
    // 32-bit: the low word only
    widthMask(a, () => a.p(0));
    a.o(Op.i64_and);
  });
}

/** L_R = ((L_R >>> sh) & m) | ((L_R & m) << sh): one step of a byte or bit swap. */
function swapStep(a: Asm, sh: number, m: bigint): void {
  a.get(L_R);
  a.i64(sh);
  a.o(Op.i64_shr_u);
  a.i64(m);
  a.o(Op.i64_and);
  a.get(L_R);
  a.i64(m);
  a.o(Op.i64_and);
  a.i64(sh);
  a.o(Op.i64_shl, Op.i64_or);
  a.set(L_R);
}

/** L_R = L_R with its 8 bytes reversed. */
function bswap64(a: Asm): void {
  swapStep(a, 8, 0x00ff00ff00ff00ffn);
  swapStep(a, 16, 0x0000ffff0000ffffn);
  a.get(L_R);
  a.i64(32);
  a.o(Op.i64_rotr);
  a.set(L_R);
}

/**
 * RBIT, REV16, REV32 (64-bit) / REV (32-bit), REV, CLZ, CLS (p1: 0..5, as exec/int-dp.ts dp1) on
 * Rn in 64 bits (a 32-bit form's value zero-extended, its result taken from where the 64-bit
 * operation leaves it).
 */
export function dp1Body(a: Asm): void {
  // L_R = the operand; L_T = 32-bit form
  a.x(L_RBN);
  a.p(0);
  a.o(Op.i32_eqz);
  a.tee(L_T);
  a.if(T.i64);
  a.i64(0xffffffff);
  a.else();
  a.i64(-1);
  a.end();
  a.o(Op.i64_and);
  a.set(L_R);
  const done = a.block();
  const cases: number[] = [];
  for (let i = 5; i >= 0; i--) cases[i] = a.block();
  a.p(1);
  a.brTable(cases, cases[5]!);
  const w32Top = (): void => {
    // a 32-bit form reversed in 64 bits: its result is in the top half
    a.get(L_T);
    a.if();
    a.get(L_R);
    a.i64(32);
    a.o(Op.i64_shr_u);
    a.set(L_R);
    a.end();
  };
  // 0 RBIT
  a.end();
  swapStep(a, 1, 0x5555555555555555n);
  swapStep(a, 2, 0x3333333333333333n);
  swapStep(a, 4, 0x0f0f0f0f0f0f0f0fn);
  bswap64(a);
  w32Top();
  a.br(done);
  // 1 REV16
  a.end();
  swapStep(a, 8, 0x00ff00ff00ff00ffn);
  a.br(done);
  // 2 REV32 (64-bit), REV (32-bit): each word reversed
  a.end();
  bswap64(a);
  a.get(L_R);
  a.i64(32);
  a.o(Op.i64_rotr);
  a.set(L_R);
  a.br(done);
  // 3 REV (64-bit)
  a.end();
  bswap64(a);
  a.br(done);
  // 4 CLZ
  a.end();
  a.get(L_T);
  a.if(T.i64);
  a.get(L_R);
  a.o(Op.i32_wrap_i64, Op.i32_clz, Op.i64_extend_i32_u);
  a.else();
  a.get(L_R);
  a.o(Op.i64_clz);
  a.end();
  a.set(L_R);
  a.br(done);
  // 5 CLS: leading bits equal to the sign bit, not counting it
  a.end();
  a.get(L_T);
  a.if(T.i64);
  a.get(L_R);
  a.o(Op.i32_wrap_i64);
  a.tee(L_U);
  a.get(L_U);
  a.i32(31);
  a.o(Op.i32_shr_s, Op.i32_xor, Op.i32_clz, Op.i64_extend_i32_u);
  a.else();
  a.get(L_R);
  a.get(L_R);
  a.i64(63);
  a.o(Op.i64_shr_s, Op.i64_xor, Op.i64_clz);
  a.end();
  a.i64(1);
  a.o(Op.i64_sub);
  a.set(L_R);
  a.end();
  a.setX(L_RA, () => a.get(L_R));
}
