// Emitters for the LSE atomics (ARM ARM C3.2.12: CAS, CASP, LDADD/LDCLR/LDEOR/LDSET/SWP; exec/
// ls-atomic.ts), as the wasm interpreter runs them (winterp-mem.ts): a naturally aligned access
// whose page is in both the read and the write TLB is one load, a compare or an operation, and a
// store -- single-copy atomic, as only one CPU runs at a time. Anything else (unaligned, a TLB
// miss, a device) runs the handler, which faults or walks. Linux's locks, reference counts and
// per-CPU cmpxchg are these: ~25 K handler calls from the translated pages of a kit boot.
import type { Fields } from '../decode/pattern.ts';
import * as A from '../exec/ls-atomic.ts';
import * as X from '../exec/ls-excl.ts';
import { EXCL_BYTE, EXCL_SIZE_BYTE, EXCL_VALUE_BYTE } from '../regs.ts';
import { type Bytes, Op } from './wasm.ts';
import { type Emit, L_ADDR, L_B, L_R, L_RB, L_VA } from './emitter.ts';
import type { Emitter } from './emit-alu.ts';
import { probe, withSlowPath } from './emit-mem.ts';

export const LOAD_ZX = [Op.i64_load8_u, Op.i64_load16_u, Op.i64_load32_u, Op.i64_load];
export const STORE = [Op.i64_store8, Op.i64_store16, Op.i64_store32, Op.i64_store];

/** L_ADDR = the wasm address of [Xb], aligned to `size` and in both TLBs; else br $slow. */
function rmwAddress(e: Emit, b: number, size: number): void {
  alignedBase(e, b, size);
  probe(e, size, false);
  probe(e, size, true);
}

/** L_VA = [Xb], br $slow unless aligned to `size` (the handler raises the fault). */
function alignedBase(e: Emit, b: number, size: number): void {
  e.x(b);
  e.set(L_VA);
  if (size > 1) {
    e.get(L_VA);
    e.op(Op.i32_wrap_i64);
    e.i32(size - 1);
    e.op(Op.i32_and);
    e.op(Op.br_if);
    e.u32(0);
  }
}

/** rmwAddress, then L_R = the old value at it (`size` bytes, zero-extended). */
function loadOld(e: Emit, b: number, size: number): void {
  rmwAddress(e, b, size);
  e.get(L_ADDR);
  e.mem(LOAD_ZX[Math.log2(size)]!, 0);
  e.set(L_R);
}

/** Push the i64 in X<slot> masked to `bytes` bytes. */
function masked(e: Emit, slot: number, bytes: number): void {
  e.x(slot);
  if (bytes < 8) {
    e.i64((1n << BigInt(8 * bytes)) - 1n);
    e.op(Op.i64_and);
  }
}

/** CAS: Rs compared at the access size; Rt stored when equal; the old value, zero-extended, into Rs. */
function cas(e: Emit, f: Fields): boolean {
  const lg = Math.log2(f.size);
  withSlowPath(e, () => {
    loadOld(e, f.b >> 1, f.size);
    masked(e, f.s >> 1, f.size);
    e.get(L_R);
    e.op(Op.i64_eq);
    e.if();
    e.get(L_ADDR);
    e.x(f.t >> 1);
    e.mem(STORE[lg]!, 0);
    e.end();
    e.setX(f.sw >> 1, () => e.get(L_R));
  });
  return true;
}

/** LD<op>/SWP without a comparison (ADD, CLR, EOR, SET, SWP): the value op Rs stored, the old value into Rt. */
function rmw(e: Emit, f: Fields): boolean {
  const O = A.AtomicOp;
  const ops = new Map<number, () => void>([
    [O.ADD, () => e.op(Op.i64_add)],
    [O.CLR, () => (e.i64(-1), e.op(Op.i64_xor), e.op(Op.i64_and))],
    [O.EOR, () => e.op(Op.i64_xor)],
    [O.SET, () => e.op(Op.i64_or)],
  ]);
  const apply = ops.get(f.op);
  if (apply === undefined && f.op !== O.SWP) return false;
  const lg = Math.log2(f.size);
  withSlowPath(e, () => {
    loadOld(e, f.b >> 1, f.size);
    e.get(L_ADDR);
    if (apply === undefined) e.x(f.s >> 1);
    else {
      e.get(L_R);
      e.x(f.s >> 1);
      apply();
    }
    e.mem(STORE[lg]!, 0);
    e.setX(f.tw >> 1, () => e.get(L_R));
  });
  return true;
}

/** CASP: both halves compared with Rs, Rs+1 at the element size; Rt, Rt+1 stored if both equal; the old pair into Rs, Rs+1. */
function casp(e: Emit, f: Fields): boolean {
  const el = f.size as number; // 4: a pair of words, 8: of X registers
  const lg = Math.log2(el);
  withSlowPath(e, () => {
    rmwAddress(e, f.b >> 1, 2 * el);
    e.get(L_ADDR);
    e.mem(LOAD_ZX[lg]!, 0);
    e.set(L_R);
    e.get(L_ADDR);
    e.mem(LOAD_ZX[lg]!, el);
    e.set(L_B);
    e.get(L_R);
    masked(e, f.s >> 1, el);
    e.op(Op.i64_eq);
    e.get(L_B);
    masked(e, f.s1 >> 1, el);
    e.op(Op.i64_eq);
    e.op(Op.i32_and);
    e.if();
    e.get(L_ADDR);
    e.x(f.t >> 1);
    e.mem(STORE[lg]!, 0);
    e.get(L_ADDR);
    e.x(f.t1 >> 1);
    e.mem(STORE[lg]!, el);
    e.end();
    e.setX(f.sw >> 1, () => e.get(L_R));
    e.setX(f.sw1 >> 1, () => e.get(L_B));
  });
  return true;
}

/**
 * The exclusive monitor (exec/ls-excl.ts; in the register file, regs.ts EXCL_BYTE), as a
 * load-exclusive of `size` bytes at the i64 in local va leaves it: the address, the size and the
 * value (the i64 in local value, zero-extended; the second 64 bits 0). Also the wasm
 * interpreter's (winterp-mem.ts).
 */
export function setExclusiveMonitor(e: Bytes, rb: number, va: number, size: number, value: number): void {
  e.get(rb);
  e.get(va);
  e.mem(Op.i64_store, EXCL_BYTE, 3);
  e.get(rb);
  e.i32(size);
  e.mem(Op.i32_store, EXCL_SIZE_BYTE, 2);
  e.get(rb);
  e.get(value);
  e.mem(Op.i64_store, EXCL_VALUE_BYTE, 3);
  e.get(rb);
  e.i64(0);
  e.mem(Op.i64_store, EXCL_VALUE_BYTE + 8, 3);
}

/**
 * Push (i32) whether a store-exclusive of 2^lg bytes at the i64 in local va stores: the monitor
 * holds that address and memory (at wasm address local addr) still holds, at the store's size,
 * the value loaded. Then the monitor is open (clearExclusiveMonitor), pass or fail.
 */
export function exclusiveHolds(e: Bytes, rb: number, va: number, addr: number, lg: number): void {
  e.get(rb);
  e.mem(Op.i64_load, EXCL_BYTE, 3);
  e.get(va);
  e.op(Op.i64_eq);
  e.get(addr);
  e.mem(LOAD_ZX[lg]!, 0);
  e.get(rb);
  e.mem(Op.i64_load, EXCL_VALUE_BYTE, 3);
  e.op(Op.i64_eq);
  e.op(Op.i32_and);
}

export function clearExclusiveMonitor(e: Bytes, rb: number): void {
  e.get(rb);
  e.i64(-1);
  e.mem(Op.i64_store, EXCL_BYTE, 3);
}

/**
 * LDXR (exec/ls-excl.ts loadExclusive; the pairs: the handler): the value zero-extended into Rt,
 * and the exclusive monitor set, as the wasm interpreter does (winterp-mem.ts).
 */
function loadExclusive(e: Emit, f: Fields): boolean {
  if (f.pair) return false;
  const lg = Math.log2(f.size);
  withSlowPath(e, () => {
    alignedBase(e, f.b >> 1, f.size);
    probe(e, f.size, false);
    e.get(L_ADDR);
    e.mem(LOAD_ZX[lg]!, 0);
    e.set(L_R);
    e.setX(f.t >> 1, () => e.get(L_R));
    setExclusiveMonitor(e, L_RB, L_VA, f.size, L_R);
  });
  return true;
}

/**
 * STXR (storeExclusive): Rt stored and status 0 when the monitor allows it (exclusiveHolds),
 * else 1. Both probes first, whatever the monitor says (a miss takes the handler, which is exact
 * either way).
 */
function storeExclusive(e: Emit, f: Fields): boolean {
  if (f.pair) return false;
  const lg = Math.log2(f.size);
  withSlowPath(e, () => {
    rmwAddress(e, f.b >> 1, f.size);
    e.i64(1);
    e.set(L_B);
    exclusiveHolds(e, L_RB, L_VA, L_ADDR, lg);
    e.if();
    e.get(L_ADDR);
    e.x(f.t >> 1);
    e.mem(STORE[lg]!, 0);
    e.i64(0);
    e.set(L_B);
    e.end();
    clearExclusiveMonitor(e, L_RB);
    e.setX(f.s >> 1, () => e.get(L_B));
  });
  return true;
}

export const atomicEmitters = new Map<unknown, Emitter>([
  [X.loadExclusive, loadExclusive],
  [X.storeExclusive, storeExclusive],
  [A.cas, cas],
  [A.casp, casp],
  [A.atomicSmall, rmw],
  [A.atomic64, rmw],
]);
