// A64 scalar floating point (ARM ARM C4.1.92 "Data Processing -- Scalar Floating-Point and
// Advanced SIMD", the scalar FP groups): single (ftype 00) and double (ftype 01); conversions to
// and from half precision (FCVT, ftype/opc 11) are base FP.
// Half-precision arithmetic (FEAT_FP16: ftype 11 here, the Advanced SIMD FP16 groups in
// fp-half.ts) decodes only for a core with FP16 (Cortex-A76/A55; ID_AA64PFR0_EL1.FP/AdvSIMD = 1):
// `prep` reads the decoder's feature set, so on an Armv8.0 core those words are UNDEFINED.
import { group, op } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as x from '../exec/fp-basic.ts';
import { condHolds } from '../exec/int-alu.ts';
import type { Cpu } from '../cpu.ts';
import type { FeatureSet } from '../features.ts';

type F = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const FMT = [32, 64, 0, 16];
type FS = FeatureSet;
const fmtOf = (f: F, feat: FS): number => (f.ftype === 3 && !feat.has('FP16') ? 0 : FMT[f.ftype]!);
const withType = (f: F, feat: FS, extra: F): F | null => {
  const fmt = fmtOf(f, feat);
  return fmt === 0 ? null : { fmt, ...extra };
};
/** opcode 0 FMUL, 1 FDIV, 2 FADD, 3 FSUB as the fast-path operation codes (OP in exec/fp-vector.ts). */
const FAST_OP = [2, 3, 0, 1];

export const fpScalarBasic = group(
  op('FP2', '000 11110 ftype:2 1 rm:5 opcode:4 10 rn:5 rd:5', x.fp2, (f: F, _w: number, feat: FS) =>
    f.opcode > 8 ? null : withType(f, feat, { opcode: f.opcode, rn: f.rn, rm: f.rm, rd: f.rd,
      fastOp: FAST_OP[f.opcode] ?? -1, exec: f.ftype < 2 && f.opcode < 4 ? x.fp2fast : x.fp2 })),
  op('FMOV_r', '000 11110 ftype:2 1 0000 00 10000 rn:5 rd:5', x.fmovReg, (f: F, _w: number, feat: FS) => withType(f, feat, { rn: f.rn, rd: f.rd })),
  op('FABS', '000 11110 ftype:2 1 0000 01 10000 rn:5 rd:5', x.fabsNeg, (f: F, _w: number, feat: FS) => withType(f, feat, { neg: false, rn: f.rn, rd: f.rd })),
  op('FNEG', '000 11110 ftype:2 1 0000 10 10000 rn:5 rd:5', x.fabsNeg, (f: F, _w: number, feat: FS) => withType(f, feat, { neg: true, rn: f.rn, rd: f.rd })),
  op('FSQRT', '000 11110 ftype:2 1 0000 11 10000 rn:5 rd:5', x.fsqrt, (f: F, _w: number, feat: FS) => withType(f, feat, { rn: f.rn, rd: f.rd })),
  op('FCVT', '000 11110 ftype:2 1 0001 opc:2 10000 rn:5 rd:5', x.fcvt, (f: F, _w: number, feat: FS) =>
    f.ftype === f.opc || f.ftype === 2 || f.opc === 2 ? null : { from: FMT[f.ftype], to: FMT[f.opc], rn: f.rn, rd: f.rd }),
  // FRINTN/P/M/Z/A/X/I: rmode from the opcode; FRINTX and FRINTI use FPCR.RMode.
  op('FRINT', '000 11110 ftype:2 1 001 rmode:3 10000 rn:5 rd:5', x.frint, (f: F, _w: number, feat: FS) => {
    if (f.rmode === 5) return null;
    const rm = [0, 1, 2, 3, 4, -1, -1, -1][f.rmode]!;
    return withType(f, feat, { rmode: rm, exact: f.rmode === 6, rn: f.rn, rd: f.rd });
  }),
  op('FCMP', '000 11110 ftype:2 1 rm:5 00 1000 rn:5 e:1 z:1 000', x.fcmp, (f: F, _w: number, feat: FS) =>
    withType(f, feat, { rn: f.rn, rm: f.rm, zero: f.z === 1, signalAll: f.e === 1 })),
  op('FCCMP', '000 11110 ftype:2 1 rm:5 cond:4 01 rn:5 e:1 nzcv:4', (cpu: Cpu, f: F) => x.fccmp(cpu, f, condHolds), (f: F, _w: number, feat: FS) =>
    withType(f, feat, { rn: f.rn, rm: f.rm, cond: f.cond, nzcv: f.nzcv, signalAll: f.e === 1, zero: false })),
  op('FCSEL', '000 11110 ftype:2 1 rm:5 cond:4 11 rn:5 rd:5', (cpu: Cpu, f: F) => x.fcsel(cpu, f, condHolds), (f: F, _w: number, feat: FS) =>
    withType(f, feat, { rn: f.rn, rm: f.rm, rd: f.rd, cond: f.cond })),
  op('FMOV_i', '000 11110 ftype:2 1 imm8:8 100 00000 rd:5', x.fmovImm, (f: F, _w: number, feat: FS) =>
    withType(f, feat, { rd: f.rd, bits: f.ftype === 3 ? x.vfpExpandImmHalf(f.imm8) : x.vfpExpandImm(f.imm8, false) | 0, bitsHi: x.vfpExpandImm(f.imm8, true) | 0 })),
  op('FP3', '000 11111 ftype:2 o1:1 rm:5 o0:1 ra:5 rn:5 rd:5', x.fp3, (f: F, _w: number, feat: FS) =>
    withType(f, feat, { o1: f.o1, o0: f.o0, rm: f.rm, ra: f.ra, rn: f.rn, rd: f.rd })),

  // Conversions between floating point and integer (C4.1.92.9).
  op('FMOV_g', 'sf:1 00 11110 ftype:2 1 rmode:2 opc:3 000000 rn:5 rd:5', x.fmovGen, (f: F, _w: number, feat: FS) => {
    if (f.opc !== 6 && f.opc !== 7) return null;
    const toGp = f.opc === 6;
    let kind: string | null = null;
    if (f.sf === 0 && f.ftype === 0 && f.rmode === 0) kind = toGp ? 's2w' : 'w2s';
    else if (f.sf === 1 && f.ftype === 1 && f.rmode === 0) kind = toGp ? 'd2x' : 'x2d';
    else if (f.sf === 1 && f.ftype === 2 && f.rmode === 1) kind = toGp ? 'd12x' : 'x2d1';
    else if (feat.has('FP16') && f.ftype === 3 && f.rmode === 0) kind = toGp ? 'h2w' : 'w2h';
    if (kind === null) return null;
    return { kind, rn: toGp ? f.rn : rz(f.rn), rd: toGp ? wz(f.rd) : f.rd };
  }),
  op('CVT_i2f', 'sf:1 00 11110 ftype:2 1 00 01 u:1 000000 rn:5 rd:5', x.intToFp, (f: F, _w: number, feat: FS) =>
    withType(f, feat, { sf: f.sf, unsigned: f.u === 1, fbits: 0, rn: rz(f.rn), rd: f.rd })),
  op('CVT_f2i', 'sf:1 00 11110 ftype:2 1 rmode:2 00 u:1 000000 rn:5 rd:5', x.fpToInt, (f: F, _w: number, feat: FS) =>
    withType(f, feat, { sf: f.sf, unsigned: f.u === 1, rmode: [0, 1, 2, 3][f.rmode], fbits: 0, rn: f.rn, rd: wz(f.rd) })),
  op('FCVTA', 'sf:1 00 11110 ftype:2 1 00 10 u:1 000000 rn:5 rd:5', x.fpToInt, (f: F, _w: number, feat: FS) =>
    withType(f, feat, { sf: f.sf, unsigned: f.u === 1, rmode: 4, fbits: 0, rn: f.rn, rd: wz(f.rd) })),
  // Fixed-point conversions (C4.1.92.8): scale = 64 - scale field; 32-bit forms need scale >= 32.
  op('CVT_i2f_fix', 'sf:1 00 11110 ftype:2 0 00 01 u:1 scale:6 rn:5 rd:5', x.intToFp, (f: F, _w: number, feat: FS) =>
    !f.sf && f.scale < 32 ? null : withType(f, feat, { sf: f.sf, unsigned: f.u === 1, fbits: 64 - f.scale, rn: rz(f.rn), rd: f.rd })),
  op('CVT_f2i_fix', 'sf:1 00 11110 ftype:2 0 11 00 u:1 scale:6 rn:5 rd:5', x.fpToInt, (f: F, _w: number, feat: FS) =>
    !f.sf && f.scale < 32 ? null : withType(f, feat, { sf: f.sf, unsigned: f.u === 1, rmode: 3, fbits: 64 - f.scale, rn: f.rn, rd: wz(f.rd) })),
);
