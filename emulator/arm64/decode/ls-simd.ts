// Advanced SIMD load/store multiple structures and single structure, with and without
// post-index (ARM ARM C4.1.66; LD1-LD4, ST1-ST4, LD1R-LD4R in C7.2). Post-index with Rm = 31
// means "by the number of bytes transferred"; otherwise by Xm.
import { op, group, type Fields, type OpDef, type Exec } from './pattern.ts';
import { rz } from '../regs.ts';
import * as S from '../exec/ls-struct.ts';

/** opcode -> [rpt, selem] for the multiple-structure forms; others are unallocated. */
const MULTI: Record<number, [number, number]> = {
  0b0000: [1, 4], // LD4/ST4
  0b0010: [4, 1], // LD1/ST1, 4 registers
  0b0100: [1, 3], // LD3/ST3
  0b0110: [3, 1], // LD1/ST1, 3 registers
  0b0111: [1, 1], // LD1/ST1, 1 register
  0b1000: [1, 2], // LD2/ST2
  0b1010: [2, 1], // LD1/ST1, 2 registers
};

function structFields(
  f: Fields, post: boolean, regs: number, q: number, selem: number, eb: number, index: number, total: number,
): Fields {
  const wb = !post ? 0 : f.rm === 31 ? 1 : 2;
  return { b: 2 * f.rn, t: f.rt, regs, q, selem, eb, index, total, wb, m: post ? 2 * rz(f.rm) : 0 };
}

function prepMulti(opcode: number, post: boolean) {
  const [rpt, selem] = MULTI[opcode]!;
  return (f: Fields): Fields | null => {
    // The 1D arrangement exists only for LD1/ST1.
    if (f.size === 3 && f.q === 0 && selem !== 1) return null;
    const q = f.q ? 16 : 8;
    const regs = rpt * selem;
    return structFields(f, post, regs, q, selem, 1 << f.size, 0, regs * q);
  };
}

/** Single structure: scale = opcode<2:1>, selem = opcode<0>:R + 1; lane index from Q:S:size. */
function prepSingle(opcode: number, post: boolean) {
  return (f: Fields): Fields | null => {
    const selem = (((opcode & 1) << 1) | f.r) + 1;
    let scale = opcode >> 1;
    let index: number;
    if (scale === 3) {
      // LDnR: replicate; S must be 0 (the store form has no pattern).
      if (f.s) return null;
      scale = f.size;
      const eb = 1 << scale;
      return structFields(f, post, selem, f.q ? 16 : 8, selem, eb, 0, selem * eb);
    }
    if (scale === 0) index = (f.q << 3) | (f.s << 2) | f.size;
    else if (scale === 1) {
      if (f.size & 1) return null;
      index = (f.q << 2) | (f.s << 1) | (f.size >> 1);
    } else {
      if (f.size & 2) return null;
      if (f.size === 0) index = (f.q << 1) | f.s;
      else {
        if (f.s) return null;
        scale = 3;
        index = f.q;
      }
    }
    const eb = 1 << scale;
    return structFields(f, post, selem, 16, selem, eb, index, selem * eb);
  };
}

const ops: OpDef[] = [];
const bits = (v: number, n: number) => v.toString(2).padStart(n, '0');

for (const opcode of Object.keys(MULTI).map(Number)) {
  const [rpt, selem] = MULTI[opcode]!;
  const ld: Exec = selem === 1 ? S.ld1Multi : S.ldNMulti;
  const st: Exec = selem === 1 ? S.st1Multi : S.stNMulti;
  const name = selem === 1 ? `1x${rpt}` : `${selem}`;
  const oc = bits(opcode, 4);
  ops.push(
    op(`ST${name}_multi`, `0 q:1 0011000 0 000000 ${oc} size:2 rn:5 rt:5`, st, prepMulti(opcode, false)),
    op(`LD${name}_multi`, `0 q:1 0011000 1 000000 ${oc} size:2 rn:5 rt:5`, ld, prepMulti(opcode, false)),
    op(`ST${name}_multi_post`, `0 q:1 0011001 0 0 rm:5 ${oc} size:2 rn:5 rt:5`, st, prepMulti(opcode, true)),
    op(`LD${name}_multi_post`, `0 q:1 0011001 1 0 rm:5 ${oc} size:2 rn:5 rt:5`, ld, prepMulti(opcode, true)),
  );
}

for (let opcode = 0; opcode < 8; opcode++) {
  const oc = bits(opcode, 3);
  const rep = opcode >> 1 === 3;
  const ld: Exec = rep ? S.ldRep : S.ldLane;
  ops.push(
    op(`LD_single_${oc}`, `0 q:1 0011010 1 r:1 00000 ${oc} s:1 size:2 rn:5 rt:5`, ld, prepSingle(opcode, false)),
    op(`LD_single_${oc}_post`, `0 q:1 0011011 1 r:1 rm:5 ${oc} s:1 size:2 rn:5 rt:5`, ld, prepSingle(opcode, true)),
  );
  if (!rep) {
    ops.push(
      op(`ST_single_${oc}`, `0 q:1 0011010 0 r:1 00000 ${oc} s:1 size:2 rn:5 rt:5`, S.stLane, prepSingle(opcode, false)),
      op(`ST_single_${oc}_post`, `0 q:1 0011011 0 r:1 rm:5 ${oc} s:1 size:2 rn:5 rt:5`, S.stLane, prepSingle(opcode, true)),
    );
  }
}

export const simdStructures = group(...ops);
