// Advanced SIMD three same (integer), two-register misc (integer), across lanes and their scalar
// forms (ARM ARM C4.1.6, tables "Advanced SIMD three same", "... two-register miscellaneous",
// "... scalar three same", "... scalar two-register miscellaneous", "... scalar pairwise").
// Each row fixes U and the whole opcode, so the floating-point rows of the same groups (opcode
// 11xxx in three same, 01100-01111/1x11x... in two-register misc) stay with the FP tables.

import { op, type Exec, type OpDef, type Prep } from './pattern.ts';
import * as E from '../exec/simd-ops.ts';
import type { ElemOp } from '../exec/simd-ops.ts';
import * as H from '../exec/simd-elem.ts';
import { fastPair, fastSame, K } from '../exec/simd-fast.ts';
import * as M from '../exec/simd-misc.ts';

/** Allowed `size` values as a bit mask: bit k set = size k allowed. */
const ALL = 0b1111, NO64 = 0b0111, HS = 0b0110, B = 0b0001, D = 0b1000;

function vecPrep(o: ElemOp, sizes: number, kind = -1): Prep {
  return (f) => {
    if (!((sizes >> f.size) & 1)) return null;
    if (f.size === 3 && f.q === 0) return null;
    const es = 8 << f.size;
    return { d: f.rd, n: f.rn, m: f.rm ?? f.rn, es, lanes: (f.q ? 128 : 64) / es, q: f.q, op: o, kind };
  };
}

/** Rows with a fast path in simd-fast.ts. */
const FAST: Record<string, number> = {
  ADD: K.ADD, SUB: K.SUB, CMEQ: K.CMEQ, CMHI: K.CMHI, CMHS: K.CMHS, CMGT: K.CMGT, CMGE: K.CMGE,
  CMTST: K.CMTST, UMAX: K.UMAX, UMIN: K.UMIN, SMAX: K.SMAX, SMIN: K.SMIN, MUL: K.MUL,
  UMAXP: K.UMAX, UMINP: K.UMIN, SMAXP: K.SMAX, SMINP: K.SMIN, ADDP: K.ADD,
};

function scalarPrep(o: ElemOp, sizes: number): Prep {
  return (f) => {
    if (!((sizes >> f.size) & 1)) return null;
    return { d: f.rd, n: f.rn, m: f.rm ?? f.rn, es: 8 << f.size, lanes: 1, q: 0, op: o };
  };
}

type Row = [name: string, u: number, opcode: number, op: ElemOp, sizes: number];

const bits = (x: number, n: number) => x.toString(2).padStart(n, '0');

// Three same, vector (Q may be 0 or 1; 64-bit elements need Q=1).
const SAME: Row[] = [
  ['SHADD', 0, 0b00000, E.SHADD, NO64], ['UHADD', 1, 0b00000, E.UHADD, NO64],
  ['SQADD', 0, 0b00001, E.SQADD, ALL], ['UQADD', 1, 0b00001, E.UQADD, ALL],
  ['SRHADD', 0, 0b00010, E.SRHADD, NO64], ['URHADD', 1, 0b00010, E.URHADD, NO64],
  ['SHSUB', 0, 0b00100, E.SHSUB, NO64], ['UHSUB', 1, 0b00100, E.UHSUB, NO64],
  ['SQSUB', 0, 0b00101, E.SQSUB, ALL], ['UQSUB', 1, 0b00101, E.UQSUB, ALL],
  ['CMGT', 0, 0b00110, E.CMGT, ALL], ['CMHI', 1, 0b00110, E.CMHI, ALL],
  ['CMGE', 0, 0b00111, E.CMGE, ALL], ['CMHS', 1, 0b00111, E.CMHS, ALL],
  ['SSHL', 0, 0b01000, E.SSHL, ALL], ['USHL', 1, 0b01000, E.USHL, ALL],
  ['SQSHL', 0, 0b01001, E.SQSHL, ALL], ['UQSHL', 1, 0b01001, E.UQSHL, ALL],
  ['SRSHL', 0, 0b01010, E.SRSHL, ALL], ['URSHL', 1, 0b01010, E.URSHL, ALL],
  ['SQRSHL', 0, 0b01011, E.SQRSHL, ALL], ['UQRSHL', 1, 0b01011, E.UQRSHL, ALL],
  ['SMAX', 0, 0b01100, E.SMAX, NO64], ['UMAX', 1, 0b01100, E.UMAX, NO64],
  ['SMIN', 0, 0b01101, E.SMIN, NO64], ['UMIN', 1, 0b01101, E.UMIN, NO64],
  ['SABD', 0, 0b01110, E.SABD, NO64], ['UABD', 1, 0b01110, E.UABD, NO64],
  ['SABA', 0, 0b01111, E.SABA, NO64], ['UABA', 1, 0b01111, E.UABA, NO64],
  ['ADD', 0, 0b10000, E.ADD, ALL], ['SUB', 1, 0b10000, E.SUB, ALL],
  ['CMTST', 0, 0b10001, E.CMTST, ALL], ['CMEQ', 1, 0b10001, E.CMEQ, ALL],
  ['MLA', 0, 0b10010, E.MLA, NO64], ['MLS', 1, 0b10010, E.MLS, NO64],
  ['MUL', 0, 0b10011, E.MUL, NO64], ['PMUL', 1, 0b10011, E.PMUL, B],
  ['SQDMULH', 0, 0b10110, E.SQDMULH, HS], ['SQRDMULH', 1, 0b10110, E.SQRDMULH, HS],
];

const PAIR: Row[] = [
  ['SMAXP', 0, 0b10100, E.SMAX, NO64], ['UMAXP', 1, 0b10100, E.UMAX, NO64],
  ['SMINP', 0, 0b10101, E.SMIN, NO64], ['UMINP', 1, 0b10101, E.UMIN, NO64],
  ['ADDP', 0, 0b10111, E.ADD, ALL],
];

// Scalar three same: the integer rows that exist in scalar form.
const SCALAR_SAME: Row[] = [
  ['SQADD', 0, 0b00001, E.SQADD, ALL], ['UQADD', 1, 0b00001, E.UQADD, ALL],
  ['SQSUB', 0, 0b00101, E.SQSUB, ALL], ['UQSUB', 1, 0b00101, E.UQSUB, ALL],
  ['CMGT', 0, 0b00110, E.CMGT, D], ['CMHI', 1, 0b00110, E.CMHI, D],
  ['CMGE', 0, 0b00111, E.CMGE, D], ['CMHS', 1, 0b00111, E.CMHS, D],
  ['SSHL', 0, 0b01000, E.SSHL, D], ['USHL', 1, 0b01000, E.USHL, D],
  ['SQSHL', 0, 0b01001, E.SQSHL, ALL], ['UQSHL', 1, 0b01001, E.UQSHL, ALL],
  ['SRSHL', 0, 0b01010, E.SRSHL, D], ['URSHL', 1, 0b01010, E.URSHL, D],
  ['SQRSHL', 0, 0b01011, E.SQRSHL, ALL], ['UQRSHL', 1, 0b01011, E.UQRSHL, ALL],
  ['ADD', 0, 0b10000, E.ADD, D], ['SUB', 1, 0b10000, E.SUB, D],
  ['CMTST', 0, 0b10001, E.CMTST, D], ['CMEQ', 1, 0b10001, E.CMEQ, D],
  ['SQDMULH', 0, 0b10110, E.SQDMULH, HS], ['SQRDMULH', 1, 0b10110, E.SQRDMULH, HS],
];

// Two-register misc, element-wise rows (Rm is not used: m = n).
const MISC: Row[] = [
  ['SUQADD', 0, 0b00011, E.SUQADD, ALL], ['USQADD', 1, 0b00011, E.USQADD, ALL],
  ['CLS', 0, 0b00100, E.CLS, NO64], ['CLZ', 1, 0b00100, E.CLZ, NO64],
  ['SQABS', 0, 0b00111, E.SQABS, ALL], ['SQNEG', 1, 0b00111, E.SQNEG, ALL],
  ['CMGT0', 0, 0b01000, E.CMGT0, ALL], ['CMGE0', 1, 0b01000, E.CMGE0, ALL],
  ['CMEQ0', 0, 0b01001, E.CMEQ0, ALL], ['CMLE0', 1, 0b01001, E.CMLE0, ALL],
  ['CMLT0', 0, 0b01010, E.CMLT0, ALL],
  ['ABS', 0, 0b01011, E.ABS, ALL], ['NEG', 1, 0b01011, E.NEG, ALL],
];

const SCALAR_MISC: Row[] = [
  ['SUQADD', 0, 0b00011, E.SUQADD, ALL], ['USQADD', 1, 0b00011, E.USQADD, ALL],
  ['SQABS', 0, 0b00111, E.SQABS, ALL], ['SQNEG', 1, 0b00111, E.SQNEG, ALL],
  ['CMGT0', 0, 0b01000, E.CMGT0, D], ['CMGE0', 1, 0b01000, E.CMGE0, D],
  ['CMEQ0', 0, 0b01001, E.CMEQ0, D], ['CMLE0', 1, 0b01001, E.CMLE0, D],
  ['CMLT0', 0, 0b01010, E.CMLT0, D],
  ['ABS', 0, 0b01011, E.ABS, D], ['NEG', 1, 0b01011, E.NEG, D],
];

const sameRows: OpDef[] = [
  ...SAME.map(([name, u, opc, o, sizes]) => {
    const k = FAST[name];
    const exec = k === undefined ? H.elementwise : fastSame;
    return op(name, `0 q:1 ${u} 01110 size:2 1 rm:5 ${bits(opc, 5)} 1 rn:5 rd:5`, exec, vecPrep(o, sizes, k));
  }),
  ...PAIR.map(([name, u, opc, o, sizes]) =>
    op(name, `0 q:1 ${u} 01110 size:2 1 rm:5 ${bits(opc, 5)} 1 rn:5 rd:5`, fastPair, vecPrep(o, sizes, FAST[name])),
  ),
  ...SCALAR_SAME.map(([name, u, opc, o, sizes]) =>
    op(`${name}_s`, `01 ${u} 11110 size:2 1 rm:5 ${bits(opc, 5)} 1 rn:5 rd:5`, H.scalarElem, scalarPrep(o, sizes)),
  ),
  ...MISC.map(([name, u, opc, o, sizes]) =>
    op(name, `0 q:1 ${u} 01110 size:2 10000 ${bits(opc, 5)} 10 rn:5 rd:5`, H.elementwise, vecPrep(o, sizes)),
  ),
  ...SCALAR_MISC.map(([name, u, opc, o, sizes]) =>
    op(`${name}_s`, `01 ${u} 11110 size:2 10000 ${bits(opc, 5)} 10 rn:5 rd:5`, H.scalarElem, scalarPrep(o, sizes)),
  ),
];

/** Bitwise three same (opcode 00011): `size` selects the operation. */
const logicalPrep: Prep = (f) => ({ d: f.rd, n: f.rn, m: f.rm, q: f.q, words: f.q ? 4 : 2 });
const LOGICAL: [string, string, Exec][] = [
  ['AND', '0 00', H.vAnd], ['BIC', '0 01', H.vBic], ['ORR', '0 10', H.vOrr], ['ORN', '0 11', H.vOrn],
  ['EOR', '1 00', H.vEor], ['BSL', '1 01', H.vBsl], ['BIT', '1 10', H.vBit], ['BIF', '1 11', H.vBif],
];
const logicalRows = LOGICAL.map(([name, usz, fn]) =>
  op(name, `0 q:1 ${usz.slice(0, 1)} 01110 ${usz.slice(2)} 1 rm:5 00011 1 rn:5 rd:5`, fn, logicalPrep),
);

/** Fixed-size element-wise misc rows (CNT, NOT, RBIT: bytes only). */
function byteMisc(name: string, u: number, size: string, o: ElemOp): OpDef {
  return op(name, `0 q:1 ${u} 01110 ${size} 10000 00101 10 rn:5 rd:5`, H.elementwise, (f) => ({
    d: f.rd, n: f.rn, m: f.rn, es: 8, lanes: f.q ? 16 : 8, q: f.q, op: o,
  }));
}

export const simdSame: OpDef[] = [
  ...sameRows,
  ...logicalRows,
  byteMisc('CNT', 0, '00', E.CNT),
  byteMisc('NOT', 1, '00', E.NOT),
  byteMisc('RBIT', 1, '01', E.RBIT),
  op('ADDP_s', '01 0 11110 11 11000 11011 10 rn:5 rd:5', H.addpScalar, (f) => ({ d: f.rd, n: f.rn })),
  // Two-register misc rows that change shape (simd-misc.ts).
  op('REV64', '0 q:1 0 01110 size:2 10000 00000 10 rn:5 rd:5', M.rev, (f) =>
    f.size === 3 ? null : { d: f.rd, n: f.rn, es: 8 << f.size, q: f.q, cont: 64 }),
  op('REV32', '0 q:1 1 01110 size:2 10000 00000 10 rn:5 rd:5', M.rev, (f) =>
    f.size >= 2 ? null : { d: f.rd, n: f.rn, es: 8 << f.size, q: f.q, cont: 32 }),
  op('REV16', '0 q:1 0 01110 size:2 10000 00001 10 rn:5 rd:5', M.rev, (f) =>
    f.size !== 0 ? null : { d: f.rd, n: f.rn, es: 8, q: f.q, cont: 16 }),
  op('SADDLP', '0 q:1 0 01110 size:2 10000 00010 10 rn:5 rd:5', M.addlp, (f) => addlpPrep(f, true, false)),
  op('UADDLP', '0 q:1 1 01110 size:2 10000 00010 10 rn:5 rd:5', M.addlp, (f) => addlpPrep(f, false, false)),
  op('SADALP', '0 q:1 0 01110 size:2 10000 00110 10 rn:5 rd:5', M.addlp, (f) => addlpPrep(f, true, true)),
  op('UADALP', '0 q:1 1 01110 size:2 10000 00110 10 rn:5 rd:5', M.addlp, (f) => addlpPrep(f, false, true)),
  op('XTN', '0 q:1 0 01110 size:2 10000 10010 10 rn:5 rd:5', M.narrow, (f) => narrowPrep(f, M.XTN)),
  op('SQXTUN', '0 q:1 1 01110 size:2 10000 10010 10 rn:5 rd:5', M.narrow, (f) => narrowPrep(f, M.SQXTUN)),
  op('SQXTN', '0 q:1 0 01110 size:2 10000 10100 10 rn:5 rd:5', M.narrow, (f) => narrowPrep(f, M.SQXTN)),
  op('UQXTN', '0 q:1 1 01110 size:2 10000 10100 10 rn:5 rd:5', M.narrow, (f) => narrowPrep(f, M.UQXTN)),
  op('SQXTUN_s', '01 1 11110 size:2 10000 10010 10 rn:5 rd:5', M.narrowScalar, (f) => narrowPrep(f, M.SQXTUN)),
  op('SQXTN_s', '01 0 11110 size:2 10000 10100 10 rn:5 rd:5', M.narrowScalar, (f) => narrowPrep(f, M.SQXTN)),
  op('UQXTN_s', '01 1 11110 size:2 10000 10100 10 rn:5 rd:5', M.narrowScalar, (f) => narrowPrep(f, M.UQXTN)),
  op('SHLL', '0 q:1 1 01110 size:2 10000 10011 10 rn:5 rd:5', M.shll, (f) =>
    f.size === 3 ? null : { d: f.rd, n: f.rn, es: 8 << f.size, half: f.q }),
  op('URECPE', '0 q:1 0 01110 1 sz:1 10000 11100 10 rn:5 rd:5', H.elementwise, (f) =>
    f.sz ? null : { d: f.rd, n: f.rn, m: f.rn, es: 32, lanes: f.q ? 4 : 2, q: f.q, op: E.URECPE }),
  op('URSQRTE', '0 q:1 1 01110 1 sz:1 10000 11100 10 rn:5 rd:5', H.elementwise, (f) =>
    f.sz ? null : { d: f.rd, n: f.rn, m: f.rn, es: 32, lanes: f.q ? 4 : 2, q: f.q, op: E.URSQRTE }),
  // Across lanes.
  op('SADDLV', '0 q:1 0 01110 size:2 11000 00011 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.ADDLV, true)),
  op('UADDLV', '0 q:1 1 01110 size:2 11000 00011 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.ADDLV, false)),
  op('SMAXV', '0 q:1 0 01110 size:2 11000 01010 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.MAXV, true)),
  op('UMAXV', '0 q:1 1 01110 size:2 11000 01010 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.MAXV, false)),
  op('SMINV', '0 q:1 0 01110 size:2 11000 11010 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.MINV, true)),
  op('UMINV', '0 q:1 1 01110 size:2 11000 11010 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.MINV, false)),
  op('ADDV', '0 q:1 0 01110 size:2 11000 11011 10 rn:5 rd:5', M.across, (f) => acrossPrep(f, M.ADDV, false)),
];

function addlpPrep(f: { rd: number; rn: number; size: number; q: number }, signed: boolean, acc: boolean) {
  if (f.size === 3) return null;
  const es = 8 << f.size;
  return { d: f.rd, n: f.rn, es, lanes: (f.q ? 64 : 32) / es, q: f.q, signed, acc };
}

function narrowPrep(f: { rd: number; rn: number; size: number; q?: number }, kind: number) {
  if (f.size === 3) return null;
  const es = 8 << f.size;
  return { d: f.rd, n: f.rn, es, lanes: 64 / es, half: f.q ?? 0, kind };
}

function acrossPrep(f: { rd: number; rn: number; size: number; q: number }, kind: number, signed: boolean) {
  if (f.size === 3 || (f.size === 2 && f.q === 0)) return null;
  const es = 8 << f.size;
  return { d: f.rd, n: f.rn, es, lanes: (f.q ? 128 : 64) / es, kind, signed };
}
