// The wasm interpreter's slots of the commonest encodings, packed from the word itself: what
// pack() (winterp-pack.ts) makes of the decoder's fields, without the fields.
//
// Each distinct word the wasm interpreter meets is decoded and packed once in JavaScript
// (runtime.ts decodeSlot): ~56 K words in a kit boot, ~1.3 us each the first time, as every word
// goes through its encoding's extractor and prep (a Fields object, then its slot), in code that
// is cold -- hundreds of small functions, each met a few times. The ~45 encodings below make 97 %
// of those words (BL alone 14 %: each call site's word is new), so those are packed here, by one
// small function per encoding that reads the word's bits straight into the slot. Which encoding
// a word is stays the decoder's answer (Decoder.match: the tables are the one description of the
// ISA); a packer returns -1 for a word its encoding's prep rejects (UNDEFINED), or that it leaves
// to pack() (the SIMD&FP forms of a load or store), and the decoder takes it.
// test/arm64/winterp-wordpack.test.ts checks every packer against pack() byte for byte.
import { allTables } from '../decode/index.ts';
import { bitMasks } from '../decode/int-imm.ts';
import { pairKind } from '../decode/ls-pair.ts';
import { ACCESS } from '../decode/ls-single.ts';
import type { Exec, OpDef } from '../decode/pattern.ts';
import * as dp from '../exec/int-dp.ts';
import * as sys from '../exec/int-sys.ts';
import * as ls from '../exec/ls-single.ts';
import * as lp from '../exec/ls-pair.ts';
import { SINK, ZR } from '../regs.ts';
import { PAIR, SINGLE } from './emit-mem.ts';
import { LDST_KINDS, M_OFF, M_POST, M_PRE, M_REG, M_UNPRIV, MODES, OP_ADDI32, OP_ADDI64, OP_ADDSI, OP_ADDSUBR, OP_ADDSUBR_LSL, OP_ADDSUBX, OP_ADRP, OP_B, OP_BCOND, OP_BITFIELD, OP_BL, OP_CBZ32, OP_CBZ64, OP_CCMP, OP_CSEL, OP_LDST, OP_LDSTP, OP_LOGI, OP_LOGR, OP_LOGR_LSL, OP_MADD, OP_MOVI, OP_MOVK, OP_MOVR32, OP_MOVR64, OP_SHIFTI, OP_SHIFTV, OP_TBZ, PAIR_KINDS, PAIR_MODES } from './winterp-ops.ts';

/** Fill the 16-byte slot at `at` from `w`; returns its operation, or -1: the decoder's to do. */
export type WordPacker = (w: number, bytes: Uint8Array, view: DataView, at: number) => number;

/** The slot's layout (winterp-pack.ts): op a b c | imm | imm2 | p0 p1 p2 p3. */
function slot(bytes: Uint8Array, view: DataView, at: number, op: number, a: number, b: number, c: number, imm: number, imm2: number, p0: number, p1: number, p2: number, p3: number): number {
  bytes[at] = op;
  bytes[at + 1] = a;
  bytes[at + 2] = b;
  bytes[at + 3] = c;
  view.setInt32(at + 4, imm, true);
  view.setInt32(at + 8, imm2, true);
  bytes[at + 12] = p0;
  bytes[at + 13] = p1;
  bytes[at + 14] = p2;
  bytes[at + 15] = p3;
  return op;
}

// Register fields as the preps map them (regs.ts): 31 read as XZR, written to the sink; where SP
// is meant, 31 is SP's slot already.
const rd = (w: number): number => w & 31;
const rn = (w: number): number => (w >>> 5) & 31;
const rm = (w: number): number => (w >>> 16) & 31;
const rz = (n: number): number => (n === 31 ? ZR : n);
const wz = (n: number): number => (n === 31 ? SINK : n);
/** Bits [lsb + len - 1 : lsb], sign-extended. */
const sbits = (w: number, lsb: number, len: number): number => (w << (32 - lsb - len)) >> (32 - len);

/** A branch: imm the byte offset. */
const branch = (op: number, lsb: number, len: number): WordPacker => (w, bytes, view, at) => slot(bytes, view, at, op, 0, 0, 0, sbits(w, lsb, len) * 4, 0, 0, 0, 0, 0);

/** CBZ/CBNZ: Rt, the offset, p0 = NZ (which picks the operation). */
const cbz = (op: number): WordPacker => (w, bytes, view, at) => {
  const nz = (w >>> 24) & 1;
  return slot(bytes, view, at, op + nz, rz(rd(w)), 0, 0, sbits(w, 5, 19) * 4, 0, nz, 0, 0, 0);
};

/** ADD/SUB (immediate), no flags: Rd and Rn may be SP; SUB adds the negated immediate. */
const addImm = (op: number): WordPacker => (w, bytes, view, at) => {
  const v = ((w >>> 10) & 0xfff) << (((w >>> 22) & 1) * 12);
  return slot(bytes, view, at, op, rd(w), rn(w), 0, (w >>> 30) & 1 ? -v : v, 0, 0, 0, 0, 0);
};

/** ADDS/SUBS (immediate): Rd XZR-mapped, Rn may be SP; the operation by width and sub. */
const addsImm = (sf: number): WordPacker => (w, bytes, view, at) => {
  const sub = (w >>> 30) & 1;
  const uimm = ((w >>> 10) & 0xfff) << (((w >>> 22) & 1) * 12);
  return slot(bytes, view, at, OP_ADDSI + sf + (sub << 1), wz(rd(w)), rn(w), 0, uimm, 0, sf, sub, 0, 0);
};

/** MOVZ/MOVN: the 64-bit value (inverted for MOVN) in imm (low word) and imm2 (high word). */
const moveWide = (invert: boolean): WordPacker => (w, bytes, view, at) => {
  const sf = w >>> 31;
  const hw = (w >>> 21) & 3;
  if (sf === 0 && hw > 1) return -1;
  const part = hw & 1 ? ((w >>> 5) & 0xffff) << 16 : (w >>> 5) & 0xffff;
  let lo = hw < 2 ? part : 0;
  let hi = hw < 2 ? 0 : part;
  if (invert) {
    lo = ~lo;
    hi = ~hi;
  }
  return slot(bytes, view, at, OP_MOVI, wz(rd(w)), 0, 0, lo | 0, sf ? hi | 0 : 0, 0, 0, 0, 0);
};

// Single loads/stores of general registers by size:opc (the decode's ACCESS table, V = 0): the
// operation's kind index in LDST_KINDS, or -1 where the decoder decides (prefetch, UNDEFINED, a
// kind the wasm interpreter has no operation for).
const GP_KIND: number[] = Array.from({ length: 16 }, (_, i) => {
  const acc = ACCESS[i];
  const k = acc === null || acc === undefined ? undefined : SINGLE.get(acc);
  return k === undefined ? -1 : LDST_KINDS.indexOf(k);
});

/** A general register's load or store (V = 0): op from size:opc and mode; imm the offset. */
function ldstGp(w: number, bytes: Uint8Array, view: DataView, at: number, mode: number, imm: number, c: number, p2: number, p3: number): number {
  if ((w >>> 26) & 1) return -1; // SIMD&FP: the decoder's
  const so = ((w >>> 30) << 2) | ((w >>> 22) & 3);
  const i = GP_KIND[so]!;
  if (i < 0) return -1;
  const t = w & 31;
  return slot(bytes, view, at, OP_LDST + i * MODES + mode, (so & 3) !== 0 ? wz(t) : rz(t), rn(w), c, imm, 0, 0, mode, p2, p3);
}
/** Register offset: Rm extended by kind ik (0 X/LSL, 1 UXTW, 2 SXTW), shifted by the size when S is set. */
const ldstReg = (ik: number): WordPacker => (w, bytes, view, at) => ldstGp(w, bytes, view, at, M_REG, 0, rz(rm(w)), ik, (w >>> 12) & 1 ? w >>> 30 : 0);
const imm9 = (w: number): number => sbits(w, 12, 9);
/** Unsigned offset: imm12 scaled by the access size. */
const ldstUimm: WordPacker = (w, bytes, view, at) => ldstGp(w, bytes, view, at, M_OFF, ((w >>> 10) & 0xfff) << (w >>> 30), 0, 0, 0);

// Pairs of general registers by opc:L and the form (idx: 0 no-allocate, 1 post, 2 offset, 3
// pre, as decode/ls-pair.ts): the operation (-1: the decoder's) and the offset's scale.
const PAIR_OPS: { op: number; scale: number }[] = Array.from({ length: 32 }, (_, x) => {
  const k = pairKind(x >>> 3, 0, (x >>> 2) & 1, x & 3);
  const i = k === null ? -1 : PAIR_KINDS.indexOf(PAIR.get(k.acc)!);
  const mode = [M_OFF, M_POST, M_OFF, M_PRE][x & 3]!;
  return { op: i < 0 ? -1 : OP_LDSTP + i * PAIR_MODES + mode, scale: k === null ? 0 : k.scale };
});
const pairGp = (idx: number): WordPacker => {
  const mode = [M_OFF, M_POST, M_OFF, M_PRE][idx]!;
  return (w, bytes, view, at) => {
    if ((w >>> 26) & 1) return -1; // SIMD&FP: the decoder's
    const l = (w >>> 22) & 1;
    const po = PAIR_OPS[((w >>> 30) << 3) | (l << 2) | idx]!;
    if (po.op < 0) return -1;
    const reg = l ? wz : rz;
    return slot(bytes, view, at, po.op, reg(w & 31), rn(w), reg((w >>> 10) & 31), sbits(w, 15, 7) * 2 ** po.scale, 0, 0, mode, 0, 0);
  };
};

/** CCMP/CCMN: the result to the sink; Rm, or imm5 with imm2 set. */
const ccmp = (isImm: number): WordPacker => (w, bytes, view, at) =>
  slot(bytes, view, at, OP_CCMP, SINK, rz(rn(w)), isImm ? 0 : rz(rm(w)), isImm ? rm(w) : 0, isImm, w >>> 31, (w >>> 30) & 1, (w >>> 12) & 15, w & 15);

/** Packers by encoding name, with the handler the encoding must have for the packer to apply. */
const BY_NAME: [string, Exec, WordPacker][] = [
  ['BL', sys.bl as Exec, branch(OP_BL, 0, 26)],
  ['B', sys.b as Exec, branch(OP_B, 0, 26)],
  ['B_cond', sys.bcond as Exec, (w, bytes, view, at) => {
    const cond = w & 15;
    return slot(bytes, view, at, OP_BCOND + cond, 0, 0, 0, sbits(w, 5, 19) * 4, 0, cond, 0, 0, 0);
  }],
  ['CBZ64', sys.cbz64 as Exec, cbz(OP_CBZ64)],
  ['CBZ32', sys.cbz32 as Exec, cbz(OP_CBZ32)],
  ['TBZ', sys.tbz as Exec, (w, bytes, view, at) => {
    const nz = (w >>> 24) & 1;
    return slot(bytes, view, at, OP_TBZ + nz, rz(rd(w)), 0, 0, sbits(w, 5, 14) * 4, 0, nz, ((w >>> 31) << 5) | ((w >>> 19) & 31), 0, 0);
  }],
  // (The page number: ADRP's immediate / 4096.)
  ['ADRP', dp.adrp as Exec, (w, bytes, view, at) => slot(bytes, view, at, OP_ADRP, wz(rd(w)), 0, 0, sbits(w, 5, 19) * 4 + ((w >>> 29) & 3), 0, 0, 0, 0, 0)],
  ['ADDSUB_i64', dp.addImm64 as Exec, addImm(OP_ADDI64)],
  ['ADDSUB_i32', dp.addImm32 as Exec, addImm(OP_ADDI32)],
  ['ADDSUBS_i64', dp.addsImm64 as Exec, addsImm(1)],
  ['ADDSUBS_i32', dp.addsImm32 as Exec, addsImm(0)],
  ['ADDSUB_r', dp.addSubShifted as Exec, (w, bytes, view, at) => {
    const sf = w >>> 31;
    const shift = (w >>> 22) & 3;
    const amt = (w >>> 10) & 63;
    if (shift === 3 || (sf === 0 && amt > 31)) return -1;
    const sub = (w >>> 30) & 1;
    const s = (w >>> 29) & 1;
    const op = shift === 0 ? OP_ADDSUBR_LSL + (sf | (sub << 1) | (s << 2)) : OP_ADDSUBR;
    return slot(bytes, view, at, op, wz(rd(w)), rz(rn(w)), rz(rm(w)), amt, 0, sf, sub, s, shift);
  }],
  ['MOVZ', dp.movImm as Exec, moveWide(false)],
  ['MOVN', dp.movImm as Exec, moveWide(true)],
  ['MOVK', dp.movk as Exec, (w, bytes, view, at) => {
    const sf = w >>> 31;
    const hw = (w >>> 21) & 3;
    if (sf === 0 && hw > 1) return -1;
    return slot(bytes, view, at, OP_MOVK, wz(rd(w)), 0, 0, (w >>> 5) & 0xffff, 0, sf, hw, 0, 0);
  }],
  ['ADDSUB_x', dp.addSubExtended as Exec, (w, bytes, view, at) => {
    const amt = (w >>> 10) & 7;
    if (amt > 4) return -1;
    const s = (w >>> 29) & 1;
    const d = rd(w);
    return slot(bytes, view, at, OP_ADDSUBX, s ? wz(d) : d, rn(w), rz(rm(w)), amt, 0, w >>> 31, (w >>> 30) & 1, s, (w >>> 13) & 7);
  }],
  ['LOG_i', dp.logImm as Exec, (w, bytes, view, at) => {
    const sf = w >>> 31;
    const n = (w >>> 22) & 1;
    if (sf === 0 && n === 1) return -1;
    const m = bitMasks(n, (w >>> 10) & 63, (w >>> 16) & 63, true, sf);
    if (m === null) return -1;
    const opc = (w >>> 29) & 3;
    // AND/ORR/EOR may write SP; ANDS writes XZR.
    return slot(bytes, view, at, OP_LOGI + opc, opc === 3 ? wz(rd(w)) : rd(w), rz(rn(w)), 0, m.wlo, m.whi, sf, opc, 0, 0);
  }],
  ['BITFIELD', dp.bitfield as Exec, (w, bytes, view, at) => {
    const sf = w >>> 31;
    const opc = (w >>> 29) & 3;
    const immr = (w >>> 16) & 63;
    const imms = (w >>> 10) & 63;
    if (opc === 3 || ((w >>> 22) & 1) !== sf || (sf === 0 && (immr > 31 || imms > 31))) return -1;
    if (bitMasks(sf, imms, immr, false, sf) === null) return -1;
    // LSL/LSR/ASR #n, the aliases with handlers of their own: kind (LSL, LSR, ASR; +3 for W) and amount.
    const top = sf ? 63 : 31;
    const kind = opc === 2 && imms === top ? 1 : opc === 2 && imms + 1 === immr ? 0 : opc === 0 && imms === top ? 2 : -1;
    if (kind >= 0) {
      const k = kind + (sf ? 0 : 3);
      return slot(bytes, view, at, OP_SHIFTI + k, wz(rd(w)), rz(rn(w)), 0, kind === 0 ? top - imms : immr, 0, k, 0, 0, 0);
    }
    return slot(bytes, view, at, OP_BITFIELD, wz(rd(w)), rz(rn(w)), rz(rd(w)), 0, 0, sf, opc, immr, imms);
  }],
  ['LOG_r', dp.logReg as Exec, (w, bytes, view, at) => {
    const sf = w >>> 31;
    const amt = (w >>> 10) & 63;
    if (sf === 0 && amt > 31) return -1;
    const opc = (w >>> 29) & 3;
    const shift = (w >>> 22) & 3;
    return slot(bytes, view, at, shift === 0 ? OP_LOGR_LSL + opc : OP_LOGR, wz(rd(w)), rz(rn(w)), rz(rm(w)), amt, 0, sf, opc, (w >>> 21) & 1, shift);
  }],
  ['CSEL', dp.condSelect as Exec, (w, bytes, view, at) =>
    slot(bytes, view, at, OP_CSEL, wz(rd(w)), rz(rn(w)), rz(rm(w)), 0, 0, w >>> 31, (w >>> 30) & 1, (w >>> 10) & 1, (w >>> 12) & 15)],
  ['SHIFTV', dp.shiftVar as Exec, (w, bytes, view, at) => slot(bytes, view, at, OP_SHIFTV, wz(rd(w)), rz(rn(w)), rz(rm(w)), 0, 0, w >>> 31, 0, 0, (w >>> 10) & 3)],
  ['MOV_r32', dp.movReg32 as Exec, (w, bytes, view, at) => slot(bytes, view, at, OP_MOVR32, wz(rd(w)), 0, rz(rm(w)), 0, 0, 0, 0, 0, 0)],
  ['MOV_r64', dp.movReg64 as Exec, (w, bytes, view, at) => slot(bytes, view, at, OP_MOVR64, wz(rd(w)), 0, rz(rm(w)), 0, 0, 0, 0, 0, 0)],
  ['LDR_x_uimm', ls.ldrXImm as Exec, ldstUimm],
  ['LDR_w_uimm', ls.ldrWImm as Exec, ldstUimm],
  ['LDRB_uimm', ls.ldrBImm as Exec, ldstUimm],
  ['STR_x_uimm', ls.strXImm as Exec, ldstUimm],
  ['STR_w_uimm', ls.strWImm as Exec, ldstUimm],
  ['STRB_uimm', ls.strBImm as Exec, ldstUimm],
  ['LDST_uimm', ls.ldstImm as Exec, ldstUimm],
  ['LDST_unscaled', ls.ldstImm as Exec, (w, bytes, view, at) => ldstGp(w, bytes, view, at, M_OFF, imm9(w), 0, 0, 0)],
  ['LDST_unpriv', ls.ldstUnpriv as Exec, (w, bytes, view, at) => ldstGp(w, bytes, view, at, M_UNPRIV, imm9(w), 0, 0, 0)],
  ['LDST_pre', ls.ldstPre as Exec, (w, bytes, view, at) => ldstGp(w, bytes, view, at, M_PRE, imm9(w), 0, 0, 0)],
  ['LDST_post', ls.ldstPost as Exec, (w, bytes, view, at) => ldstGp(w, bytes, view, at, M_POST, imm9(w), 0, 0, 0)],
  ['LDST_reg_x', ls.ldstRegX as Exec, ldstReg(0)],
  ['LDST_reg_uxtw', ls.ldstRegUxtw as Exec, ldstReg(1)],
  ['LDST_reg_sxtw', ls.ldstRegSxtw as Exec, ldstReg(2)],
  ['LDSTNP', lp.ldstPairOff as Exec, pairGp(0)],
  ['LDSTP_post', lp.ldstPairPost as Exec, pairGp(1)],
  ['LDSTP_off', lp.ldstPairOff as Exec, pairGp(2)],
  ['LDSTP_pre', lp.ldstPairPre as Exec, pairGp(3)],
  ['MADD', dp.madd as Exec, (w, bytes, view, at) => slot(bytes, view, at, OP_MADD, wz(rd(w)), rz(rn(w)), rz(rm(w)), rz((w >>> 10) & 31), 0, w >>> 31, (w >>> 15) & 1, 0, 0)],
  ['CCMP_r', dp.condCompare as Exec, ccmp(0)],
  ['CCMP_i', dp.condCompare as Exec, ccmp(1)],
  ['LDP_x_off', lp.ldpXOff as Exec, pairGp(2)],
  ['STP_x_off', lp.stpXOff as Exec, pairGp(2)],
];

/**
 * The word packers by encoding (the OpDef Decoder.match answers: every decoder shares the tables'
 * OpDefs). An encoding of an optional feature gets none: the decoder knows whether a core has it.
 */
export const WORD_PACKERS: ReadonlyMap<OpDef, WordPacker> = (() => {
  const all = allTables().flat();
  const out = new Map<OpDef, WordPacker>();
  for (const [name, exec, packer] of BY_NAME) {
    const def = all.find((d) => d.name === name);
    if (def === undefined || def.exec !== exec) throw new Error(`winterp-wordpack: no encoding ${name} with the handler its packer is for`);
    if (def.feature === undefined) out.set(def, packer);
  }
  return out;
})();
