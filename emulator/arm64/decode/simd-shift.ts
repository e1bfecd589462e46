// Advanced SIMD shift by immediate, vector and scalar (ARM ARM C4.1.6). The element size is the
// position of the highest set bit of immh; right shifts encode 2*esize - immh:immb, left shifts
// immh:immb - esize. immh = 0000 is the modified-immediate group (simd-copy.ts), whose rows fix
// more bits and so take precedence; what is left with immh = 0000 is UNDEFINED here.
// SCVTF/UCVTF/FCVTZS/FCVTZU (fixed-point, opcodes 11100/11111) belong to the FP tables.

import { op, type OpDef } from './pattern.ts';
import * as S from '../exec/simd-shift.ts';

interface ImmFields { q?: number; immh: number; immb: number; rn: number; rd: number }

function esOf(immh: number): number {
  return immh >= 8 ? 64 : immh >= 4 ? 32 : immh >= 2 ? 16 : immh === 1 ? 8 : 0;
}

const bits5 = (x: number) => x.toString(2).padStart(5, '0');

// name, U, opcode, kind, signed, round, acc, left, scalar form exists (64-bit only unless saturating)
type Row = [string, number, number, number, boolean, boolean, boolean, boolean, 'none' | 'd' | 'all'];
const SAME: Row[] = [
  ['SSHR', 0, 0b00000, S.SHR, true, false, false, false, 'd'],
  ['USHR', 1, 0b00000, S.SHR, false, false, false, false, 'd'],
  ['SSRA', 0, 0b00010, S.SHR, true, false, true, false, 'd'],
  ['USRA', 1, 0b00010, S.SHR, false, false, true, false, 'd'],
  ['SRSHR', 0, 0b00100, S.SHR, true, true, false, false, 'd'],
  ['URSHR', 1, 0b00100, S.SHR, false, true, false, false, 'd'],
  ['SRSRA', 0, 0b00110, S.SHR, true, true, true, false, 'd'],
  ['URSRA', 1, 0b00110, S.SHR, false, true, true, false, 'd'],
  ['SRI', 1, 0b01000, S.SRI, false, false, false, false, 'd'],
  ['SHL', 0, 0b01010, S.SHL, false, false, false, true, 'd'],
  ['SLI', 1, 0b01010, S.SLI, false, false, false, true, 'd'],
  ['SQSHLU', 1, 0b01100, S.QSHLU, true, false, false, true, 'all'],
  ['SQSHL_i', 0, 0b01110, S.QSHL, true, false, false, true, 'all'],
  ['UQSHL_i', 1, 0b01110, S.QSHL, false, false, false, true, 'all'],
];

// name, U, opcode, kind, signed, round, scalar form exists
type NRow = [string, number, number, number, boolean, boolean, boolean];
const NARROW: NRow[] = [
  ['SHRN', 0, 0b10000, S.SHRN, false, false, false],
  ['RSHRN', 0, 0b10001, S.SHRN, false, true, false],
  ['SQSHRUN', 1, 0b10000, S.QSHRUN, true, false, true],
  ['SQRSHRUN', 1, 0b10001, S.QSHRUN, true, true, true],
  ['SQSHRN', 0, 0b10010, S.QSHRN, true, false, true],
  ['UQSHRN', 1, 0b10010, S.QSHRN, false, false, true],
  ['SQRSHRN', 0, 0b10011, S.QSHRN, true, true, true],
  ['UQRSHRN', 1, 0b10011, S.QSHRN, false, true, true],
];

const rows: OpDef[] = [];
for (const [name, u, opc, kind, signed, round, acc, left, scalar] of SAME) {
  const mk = (f: ImmFields, isScalar: boolean) => {
    const es = esOf(f.immh);
    if (es === 0) return null;
    if (isScalar && scalar === 'd' && es !== 64) return null;
    const q = isScalar ? 0 : f.q!;
    if (es === 64 && !isScalar && q === 0) return null;
    const ib = f.immh * 8 + f.immb;
    const sh = left ? ib - es : 2 * es - ib;
    const plain = !isScalar && !round && !acc && (kind === S.SHR || kind === S.SHL);
    return { d: f.rd, n: f.rn, es, lanes: isScalar ? 1 : (q ? 128 : 64) / es, q, sh, kind, signed, round, acc, scalar: isScalar, plain };
  };
  rows.push(op(name, `0 q:1 ${u} 011110 immh:4 immb:3 ${bits5(opc)} 1 rn:5 rd:5`, S.shiftImm, (f) => mk(f, false)));
  rows.push(op(`${name}_s`, `01 ${u} 111110 immh:4 immb:3 ${bits5(opc)} 1 rn:5 rd:5`, S.shiftImm, (f) => mk(f, true)));
}
for (const [name, u, opc, kind, signed, round, scalar] of NARROW) {
  const mk = (f: ImmFields, isScalar: boolean) => {
    const es = esOf(f.immh);
    if (es === 0 || es === 64) return null;
    const sh = 2 * es - (f.immh * 8 + f.immb);
    return { d: f.rd, n: f.rn, es, lanes: isScalar ? 1 : 64 / es, half: isScalar ? 0 : f.q, sh, kind, signed, round, scalar: isScalar };
  };
  rows.push(op(name, `0 q:1 ${u} 011110 immh:4 immb:3 ${bits5(opc)} 1 rn:5 rd:5`, S.shiftNarrow, (f) => mk(f, false)));
  if (scalar) {
    rows.push(op(`${name}_s`, `01 ${u} 111110 immh:4 immb:3 ${bits5(opc)} 1 rn:5 rd:5`, S.shiftNarrow, (f) => mk(f, true)));
  }
}
for (const [name, u, signed] of [['SSHLL', 0, true], ['USHLL', 1, false]] as const) {
  rows.push(op(name, `0 q:1 ${u} 011110 immh:4 immb:3 10100 1 rn:5 rd:5`, S.shiftLong, (f: ImmFields) => {
    const es = esOf(f.immh);
    if (es === 0 || es === 64) return null;
    return { d: f.rd, n: f.rn, es, sh: f.immh * 8 + f.immb - es, half: f.q, signed };
  }));
}

export const simdShift: OpDef[] = rows;
