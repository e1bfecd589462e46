// Advanced SIMD floating point encodings (ARM ARM C4.1.92: three same, two-register misc,
// across lanes, scalar pairwise, by element, modified immediate FMOV, fixed-point conversions),
// vector and scalar forms. Single (sz=0) and double (sz=1); half precision is UNDEFINED.
// Each row fixes the U/a/opcode bits of one operation so it never overlaps the integer rows.
import { group, op, type OpDef } from './pattern.ts';
import * as x from '../exec/fp-vector.ts';
import { vfpExpandImm } from '../exec/fp-basic.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const { OP } = x;
const b = (v: number, n: number): string => v.toString(2).padStart(n, '0');

/** Vector shape: lanes and 32-bit words written; null for the reserved Q=0 double form. */
function shape(q: number, sz: number): { lanes: number; words: number; dbl: boolean } | null {
  if (sz === 1 && q === 0) return null;
  return { lanes: (q ? 4 : 2) >> sz, words: q ? 4 : 2, dbl: sz === 1 };
}

const sameOps: [string, number, number, number, number, boolean, boolean][] = [
  // name, U, a, opcode[2:0], op, pairwise, scalar form exists
  ['FMAXNM', 0, 0, 0, OP.MAXNM, false, false], ['FMLA', 0, 0, 1, OP.FMLA, false, false], ['FADD', 0, 0, 2, OP.ADD, false, false],
  ['FMULX', 0, 0, 3, OP.MULX, false, true], ['FCMEQ', 0, 0, 4, OP.CMEQ, false, true], ['FMAX', 0, 0, 6, OP.MAX, false, false],
  ['FRECPS', 0, 0, 7, OP.RECPS, false, true],
  ['FMINNM', 0, 1, 0, OP.MINNM, false, false], ['FMLS', 0, 1, 1, OP.FMLS, false, false], ['FSUB', 0, 1, 2, OP.SUB, false, false],
  ['FMIN', 0, 1, 6, OP.MIN, false, false], ['FRSQRTS', 0, 1, 7, OP.RSQRTS, false, true],
  ['FMAXNMP', 1, 0, 0, OP.MAXNM, true, false], ['FADDP', 1, 0, 2, OP.ADD, true, false], ['FMUL', 1, 0, 3, OP.MUL, false, false],
  ['FCMGE', 1, 0, 4, OP.CMGE, false, true], ['FACGE', 1, 0, 5, OP.ACGE, false, true], ['FMAXP', 1, 0, 6, OP.MAX, true, false],
  ['FDIV', 1, 0, 7, OP.DIV, false, false],
  ['FMINNMP', 1, 1, 0, OP.MINNM, true, false], ['FABD', 1, 1, 2, OP.ABD, false, true], ['FCMGT', 1, 1, 4, OP.CMGT, false, true],
  ['FACGT', 1, 1, 5, OP.ACGT, false, true], ['FMINP', 1, 1, 6, OP.MIN, true, false],
];

const miscOps: [string, number, number, number, string, number, boolean][] = [
  // name, U, a, opcode, kind, rmode (-1 = FPCR), scalar form exists
  ['FRINTN', 0, 0, 0b11000, 'rint', 0, false], ['FRINTM', 0, 0, 0b11001, 'rint', 2, false],
  ['FCVTNS', 0, 0, 0b11010, 'fcvts', 0, true], ['FCVTMS', 0, 0, 0b11011, 'fcvts', 2, true], ['FCVTAS', 0, 0, 0b11100, 'fcvts', 4, true],
  ['SCVTF', 0, 0, 0b11101, 'scvtf', 0, true],
  ['FCMGT0', 0, 1, 0b01100, 'cmgt0', 0, true], ['FCMEQ0', 0, 1, 0b01101, 'cmeq0', 0, true], ['FCMLT0', 0, 1, 0b01110, 'cmlt0', 0, true],
  ['FABS_v', 0, 1, 0b01111, 'abs', 0, false], ['FRINTP', 0, 1, 0b11000, 'rint', 1, false], ['FRINTZ', 0, 1, 0b11001, 'rint', 3, false],
  ['FCVTPS', 0, 1, 0b11010, 'fcvts', 1, true], ['FCVTZS', 0, 1, 0b11011, 'fcvts', 3, true],
  ['FRINTA', 1, 0, 0b11000, 'rint', 4, false], ['FRINTX', 1, 0, 0b11001, 'rintx', -1, false],
  ['FCVTNU', 1, 0, 0b11010, 'fcvtu', 0, true], ['FCVTMU', 1, 0, 0b11011, 'fcvtu', 2, true], ['FCVTAU', 1, 0, 0b11100, 'fcvtu', 4, true],
  ['UCVTF', 1, 0, 0b11101, 'ucvtf', 0, true],
  ['FCMGE0', 1, 1, 0b01100, 'cmge0', 0, true], ['FCMLE0', 1, 1, 0b01101, 'cmle0', 0, true], ['FNEG_v', 1, 1, 0b01111, 'neg', 0, false],
  ['FRINTI', 1, 1, 0b11001, 'rint', -1, false], ['FCVTPU', 1, 1, 0b11010, 'fcvtu', 1, true], ['FCVTZU', 1, 1, 0b11011, 'fcvtu', 3, true],
  ['FSQRT_v', 1, 1, 0b11111, 'sqrt', 0, false],
  ['FRECPE', 0, 1, 0b11101, 'recpe', 0, true], ['FRSQRTE', 1, 1, 0b11101, 'rsqrte', 0, true],
];

const rows: OpDef[] = [];
for (const [name, u, a, opc, opn, pairwise, scalar] of sameOps) {
  rows.push(op(name, `0 q:1 ${u} 01110 ${a} sz:1 1 rm:5 11 ${b(opc, 3)} 1 rn:5 rd:5`, x.threeSame, (f: F) => {
    const s = shape(f.q, f.sz);
    const fast = !pairwise && (opn === OP.ADD || opn === OP.SUB || opn === OP.MUL || opn === OP.DIV);
    const fma = opn === OP.FMLA || opn === OP.FMLS;
    return s && { op: opn, pairwise, ...s, rn: f.rn, rm: f.rm, rd: f.rd, exec: fast ? x.threeSameArith : fma ? x.threeSameFma : x.threeSame };
  }));
  if (scalar) {
    rows.push(op(`${name}_s`, `01 ${u} 11110 ${a} sz:1 1 rm:5 11 ${b(opc, 3)} 1 rn:5 rd:5`, x.threeSame, (f: F) => ({
      op: opn, pairwise: false, lanes: 1, words: f.sz ? 2 : 1, dbl: f.sz === 1, rn: f.rn, rm: f.rm, rd: f.rd,
    })));
  }
}
for (const [name, u, a, opc, kind, rmode, scalar] of miscOps) {
  rows.push(op(name, `0 q:1 ${u} 01110 ${a} sz:1 10000 ${b(opc, 5)} 10 rn:5 rd:5`, x.misc, (f: F) => {
    const s = shape(f.q, f.sz);
    return s && { kind, rmode, fbits: 0, ...s, rn: f.rn, rd: f.rd };
  }));
  if (scalar) {
    rows.push(op(`${name}_s`, `01 ${u} 11110 ${a} sz:1 10000 ${b(opc, 5)} 10 rn:5 rd:5`, x.misc, (f: F) => ({
      kind, rmode, fbits: 0, lanes: 1, words: f.sz ? 2 : 1, dbl: f.sz === 1, rn: f.rn, rd: f.rd,
    })));
  }
}

export const fpVector = group(
  ...rows,
  // FCVTN/FCVTL: sz=1 between double and single, sz=0 between single and half.
  op('FCVTN', '0 q:1 0 01110 0 sz:1 10000 10110 10 rn:5 rd:5', x.fcvtNarrow, (f: F) => ({ upper: f.q === 1, lanes: 2, odd: false, rn: f.rn, rd: f.rd, exec: f.sz ? x.fcvtNarrow : x.fcvtNarrowHalf })),
  // FCVTXN: double -> single rounding to odd; sz=0 is reserved.
  op('FCVTXN', '0 q:1 1 01110 0 sz:1 10000 10110 10 rn:5 rd:5', x.fcvtNarrow, (f: F) => (f.sz ? { upper: f.q === 1, lanes: 2, odd: true, rn: f.rn, rd: f.rd } : null)),
  op('FCVTXN_s', '01 1 11110 0 sz:1 10000 10110 10 rn:5 rd:5', x.fcvtNarrow, (f: F) => (f.sz ? { upper: false, lanes: 1, odd: true, rn: f.rn, rd: f.rd } : null)),
  op('FRECPX', '01 0 11110 1 sz:1 10000 11111 10 rn:5 rd:5', x.misc, (f: F) => ({ kind: 'recpx', rmode: 0, fbits: 0, lanes: 1, words: f.sz ? 2 : 1, dbl: f.sz === 1, rn: f.rn, rd: f.rd })),
  op('FCVTL', '0 q:1 0 01110 0 sz:1 10000 10111 10 rn:5 rd:5', x.fcvtLong, (f: F) => ({ upper: f.q === 1, rn: f.rn, rd: f.rd, exec: f.sz ? x.fcvtLong : x.fcvtLongHalf })),
  // Across lanes (4S only).
  op('FMAXNMV', '0 q:1 1 01110 0 sz:1 11000 01100 10 rn:5 rd:5', x.reduce, (f: F) => (f.q && !f.sz ? { op: OP.MAXNM, across: true, lanes: 4, dbl: false, rn: f.rn, rd: f.rd } : null)),
  op('FMAXV', '0 q:1 1 01110 0 sz:1 11000 01111 10 rn:5 rd:5', x.reduce, (f: F) => (f.q && !f.sz ? { op: OP.MAX, across: true, lanes: 4, dbl: false, rn: f.rn, rd: f.rd } : null)),
  op('FMINNMV', '0 q:1 1 01110 1 sz:1 11000 01100 10 rn:5 rd:5', x.reduce, (f: F) => (f.q && !f.sz ? { op: OP.MINNM, across: true, lanes: 4, dbl: false, rn: f.rn, rd: f.rd } : null)),
  op('FMINV', '0 q:1 1 01110 1 sz:1 11000 01111 10 rn:5 rd:5', x.reduce, (f: F) => (f.q && !f.sz ? { op: OP.MIN, across: true, lanes: 4, dbl: false, rn: f.rn, rd: f.rd } : null)),
  // Scalar pairwise: the two lanes of the low 64 (single) or 128 (double) bits.
  ...([['FMAXNMP_s', 0, 0b01100, OP.MAXNM], ['FADDP_s', 0, 0b01101, OP.ADD], ['FMAXP_s', 0, 0b01111, OP.MAX],
    ['FMINNMP_s', 1, 0b01100, OP.MINNM], ['FMINP_s', 1, 0b01111, OP.MIN]] as const).map(([name, o1, opc, opn]) =>
    op(name, `01 1 11110 ${o1} sz:1 11000 ${b(opc, 5)} 10 rn:5 rd:5`, x.reduce, (f: F) => ({ op: opn, across: false, lanes: 2, dbl: f.sz === 1, rn: f.rn, rd: f.rd }))),
  // By element: size = 1:sz (10 single, 11 double).
  ...([['FMLA_e', 0, 0b0001, OP.FMLA], ['FMLS_e', 0, 0b0101, OP.FMLS], ['FMUL_e', 0, 0b1001, OP.MUL], ['FMULX_e', 1, 0b1001, OP.MULX]] as const).flatMap(([name, u, opc, opn]) => [
    op(name, `0 q:1 ${u} 01111 1 sz:1 l:1 m:1 rm:4 ${b(opc, 4)} h:1 0 rn:5 rd:5`, x.byElement, (f: F) => {
      const s = shape(f.q, f.sz);
      if (!s || (f.sz && f.l)) return null;
      const fma = opn === OP.FMLA || opn === OP.FMLS;
      return { op: opn, ...s, rn: f.rn, rm: f.m * 16 + f.rm, rd: f.rd, index: f.sz ? f.h : f.h * 2 + f.l, exec: fma ? x.byElementFma : x.byElement };
    }),
    op(`${name}_s`, `01 ${u} 11111 1 sz:1 l:1 m:1 rm:4 ${b(opc, 4)} h:1 0 rn:5 rd:5`, x.byElement, (f: F) =>
      f.sz && f.l ? null : { op: opn, lanes: 1, words: f.sz ? 2 : 1, dbl: f.sz === 1, rn: f.rn, rm: f.m * 16 + f.rm, rd: f.rd, index: f.sz ? f.h : f.h * 2 + f.l,
        exec: opn === OP.FMLA || opn === OP.FMLS ? x.byElementFma : x.byElement }),
  ]),
  op('FMOV_v', '0 q:1 o:1 0111100000 abc:3 1111 01 defgh:5 rd:5', x.fmovVecImm, (f: F) => {
    if (f.o && !f.q) return null;
    const imm8 = (f.abc << 5) | f.defgh;
    return { dbl: f.o === 1, bits: vfpExpandImm(imm8, false), hi: vfpExpandImm(imm8, true), words: f.q ? 4 : 2, rd: f.rd };
  }),
  // Fixed-point conversions by immediate: fbits = 2*esize - immh:immb.
  ...([['SCVTF_fix', 0, 0b11100, 'scvtf'], ['UCVTF_fix', 1, 0b11100, 'ucvtf'], ['FCVTZS_fix', 0, 0b11111, 'fcvts'], ['FCVTZU_fix', 1, 0b11111, 'fcvtu']] as const).flatMap(([name, u, opc, kind]) => [
    op(name, `0 q:1 ${u} 011110 immh:4 immb:3 ${b(opc, 5)} 1 rn:5 rd:5`, x.misc, (f: F) => fixShape(f, kind, false)),
    op(`${name}_s`, `01 ${u} 111110 immh:4 immb:3 ${b(opc, 5)} 1 rn:5 rd:5`, x.misc, (f: F) => fixShape(f, kind, true)),
  ]),
);

function fixShape(f: F, kind: string, scalar: boolean): F | null {
  if (f.immh < 4) return null; // half precision / reserved
  const dbl = f.immh >= 8;
  const esize = dbl ? 64 : 32;
  const fbits = 2 * esize - (f.immh * 8 + f.immb);
  if (scalar) return { kind, rmode: 3, fbits, lanes: 1, words: dbl ? 2 : 1, dbl, rn: f.rn, rd: f.rd };
  const s = shape(f.q, dbl ? 1 : 0);
  return s && { kind, rmode: 3, fbits, ...s, rn: f.rn, rd: f.rd };
}
