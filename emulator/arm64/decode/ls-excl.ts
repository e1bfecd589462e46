// Load/store exclusive register and pair, load-acquire/store-release (ARM ARM C4.1.66 "Load/store
// exclusive register", "Load/store exclusive pair", "Load/store ordered") and LDAPR (FEAT_LRCPC,
// in "Atomic memory operations"). The compare and swap rows (CAS, CASP) and the other atomic memory
// operations (FEAT_LSE) are ls-atomic.ts. Not present, so UNDEFINED by having no pattern:
// LDLAR/STLLR (FEAT_LOR).
// The Rs and Rt2 fields that the single-register forms do not use are ignored, as QEMU does.
import { op, group, requires, type Fields } from './pattern.ts';
import { rz, wz } from '../regs.ts';
import * as A from '../exec/ls-access.ts';
import * as E from '../exec/ls-excl.ts';

const LOADS = [A.ldrb, A.ldrh, A.ldrw, A.ldrx];
const STORES = [A.strb, A.strh, A.strw, A.strx];

const prepLoadEx = (pair: number) => (f: Fields): Fields => ({
  b: 2 * f.rn,
  t: 2 * wz(f.rt),
  t2: 2 * (pair ? wz(f.rt2) : 33),
  s: 0,
  size: pair ? 4 << f.sz : 1 << f.sz,
  pair,
});
const prepStoreEx = (pair: number) => (f: Fields): Fields => ({
  b: 2 * f.rn,
  t: 2 * rz(f.rt),
  t2: 2 * (pair ? rz(f.rt2) : 32),
  s: 2 * wz(f.rs),
  size: pair ? 4 << f.sz : 1 << f.sz,
  pair,
});
const prepOrdered = (load: boolean) => (f: Fields): Fields => ({
  b: 2 * f.rn,
  t: 2 * (load ? wz(f.rt) : rz(f.rt)),
  size: 1 << f.sz,
  acc: (load ? LOADS : STORES)[f.sz]!,
});

export const loadStoreExclusive = group(
  op('STXR', 'sz:2 001000 0 0 0 rs:5 o0:1 ..... rn:5 rt:5', E.storeExclusive, prepStoreEx(0)),
  op('LDXR', 'sz:2 001000 0 1 0 ..... o0:1 ..... rn:5 rt:5', E.loadExclusive, prepLoadEx(0)),
  op('STXP', '1 sz:1 001000 0 0 1 rs:5 o0:1 rt2:5 rn:5 rt:5', E.storeExclusive, prepStoreEx(1)),
  op('LDXP', '1 sz:1 001000 0 1 1 ..... o0:1 rt2:5 rn:5 rt:5', E.loadExclusive, prepLoadEx(1)),
  op('STLR', 'sz:2 001000 1 0 0 ..... 1 ..... rn:5 rt:5', E.storeRelease, prepOrdered(false)),
  op('LDAR', 'sz:2 001000 1 1 0 ..... 1 ..... rn:5 rt:5', E.loadAcquire, prepOrdered(true)),
  ...requires('LRCPC', op('LDAPR', 'sz:2 111000 1 0 1 11111 1 100 00 rn:5 rt:5', E.loadAcquire, prepOrdered(true))),
);
