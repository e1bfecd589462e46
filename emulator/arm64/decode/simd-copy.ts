// Advanced SIMD copy, modified immediate, permute, extract and table lookup (ARM ARM C4.1.6).
// FMOV (vector, immediate) is cmode = 1111 and stays with the FP tables: no row here has cmode 1111.

import { op, type OpDef } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as C from '../exec/simd-copy.ts';
import * as P from '../exec/simd-perm.ts';

/** Element size (log2 bytes) from imm5's lowest set bit; -1 when imm5<3:0> = 0000 (reserved). */
function sizeOf(imm5: number): number {
  for (let s = 0; s < 4; s++) if ((imm5 >> s) & 1) return s;
  return -1;
}

interface CF { q?: number; imm5: number; imm4?: number; rn: number; rd: number }

const copy: OpDef[] = [
  op('DUP_e', '0 q:1 0 01110000 imm5:5 0 0000 1 rn:5 rd:5', C.dupElement, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0 || (s === 3 && !f.q)) return null;
    return { d: f.rd, n: f.rn, eb: 1 << s, idx: f.imm5 >> (s + 1), bytes: f.q ? 16 : 8 };
  }),
  op('DUP_s', '01 0 11110000 imm5:5 0 0000 1 rn:5 rd:5', C.dupElement, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0) return null;
    return { d: f.rd, n: f.rn, eb: 1 << s, idx: f.imm5 >> (s + 1), bytes: 1 << s };
  }),
  op('DUP_g', '0 q:1 0 01110000 imm5:5 0 0001 1 rn:5 rd:5', C.dupGeneral, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0 || (s === 3 && !f.q)) return null;
    return { d: f.rd, n: rz(f.rn), eb: 1 << s, q: f.q };
  }),
  op('INS_g', '0 1 0 01110000 imm5:5 0 0011 1 rn:5 rd:5', C.insGeneral, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0) return null;
    return { d: f.rd, n: rz(f.rn), eb: 1 << s, idx: f.imm5 >> (s + 1) };
  }),
  op('INS_e', '0 1 1 01110000 imm5:5 0 imm4:4 1 rn:5 rd:5', C.insElement, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0) return null;
    return { d: f.rd, n: f.rn, eb: 1 << s, idx: f.imm5 >> (s + 1), idx2: f.imm4! >> s };
  }),
  op('SMOV', '0 q:1 0 01110000 imm5:5 0 0101 1 rn:5 rd:5', C.movToGeneral, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0 || s === 3 || (s === 2 && !f.q)) return null;
    return { d: wz(f.rd), n: f.rn, eb: 1 << s, idx: f.imm5 >> (s + 1), signed: true, x: f.q };
  }),
  op('UMOV', '0 q:1 0 01110000 imm5:5 0 0111 1 rn:5 rd:5', C.movToGeneral, (f: CF) => {
    const s = sizeOf(f.imm5);
    if (s < 0 || (f.q ? s !== 3 : s === 3)) return null;
    return { d: wz(f.rd), n: f.rn, eb: 1 << s, idx: f.imm5 >> (s + 1), signed: false, x: f.q };
  }),
];

/** AdvSIMDExpandImm (ARM ARM J1 shared pseudocode) for every cmode except 1111: [lo, hi] words. */
export function expandImm(op1: number, cmode: number, imm8: number): [number, number] {
  let w: number;
  switch (cmode >> 1) {
    case 0: w = imm8; break;
    case 1: w = imm8 << 8; break;
    case 2: w = imm8 << 16; break;
    case 3: w = imm8 << 24; break;
    case 4: w = (imm8 | (imm8 << 16)); break;
    case 5: w = ((imm8 << 8) | (imm8 << 24)); break;
    case 6: w = cmode & 1 ? (imm8 << 16) | 0xffff : (imm8 << 8) | 0xff; break;
    default: {
      if (!op1) {
        w = imm8 * 0x01010101;
        break;
      }
      let lo = 0, hi = 0;
      for (let i = 0; i < 4; i++) if ((imm8 >> i) & 1) lo |= 0xff << (8 * i);
      for (let i = 0; i < 4; i++) if ((imm8 >> (i + 4)) & 1) hi |= 0xff << (8 * i);
      return [lo >>> 0, hi >>> 0];
    }
  }
  return [w >>> 0, w >>> 0];
}

interface MF { q: number; op?: number; imm: number; rd: number }

function immPrep(invertOp: boolean) {
  return (f: MF, word: number) => {
    const cmode = (word >>> 12) & 15;
    const op1 = (word >>> 29) & 1;
    let [lo, hi] = expandImm(op1, cmode, f.imm);
    if (invertOp && op1) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    }
    return { d: f.rd, q: f.q, lo, hi };
  };
}

// o2 (bit 11) is fixed 0: with o2 = 1 only cmode 1111 (FMOV half) is allocated.
const modImm: OpDef[] = [
  op('MOVI_32', '0 q:1 op:1 0111100000 imm:3 0 .. 0 0 1 imm:5 rd:5', C.moviWrite, immPrep(true)),
  op('ORR_32', '0 q:1 0 0111100000 imm:3 0 .. 1 0 1 imm:5 rd:5', C.orrImm, immPrep(false)),
  op('BIC_32', '0 q:1 1 0111100000 imm:3 0 .. 1 0 1 imm:5 rd:5', C.bicImm, immPrep(false)),
  op('MOVI_16', '0 q:1 op:1 0111100000 imm:3 10 . 0 0 1 imm:5 rd:5', C.moviWrite, immPrep(true)),
  op('ORR_16', '0 q:1 0 0111100000 imm:3 10 . 1 0 1 imm:5 rd:5', C.orrImm, immPrep(false)),
  op('BIC_16', '0 q:1 1 0111100000 imm:3 10 . 1 0 1 imm:5 rd:5', C.bicImm, immPrep(false)),
  op('MOVI_ones', '0 q:1 op:1 0111100000 imm:3 110 . 0 1 imm:5 rd:5', C.moviWrite, immPrep(true)),
  op('MOVI_8', '0 q:1 0 0111100000 imm:3 1110 0 1 imm:5 rd:5', C.moviWrite, immPrep(false)),
  op('MOVI_64', '0 q:1 1 0111100000 imm:3 1110 0 1 imm:5 rd:5', C.moviWrite, immPrep(false)),
];

interface PF { q: number; size: number; rm: number; rn: number; rd: number; opc: number; imm4: number; len: number; op: number }

const perm: OpDef[] = [
  ...([['UZP1', '001'], ['TRN1', '010'], ['ZIP1', '011'], ['UZP2', '101'], ['TRN2', '110'], ['ZIP2', '111']] as const).map(
    ([name, opc]) => op(name, `0 q:1 001110 size:2 0 rm:5 0 ${opc} 10 rn:5 rd:5`, P.permute, (f: PF) =>
      f.size === 3 && !f.q ? null : { d: f.rd, n: f.rn, m: f.rm, eb: 1 << f.size, bytes: f.q ? 16 : 8, opc: parseInt(opc, 2) }),
  ),
  op('EXT', '0 q:1 101110 00 0 rm:5 0 imm4:4 0 rn:5 rd:5', P.ext, (f: PF) =>
    !f.q && f.imm4 >= 8 ? null : { d: f.rd, n: f.rn, m: f.rm, imm: f.imm4, bytes: f.q ? 16 : 8 }),
  op('TBL', '0 q:1 001110 00 0 rm:5 0 len:2 op:1 00 rn:5 rd:5', P.tbl, (f: PF) =>
    ({ d: f.rd, n: f.rn, m: f.rm, regs: f.len + 1, tbx: f.op, bytes: f.q ? 16 : 8 })),
];

export const simdCopy: OpDef[] = [...copy, ...modImm, ...perm];
