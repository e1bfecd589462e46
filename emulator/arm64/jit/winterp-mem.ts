// The wasm interpreter's loads, stores, pairs and atomics (winterp.ts): the soft-TLB probes of
// emit-mem.ts, the rest of the access through the handler (misses, faults, MMIO).
import { Op, T } from './wasm.ts';
import { addressOf, probeInline, type Kind } from './emit-mem.ts';
import { CPU_FLAG_ZVA, SLOT_CPU_FLAGS } from './guest-memory.ts';
import { Asm, L_ADDR, L_B, L_C, L_IMM, L_R, L_RA, L_RBN, L_RC, L_T, L_VA, P_CTX, P_RB } from './winterp-asm.ts';
import { EL0_CTX } from './chain.ts';
import { clearExclusiveMonitor, exclusiveHolds, LOAD_ZX, setExclusiveMonitor, STORE } from './emit-atomic.ts';
import { OP_LDXR, OP_STXR, OP_CAS, OP_CASP, OP_COUNT, OP_DCVA, OP_DCZVA, OP_LDST, OP_LDSTP, OP_RMW, LDST_KINDS, PAIR_KINDS, MODES, PAIR_MODES, M_OFF, M_ORDERED, M_POST, M_PRE, M_REG, M_UNPRIV } from './winterp-ops.ts';

/**
 * The access address of a load/store into L_VA (base + imm, or the base alone post-indexed);
 * br $slow when the probe misses; L_ADDR = its wasm address.
 */
function access(a: Asm, size: number, write: boolean, slow: number, mode: number): void {
  a.x(L_RBN);
  if (mode === M_OFF || mode === M_PRE || mode === M_UNPRIV) {
    // base + imm (post-index: the base alone)
    a.get(L_IMM);
    a.o(Op.i64_add);
  } else if (mode === M_ORDERED && size > 1) {
    // the base, aligned to the size
    a.tee(L_C);
    a.o(Op.i32_wrap_i64);
    a.i32(size - 1);
    a.o(Op.i32_and);
    a.brIf(slow);
    a.get(L_C);
  } else if (mode === M_REG) {
    // register offset. An X index beyond +-2^48 takes the handler (whose arithmetic on JS
    // numbers is exact below that, as emit-mem.ts checks).
    a.p(2);
    a.if(T.i64);
    a.w(L_RC);
    a.set(L_T);
    a.p(2);
    a.i32(1);
    a.o(Op.i32_eq);
    a.if(T.i64);
    a.get(L_T);
    a.o(Op.i64_extend_i32_u);
    a.else();
    a.get(L_T);
    a.o(Op.i64_extend_i32_s);
    a.end();
    a.else();
    a.x(L_RC);
    a.tee(L_C);
    a.i64(2 ** 48);
    a.o(Op.i64_add);
    a.i64(49);
    a.o(Op.i64_shr_u, Op.i32_wrap_i64);
    a.brIf(slow);
    a.get(L_C);
    a.end();
    a.p(3);
    a.o(Op.i64_extend_i32_u, Op.i64_shl, Op.i64_add);
  }
  a.set(L_VA);
  probe(a, size, write, slow, mode === M_UNPRIV ? EL0_CTX : P_CTX);
}

/**
 * L_ADDR = the wasm address of L_VA from the soft TLB's probe, inline (emit-mem.ts probeInline:
 * as a call of the module's probe function it was ~90 ms of a ~330 ms kit boot's wasm time);
 * br $slow on a miss. Uses L_C and L_T. ctx: P_CTX, or chain.ts EL0_CTX.
 */
function probe(a: Asm, size: number, write: boolean, slow: number, ctx = P_CTX): void {
  probeInline(a, L_VA, P_RB, ctx, L_C, L_T, size, write);
  a.o(Op.i32_eqz);
  a.brIf(slow);
  addressOf(a, L_VA, L_T, write);
  a.set(L_ADDR);
}

/** The base register's writeback of pre/post-indexed forms (after the access: Rn wins over Rt). */
function writeback(a: Asm, mode: number): void {
  if (mode !== M_PRE && mode !== M_POST) return;
  a.setX(L_RBN, () => {
    a.get(L_VA);
    if (mode === M_POST) {
      a.get(L_IMM);
      a.o(Op.i64_add);
    }
  });
}


/**
 * CAS and LD<op>/SWP on 2^lg bytes at [Xb] (exec/ls-atomic.ts): aligned, and in both the read and
 * the write TLB (else the handler: it faults, or walks). CAS: Rs (slot in imm) compared at the
 * access size, Rt (c) stored if equal, the old value into Rs (a, the write side). LD<op>: the
 * value op Rs (c) stored, the old value into Rt (a). The old value is zero-extended.
 */
function atomic(a: Asm, lg: number, cas: boolean, slow: number): void {
  const size = 1 << lg;
  alignedBase(a, size, slow);
  for (const write of [false, true]) probe(a, size, write, slow);
  a.get(L_ADDR);
  a.mem(LOAD_ZX[lg]!, 0);
  a.set(L_R);
  const mask = size === 8 ? -1n : (1n << BigInt(8 * size)) - 1n;
  if (cas) {
    // Rs (its slot in imm), at the access size
    a.xImm();
    a.i64(mask);
    a.o(Op.i64_and);
    a.get(L_R);
    a.o(Op.i64_eq);
    a.if();
    a.get(L_ADDR);
    a.x(L_RC);
    a.mem(STORE[lg]!, 0);
    a.end();
  } else {
    a.get(L_ADDR);
    a.cases(T.i64, () => a.p(1), [
      () => (a.get(L_R), a.x(L_RC), a.o(Op.i64_add)),
      () => (a.get(L_R), a.x(L_RC), a.i64(-1), a.o(Op.i64_xor, Op.i64_and)),
      () => (a.get(L_R), a.x(L_RC), a.o(Op.i64_xor)),
      () => (a.get(L_R), a.x(L_RC), a.o(Op.i64_or)),
      () => a.x(L_RC),
    ]);
    a.mem(STORE[lg]!, 0);
  }
  a.setX(L_RA, () => a.get(L_R));
}

/** L_VA = the base register, br $slow unless aligned to `size` (the handler raises the fault). */
function alignedBase(a: Asm, size: number, slow: number): void {
  a.x(L_RBN);
  a.set(L_VA);
  if (size === 1) return;
  a.get(L_VA);
  a.o(Op.i32_wrap_i64);
  a.i32(size - 1);
  a.o(Op.i32_and);
  a.brIf(slow);
}

/** LDXR of 2^lg bytes (exec/ls-excl.ts loadExclusive): the value zero-extended into Rt, the monitor set. */
function loadExclusive(a: Asm, lg: number, slow: number): void {
  const size = 1 << lg;
  alignedBase(a, size, slow);
  probe(a, size, false, slow);
  a.get(L_ADDR);
  a.mem(LOAD_ZX[lg]!, 0);
  a.set(L_R);
  a.setX(L_RA, () => a.get(L_R));
  setExclusiveMonitor(a, P_RB, L_VA, size, L_R);
}

/**
 * STXR of 2^lg bytes (exec/ls-excl.ts storeExclusive): Rt stored and status 0 when the monitor
 * allows it (emit-atomic.ts exclusiveHolds), else 1; the monitor open after it. Both probes
 * first, as the translator's (a miss: the handler, exact either way).
 */
function storeExclusive(a: Asm, lg: number, slow: number): void {
  const size = 1 << lg;
  alignedBase(a, size, slow);
  for (const write of [false, true]) probe(a, size, write, slow);
  a.i64(1);
  a.set(L_B);
  exclusiveHolds(a, P_RB, L_VA, L_ADDR, lg);
  a.if();
  a.get(L_ADDR);
  a.x(L_RC);
  a.mem(STORE[lg]!, 0);
  a.i64(0);
  a.set(L_B);
  a.end();
  clearExclusiveMonitor(a, P_RB);
  a.setX(L_RA, () => a.get(L_B));
}

function ldst(a: Asm, k: Kind, slow: number, mode: number): void {
  access(a, k.size, !k.load, slow, mode);
  if (k.load) {
    a.setX(L_RA, () => {
      a.get(L_ADDR);
      a.mem(k.op, 0);
      if (k.zext32) a.o(Op.i64_extend_i32_u);
    });
  } else {
    a.get(L_ADDR);
    a.x(L_RA);
    a.mem(k.op, 0);
  }
  writeback(a, mode);
}

function ldstPair(a: Asm, k: Kind, slow: number, mode: number): void {
  access(a, 2 * k.size, !k.load, slow, mode);
  if (k.load) {
    // Both read before either is written; Rt wins when Rt == Rt2.
    a.get(L_ADDR);
    a.mem(k.op, 0);
    a.set(L_R);
    a.get(L_ADDR);
    a.mem(k.op, k.size);
    a.set(L_B);
    a.setX(L_RC, () => a.get(L_B));
    a.setX(L_RA, () => a.get(L_R));
  } else {
    a.get(L_ADDR);
    a.x(L_RA);
    a.mem(k.op, 0);
    a.get(L_ADDR);
    a.x(L_RC);
    a.mem(k.op, k.size);
  }
  writeback(a, mode);
}


/**
 * DC ZVA (exec/int-sys.ts dcZva): the 64-byte block of Xt zeroed, at EL1 when EL2 does not trap
 * it (SLOT_CPU_FLAGS); EL0 (SCTLR_EL1.DZE), a trap, and a block not in the write TLB take the
 * handler. A page in the write TLB holds no decoded code (soft-tlb.ts), so nothing is dropped.
 */
function dcZva(a: Asm, slow: number): void {
  a.get(P_CTX);
  a.o(Op.i32_eqz);
  a.brIf(slow);
  a.get(P_RB);
  a.mem(Op.i32_load, SLOT_CPU_FLAGS, 2);
  a.i32(CPU_FLAG_ZVA);
  a.o(Op.i32_and, Op.i32_eqz);
  a.brIf(slow);
  a.x(L_RBN);
  a.i64(-64);
  a.o(Op.i64_and);
  a.set(L_VA);
  probe(a, 16, true, slow);
  for (let o = 0; o < 64; o += 8) {
    a.get(L_ADDR);
    a.i64(0);
    a.mem(Op.i64_store, o, 3);
  }
}

/** DC CVAC/CVAU/CIVAC/IVAC (dcByVa): no caches, the address checked as a read; p0: EL1 only. */
function dcByVa(a: Asm, slow: number): void {
  a.p(0);
  a.get(P_CTX);
  a.o(Op.i32_eqz, Op.i32_and);
  a.brIf(slow);
  a.x(L_RBN);
  a.set(L_VA);
  probe(a, 1, false, slow);
}

/** Push the i64 register whose slot number is slot byte p<k>. */
function xP(a: Asm, k: number): void {
  a.p(k);
  a.i32(3);
  a.o(Op.i32_shl);
  a.get(P_RB);
  a.o(Op.i32_add);
  a.mem(Op.i64_load, 0, 3);
}

/** Store the i64 pushed by `value` in the register whose slot number is slot byte p<k>. */
function setXP(a: Asm, k: number, value: () => void): void {
  a.p(k);
  a.i32(3);
  a.o(Op.i32_shl);
  a.get(P_RB);
  a.o(Op.i32_add);
  value();
  a.mem(Op.i64_store, 0, 3);
}

/**
 * CASP (exec/ls-atomic.ts casp) of two words (x: false) or two X registers: aligned to the pair's
 * size and in both TLBs (else the handler: it faults, or walks). Both halves compared with Rs,
 * Rs+1 at the element size; Rt, Rt+1 stored if both are equal; the old pair into Rs, Rs+1.
 */
function casp(a: Asm, x: boolean, slow: number): void {
  const size = x ? 16 : 8;
  const load = x ? Op.i64_load : Op.i64_load32_u;
  const store = x ? Op.i64_store : Op.i64_store32;
  const element = (push: () => void): void => {
    push();
    if (!x) {
      a.i64(0xffffffff);
      a.o(Op.i64_and);
    }
  };
  a.x(L_RBN);
  a.tee(L_VA);
  a.o(Op.i32_wrap_i64);
  a.i32(size - 1);
  a.o(Op.i32_and);
  a.brIf(slow);
  for (const write of [false, true]) probe(a, size, write, slow);
  a.get(L_ADDR);
  a.mem(load, 0);
  a.set(L_R);
  a.get(L_ADDR);
  a.mem(load, size / 2);
  a.set(L_B);
  a.get(L_R);
  element(() => xP(a, 1));
  a.o(Op.i64_eq);
  a.get(L_B);
  element(() => xP(a, 2));
  a.o(Op.i64_eq, Op.i32_and);
  a.if();
  a.get(L_ADDR);
  a.x(L_RC);
  a.mem(store, 0);
  a.get(L_ADDR);
  xP(a, 0);
  a.mem(store, size / 2);
  a.end();
  a.setX(L_RA, () => a.get(L_R));
  setXP(a, 3, () => a.get(L_B));
}

/** The body of memory operation `op` (true), or false when it is not one; `slow`: the helper's label. */
export function memBody(a: Asm, op: number, slow: number): boolean {
  if (op === OP_DCZVA) dcZva(a, slow);
  else if (op === OP_CASP || op === OP_CASP + 1) casp(a, op === OP_CASP + 1, slow);
  else if (op === OP_DCVA) dcByVa(a, slow);
  else if (op >= OP_CAS && op < OP_CAS + 4) atomic(a, op - OP_CAS, true, slow);
  else if (op >= OP_RMW && op < OP_RMW + 4) atomic(a, op - OP_RMW, false, slow);
  else if (op >= OP_LDXR && op < OP_LDXR + 4) loadExclusive(a, op - OP_LDXR, slow);
  else if (op >= OP_STXR && op < OP_STXR + 4) storeExclusive(a, op - OP_STXR, slow);
  else if (op >= OP_LDST && op < OP_LDSTP) ldst(a, LDST_KINDS[Math.floor((op - OP_LDST) / MODES)]!, slow, (op - OP_LDST) % MODES);
  else if (op >= OP_LDSTP && op < OP_COUNT) ldstPair(a, PAIR_KINDS[Math.floor((op - OP_LDSTP) / PAIR_MODES)]!, slow, (op - OP_LDSTP) % PAIR_MODES);
  else return false;
  return true;
}
