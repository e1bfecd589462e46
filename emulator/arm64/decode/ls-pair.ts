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
function pairKind(opc: number, v: number, l: number, idx: number): PairKind | null {
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

function prepPair(idx: number) {
  return (f: Fields): Fields | null => {
    const k = pairKind(f.opc, f.v, f.l, idx);
    if (k === null) return null;
    const reg = (n: number) => (f.v ? n : 2 * (f.l ? wz(n) : rz(n)));
    return { b: 2 * f.rn, t: reg(f.rt), t2: reg(f.rt2), off: f.imm7 * (1 << k.scale), acc: k.acc };
  };
}

export const loadStorePair = group(
  op('LDSTNP', 'opc:2 101 v:1 000 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairOff, prepPair(0)),
  op('LDSTP_post', 'opc:2 101 v:1 001 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairPost, prepPair(1)),
  op('LDSTP_off', 'opc:2 101 v:1 010 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairOff, prepPair(2)),
  op('LDSTP_pre', 'opc:2 101 v:1 011 l:1 imm7:s7 rt2:5 rn:5 rt:5', P.ldstPairPre, prepPair(3)),
  op('LDP_x_off', '10 101 0 010 1 imm7:s7 rt2:5 rn:5 rt:5', P.ldpXOff, (f) => prepPair(2)({ ...f, opc: 2, v: 0, l: 1 })),
  op('STP_x_off', '10 101 0 010 0 imm7:s7 rt2:5 rn:5 rt:5', P.stpXOff, (f) => prepPair(2)({ ...f, opc: 2, v: 0, l: 0 })),
  op('STP_x_pre', '10 101 0 011 0 imm7:s7 rt2:5 rn:5 rt:5', P.stpXPre, (f) => prepPair(3)({ ...f, opc: 2, v: 0, l: 0 })),
  op('LDP_x_post', '10 101 0 001 1 imm7:s7 rt2:5 rn:5 rt:5', P.ldpXPost, (f) => prepPair(1)({ ...f, opc: 2, v: 0, l: 1 })),
);
