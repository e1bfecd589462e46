// Advanced SIMD three different (widening/narrowing), vector x indexed element (integer) and
// the scalar forms of both (ARM ARM C4.1.6). By-element rows: size 01 indexes H:L:M over V0-V15,
// size 10 indexes H:L over V0-V31 (M is then the top bit of Rm). FP by-element rows (FMLA,
// FMLS, FMUL, FMULX, FMLAL...) have other U/opcode values and stay with the FP tables.

import { op, requires, type OpDef } from './pattern.ts';
import * as L from '../exec/simd-long.ts';
import * as E from '../exec/simd-ops.ts';
import type { ElemOp } from '../exec/simd-ops.ts';
import { byElement } from '../exec/simd-elem.ts';
import { mulElem32 } from '../exec/simd-fast-elem.ts';

const bits4 = (x: number) => x.toString(2).padStart(4, '0');
const HS = 0b0110, NO64 = 0b0111;

interface F3 { q?: number; size: number; rm: number; rn: number; rd: number }
interface FX { q?: number; size: number; L: number; M: number; rm: number; H: number; rn: number; rd: number }

// name, U, opcode, kind, signed, allowed sizes, scalar form exists
type Row = [string, number, number, number, boolean, number, boolean];
const DIFF: Row[] = [
  ['SADDL', 0, 0b0000, L.ADDL, true, NO64, false], ['UADDL', 1, 0b0000, L.ADDL, false, NO64, false],
  ['SADDW', 0, 0b0001, L.ADDW, true, NO64, false], ['UADDW', 1, 0b0001, L.ADDW, false, NO64, false],
  ['SSUBL', 0, 0b0010, L.SUBL, true, NO64, false], ['USUBL', 1, 0b0010, L.SUBL, false, NO64, false],
  ['SSUBW', 0, 0b0011, L.SUBW, true, NO64, false], ['USUBW', 1, 0b0011, L.SUBW, false, NO64, false],
  ['SABAL', 0, 0b0101, L.ABAL, true, NO64, false], ['UABAL', 1, 0b0101, L.ABAL, false, NO64, false],
  ['SABDL', 0, 0b0111, L.ABDL, true, NO64, false], ['UABDL', 1, 0b0111, L.ABDL, false, NO64, false],
  ['SMLAL', 0, 0b1000, L.MLAL, true, NO64, false], ['UMLAL', 1, 0b1000, L.MLAL, false, NO64, false],
  ['SQDMLAL', 0, 0b1001, L.QDMLAL, true, HS, true],
  ['SMLSL', 0, 0b1010, L.MLSL, true, NO64, false], ['UMLSL', 1, 0b1010, L.MLSL, false, NO64, false],
  ['SQDMLSL', 0, 0b1011, L.QDMLSL, true, HS, true],
  ['SMULL', 0, 0b1100, L.MULL, true, NO64, false], ['UMULL', 1, 0b1100, L.MULL, false, NO64, false],
  ['SQDMULL', 0, 0b1101, L.QDMULL, true, HS, true],
];

const rows: OpDef[] = [];
for (const [name, u, opc, kind, signed, sizes, scalar] of DIFF) {
  const mk = (f: F3, isScalar: boolean) => {
    if (!((sizes >> f.size) & 1)) return null;
    return { d: f.rd, n: f.rn, m: f.rm, es: 8 << f.size, half: isScalar ? 0 : f.q, kind, signed, idx: -1, scalar: isScalar };
  };
  rows.push(op(name, `0 q:1 ${u} 01110 size:2 1 rm:5 ${bits4(opc)} 00 rn:5 rd:5`, L.widen, (f) => mk(f, false)));
  if (scalar) rows.push(op(`${name}_s`, `01 ${u} 11110 size:2 1 rm:5 ${bits4(opc)} 00 rn:5 rd:5`, L.widen, (f) => mk(f, true)));
}
for (const [name, u, opc, sub, round] of [
  ['ADDHN', 0, 0b0100, false, false], ['RADDHN', 1, 0b0100, false, true],
  ['SUBHN', 0, 0b0110, true, false], ['RSUBHN', 1, 0b0110, true, true],
] as const) {
  rows.push(op(name, `0 q:1 ${u} 01110 size:2 1 rm:5 ${bits4(opc)} 00 rn:5 rd:5`, L.highNarrow, (f: F3) =>
    f.size === 3 ? null : { d: f.rd, n: f.rn, m: f.rm, es: 8 << f.size, half: f.q, sub, round }));
}
// PMULL/PMULL2: the 8-bit form (size 00), and the 64-bit .1Q form (size 11) of FEAT_PMULL
// (Cryptographic Extension); sizes 01 and 10 are unallocated.
rows.push(op('PMULL', '0 q:1 0 01110 size:2 1 rm:5 1110 00 rn:5 rd:5', L.pmull8, (f: F3) =>
  f.size !== 0 ? null : { d: f.rd, n: f.rn, m: f.rm, half: f.q }));
rows.push(...requires('PMULL', op('PMULL_1q', '0 q:1 0 01110 11 1 rm:5 1110 00 rn:5 rd:5', L.pmull64, (f) =>
  ({ d: f.rd, n: f.rn, m: f.rm, half: f.q }))));

/** Element index and Vm of a by-element encoding, or null for a reserved size. */
function indexed(f: FX): { es: number; idx: number; m: number } | null {
  if (f.size === 1) return { es: 16, idx: f.H * 4 + f.L * 2 + f.M, m: f.rm };
  if (f.size === 2) return { es: 32, idx: f.H * 2 + f.L, m: f.M * 16 + f.rm };
  return null;
}

const BY_ELEM: [string, number, number, ElemOp, number][] = [
  ['MLA_x', 1, 0b0000, E.MLA, 1], ['MLS_x', 1, 0b0100, E.MLS, 1], ['MUL_x', 0, 0b1000, E.MUL, 1],
  ['SQDMULH_x', 0, 0b1100, E.SQDMULH, 2], ['SQRDMULH_x', 0, 0b1101, E.SQRDMULH, 2],
];
for (const [name, u, opc, o, scalar] of BY_ELEM) {
  const mk = (f: FX, isScalar: boolean) => {
    const x = indexed(f);
    if (!x) return null;
    const q = isScalar ? 0 : f.q!;
    const lanes = isScalar ? 1 : (q ? 128 : 64) / x.es;
    // 32-bit MUL/MLA/MLS have an allocation-free fast path (exec override, see pattern.ts).
    const kind = o === E.MUL ? 0 : o === E.MLA ? 1 : o === E.MLS ? 2 : -1;
    const exec = kind >= 0 && x.es === 32 && !isScalar ? mulElem32 : undefined;
    return { d: f.rd, n: f.rn, m: x.m, idx: x.idx, es: x.es, lanes, q, op: o, scalar: isScalar, kind, exec };
  };
  rows.push(op(name, `0 q:1 ${u} 01111 size:2 L:1 M:1 rm:4 ${bits4(opc)} H:1 0 rn:5 rd:5`, byElement, (f) => mk(f, false)));
  if (scalar === 2) {
    rows.push(op(`${name}_s`, `01 ${u} 11111 size:2 L:1 M:1 rm:4 ${bits4(opc)} H:1 0 rn:5 rd:5`, byElement, (f) => mk(f, true)));
  }
}

const LONG_ELEM: [string, number, number, number, boolean, boolean][] = [
  ['SMLAL_x', 0, 0b0010, L.MLAL, true, false], ['UMLAL_x', 1, 0b0010, L.MLAL, false, false],
  ['SQDMLAL_x', 0, 0b0011, L.QDMLAL, true, true],
  ['SMLSL_x', 0, 0b0110, L.MLSL, true, false], ['UMLSL_x', 1, 0b0110, L.MLSL, false, false],
  ['SQDMLSL_x', 0, 0b0111, L.QDMLSL, true, true],
  ['SMULL_x', 0, 0b1010, L.MULL, true, false], ['UMULL_x', 1, 0b1010, L.MULL, false, false],
  ['SQDMULL_x', 0, 0b1011, L.QDMULL, true, true],
];
for (const [name, u, opc, kind, signed, scalar] of LONG_ELEM) {
  const mk = (f: FX, isScalar: boolean) => {
    const x = indexed(f);
    if (!x) return null;
    return { d: f.rd, n: f.rn, m: x.m, idx: x.idx, es: x.es, half: isScalar ? 0 : f.q, kind, signed, scalar: isScalar };
  };
  rows.push(op(name, `0 q:1 ${u} 01111 size:2 L:1 M:1 rm:4 ${bits4(opc)} H:1 0 rn:5 rd:5`, L.widen, (f) => mk(f, false)));
  if (scalar) rows.push(op(`${name}_s`, `01 ${u} 11111 size:2 L:1 M:1 rm:4 ${bits4(opc)} H:1 0 rn:5 rd:5`, L.widen, (f) => mk(f, true)));
}

export const simdLong: OpDef[] = rows;
