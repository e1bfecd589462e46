// Load/store register (ARM ARM C4.1.66): unsigned immediate, unscaled immediate, immediate
// post-/pre-indexed, unprivileged, register offset, and load register (literal), for general
// and SIMD&FP registers. The (V, size, opc) table below is the one those encoding pages share.
import { op, group, type Fields, type OpDef } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as A from '../exec/ls-access.ts';
import * as X from '../exec/ls-single.ts';

type Acc = A.Access | null;

/** Access by V:size:opc (C4.1.66 "Load/store register (unsigned immediate)" decode table). */
export const ACCESS: Acc[] = [
  A.strb, A.ldrb, A.ldrsbx, A.ldrsbw,
  A.strh, A.ldrh, A.ldrshx, A.ldrshw,
  A.strw, A.ldrw, A.ldrsw, null,
  A.strx, A.ldrx, A.prfm, null,
  A.strVb, A.ldrVb, A.strVq, A.ldrVq,
  A.strVh, A.ldrVh, null, null,
  A.strVs, A.ldrVs, null, null,
  A.strVd, A.ldrVd, null, null,
];

interface Kind {
  acc: A.Access;
  /** log2 of the access size */
  scale: number;
  /** register operand for the access (see ls-access.ts) */
  t: number;
}

function kind(v: number, size: number, opc: number, rt: number): Kind | null {
  const acc = ACCESS[v * 16 + size * 4 + opc] ?? null;
  if (acc === null) return null;
  if (v) return { acc, scale: opc >= 2 ? 4 : size, t: rt };
  const load = opc !== 0;
  return { acc, scale: size, t: 2 * (load ? wz(rt) : rz(rt)) };
}

const isPrefetch = (f: Fields): boolean => f.v === 0 && f.size === 3 && f.opc === 2;

function immFields(f: Fields, off: number): Fields | null {
  const k = kind(f.v, f.size, f.opc, f.rt);
  if (k === null) return null;
  return { b: 2 * f.rn, t: k.t, off, acc: k.acc };
}

const prepUimm = (f: Fields): Fields | null => {
  const k = kind(f.v, f.size, f.opc, f.rt);
  if (k === null) return null;
  return { b: 2 * f.rn, t: k.t, off: f.imm12 << k.scale, acc: k.acc };
};
const prepUnscaled = (f: Fields): Fields | null => immFields(f, f.imm9);
/** Pre/post-index and unprivileged forms have no prefetch (that row is unallocated). */
const prepIndexed = (f: Fields): Fields | null => (isPrefetch(f) ? null : immFields(f, f.imm9));
/** LDTR/STTR exist for general registers only. */
const prepUnpriv = (f: Fields): Fields | null => (f.v ? null : prepIndexed(f));

/** Register-offset forms; ik = index kind (0 X/LSL, 1 UXTW, 2 SXTW) for the fast handlers. */
const prepRegKind = (ik: number) => (f: Fields): Fields | null => {
  const k = kind(f.v, f.size, f.opc, f.rt);
  if (k === null) return null;
  const fastExec = f.v ? V_REG_FAST[f.size * 4 + f.opc] : REG_FAST[f.size * 4 + f.opc];
  return { b: 2 * f.rn, t: k.t, m: 2 * rz(f.rm), mul: f.s ? 1 << k.scale : 1, acc: k.acc, ik, exec: fastExec };
};
const prepReg = prepRegKind(0);
// SIMD&FP loads by register offset (vectorised loops index arrays this way): S, D, Q.
const V_REG_FAST: (((cpu: never, f: Fields) => void) | undefined)[] = [
  undefined, undefined, undefined, X.ldrQReg,
  undefined, undefined, undefined, undefined,
  undefined, X.ldrSReg, undefined, undefined,
  undefined, X.ldrDReg, undefined, undefined,
] as never;
const REG_FAST: (((cpu: never, f: Fields) => void) | undefined)[] = [
  undefined, X.ldrBReg, undefined, undefined,
  undefined, undefined, undefined, undefined,
  X.strWReg, X.ldrWReg, undefined, undefined,
  X.strXReg, X.ldrXReg, undefined, undefined,
] as never;

/** LDR (literal): opc 00 = 32-bit, 01 = 64-bit, 10 = LDRSW (V=0) / 128-bit (V=1), 11 = PRFM / unallocated. */
const LITERAL: Acc[] = [A.ldrw, A.ldrx, A.ldrsw, null, A.ldrVs, A.ldrVd, A.ldrVq, null];
const prepLiteral = (f: Fields): Fields | null => {
  const acc = LITERAL[f.v * 4 + f.opc] ?? null;
  if (acc === null) return null;
  return { off: f.imm19 * 4, t: f.v ? f.rt : 2 * wz(f.rt), acc };
};

/** The frequent immediate-offset forms with a handler of their own. */
function fast(name: string, size: string, opc: string, exec: (cpu: never, f: Fields) => void): OpDef {
  const sz = parseInt(size, 2);
  const o = parseInt(opc, 2);
  return op(name, `${size} 111 0 01 ${opc} imm12:12 rn:5 rt:5`, exec as never, (f) =>
    prepUimm({ v: 0, size: sz, opc: o, imm12: f.imm12, rn: f.rn, rt: f.rt }),
  );
}

export const loadStoreRegister = group(
  op('LDST_uimm', 'size:2 111 v:1 01 opc:2 imm12:12 rn:5 rt:5', X.ldstImm, prepUimm),
  fast('LDR_x_uimm', '11', '01', X.ldrXImm),
  fast('LDR_w_uimm', '10', '01', X.ldrWImm),
  fast('LDRB_uimm', '00', '01', X.ldrBImm),
  fast('STR_x_uimm', '11', '00', X.strXImm),
  fast('STR_w_uimm', '10', '00', X.strWImm),
  fast('STRB_uimm', '00', '00', X.strBImm),
  op('PRFM_uimm', '11 111 0 01 10 imm12:12 rn:5 rt:5', X.prefetch),
  op('LDST_unscaled', 'size:2 111 v:1 00 opc:2 0 imm9:s9 00 rn:5 rt:5', X.ldstImm, prepUnscaled),
  op('PRFUM', '11 111 0 00 10 0 imm9:s9 00 rn:5 rt:5', X.prefetch),
  op('LDST_post', 'size:2 111 v:1 00 opc:2 0 imm9:s9 01 rn:5 rt:5', X.ldstPost, prepIndexed),
  op('LDST_unpriv', 'size:2 111 v:1 00 opc:2 0 imm9:s9 10 rn:5 rt:5', X.ldstUnpriv, prepUnpriv),
  op('LDST_pre', 'size:2 111 v:1 00 opc:2 0 imm9:s9 11 rn:5 rt:5', X.ldstPre, prepIndexed),
  // Register offset: option<1> = 0 is unallocated (no pattern). option 011 = LSL, 111 = SXTX.
  op('LDST_reg_x', 'size:2 111 v:1 00 opc:2 1 rm:5 .11 s:1 10 rn:5 rt:5', X.ldstRegX, prepReg),
  op('LDST_reg_uxtw', 'size:2 111 v:1 00 opc:2 1 rm:5 010 s:1 10 rn:5 rt:5', X.ldstRegUxtw, prepRegKind(1)),
  op('LDST_reg_sxtw', 'size:2 111 v:1 00 opc:2 1 rm:5 110 s:1 10 rn:5 rt:5', X.ldstRegSxtw, prepRegKind(2)),
  op('PRFM_reg', '11 111 0 00 10 1 rm:5 .1. s:1 10 rn:5 rt:5', X.prefetch),
  op('LDR_lit', 'opc:2 011 v:1 00 imm19:s19 rt:5', X.ldLiteral, prepLiteral),
  op('PRFM_lit', '11 011 0 00 imm19:s19 rt:5', X.prefetch),
);
