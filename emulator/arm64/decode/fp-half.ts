// Advanced SIMD half-precision encodings (FEAT_FP16; ARM ARM C4.1.92 "Advanced SIMD three same
// (FP16)", "two-register miscellaneous (FP16)", the scalar FP16 forms, across lanes and scalar
// pairwise with size 00, by element with size 00, fixed-point shifts with immh 001x, FMOV
// (vector, immediate) half). UNDEFINED on a core without FP16 (see fp-basic.ts).
import { op, requires, type OpDef } from './pattern.ts';
import * as x from '../exec/fp-half.ts';
import { OP } from '../exec/fp-vector.ts';
import { vfpExpandImmHalf } from '../exec/fp-basic.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const b = (v: number, n: number): string => v.toString(2).padStart(n, '0');

const sameOps: [string, number, number, number, number, boolean, boolean][] = [
  // name, U, a, opcode[2:0], op, pairwise, scalar form exists
  ['FMAXNM_h', 0, 0, 0, OP.MAXNM, false, false], ['FMLA_h', 0, 0, 1, OP.FMLA, false, false], ['FADD_h', 0, 0, 2, OP.ADD, false, false],
  ['FMULX_h', 0, 0, 3, OP.MULX, false, true], ['FCMEQ_h', 0, 0, 4, OP.CMEQ, false, true], ['FMAX_h', 0, 0, 6, OP.MAX, false, false],
  ['FRECPS_h', 0, 0, 7, OP.RECPS, false, true],
  ['FMINNM_h', 0, 1, 0, OP.MINNM, false, false], ['FMLS_h', 0, 1, 1, OP.FMLS, false, false], ['FSUB_h', 0, 1, 2, OP.SUB, false, false],
  ['FMIN_h', 0, 1, 6, OP.MIN, false, false], ['FRSQRTS_h', 0, 1, 7, OP.RSQRTS, false, true],
  ['FMAXNMP_h', 1, 0, 0, OP.MAXNM, true, false], ['FADDP_h', 1, 0, 2, OP.ADD, true, false], ['FMUL_h', 1, 0, 3, OP.MUL, false, false],
  ['FCMGE_h', 1, 0, 4, OP.CMGE, false, true], ['FACGE_h', 1, 0, 5, OP.ACGE, false, true], ['FMAXP_h', 1, 0, 6, OP.MAX, true, false],
  ['FDIV_h', 1, 0, 7, OP.DIV, false, false],
  ['FMINNMP_h', 1, 1, 0, OP.MINNM, true, false], ['FABD_h', 1, 1, 2, OP.ABD, false, true], ['FCMGT_h', 1, 1, 4, OP.CMGT, false, true],
  ['FACGT_h', 1, 1, 5, OP.ACGT, false, true], ['FMINP_h', 1, 1, 6, OP.MIN, true, false],
];

const miscOps: [string, number, number, number, string, number, boolean][] = [
  // name, U, a, opcode, kind, rmode, scalar form exists
  ['FRINTN_h', 0, 0, 0b11000, 'rint', 0, false], ['FRINTM_h', 0, 0, 0b11001, 'rint', 2, false],
  ['FCVTNS_h', 0, 0, 0b11010, 'fcvts', 0, true], ['FCVTMS_h', 0, 0, 0b11011, 'fcvts', 2, true], ['FCVTAS_h', 0, 0, 0b11100, 'fcvts', 4, true],
  ['SCVTF_h', 0, 0, 0b11101, 'scvtf', 0, true],
  ['FCMGT0_h', 0, 1, 0b01100, 'cmgt0', 0, true], ['FCMEQ0_h', 0, 1, 0b01101, 'cmeq0', 0, true], ['FCMLT0_h', 0, 1, 0b01110, 'cmlt0', 0, true],
  ['FABS_h', 0, 1, 0b01111, 'abs', 0, false], ['FRINTP_h', 0, 1, 0b11000, 'rint', 1, false], ['FRINTZ_h', 0, 1, 0b11001, 'rint', 3, false],
  ['FCVTPS_h', 0, 1, 0b11010, 'fcvts', 1, true], ['FCVTZS_h', 0, 1, 0b11011, 'fcvts', 3, true], ['FRECPE_h', 0, 1, 0b11101, 'recpe', 0, true],
  ['FRINTA_h', 1, 0, 0b11000, 'rint', 4, false], ['FRINTX_h', 1, 0, 0b11001, 'rintx', -1, false],
  ['FCVTNU_h', 1, 0, 0b11010, 'fcvtu', 0, true], ['FCVTMU_h', 1, 0, 0b11011, 'fcvtu', 2, true], ['FCVTAU_h', 1, 0, 0b11100, 'fcvtu', 4, true],
  ['UCVTF_h', 1, 0, 0b11101, 'ucvtf', 0, true],
  ['FCMGE0_h', 1, 1, 0b01100, 'cmge0', 0, true], ['FCMLE0_h', 1, 1, 0b01101, 'cmle0', 0, true], ['FNEG_h', 1, 1, 0b01111, 'neg', 0, false],
  ['FRINTI_h', 1, 1, 0b11001, 'rint', -1, false], ['FCVTPU_h', 1, 1, 0b11010, 'fcvtu', 1, true], ['FCVTZU_h', 1, 1, 0b11011, 'fcvtu', 3, true],
  ['FRSQRTE_h', 1, 1, 0b11101, 'rsqrte', 0, true], ['FSQRT_h', 1, 1, 0b11111, 'sqrt', 0, false],
];

const rows: OpDef[] = [];
for (const [name, u, a, opc, opn, pairwise, scalar] of sameOps) {
  rows.push(op(name, `0 q:1 ${u} 01110 ${a} 10 rm:5 00 ${b(opc, 3)} 1 rn:5 rd:5`, x.threeSameH, (f: F) =>
    ({ op: opn, pairwise, lanes: f.q ? 8 : 4, rn: f.rn, rm: f.rm, rd: f.rd })));
  if (scalar) {
    rows.push(op(`${name}_s`, `01 ${u} 11110 ${a} 10 rm:5 00 ${b(opc, 3)} 1 rn:5 rd:5`, x.threeSameH, (f: F) =>
      ({ op: opn, pairwise: false, lanes: 1, rn: f.rn, rm: f.rm, rd: f.rd })));
  }
}
for (const [name, u, a, opc, kind, rmode, scalar] of miscOps) {
  rows.push(op(name, `0 q:1 ${u} 01110 ${a} 1111 00 ${b(opc, 5)} 10 rn:5 rd:5`, x.miscH, (f: F) =>
    ({ kind, rmode, fbits: 0, lanes: f.q ? 8 : 4, rn: f.rn, rd: f.rd })));
  if (scalar) {
    rows.push(op(`${name}_s`, `01 ${u} 11110 ${a} 1111 00 ${b(opc, 5)} 10 rn:5 rd:5`, x.miscH, (f: F) =>
      ({ kind, rmode, fbits: 0, lanes: 1, rn: f.rn, rd: f.rd })));
  }
}

export const fpHalf = requires(
  'FP16',
  ...rows,
  op('FRECPX_h', '01 0 11110 1 1111 00 11111 10 rn:5 rd:5', x.miscH, (f: F) => ({ kind: 'recpx', rmode: 0, fbits: 0, lanes: 1, rn: f.rn, rd: f.rd })),
  // Across lanes (U=0, size 00) and scalar pairwise (U=0, size 00).
  ...([['FMAXNMV_h', 0, 0b01100, OP.MAXNM], ['FMAXV_h', 0, 0b01111, OP.MAX], ['FMINNMV_h', 1, 0b01100, OP.MINNM], ['FMINV_h', 1, 0b01111, OP.MIN]] as const).map(
    ([name, o1, opc, opn]) => op(name, `0 q:1 0 01110 ${o1} 0 11000 ${b(opc, 5)} 10 rn:5 rd:5`, x.reduceH, (f: F) => ({ op: opn, lanes: f.q ? 8 : 4, rn: f.rn, rd: f.rd }))),
  ...([['FMAXNMP_hs', 0, 0b01100, OP.MAXNM], ['FADDP_hs', 0, 0b01101, OP.ADD], ['FMAXP_hs', 0, 0b01111, OP.MAX],
    ['FMINNMP_hs', 1, 0b01100, OP.MINNM], ['FMINP_hs', 1, 0b01111, OP.MIN]] as const).map(([name, o1, opc, opn]) =>
    op(name, `01 0 11110 ${o1} 0 11000 ${b(opc, 5)} 10 rn:5 rd:5`, x.reduceH, (f: F) => ({ op: opn, lanes: 2, rn: f.rn, rd: f.rd }))),
  // By element, size 00: index H:L:M, Vm in V0-V15.
  ...([['FMLA_he', 0, 0b0001, OP.FMLA], ['FMLS_he', 0, 0b0101, OP.FMLS], ['FMUL_he', 0, 0b1001, OP.MUL], ['FMULX_he', 1, 0b1001, OP.MULX]] as const).flatMap(([name, u, opc, opn]) => [
    op(name, `0 q:1 ${u} 01111 00 l:1 m:1 rm:4 ${b(opc, 4)} h:1 0 rn:5 rd:5`, x.byElementH, (f: F) =>
      ({ op: opn, lanes: f.q ? 8 : 4, rn: f.rn, rm: f.rm, rd: f.rd, index: f.h * 4 + f.l * 2 + f.m })),
    op(`${name}_s`, `01 ${u} 11111 00 l:1 m:1 rm:4 ${b(opc, 4)} h:1 0 rn:5 rd:5`, x.byElementH, (f: F) =>
      ({ op: opn, lanes: 1, rn: f.rn, rm: f.rm, rd: f.rd, index: f.h * 4 + f.l * 2 + f.m })),
  ]),
  // Fixed-point conversions, immh = 001x: fbits = 32 - immh:immb.
  ...([['SCVTF_hfix', 0, 0b11100, 'scvtf'], ['UCVTF_hfix', 1, 0b11100, 'ucvtf'], ['FCVTZS_hfix', 0, 0b11111, 'fcvts'], ['FCVTZU_hfix', 1, 0b11111, 'fcvtu']] as const).flatMap(([name, u, opc, kind]) => [
    op(name, `0 q:1 ${u} 011110 001 ib:4 ${b(opc, 5)} 1 rn:5 rd:5`, x.miscH, (f: F) => ({ kind, rmode: 3, fbits: 16 - f.ib, lanes: f.q ? 8 : 4, rn: f.rn, rd: f.rd })),
    op(`${name}_s`, `01 ${u} 111110 001 ib:4 ${b(opc, 5)} 1 rn:5 rd:5`, x.miscH, (f: F) => ({ kind, rmode: 3, fbits: 16 - f.ib, lanes: 1, rn: f.rn, rd: f.rd })),
  ]),
  op('FMOV_vh', '0 q:1 0 0111100000 abc:3 1111 11 defgh:5 rd:5', x.fmovVecImmH, (f: F) =>
    ({ bits: vfpExpandImmHalf((f.abc << 5) | f.defgh), lanes: f.q ? 8 : 4, rd: f.rd })),
);
