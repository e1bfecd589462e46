// The Armv8.1/8.2 integer Advanced SIMD additions (ARM ARM C4.1.6): "Advanced SIMD three same
// (extra)" and "Advanced SIMD scalar three same extra" — SQRDMLAH/SQRDMLSH (FEAT_RDM, opcode
// 000S) and SDOT/UDOT (FEAT_DotProd, opcode 0010, size 10) — and their rows of "Advanced SIMD
// (scalar) x indexed element": SQRDMLAH/SQRDMLSH U=1 opcode 11S1, SDOT/UDOT opcode 1110 size 10.
// By element, size 01 indexes H:L:M over V0-V15, size 10 indexes H:L over V0-V31 (simd-long.ts).
// Not here (absent features): USDOT/SUDOT (I8MM), FCMLA/FCADD (FCMA), BFDOT (BF16).
import { op, requires, type Fields, type OpDef } from './pattern.ts';
import * as E from '../exec/simd-ops.ts';
import { byElement, elementwise, scalarElem } from '../exec/simd-elem.ts';
import { dot } from '../exec/simd-dot.ts';

/** SQRDMLAH/SQRDMLSH exist for 16- and 32-bit elements only. */
const hs = (size: number): boolean => size === 1 || size === 2;

function rdmRows(name: string, s: number, o: E.ElemOp): OpDef[] {
  const same = `1 000 ${s} 1`;
  const elem = `11 ${s} 1`;
  const index = (f: Fields) => (f.size === 1 ? { idx: f.H * 4 + f.L * 2 + f.M, m: f.rm } : { idx: f.H * 2 + f.L, m: f.M * 16 + f.rm });
  return [
    op(name, `0 q:1 1 01110 size:2 0 rm:5 ${same} rn:5 rd:5`, elementwise, (f) => {
      if (!hs(f.size)) return null;
      const es = 8 << f.size;
      return { d: f.rd, n: f.rn, m: f.rm, es, lanes: (f.q ? 128 : 64) / es, q: f.q, op: o, kind: -1 };
    }),
    op(`${name}_s`, `01 1 11110 size:2 0 rm:5 ${same} rn:5 rd:5`, scalarElem, (f) =>
      hs(f.size) ? { d: f.rd, n: f.rn, m: f.rm, es: 8 << f.size, lanes: 1, q: 0, op: o } : null),
    op(`${name}_x`, `0 q:1 1 01111 size:2 L:1 M:1 rm:4 ${elem} H:1 0 rn:5 rd:5`, byElement, (f) => {
      if (!hs(f.size)) return null;
      const es = 8 << f.size;
      return { d: f.rd, n: f.rn, ...index(f), es, lanes: (f.q ? 128 : 64) / es, q: f.q, op: o, scalar: false };
    }),
    op(`${name}_x_s`, `01 1 11111 size:2 L:1 M:1 rm:4 ${elem} H:1 0 rn:5 rd:5`, byElement, (f) =>
      hs(f.size) ? { d: f.rd, n: f.rn, ...index(f), es: 8 << f.size, lanes: 1, q: 0, op: o, scalar: true } : null),
  ];
}

function dotRows(name: string, u: number): OpDef[] {
  return [
    op(name, `0 q:1 ${u} 01110 10 0 rm:5 1 0010 1 rn:5 rd:5`, dot, (f) =>
      ({ d: f.rd, n: f.rn, m: f.rm, lanes: f.q ? 4 : 2, q: f.q, signed: u === 0, idx: -1 })),
    op(`${name}_x`, `0 q:1 ${u} 01111 10 L:1 M:1 rm:4 1110 H:1 0 rn:5 rd:5`, dot, (f) =>
      ({ d: f.rd, n: f.rn, m: f.M * 16 + f.rm, lanes: f.q ? 4 : 2, q: f.q, signed: u === 0, idx: f.H * 2 + f.L })),
  ];
}

export const simdExtra: OpDef[] = [
  ...requires('RDM', ...rdmRows('SQRDMLAH', 0, E.SQRDMLAH), ...rdmRows('SQRDMLSH', 1, E.SQRDMLSH)),
  ...requires('DotProd', ...dotRows('SDOT', 0), ...dotRows('UDOT', 1)),
];
