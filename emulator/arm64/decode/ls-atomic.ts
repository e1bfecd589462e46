// Atomic memory operations, compare and swap, compare and swap pair (FEAT_LSE, Armv8.1; ARM ARM
// C4.1.66 "Atomic memory operations", "Compare and swap", "Compare and swap pair"). Every row
// covers its four orderings (A = acquire, R/L = release) and, for the single-register forms, the
// four sizes: LDADD{A,AL,L}{B,H}, ..., SWP{A,AL,L}{B,H}, CAS{A,AL,L}{B,H}, CASP{A,AL,L}.
// ST<op> (STADD...) are LD<op> with Rt = XZR. In the atomic table o3 = 1 with opc != 000 is
// LDAPR (ls-excl.ts, FEAT_LRCPC) or unallocated. CAS/CASP need Rt2 = 11111; CASP with an odd
// Rs or Rt is UNDEFINED here (CONSTRAINED UNPREDICTABLE in the ARM ARM; QEMU's choice).
import { op, requires, type Fields } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as X from '../exec/ls-atomic.ts';

const O = X.AtomicOp;

const prepAtomic = (opc: number) => (f: Fields): Fields => ({
  b: 2 * f.rn,
  s: 2 * rz(f.rs),
  tw: 2 * wz(f.rt),
  size: 1 << f.size,
  op: opc,
  exec: f.size === 3 ? X.atomic64 : X.atomicSmall,
});

const ld = (name: string, opc: number) =>
  op(name, `size:2 111 0 00 a:1 r:1 1 rs:5 0 ${opc.toString(2).padStart(3, '0')} 00 rn:5 rt:5`, X.atomicSmall, prepAtomic(opc));

export const loadStoreAtomic = requires(
  'LSE',
  ld('LDADD', O.ADD),
  ld('LDCLR', O.CLR),
  ld('LDEOR', O.EOR),
  ld('LDSET', O.SET),
  ld('LDSMAX', O.SMAX),
  ld('LDSMIN', O.SMIN),
  ld('LDUMAX', O.UMAX),
  ld('LDUMIN', O.UMIN),
  op('SWP', 'size:2 111 0 00 a:1 r:1 1 rs:5 1 000 00 rn:5 rt:5', X.atomicSmall, prepAtomic(O.SWP)),
  op('CAS', 'size:2 001000 1 l:1 1 rs:5 o0:1 11111 rn:5 rt:5', X.cas, (f: Fields) => ({
    b: 2 * f.rn,
    s: 2 * rz(f.rs),
    sw: 2 * wz(f.rs),
    t: 2 * rz(f.rt),
    size: 1 << f.size,
  })),
  op('CASP', '0 sz:1 001000 0 l:1 1 rs:5 o0:1 11111 rn:5 rt:5', X.casp, (f: Fields) =>
    (f.rs | f.rt) & 1
      ? null
      : {
          b: 2 * f.rn,
          s: 2 * rz(f.rs),
          s1: 2 * rz(f.rs + 1),
          sw: 2 * wz(f.rs),
          sw1: 2 * wz(f.rs + 1),
          t: 2 * rz(f.rt),
          t1: 2 * rz(f.rt + 1),
          size: 4 << f.sz,
        }),
);
