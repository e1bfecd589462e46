// Load/store register pair (ARM ARM C4.1.66: no-allocate pair offset, post-indexed, offset,
// pre-indexed), general and SIMD&FP registers.
import { op, group, type Fields } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as P from '../exec/ls-pair.ts';

interface PairKind {
  acc: P.PairAccess;
  scale: number;
}

/**
 * opc, V, L -> access. opc 01 with V = 0 is LDPSW (loads, not the no-allocate form); its store
 * slot is STGP (FEAT_MTE, absent). opc 11 is unallocated.
 */
export function pairKind(opc: number, v: number, l: number, idx: number): PairKind | null {
  if (v) {
    if (opc === 3) return null;
    const acc = l ? [P.ldpVs, P.ldpVd, P.ldpVq][opc]! : [P.stpVs, P.stpVd, P.stpVq][opc]!;
    return { acc, scale: 2 + opc };
  }
  if (opc === 0) return { acc: l ? P.ldpW : P.stpW, scale: 2 };
  if (opc === 2) return { acc: l ? P.ldpX : P.stpX, scale: 3 };
  if (opc === 1 && l && idx !== 0) return { acc: P.ldpsw, scale: 2 };
  return null;
}

/** Register operand: a SIMD&FP register number, or a general register's slot (XZR/WZR mapped). */
function pairReg(n: number, v: number, l: number): number {
  return v ? n : 2 * (l ? wz(n) : rz(n));
}

// No closure or object spread per word: this runs for every LDP/STP decoded.
function pairFields(f: Fields, opc: number, v: number, l: number, idx: number): Fields | null {
  const k = pairKind(opc, v, l, idx);
  if (k === null) return null;
  return { b: 2 * f.rn, t: pairReg(f.rt, v, l), t2: pairReg(f.rt2, v, l), off: f.imm7 * (1 << k.scale), acc: k.acc };
}

function prepPair(idx: number) {
  return (f: Fields): Fields | null => pairFields(f, f.opc, f.v, f.l, idx);
}

export const loadStorePair = group(
  op('LDSTNP', 'opc:2 101 v:1 000 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairOff, prepPair(0)),
  op('LDSTP_post', 'opc:2 101 v:1 001 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairPost, prepPair(1)),
  op('LDSTP_off', 'opc:2 101 v:1 010 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairOff, prepPair(2)),
  op('LDSTP_pre', 'opc:2 101 v:1 011 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairPre, prepPair(3)),
  op('LDP_x_off', '10 101 0 010 1 imm7:s7 rt2:5 rn:5 rt:5', P.ldpXOff, (f) => pairFields(f, 2, 0, 1, 2)),
  op('STP_x_off', '10 101 0 010 0 imm7:s7 rt2:5 rn:5 rt:5', P.stpXOff, (f) => pairFields(f, 2, 0, 0, 2)),
  op('STP_x_pre', '10 101 0 011 0 imm7:s7 rt2:5 rn:5 rt:5', P.stpXPre, (f) => pairFields(f, 2, 0, 0, 3)),
  op('LDP_x_post', '10 101 0 001 1 imm7:s7 rt2:5 rn:5 rt:5', P.ldpXPost, (f) => pairFields(f, 2, 0, 1, 1)),
);
